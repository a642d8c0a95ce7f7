#include "connectors/singer/singer_connector.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <memory>
#include <set>
#include <system_error>
#include <utility>

#include "common/fs_util.h"
#include "common/hash.h"
#include "common/identifiers.h"
#include "common/log.h"
#include "connectors/singer/singer_messages.h"
#include "kit/line_process.h"

namespace da::connectors::singer {
namespace fs = std::filesystem;
using ojson = nlohmann::ordered_json;

namespace {

constexpr size_t kMaxCatalogBytes = size_t{64} << 20;
/// The longest stdout line (one message) a tap may write. DuckDB's read_json sizes its read
/// buffers from maximum_object_size (twice it, per thread), so this stays modest: the
/// extraction runs under a memory limit.
constexpr size_t kMaxMessageBytes = size_t{16} << 20;
constexpr const char* kMaxObjectSize = "17825792";  // 17 MiB: a message plus the line tag

/// Removes a directory tree when it goes out of scope.
class ScopedDir {
 public:
  explicit ScopedDir(fs::path p) : path_(std::move(p)) {}
  ScopedDir(const ScopedDir&) = delete;
  ScopedDir& operator=(const ScopedDir&) = delete;
  ~ScopedDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

/// A buffered output file, closed by the destructor.
class OutFile {
 public:
  static Result<OutFile> Open(const fs::path& p) {
    std::FILE* f = std::fopen(p.c_str(), "wb");
    if (f == nullptr) return Unavailable("cannot create '" + p.string() + "'");
    return OutFile(f, p);
  }
  OutFile(OutFile&& o) noexcept
      : file_(std::exchange(o.file_, nullptr)), path_(std::move(o.path_)), buf_(std::move(o.buf_)) {}
  OutFile& operator=(OutFile&&) = delete;
  OutFile(const OutFile&) = delete;
  ~OutFile() {
    if (file_ != nullptr) std::fclose(file_);
  }
  void Write(std::string_view s) { std::fwrite(s.data(), 1, s.size(), file_); }
  Status Close() {
    if (file_ == nullptr) return Status::Ok();
    const bool failed = std::ferror(file_) != 0;
    const bool close_failed = std::fclose(file_) != 0;
    file_ = nullptr;
    if (failed || close_failed) return Unavailable("cannot write '" + path_.string() + "' (disk full?)");
    return Status::Ok();
  }

 private:
  OutFile(std::FILE* f, fs::path p) : file_(f), path_(std::move(p)), buf_(new char[kBufSize]) {
    std::setvbuf(file_, buf_.get(), _IOFBF, kBufSize);
  }
  static constexpr size_t kBufSize = size_t{1} << 20;
  std::FILE* file_;
  fs::path path_;
  std::unique_ptr<char[]> buf_;
};

std::string Shown(std::string_view s) { return PrintableForMessage(s, 60); }

std::string LastLine(const std::string& text) {
  std::string t = text;
  while (!t.empty() && (t.back() == '\n' || t.back() == '\r' || t.back() == ' ')) t.pop_back();
  if (auto nl = t.rfind('\n'); nl != std::string::npos) t = t.substr(nl + 1);
  return PrintableForMessage(t, 300);
}

bool IsBlank(std::string_view s) {
  return s.find_first_not_of(" \t\r") == std::string_view::npos;
}

/// The tap's config.json: manifest-typed values from the resolved config plus credentials
/// from the auth env vars that name a config_key.
Result<std::string> BuildConfigJson(const kit::Manifest& m, const kit::ConnectorConfig& config) {
  if (auto missing = kit::MissingAuthEnvVars(m); !missing.empty()) {
    std::string list;
    for (const auto& n : missing) list += (list.empty() ? "" : ", ") + n;
    return FailedPrecondition("connector '" + m.name + "' needs the environment variable(s) " +
                              list + " (not set)");
  }
  DA_ASSIGN_OR_RETURN(auto resolved, kit::ResolveConfig(m, config));
  std::map<std::string, kit::ConfigFieldType> types;
  for (const auto& f : m.config) types[f.name] = f.type;
  ojson j = ojson::object();
  for (const auto& [key, value] : resolved) {
    auto t = types.find(key);
    if (t != types.end() && t->second == kit::ConfigFieldType::kInteger) {
      j[key] = std::stoll(value);  // checked by ResolveConfig
    } else if (t != types.end() && t->second == kit::ConfigFieldType::kBoolean) {
      j[key] = value == "true";
    } else {
      j[key] = value;
    }
  }
  for (const auto& e : m.env_vars) {
    if (e.config_key.empty()) continue;
    if (const char* v = std::getenv(e.name.c_str()); v != nullptr && *v != '\0') j[e.config_key] = v;
  }
  return j.dump();
}

/// The stream's identifiers in a catalog entry: tap_stream_id (else stream) and stream.
std::pair<std::string, std::string> StreamIds(const ojson& entry) {
  std::string id, name;
  if (auto it = entry.find("tap_stream_id"); it != entry.end() && it->is_string()) id = *it;
  if (auto it = entry.find("stream"); it != entry.end() && it->is_string()) name = *it;
  if (id.empty()) id = name;
  if (name.empty()) name = id;
  return {id, name};
}

/// Marks exactly `stream` selected (stream-level flag and breadcrumb [] metadata).
void SelectOnly(ojson& catalog, const std::string& stream) {
  for (auto& entry : catalog["streams"]) {
    const bool selected = StreamIds(entry).first == stream;
    entry["selected"] = selected;
    if (!entry.contains("metadata") || !entry["metadata"].is_array()) entry["metadata"] = ojson::array();
    bool found = false;
    for (auto& md : entry["metadata"]) {
      if (md.is_object() && md.contains("breadcrumb") && md["breadcrumb"].is_array() &&
          md["breadcrumb"].empty()) {
        if (!md.contains("metadata") || !md["metadata"].is_object()) md["metadata"] = ojson::object();
        md["metadata"]["selected"] = selected;
        found = true;
      }
    }
    if (!found) {
      entry["metadata"].push_back(
          {{"breadcrumb", ojson::array()}, {"metadata", {{"selected", selected}}}});
    }
  }
}

std::vector<std::string> KeyProperties(const ojson& entry) {
  std::vector<std::string> out;
  auto collect = [&](const ojson& arr) {
    if (!arr.is_array()) return;
    for (const auto& k : arr) {
      if (k.is_string()) out.push_back(k);
    }
  };
  if (auto it = entry.find("key_properties"); it != entry.end()) collect(*it);
  if (out.empty()) {
    if (auto md = entry.find("metadata"); md != entry.end() && md->is_array()) {
      for (const auto& m : *md) {
        if (m.is_object() && m.contains("breadcrumb") && m["breadcrumb"].is_array() &&
            m["breadcrumb"].empty() && m.contains("metadata") && m["metadata"].is_object() &&
            m["metadata"].contains("table-key-properties")) {
          collect(m["metadata"]["table-key-properties"]);
        }
      }
    }
  }
  return out;
}

/// `{'a': 'BIGINT', ...}` for read_json's columns parameter.
Result<std::string> ColumnsLiteral(const std::vector<kit::ColumnInfo>& columns) {
  std::string out = "{";
  for (const auto& c : columns) {
    DA_ASSIGN_OR_RETURN(std::string name, QuoteLiteral(c.name));
    DA_ASSIGN_OR_RETURN(std::string type, QuoteLiteral(c.type));
    out += (out.size() > 1 ? ", " : "") + name + ": " + type;
  }
  return out + "}";
}

/// `STRUCT("a" BIGINT, ...)` of the columns (with every type replaced by `override_type`
/// when given).
std::string StructType(const std::vector<kit::ColumnInfo>& columns, const std::string& override_type = "") {
  std::string out = "STRUCT(";
  for (size_t i = 0; i < columns.size(); ++i) {
    out += (i ? ", " : "") + QuoteIdent(columns[i].name) + " " +
           (override_type.empty() ? columns[i].type : override_type);
  }
  return out + ")";
}

Result<std::string> FileListLiteral(const std::vector<fs::path>& files) {
  std::string out = "[";
  for (size_t i = 0; i < files.size(); ++i) {
    DA_ASSIGN_OR_RETURN(std::string lit, QuoteLiteral(files[i].string()));
    out += (i ? ", " : "") + lit;
  }
  return out + "]";
}

/// What one Read collects from the tap's stdout.
struct StreamCapture {
  std::string stream;                   ///< the selected stream (source_table)
  std::set<std::string> accepted_names; ///< message `stream` values that mean it
  std::vector<kit::ColumnInfo> columns;
  bool schema_seen = false;
  int64_t records = 0;
  std::optional<std::string> last_state;  ///< the last STATE value, serialized
  std::vector<fs::path> batch_plain;      ///< BATCH files, uncompressed JSONL
  std::vector<fs::path> batch_gzip;       ///< BATCH files, gzip JSONL
  std::set<std::string> other_streams;    ///< streams seen that are not selected
};

Status LineError(const std::string& tap, int64_t line_no, const std::string& problem) {
  return InvalidArgument("tap '" + tap + "' stdout line " + std::to_string(line_no) + ": " + problem);
}

Status HandleBatch(const std::string& tap, int64_t line_no, std::string_view line, StreamCapture& cap) {
  ojson msg = ojson::parse(line.begin(), line.end(), nullptr, false);
  const auto& enc = msg.contains("encoding") ? msg["encoding"] : ojson();
  std::string format = enc.is_object() && enc.contains("format") && enc["format"].is_string()
                           ? enc["format"].get<std::string>()
                           : "";
  std::string compression = enc.is_object() && enc.contains("compression") &&
                                    enc["compression"].is_string()
                                ? enc["compression"].get<std::string>()
                                : "none";
  if (format != "jsonl") {
    return LineError(tap, line_no, "BATCH encoding format '" + Shown(format) + "' is not supported (only jsonl)");
  }
  if (compression != "gzip" && compression != "none") {
    return LineError(tap, line_no, "BATCH compression '" + Shown(compression) + "' is not supported (gzip or none)");
  }
  if (!msg.contains("manifest") || !msg["manifest"].is_array()) {
    return LineError(tap, line_no, "BATCH without a manifest list of files");
  }
  for (const auto& entry : msg["manifest"]) {
    if (!entry.is_string()) return LineError(tap, line_no, "BATCH manifest entries must be strings");
    std::string uri = entry;
    if (uri.starts_with("file://")) uri = uri.substr(7);
    if (uri.empty() || uri[0] != '/') {
      return LineError(tap, line_no, "BATCH file '" + Shown(entry.get<std::string>()) +
                                         "' is not a local absolute path or file:// URI");
    }
    std::error_code ec;
    if (!fs::is_regular_file(uri, ec)) {
      return LineError(tap, line_no, "BATCH file '" + Shown(uri) + "' does not exist");
    }
    (compression == "gzip" ? cap.batch_gzip : cap.batch_plain).emplace_back(uri);
  }
  return Status::Ok();
}

}  // namespace

SingerConnector::SingerConnector(SingerOptions options) : options_(std::move(options)) {
  if (!options_.on_tap_stderr) {
    options_.on_tap_stderr = [tap = options_.manifest.name](std::string_view line) {
      std::fprintf(stderr, "[tap %s] %.*s\n", tap.c_str(), static_cast<int>(line.size()), line.data());
    };
  }
}

fs::path SingerConnector::StateFile(const std::string& stream) const {
  return options_.state_dir / (TableNameForStream(stream) + "-" + Md5Hex(stream).substr(0, 8) + ".json");
}

namespace {

/// Runs the tap with `args` after its command; maps a failed run to a Status.
Result<kit::LineProcessResult> RunTap(const SingerOptions& o, const std::vector<std::string>& args,
                                      std::function<Status(std::string_view)> on_line) {
  const kit::Manifest& m = o.manifest;
  kit::LineProcessOptions lp;
  lp.argv = m.command;
  lp.argv.insert(lp.argv.end(), args.begin(), args.end());
  lp.working_dir = m.dir();
  // Only the base variables and those the manifest declares: never the server's secrets.
  lp.inherit_only = kit::ConnectorProgramEnvironment(m);
  lp.timeout_ms = m.timeout_seconds ? *m.timeout_seconds * 1000 : o.default_timeout_ms;
  lp.on_stdout_line = std::move(on_line);
  lp.max_line_bytes = kMaxMessageBytes;
  lp.on_stderr_line = o.on_tap_stderr;
  auto r = kit::RunLineProcess(lp);
  if (!r.ok()) return r.status().WithContext("tap '" + m.name + "'");
  if (r->timed_out) {
    return DeadlineExceeded("tap '" + m.name + "' ran longer than its time limit of " +
                            std::to_string(lp.timeout_ms / 1000) +
                            " s and was killed with its process group");
  }
  std::string tail = LastLine(r->stderr_tail);
  if (r->term_signal != 0) {
    return Unavailable("tap '" + m.name + "' was killed by signal " + std::to_string(r->term_signal) +
                       (tail.empty() ? "" : ": " + tail));
  }
  if (r->exit_code != 0) {
    return Unavailable("tap '" + m.name + "' exited with code " + std::to_string(r->exit_code) +
                       (tail.empty() ? "" : ": " + tail));
  }
  return r;
}

/// `--discover` into a parsed catalog.
Result<ojson> RunDiscover(const SingerOptions& o, const fs::path& config_file) {
  std::string out;
  auto on_line = [&](std::string_view line) -> Status {
    out.append(line);
    out.push_back('\n');
    if (out.size() > kMaxCatalogBytes) return ResourceExhausted("the catalog is larger than 64 MiB");
    return Status::Ok();
  };
  DA_RETURN_IF_ERROR(RunTap(o, {"--config", config_file.string(), "--discover"}, on_line).status());
  ojson catalog = ojson::parse(out, nullptr, false);
  const std::string tap = o.manifest.name;
  if (catalog.is_discarded() || !catalog.is_object()) {
    return InvalidArgument("tap '" + tap + "' --discover did not print a JSON catalog object");
  }
  if (!catalog.contains("streams") || !catalog["streams"].is_array()) {
    return InvalidArgument("tap '" + tap + "' catalog has no \"streams\" list");
  }
  for (const auto& entry : catalog["streams"]) {
    if (!entry.is_object() || StreamIds(entry).first.empty()) {
      return InvalidArgument("tap '" + tap + "' catalog has a stream without tap_stream_id");
    }
  }
  return catalog;
}

}  // namespace

Result<std::vector<kit::TableInfo>> SingerConnector::Discover(const kit::ConnectorConfig& config) {
  const kit::Manifest& m = options_.manifest;
  if (!HasCapability(m.capabilities, kit::Capability::kDiscover)) {
    return FailedPrecondition("connector '" + m.name + "' cannot discover tables");
  }
  DA_ASSIGN_OR_RETURN(std::string config_json, BuildConfigJson(m, config));
  ScopedDir work(fs::temp_directory_path() / ("da-singer-" + RandomHex(8)));
  DA_RETURN_IF_ERROR(EnsureDir(work.path()));
  const fs::path config_file = work.path() / "config.json";
  DA_RETURN_IF_ERROR(WriteFileAtomic(config_file, config_json, 0600));
  DA_ASSIGN_OR_RETURN(ojson catalog, RunDiscover(options_, config_file));

  std::vector<kit::TableInfo> out;
  std::set<std::string> names;
  for (const auto& entry : catalog["streams"]) {
    auto [id, stream_name] = StreamIds(entry);
    kit::TableInfo t;
    t.source_table = id;
    std::string base = TableNameForStream(stream_name);
    t.name = base;
    for (int n = 2; !names.insert(t.name).second; ++n) {
      std::string suffix = "_" + std::to_string(n);
      t.name = base.substr(0, 64 - suffix.size()) + suffix;
    }
    if (!entry.contains("schema")) {
      return InvalidArgument("tap '" + m.name + "' catalog stream '" + Shown(id) + "' has no schema");
    }
    auto cols = ColumnsFromSchema(entry["schema"]);
    if (!cols.ok()) {
      return cols.status().WithContext("tap '" + m.name + "' catalog stream '" + Shown(id) + "'");
    }
    t.columns = std::move(*cols);
    t.primary_key = KeyProperties(entry);
    t.description = "Singer stream '" + id + "' of tap '" + m.name + "'";
    out.push_back(std::move(t));
  }
  return out;
}

Status SingerConnector::Read(const kit::ReadOptions& options, kit::ParquetSink& sink) {
  const kit::Manifest& m = options_.manifest;
  const std::string& tap = m.name;
  const std::string stream = options.table.source_table;
  if (stream.empty()) {
    return InvalidArgument("table '" + options.table.id + "': source_table must name the tap's stream");
  }
  DA_ASSIGN_OR_RETURN(std::string config_json, BuildConfigJson(m, options.config));
  const fs::path scratch = options.temp_dir.empty() ? fs::temp_directory_path() : options.temp_dir;
  ScopedDir work(scratch / ("singer-" + RandomHex(8)));
  DA_RETURN_IF_ERROR(EnsureDir(work.path()));
  const fs::path config_file = work.path() / "config.json";
  DA_RETURN_IF_ERROR(WriteFileAtomic(config_file, config_json, 0600));

  StreamCapture cap;
  cap.stream = stream;
  cap.accepted_names.insert(stream);
  std::vector<std::string> args = {"--config", config_file.string()};
  if (HasCapability(m.capabilities, kit::Capability::kDiscover)) {
    DA_ASSIGN_OR_RETURN(ojson catalog, RunDiscover(options_, config_file));
    const ojson* entry = nullptr;
    for (const auto& e : catalog["streams"]) {
      if (StreamIds(e).first == stream) entry = &e;
    }
    if (entry == nullptr) {
      std::string known;
      for (const auto& e : catalog["streams"]) known += (known.empty() ? "" : ", ") + StreamIds(e).first;
      return NotFound("tap '" + tap + "' has no stream '" + Shown(stream) + "' (catalog: " +
                      (known.empty() ? "empty" : Shown(known)) + ")");
    }
    cap.accepted_names.insert(StreamIds(*entry).second);
    if (entry->contains("schema")) {
      auto cols = ColumnsFromSchema((*entry)["schema"]);
      if (!cols.ok()) return cols.status().WithContext("tap '" + tap + "' stream '" + Shown(stream) + "'");
      cap.columns = std::move(*cols);
    }
    SelectOnly(catalog, stream);
    const fs::path catalog_file = work.path() / "catalog.json";
    DA_RETURN_IF_ERROR(WriteFileAtomic(catalog_file, catalog.dump(), 0600));
    args.insert(args.end(), {"--catalog", catalog_file.string()});
  }
  const fs::path state_file = options_.state_dir.empty() ? fs::path() : StateFile(stream);
  std::error_code ec;
  if (options.table.sync_strategy == model::SyncStrategy::kIncremental && !state_file.empty() &&
      fs::is_regular_file(state_file, ec)) {
    args.insert(args.end(), {"--state", state_file.string()});
  }

  const fs::path records_file = work.path() / "records.ndjson";
  DA_ASSIGN_OR_RETURN(OutFile records, OutFile::Open(records_file));
  int64_t line_no = 0;
  std::string prefix;
  auto on_line = [&](std::string_view line) -> Status {
    ++line_no;
    if (IsBlank(line)) return Status::Ok();
    auto head = PeekMessage(line);
    if (!head.ok()) {
      const bool is_state = line.find("\"STATE\"") != std::string_view::npos;
      return LineError(tap, line_no,
                       std::string(is_state ? "STATE message is " : "") + head.status().message() +
                           " (line starts with '" + Shown(line) + "')");
    }
    const std::string& type = head->type;
    if (type.empty()) return LineError(tap, line_no, "message without a \"type\" (line starts with '" + Shown(line) + "')");
    const bool selected = cap.accepted_names.count(head->stream) > 0;
    if (type == "RECORD") {
      if (head->stream.empty()) return LineError(tap, line_no, "RECORD without a stream");
      if (!selected) {
        if (cap.other_streams.size() < 100) cap.other_streams.insert(head->stream);
        return Status::Ok();
      }
      if (!head->record_is_object) return LineError(tap, line_no, "RECORD without a record object");
      if (cap.columns.empty()) {
        return LineError(tap, line_no, "RECORD for stream '" + Shown(stream) + "' before its SCHEMA");
      }
      // The record line goes to disk as is, tagged with its line number for error reports;
      // DuckDB parses it again when it writes the Parquet file.
      const size_t brace = line.find('{');
      prefix.assign("{\"");
      prefix += kLineKey;
      prefix += "\":";
      prefix += std::to_string(line_no);
      prefix += ',';
      records.Write(prefix);
      records.Write(line.substr(brace + 1));
      records.Write("\n");
      ++cap.records;
      return Status::Ok();
    }
    if (type == "SCHEMA") {
      if (!selected) {
        if (!head->stream.empty() && cap.other_streams.size() < 100) cap.other_streams.insert(head->stream);
        return Status::Ok();
      }
      ojson msg = ojson::parse(line.begin(), line.end(), nullptr, false);
      if (!msg.contains("schema")) return LineError(tap, line_no, "SCHEMA without a schema");
      auto cols = ColumnsFromSchema(msg["schema"]);
      if (!cols.ok()) return LineError(tap, line_no, "SCHEMA: " + cols.status().message());
      if (!cap.schema_seen) {
        cap.columns = std::move(*cols);  // the tap's own schema wins over the discovered one
        cap.schema_seen = true;
      } else {
        Status merged = MergeColumns(cap.columns, *cols);
        if (!merged.ok()) return LineError(tap, line_no, "SCHEMA: " + merged.message());
      }
      return Status::Ok();
    }
    if (type == "STATE") {
      if (!head->has_value) return LineError(tap, line_no, "STATE without a value");
      ojson msg = ojson::parse(line.begin(), line.end(), nullptr, false);
      if (!msg["value"].is_object()) {
        return LineError(tap, line_no, "STATE value must be a JSON object");
      }
      cap.last_state = msg["value"].dump();
      return Status::Ok();
    }
    if (type == "BATCH") {
      if (!selected) return Status::Ok();
      if (cap.columns.empty()) {
        return LineError(tap, line_no, "BATCH for stream '" + Shown(stream) + "' before its SCHEMA");
      }
      return HandleBatch(tap, line_no, line, cap);
    }
    // ACTIVATE_VERSION and future message types carry nothing the extract needs.
    return Status::Ok();
  };
  const auto tap_start = std::chrono::steady_clock::now();
  DA_RETURN_IF_ERROR(RunTap(options_, args, on_line).status());
  DA_RETURN_IF_ERROR(records.Close());
  const auto copy_start = std::chrono::steady_clock::now();

  if (cap.columns.empty()) {
    std::string seen;
    for (const auto& s : cap.other_streams) seen += (seen.empty() ? "" : ", ") + s;
    return NotFound("tap '" + tap + "' emitted no SCHEMA for stream '" + Shown(stream) +
                    "' (streams seen: " + (seen.empty() ? "none" : Shown(seen)) + ")");
  }

  // One SELECT over the buffered RECORD lines and any BATCH files, typed by the schema.
  DA_ASSIGN_OR_RETURN(std::string records_lit, FileListLiteral({records_file}));
  DA_ASSIGN_OR_RETURN(std::string struct_lit, QuoteLiteral(StructType(cap.columns)));
  std::string record_cols;
  std::string plain_cols;
  for (const auto& c : cap.columns) {
    record_cols += (record_cols.empty() ? "" : ", ") + std::string("record.") + QuoteIdent(c.name) +
                   " AS " + QuoteIdent(c.name);
    plain_cols += (plain_cols.empty() ? "" : ", ") + QuoteIdent(c.name);
  }
  std::string sql = "SELECT " + record_cols + " FROM read_json(" + records_lit +
                    ", format='newline_delimited', compression='uncompressed', maximum_object_size=" +
                    kMaxObjectSize + ", columns={'record': " + struct_lit + "})";
  DA_ASSIGN_OR_RETURN(std::string cols_lit, ColumnsLiteral(cap.columns));
  for (const auto& [files, compression] :
       {std::pair{&cap.batch_plain, "uncompressed"}, std::pair{&cap.batch_gzip, "gzip"}}) {
    if (files->empty()) continue;
    DA_ASSIGN_OR_RETURN(std::string list, FileListLiteral(*files));
    sql += " UNION ALL SELECT " + plain_cols + " FROM read_json(" + list +
           ", format='newline_delimited', compression='" + compression +
           "', maximum_object_size=" + kMaxObjectSize + ", columns=" + cols_lit + ")";
  }
  Status copied = sink.CopyQuery(sql);
  if (!copied.ok() && copied.code() == StatusCode::kResourceExhausted) {
    return {copied.code(), "tap '" + tap + "' stream '" + Shown(stream) + "': " + copied.message()};
  }
  if (!copied.ok()) {
    // Find the offending record so the message names a line (DuckDB's own line numbers are
    // approximate and refer to the buffer file).
    db::Connection& conn = sink.connection();
    std::string bad_flags, bad_index, bad_values;
    for (size_t i = 0; i < cap.columns.size(); ++i) {
      const auto& c = cap.columns[i];
      if (c.type == "VARCHAR" || c.type == "JSON") continue;
      const std::string v = "record." + QuoteIdent(c.name);
      const std::string bad = "(" + v + " IS NOT NULL AND TRY_CAST(" + v + " AS " + c.type + ") IS NULL)";
      bad_flags += (bad_flags.empty() ? "" : " OR ") + bad;
      bad_index += ", CASE WHEN " + bad + " THEN " + std::to_string(i) + " END";
      bad_values += ", CASE WHEN " + bad + " THEN " + v + " END";
    }
    if (!bad_flags.empty()) {
      DA_ASSIGN_OR_RETURN(std::string line_key, QuoteLiteral(kLineKey));
      DA_ASSIGN_OR_RETURN(std::string varchar_struct, QuoteLiteral(StructType(cap.columns, "VARCHAR")));
      auto found = conn.Query(
          "SELECT " + QuoteIdent(kLineKey) + ", coalesce(NULL" + bad_index + "), coalesce(NULL" +
          bad_values + ") FROM read_json(" + records_lit +
          ", format='newline_delimited', compression='uncompressed', maximum_object_size=" + kMaxObjectSize +
          ", columns={" + line_key + ": 'BIGINT', 'record': " + varchar_struct + "}) WHERE " +
          bad_flags + " ORDER BY 1 LIMIT 1");
      if (found.ok() && found->RowCount() == 1) {
        const auto& col = cap.columns.at(static_cast<size_t>(found->GetInt64(1, 0)));
        return LineError(tap, found->GetInt64(0, 0),
                         "column '" + Shown(col.name) + "' value '" + Shown(found->GetString(2, 0)) +
                             "' does not fit its type " + col.type);
      }
    }
    return InvalidArgument("tap '" + tap + "' stream '" + Shown(stream) +
                           "': the records do not fit the schema: " + copied.message());
  }
  const auto ms = [](auto d) {
    return std::chrono::duration_cast<std::chrono::milliseconds>(d).count();
  };
  spdlog::info("tap {}: stream {}: {} records, {} batch files; tap ran {} ms, Parquet written in {} ms",
               tap, stream, cap.records, cap.batch_plain.size() + cap.batch_gzip.size(),
               ms(copy_start - tap_start), ms(std::chrono::steady_clock::now() - copy_start));

  if (cap.last_state && !state_file.empty()) {
    DA_RETURN_IF_ERROR(EnsureDir(options_.state_dir));
    DA_RETURN_IF_ERROR(WriteFileAtomic(state_file, *cap.last_state + "\n", 0600));
  }
  return Status::Ok();
}

}  // namespace da::connectors::singer
