#include "connectors/files/files_connector.h"

#include <algorithm>
#include <cctype>
#include <map>
#include <set>

#include "common/identifiers.h"
#include "common/log.h"
#include "kit/runtime.h"
#include "common/text.h"

namespace da::connectors::files {
namespace fs = std::filesystem;

namespace {

/// `s` with control characters replaced by '?', cut to `max` characters, for messages.
std::string Printable(std::string_view s, size_t max = 300) {
  std::string out;
  for (char c : s.substr(0, max)) {
    auto u = static_cast<unsigned char>(c);
    out += (u < 0x20 || u == 0x7f) ? '?' : c;
  }
  if (s.size() > max) out += "...";
  return out;
}

/// The file name without the format extension(s): "a.csv.gz" → "a".
std::string StemOf(const fs::path& p) {
  std::string name = p.filename().string();
  std::string lower = AsciiLower(name);
  if (lower.ends_with(".gz")) {
    name.resize(name.size() - 3);
    lower.resize(lower.size() - 3);
  }
  auto dot = name.rfind('.');
  return dot == std::string::npos || dot == 0 ? name : name.substr(0, dot);
}

/// Checks that the file(s) exist: not_found naming the path otherwise.
Status CheckExists(db::Connection& conn, const fs::path& path) {
  if (IsGlob(path.string())) {
    DA_ASSIGN_OR_RETURN(std::string lit, QuoteLiteral(path.string()));
    DA_ASSIGN_OR_RETURN(auto r, conn.Query("SELECT count(*) FROM glob(" + lit + ")"));
    if (r.RowCount() == 0 || r.GetInt64(0, 0) == 0) {
      return NotFound("no file matches '" + Printable(path.string()) + "'");
    }
    return Status::Ok();
  }
  std::error_code ec;
  auto st = fs::status(path, ec);
  if (ec || !fs::exists(st)) return NotFound("file '" + Printable(path.string()) + "' not found");
  if (fs::is_directory(st)) {
    return InvalidArgument("'" + Printable(path.string()) + "' is a directory, not a file");
  }
  return Status::Ok();
}

/// DuckDB's failure to read a file, as invalid_argument naming the file (interrupts keep
/// their code so a cancelled run is not reported as bad data).
Status ReadError(const Status& st, const fs::path& path, FileFormat format) {
  // DuckDB appends the SQL text with a caret ("\n\nLINE 1: ..."): noise in a report.
  std::string detail = st.message();
  if (auto cut = detail.find("\n\nLINE "); cut != std::string::npos) detail.resize(cut);
  // One line: DuckDB's multi-line hints become space-separated.
  std::string flat;
  for (char c : detail) {
    bool space =
        std::isspace(static_cast<unsigned char>(c)) || static_cast<unsigned char>(c) < 0x20;
    if (space) {
      if (!flat.empty() && flat.back() != ' ') flat += ' ';
    } else {
      flat += c;
    }
  }
  while (!flat.empty() && flat.back() == ' ') flat.pop_back();
  detail = std::move(flat);
  std::string msg = "cannot read '" + Printable(path.string()) + "' as " +
                    std::string(FileFormatName(format)) + ": " + Printable(detail, 2000);
  if (st.code() == StatusCode::kDeadlineExceeded || st.code() == StatusCode::kResourceExhausted) {
    return {st.code(), msg};
  }
  return InvalidArgument(msg);
}

Result<std::vector<kit::ColumnInfo>> DescribeFile(db::Connection& conn, const fs::path& path,
                                                  const std::vector<fs::path>& roots) {
  DA_ASSIGN_OR_RETURN(FileFormat format, FormatFromPath(path.string()));
  DA_ASSIGN_OR_RETURN(std::vector<fs::path> files, ConfinedFiles(conn, path, roots));
  DA_ASSIGN_OR_RETURN(std::string reader, ReaderSql(files, format));
  auto r = conn.Query("DESCRIBE SELECT * FROM " + reader);
  if (!r.ok()) return ReadError(r.status(), path, format);
  std::vector<kit::ColumnInfo> cols;
  for (size_t i = 0; i < r->RowCount(); ++i)
    cols.push_back({r->GetString(0, i), r->GetString(1, i)});
  return cols;
}

/// `p` made absolute, resolved with symlinks followed (its existing prefix when it does not
/// exist), without a trailing separator.
std::string Resolved(const fs::path& p) {
  std::error_code ec;
  fs::path abs = fs::absolute(p, ec);
  if (ec) abs = p;
  fs::path real = fs::weakly_canonical(abs, ec);
  std::string out = (ec ? abs.lexically_normal() : real).string();
  while (out.size() > 1 && out.back() == '/') out.pop_back();
  return out;
}

bool InsideAny(const std::string& resolved, const std::vector<fs::path>& roots) {
  for (const auto& root : roots) {
    const std::string r = root.string();
    if (r == "/" || resolved == r || resolved.starts_with(r + "/")) return true;
  }
  return false;
}

std::string JoinRoots(const std::vector<fs::path>& roots) {
  std::string out;
  for (const auto& r : roots) out += (out.empty() ? "" : ":") + r.string();
  return out;
}

Status OutsideRoots(const fs::path& path, const std::vector<fs::path>& roots) {
  return InvalidArgument("files: '" + Printable(path.string()) +
                         "' is outside the directories files tables may read (DA_FILES_ROOTS: " +
                         Printable(JoinRoots(roots)) + ")");
}

std::vector<std::string> SplitList(const std::string& s) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= s.size()) {
    size_t comma = s.find(',', start);
    if (comma == std::string::npos) comma = s.size();
    std::string item = s.substr(start, comma - start);
    auto b = item.find_first_not_of(" \t");
    auto e = item.find_last_not_of(" \t");
    if (b != std::string::npos) out.push_back(item.substr(b, e - b + 1));
    start = comma + 1;
  }
  return out;
}

}  // namespace

std::string_view FileFormatName(FileFormat f) {
  switch (f) {
    case FileFormat::kCsv:
      return "csv";
    case FileFormat::kTsv:
      return "tsv";
    case FileFormat::kJson:
      return "json";
    case FileFormat::kNdjson:
      return "ndjson";
    case FileFormat::kParquet:
      return "parquet";
  }
  return "";
}

Result<FileFormat> FormatFromPath(std::string_view path) {
  std::string name = AsciiLower(fs::path(std::string(path)).filename().string());
  bool gz = name.ends_with(".gz");
  if (gz) name.resize(name.size() - 3);
  static const std::map<std::string, FileFormat> kByExt = {
      {".csv", FileFormat::kCsv},        {".tsv", FileFormat::kTsv},
      {".tab", FileFormat::kTsv},        {".json", FileFormat::kJson},
      {".ndjson", FileFormat::kNdjson},  {".jsonl", FileFormat::kNdjson},
      {".parquet", FileFormat::kParquet}};
  auto dot = name.rfind('.');
  auto it = dot == std::string::npos ? kByExt.end() : kByExt.find(name.substr(dot));
  if (it == kByExt.end() || (gz && it->second == FileFormat::kParquet)) {
    return InvalidArgument("unsupported file type '" + Printable(path) +
                           "' (expected .csv, .tsv, .tab, .json, .ndjson, .jsonl, .parquet; "
                           ".gz allowed except for parquet)");
  }
  return it->second;
}

bool IsGlob(std::string_view locator) {
  return locator.find_first_of("*?[") != std::string_view::npos;
}

Result<fs::path> ResolveLocator(const std::string& locator, const kit::ConnectorConfig& config) {
  if (locator.empty()) return InvalidArgument("files: source_table (a path or glob) is empty");
  for (char c : locator) {
    auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7f) {
      return InvalidArgument("files: source_table '" + Printable(locator) +
                             "' contains control characters");
    }
  }
  fs::path p(locator);
  if (p.is_absolute()) return p.lexically_normal();
  auto base = config.find("base_dir");
  if (base == config.end() || base->second.empty()) {
    return InvalidArgument("files: relative path '" + Printable(locator) +
                           "' needs sources.files.base_dir; use an absolute path");
  }
  for (const auto& part : p) {
    if (part == "..") {
      return InvalidArgument("files: relative path '" + Printable(locator) +
                             "' must stay inside base_dir (no '..')");
    }
  }
  std::error_code ec;
  fs::path root = fs::absolute(base->second, ec);
  if (ec) return InvalidArgument("files: bad base_dir '" + Printable(base->second) + "'");
  return (root / p).lexically_normal();
}

namespace {
/// The DuckDB reader call of `format` over `source` (one quoted path, a glob or a list of
/// paths); `multi` adds union_by_name for several files.
Result<std::string> ReaderCall(const std::string& source, FileFormat format, bool multi) {
  const std::string union_by_name = multi ? ", union_by_name=true" : "";
  switch (format) {
    case FileFormat::kCsv:
      return "read_csv(" + source + ", auto_detect=true" + union_by_name + ")";
    case FileFormat::kTsv:
      return "read_csv(" + source + ", auto_detect=true, delim='\\t'" + union_by_name + ")";
    case FileFormat::kJson:
      return "read_json_auto(" + source + union_by_name + ")";
    case FileFormat::kNdjson:
      return "read_json_auto(" + source + ", format='newline_delimited'" + union_by_name + ")";
    case FileFormat::kParquet:
      return "read_parquet(" + source + union_by_name + ")";
  }
  return Internal("unknown file format");
}
}  // namespace

Result<std::string> ReaderSql(const fs::path& path, FileFormat format) {
  DA_ASSIGN_OR_RETURN(std::string lit, QuoteLiteral(path.string()));
  return ReaderCall(lit, format, IsGlob(path.string()));
}

Result<std::string> ReaderSql(const std::vector<fs::path>& files, FileFormat format) {
  if (files.empty()) return InvalidArgument("files: no file to read");
  if (files.size() == 1) return ReaderSql(files.front(), format);
  std::string list = "[";
  for (const auto& f : files) {
    DA_ASSIGN_OR_RETURN(std::string lit, QuoteLiteral(f.string()));
    list += (list.size() > 1 ? ", " : "") + lit;
  }
  list += "]";
  return ReaderCall(list, format, true);
}

Result<std::vector<fs::path>> FilesRoots(const kit::ConnectorConfig& config) {
  std::string setting;
  if (auto it = config.find("roots"); it != config.end() && !it->second.empty()) {
    setting = it->second;
  } else if (auto base = config.find("base_dir"); base != config.end() && !base->second.empty()) {
    setting = base->second;
  } else {
    return InvalidArgument("files: no directory may be read: set DA_FILES_ROOTS");
  }
  std::vector<fs::path> roots;
  size_t start = 0;
  while (start <= setting.size()) {
    size_t colon = setting.find(':', start);
    if (colon == std::string::npos) colon = setting.size();
    std::string item = setting.substr(start, colon - start);
    if (!item.empty()) roots.emplace_back(Resolved(item));
    start = colon + 1;
  }
  if (roots.empty()) return InvalidArgument("files: no directory may be read: set DA_FILES_ROOTS");
  return roots;
}

Status CheckInsideRoots(const fs::path& path, const std::vector<fs::path>& roots) {
  fs::path dir;
  if (IsGlob(path.string())) {
    for (const auto& part : path) {
      if (IsGlob(part.string())) break;
      dir /= part;
    }
  } else {
    dir = path;
  }
  if (!InsideAny(Resolved(dir), roots)) return OutsideRoots(path, roots);
  return Status::Ok();
}

Result<std::vector<fs::path>> ConfinedFiles(db::Connection& conn, const fs::path& path,
                                            const std::vector<fs::path>& roots) {
  DA_RETURN_IF_ERROR(CheckInsideRoots(path, roots));
  DA_RETURN_IF_ERROR(CheckExists(conn, path));
  std::vector<fs::path> matches;
  if (IsGlob(path.string())) {
    DA_ASSIGN_OR_RETURN(std::string lit, QuoteLiteral(path.string()));
    DA_ASSIGN_OR_RETURN(auto r, conn.Query("SELECT file FROM glob(" + lit + ") ORDER BY file"));
    for (size_t i = 0; i < r.RowCount(); ++i) matches.emplace_back(r.GetString(0, i));
  } else {
    matches.push_back(path);
  }
  std::vector<fs::path> out;
  for (const auto& m : matches) {
    std::error_code ec;
    fs::path real = fs::canonical(m, ec);
    if (ec) return NotFound("file '" + Printable(m.string()) + "' not found");
    // The match itself, not only the glob's directory: a symlink inside a root may point out.
    if (!InsideAny(real.string(), roots)) return OutsideRoots(m, roots);
    out.push_back(std::move(real));
  }
  return out;
}

std::string SanitizeTableName(std::string_view stem) {
  std::string out;
  for (char c : stem) {
    bool word = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
    if (word) {
      out += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    } else if (!out.empty() && out.back() != '_') {
      out += '_';
    } else if (out.empty() && c == '_') {
      out += '_';
    }
  }
  while (out.size() > 1 && out.back() == '_') out.pop_back();
  if (out.empty() || out == "_") out = "table";
  if (out[0] >= '0' && out[0] <= '9') out = "t_" + out;
  if (out.size() > 64) out.resize(64);
  return out;
}

Result<std::vector<kit::TableInfo>> FilesConnector::Discover(const kit::ConnectorConfig& config) {
  std::vector<std::string> locators;
  bool listed = false;  // from `paths`: errors are the caller's to see
  if (auto paths = config.find("paths"); paths != config.end() && !paths->second.empty()) {
    locators = SplitList(paths->second);
    listed = true;
  } else if (auto base = config.find("base_dir"); base != config.end() && !base->second.empty()) {
    std::error_code ec;
    if (!fs::is_directory(base->second, ec)) {
      return NotFound("files: base_dir '" + Printable(base->second) + "' is not a directory");
    }
    try {
      for (const auto& e : fs::directory_iterator(base->second)) {
        if (!e.is_regular_file()) continue;
        std::string fname = e.path().filename().string();
        if (fname.starts_with(".") || !FormatFromPath(fname).ok()) continue;
        locators.push_back(fname);
      }
    } catch (const fs::filesystem_error& e) {
      return Unavailable(std::string("files: cannot list base_dir: ") + e.what());
    }
    std::sort(locators.begin(), locators.end());
  } else {
    return InvalidArgument("files: discovery needs sources.files.base_dir or paths");
  }

  DA_ASSIGN_OR_RETURN(const std::vector<fs::path> roots, FilesRoots(config));
  DA_ASSIGN_OR_RETURN(auto db, db::Database::Open(":memory:", {.read_only = false,
                                                               .settings = {{"threads", "2"}}}));
  DA_ASSIGN_OR_RETURN(auto conn, db.Connect());
  std::vector<kit::TableInfo> out;
  std::set<std::string> taken;
  for (const auto& locator : locators) {
    auto path = ResolveLocator(locator, config);
    if (!path.ok()) {
      if (listed) return path.status();
      continue;
    }
    auto columns = DescribeFile(conn, *path, roots);
    if (!columns.ok()) {
      if (listed) return columns.status();
      spdlog::warn("files: skipping {}: {}", path->string(), columns.status().ToString());
      continue;
    }
    // A glob is one table named after its directory when the file part is a pattern.
    std::string stem = StemOf(*path);
    if (IsGlob(stem)) stem = path->parent_path().filename().string();
    std::string base_name = SanitizeTableName(stem);
    std::string name = base_name;
    for (int n = 2; taken.count(name) || kit::IsReservedViewName(name); ++n) {
      std::string suffix = "_" + std::to_string(n);
      name = base_name.substr(0, 64 - suffix.size()) + suffix;
    }
    taken.insert(name);
    kit::TableInfo t;
    t.name = name;
    t.columns = std::move(columns).value();
    t.source_table = locator;
    t.description = std::string(FileFormatName(*FormatFromPath(path->string()))) + " file " +
                    (IsGlob(locator) ? "glob " : "") + locator;
    out.push_back(std::move(t));
  }
  return out;
}

Status FilesConnector::Read(const kit::ReadOptions& options, kit::ParquetSink& sink) {
  DA_ASSIGN_OR_RETURN(fs::path path, ResolveLocator(options.table.source_table, options.config));
  DA_ASSIGN_OR_RETURN(FileFormat format, FormatFromPath(path.string()));
  DA_ASSIGN_OR_RETURN(const std::vector<fs::path> roots, FilesRoots(options.config));
  // The resolved files are read, not the locator: what was checked is what is read.
  DA_ASSIGN_OR_RETURN(std::vector<fs::path> files, ConfinedFiles(sink.connection(), path, roots));
  DA_ASSIGN_OR_RETURN(std::string reader, ReaderSql(files, format));
  std::string select = "SELECT * FROM " + reader;
  if (options.watermark && !options.incremental_column.empty()) {
    // Incremental read: DuckDB filters while reading; the literal takes the column's type.
    DA_RETURN_IF_ERROR(ValidateStrictIdentifier("incremental_column", options.incremental_column));
    DA_ASSIGN_OR_RETURN(std::string watermark, QuoteLiteral(*options.watermark));
    select += " WHERE " + QuoteIdent(options.incremental_column) + " > " + watermark;
  }
  Status st = sink.CopyQuery(select);
  if (!st.ok()) return ReadError(st, path, format);
  return Status::Ok();
}

Status FilesConnector::ValidateSourceTable(const std::string& source_table,
                                          const kit::ConnectorConfig& config) const {
  DA_ASSIGN_OR_RETURN(fs::path path, ResolveLocator(source_table, config));
  DA_ASSIGN_OR_RETURN(const std::vector<fs::path> roots, FilesRoots(config));
  return CheckInsideRoots(path, roots);
}

}  // namespace da::connectors::files
