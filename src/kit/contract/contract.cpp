#include "kit/contract/contract.h"

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <map>
#include <set>
#include <system_error>

#include "common/hash.h"
#include "common/identifiers.h"
#include "db/duckdb.h"
#include "kit/parquet_sink.h"
#include "kit/runtime.h"
#include "common/text.h"

namespace da::kit::contract {
namespace fs = std::filesystem;

namespace {

constexpr const char* kDiscover = "discover_returns_valid_tables";
constexpr const char* kRead = "read_matches_declared_schema";
constexpr const char* kExtract = "full_extract_builds_valid_db";
constexpr const char* kCredentials = "credentials_are_env_var_names";

std::string Describe(const std::vector<ColumnInfo>& cols) {
  std::string out;
  for (const auto& c : cols) out += (out.empty() ? "" : ", ") + c.name + " " + c.type;
  return "(" + out + ")";
}

bool IsTypeText(std::string_view type) {
  if (type.empty() || type.size() > 256) return false;
  return std::all_of(type.begin(), type.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == ' ' || c == '(' ||
           c == ')' || c == ',' || c == '[' || c == ']' || c == '"';
  });
}

Result<db::Database> OpenWorkDb(const fs::path& spill_dir) {
  db::DatabaseOptions o;
  o.settings = {{"memory_limit", "1GB"},
                {"threads", "2"},
                {"preserve_insertion_order", "false"},
                {"temp_directory", spill_dir.string()},
                {"autoinstall_known_extensions", "false"}};
  return db::Database::Open(":memory:", o);
}

Result<std::vector<ColumnInfo>> DescribeSql(db::Connection& conn, const std::string& select) {
  DA_ASSIGN_OR_RETURN(auto r, conn.Query("DESCRIBE " + select));
  std::vector<ColumnInfo> out;
  for (size_t i = 0; i < r.RowCount(); ++i) out.push_back({r.GetString(0, i), r.GetString(1, i)});
  return out;
}

/// Files under `dir` a finished extraction must not leave behind.
std::vector<std::string> Leftovers(const fs::path& dir) {
  std::vector<std::string> out;
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(dir, ec);
       !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
    const std::string name = it->path().filename().string();
    if (name.ends_with(".tmp") || name.ends_with(".wal") || name == "tmp") {
      out.push_back(it->path().string());
    }
  }
  return out;
}

/// True when `needle` occurs in the file (read in chunks, constant memory).
bool FileContains(const fs::path& file, const std::string& needle) {
  std::ifstream in(file, std::ios::binary);
  if (!in || needle.empty()) return false;
  std::string carry;
  std::vector<char> buf(size_t{1} << 20);
  while (in) {
    in.read(buf.data(), static_cast<std::streamsize>(buf.size()));
    const auto n = static_cast<size_t>(in.gcount());
    if (n == 0) break;
    std::string window = carry + std::string(buf.data(), n);
    if (window.find(needle) != std::string::npos) return true;
    carry = window.size() >= needle.size() ? window.substr(window.size() - needle.size() + 1) : window;
  }
  return false;
}

/// Heuristics for a credential pasted where an environment variable name belongs.
bool LooksLikeSecret(std::string_view s) {
  if (s.size() >= 100) return true;
  for (std::string_view p : {"sk-", "sk_", "xox", "ghp_", "gho_", "github_pat_", "AKIA", "ASIA", "eyJ"}) {
    if (s.starts_with(p)) return true;
  }
  // A long run of letters and digits with many digits is a key, not a variable name.
  size_t run = 0, digits = 0;
  for (char c : s) {
    if (std::isalnum(static_cast<unsigned char>(c))) {
      ++run;
      if (std::isdigit(static_cast<unsigned char>(c))) ++digits;
      if (run >= 20 && digits >= 4) return true;
    } else {
      run = digits = 0;
    }
  }
  return false;
}

bool IsSecretishName(const std::string& name) {
  const std::string n = AsciiLower(name);
  for (const char* w : {"token", "password", "passwd", "secret", "api_key", "apikey", "private_key"}) {
    if (n.find(w) != std::string::npos) return true;
  }
  return false;
}

}  // namespace

std::string_view CheckOutcomeName(CheckOutcome o) {
  switch (o) {
    case CheckOutcome::kPass:
      return "pass";
    case CheckOutcome::kFail:
      return "fail";
    case CheckOutcome::kSkip:
      return "skip";
  }
  return "fail";
}

const std::vector<std::string>& CheckNames() {
  static const std::vector<std::string> kNames = {kDiscover, kRead, kExtract, kCredentials};
  return kNames;
}

bool AllPassed(const std::vector<CheckResult>& results) {
  return std::none_of(results.begin(), results.end(),
                      [](const CheckResult& r) { return r.outcome == CheckOutcome::kFail; });
}

struct ContractRun::State {
  ContractTarget target;
  fs::path dir;
  std::optional<Result<std::vector<TableInfo>>> discovery;
  std::optional<Result<ExtractReport>> extraction;

  Capability caps() {
    auto c = target.factory ? target.factory() : nullptr;
    return c ? c->capabilities() : Capability::kNone;
  }

  const Result<std::vector<TableInfo>>& Discovery() {
    if (!discovery) {
      auto c = target.factory();
      if (!c) {
        discovery.emplace(Internal("the factory returned no connector"));
      } else {
        discovery.emplace(c->Discover(target.config));
      }
    }
    return *discovery;
  }

  /// The tables the read and extract checks use, with declared columns when discovered.
  Result<std::vector<std::pair<model::TableSpec, std::optional<TableInfo>>>> Tables() {
    std::vector<std::pair<model::TableSpec, std::optional<TableInfo>>> out;
    if (!target.tables.empty()) {
      std::map<std::string, TableInfo> by_locator;
      if (HasCapability(caps(), Capability::kDiscover) && Discovery().ok()) {
        for (const auto& t : *Discovery()) by_locator[t.source_table] = t;
      }
      for (const auto& r : target.tables) {
        if (out.size() >= target.max_tables) break;
        auto it = by_locator.find(r.source_table);
        out.emplace_back(r, it == by_locator.end() ? std::nullopt : std::optional<TableInfo>(it->second));
      }
      return out;
    }
    if (!HasCapability(caps(), Capability::kDiscover)) {
      return FailedPrecondition("the connector cannot discover and the target lists no tables");
    }
    const auto& found = Discovery();
    if (!found.ok()) return found.status().WithContext("discover");
    for (const auto& t : *found) {
      if (out.size() >= target.max_tables) break;
      model::TableSpec r;
      r.id = t.name;
      r.name = t.name;
      r.description = t.description;
      r.source_type = target.source;
      r.source_table = t.source_table;
      out.emplace_back(std::move(r), t);
    }
    if (out.empty()) return FailedPrecondition("discover returned no tables");
    return out;
  }

  const Result<ExtractReport>& Extraction() {
    if (!extraction) {
      auto tables = Tables();
      if (!tables.ok()) {
        extraction.emplace(tables.status());
        return *extraction;
      }
      std::vector<model::TableSpec> records;
      for (const auto& [r, info] : *tables) records.push_back(r);
      ConnectorRegistry registry;
      Status reg = registry.Register(target.source, target.factory);
      if (!reg.ok()) {
        extraction.emplace(reg);
        return *extraction;
      }
      RuntimeOptions options;
      options.extracts_dir = dir / "extracts";
      options.source_config[target.source] = target.config;
      ExtractRuntime runtime(options, registry);
      extraction.emplace(runtime.Extract(target.source, records, {}));
    }
    return *extraction;
  }

  fs::path SourceDir() const { return dir / "extracts" / target.source; }

  // --------------------------------------------------------------------- checks

  CheckResult CheckDiscover() {
    CheckResult r{kDiscover, CheckOutcome::kFail, "", 0};
    if (!HasCapability(caps(), Capability::kDiscover)) {
      return {kDiscover, CheckOutcome::kSkip, "the connector does not declare discover", 0};
    }
    const auto& found = Discovery();
    if (!found.ok()) {
      r.detail = "discover failed: " + found.status().ToString();
      return r;
    }
    if (found->empty()) {
      r.detail = "discover returned no tables";
      return r;
    }
    auto db = db::Database::Open(":memory:");
    if (!db.ok()) return {kDiscover, CheckOutcome::kFail, db.status().ToString(), 0};
    auto conn = db->Connect();
    if (!conn.ok()) return {kDiscover, CheckOutcome::kFail, conn.status().ToString(), 0};
    std::set<std::string> names;
    for (const auto& t : *found) {
      const std::string where = "table '" + PrintableForMessage(t.name) + "'";
      if (!IsStrictIdentifier(t.name)) {
        r.detail = where + ": the name is not a strict identifier";
        return r;
      }
      if (IsReservedViewName(t.name)) {
        r.detail = where + ": the name is reserved inside extract.duckdb";
        return r;
      }
      if (!names.insert(AsciiLower(t.name)).second) {
        r.detail = where + ": the name is listed twice (case-insensitively)";
        return r;
      }
      if (t.source_table.empty()) {
        r.detail = where + ": source_table is empty";
        return r;
      }
      if (t.columns.empty()) {
        r.detail = where + ": no columns";
        return r;
      }
      std::set<std::string> cols;
      for (const auto& c : t.columns) {
        const std::string col = where + " column '" + PrintableForMessage(c.name) + "'";
        if (c.name.empty() || PrintableForMessage(c.name, 1000) != c.name) {
          r.detail = col + ": empty or has control characters";
          return r;
        }
        if (!cols.insert(AsciiLower(c.name)).second) {
          r.detail = col + ": listed twice (case-insensitively)";
          return r;
        }
        if (!IsTypeText(c.type) || !conn->Execute("SELECT CAST(NULL AS " + c.type + ")").ok()) {
          r.detail = col + ": '" + PrintableForMessage(c.type) + "' is not a DuckDB type";
          return r;
        }
      }
      for (const auto& k : t.primary_key) {
        auto hit = std::find_if(t.columns.begin(), t.columns.end(),
                                [&](const ColumnInfo& c) { return c.name == k; });
        if (hit == t.columns.end()) {
          r.detail = where + ": primary key column '" + PrintableForMessage(k) + "' is not a column";
          return r;
        }
      }
    }
    r.outcome = CheckOutcome::kPass;
    r.detail = std::to_string(found->size()) + " table(s)";
    return r;
  }

  CheckResult CheckRead() {
    CheckResult r{kRead, CheckOutcome::kFail, "", 0};
    if (!HasCapability(caps(), Capability::kRead)) {
      return {kRead, CheckOutcome::kSkip, "the connector does not declare read", 0};
    }
    auto tables = Tables();
    if (!tables.ok()) {
      r.detail = tables.status().ToString();
      return r;
    }
    const fs::path read_dir = dir / "read";
    std::error_code ec;
    fs::create_directories(read_dir / "spill", ec);
    fs::create_directories(read_dir / "scratch", ec);
    auto db = OpenWorkDb(read_dir / "spill");
    if (!db.ok()) return {kRead, CheckOutcome::kFail, db.status().ToString(), 0};
    int64_t total_rows = 0;
    for (const auto& [record, info] : *tables) {
      const std::string where = "table '" + record.id + "'";
      auto conn = db->Connect();
      if (!conn.ok()) return {kRead, CheckOutcome::kFail, conn.status().ToString(), 0};
      const fs::path out = read_dir / (record.id + ".parquet");
      auto connector = target.factory();
      Status st;
      bool finished = false;
      {
        ParquetSink sink(*conn, out);
        ReadOptions ro;
        ro.table = record;
        ro.config = target.config;
        ro.temp_dir = read_dir / "scratch";
        st = connector->Read(ro, sink);
        finished = sink.finished();
        total_rows += sink.rows_written();
      }
      if (!st.ok()) {
        r.detail = where + ": read failed: " + st.ToString();
        return r;
      }
      if (!finished) {
        r.detail = where + ": Read returned ok without writing the table";
        return r;
      }
      auto lit = QuoteLiteral(out.string());
      if (!lit.ok()) return {kRead, CheckOutcome::kFail, lit.status().ToString(), 0};
      auto actual = DescribeSql(*conn, "SELECT * FROM read_parquet(" + *lit + ")");
      if (!actual.ok()) {
        r.detail = where + ": the written Parquet file cannot be read: " + actual.status().ToString();
        return r;
      }
      if (info && info->columns != *actual) {
        r.detail = where + ": declared columns " + Describe(info->columns) + " but read wrote " +
                   Describe(*actual);
        return r;
      }
      if (actual->empty()) {
        r.detail = where + ": the written table has no columns";
        return r;
      }
    }
    r.outcome = CheckOutcome::kPass;
    r.detail = std::to_string(tables->size()) + " table(s), " + std::to_string(total_rows) + " rows";
    return r;
  }

  CheckResult CheckExtract() {
    CheckResult r{kExtract, CheckOutcome::kFail, "", 0};
    if (!HasCapability(caps(), Capability::kRead)) {
      return {kExtract, CheckOutcome::kSkip, "the connector does not declare read", 0};
    }
    const auto& report = Extraction();
    if (!report.ok()) {
      r.detail = "extract failed: " + report.status().ToString();
      return r;
    }
    for (const auto& s : report->tables) {
      if (!s.ok()) {
        r.detail = "table '" + s.table_id + "' failed: " + s.error;
        return r;
      }
    }
    const fs::path db_path = SourceDir() / "extract.duckdb";
    auto db = db::Database::Open(db_path.string(), {.read_only = true, .settings = {}});
    if (!db.ok()) {
      r.detail = "cannot open extract.duckdb: " + db.status().ToString();
      return r;
    }
    auto conn = db->Connect();
    if (!conn.ok()) return {kExtract, CheckOutcome::kFail, conn.status().ToString(), 0};
    auto meta_cols = DescribeSql(*conn, "SELECT * FROM _meta");
    if (!meta_cols.ok()) {
      r.detail = "extract.duckdb has no readable _meta: " + meta_cols.status().ToString();
      return r;
    }
    const std::vector<ColumnInfo> contract = {
        {"table_name", "VARCHAR"},  {"description", "VARCHAR"},  {"rows", "BIGINT"},
        {"size_bytes", "BIGINT"},   {"extracted_at", "TIMESTAMP"}, {"query_mode", "VARCHAR"},
        {"schema_json", "VARCHAR"}};
    for (const auto& c : contract) {
      if (std::find(meta_cols->begin(), meta_cols->end(), c) == meta_cols->end()) {
        r.detail = "_meta lacks the contract column " + c.name + " " + c.type + "; it has " +
                   Describe(*meta_cols);
        return r;
      }
    }
    auto views = conn->Query("SELECT view_name FROM duckdb_views() WHERE NOT internal ORDER BY 1");
    if (!views.ok()) return {kExtract, CheckOutcome::kFail, views.status().ToString(), 0};
    std::set<std::string> view_names;
    for (size_t i = 0; i < views->RowCount(); ++i) view_names.insert(views->GetString(0, i));
    std::set<std::string> expected;
    for (const auto& s : report->tables) expected.insert(s.name);
    if (view_names != expected) {
      std::string have, want;
      for (const auto& v : view_names) have += (have.empty() ? "" : ", ") + v;
      for (const auto& v : expected) want += (want.empty() ? "" : ", ") + v;
      r.detail = "views [" + have + "] differ from the extracted tables [" + want + "]";
      return r;
    }
    int64_t total = 0;
    for (const auto& s : report->tables) {
      const std::string where = "table '" + s.table_id + "'";
      auto meta = conn->Query("SELECT rows, schema_json FROM _meta WHERE table_name = $1", {s.name});
      if (!meta.ok() || meta->RowCount() != 1) {
        r.detail = where + ": expected exactly one _meta row";
        return r;
      }
      auto count = conn->Query("SELECT count(*) FROM " + QuoteIdent(s.name));
      if (!count.ok()) {
        r.detail = where + ": its view cannot be queried: " + count.status().ToString();
        return r;
      }
      const int64_t n = count->GetInt64(0, 0);
      if (n != meta->GetInt64(0, 0) || n != s.rows) {
        r.detail = where + ": count(view) = " + std::to_string(n) + ", _meta.rows = " +
                   std::to_string(meta->GetInt64(0, 0)) + ", reported rows = " + std::to_string(s.rows);
        return r;
      }
      total += n;
      auto view_cols = DescribeSql(*conn, "SELECT * FROM " + QuoteIdent(s.name));
      nlohmann::json schema = nlohmann::json::parse(meta->GetString(1, 0), nullptr, false);
      auto declared = ColumnsFromJson(schema);
      if (!view_cols.ok() || !declared.ok() || *declared != *view_cols) {
        r.detail = where + ": _meta.schema_json does not match the view's columns";
        return r;
      }
    }
    if (auto left = Leftovers(SourceDir()); !left.empty()) {
      r.detail = "leftover temporary files: " + left.front();
      return r;
    }
    r.outcome = CheckOutcome::kPass;
    r.detail = std::to_string(report->tables.size()) + " view(s), " + std::to_string(total) + " rows";
    return r;
  }

  CheckResult CheckCredentials() {
    CheckResult r{kCredentials, CheckOutcome::kFail, "", 0};
    const Capability c = caps();
    if (!target.manifest) {
      if (HasCapability(c, Capability::kRemote)) {
        r.detail = "a remote connector needs a manifest naming its credential env vars";
        return r;
      }
      return {kCredentials, CheckOutcome::kSkip, "no manifest given", 0};
    }
    const Manifest& m = *target.manifest;
    for (const auto& e : m.env_vars) {
      if (LooksLikeSecret(e.name)) {
        r.detail = "auth.env_vars entry looks like a credential, not a variable name";
        return r;
      }
    }
    for (const auto& f : m.config) {
      if (f.default_value && !f.default_value->empty() && IsSecretishName(f.name)) {
        r.detail = "config." + f.name + " has a default value; credentials belong in auth.env_vars";
        return r;
      }
      if (f.default_value && LooksLikeSecret(*f.default_value)) {
        r.detail = "config." + f.name + ".default looks like a credential";
        return r;
      }
    }
    if (HasCapability(c, Capability::kRemote) && m.env_vars.empty()) {
      r.detail = "a remote connector must name the env var holding its token in auth.env_vars";
      return r;
    }
    // Every credential that is set must stay out of what the extraction publishes.
    std::vector<std::pair<std::string, std::string>> secrets;
    for (const auto& e : m.env_vars) {
      const char* v = std::getenv(e.name.c_str());
      if (v != nullptr && std::string_view(v).size() >= 6) secrets.emplace_back(e.name, v);
    }
    size_t scanned = 0;
    if (!secrets.empty() && HasCapability(c, Capability::kRead)) {
      const auto& report = Extraction();
      if (!report.ok()) {
        r.detail = "cannot extract to scan for leaked credentials: " + report.status().ToString();
        return r;
      }
      // Raw bytes of everything but Parquet (compressed: scanned through DuckDB below).
      std::error_code ec;
      for (auto it = fs::recursive_directory_iterator(SourceDir(), ec);
           !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
        if (!it->is_regular_file() || it->path().extension() == ".parquet") continue;
        ++scanned;
        for (const auto& [name, value] : secrets) {
          if (FileContains(it->path(), value)) {
            r.detail = "the value of " + name + " appears in the published file " +
                       fs::relative(it->path(), SourceDir()).string();
            return r;
          }
        }
      }
      // Every value of every view, as text.
      auto db = db::Database::Open((SourceDir() / "extract.duckdb").string(),
                                   {.read_only = true, .settings = {}});
      if (!db.ok()) return {kCredentials, CheckOutcome::kFail, db.status().ToString(), 0};
      auto conn = db->Connect();
      if (!conn.ok()) return {kCredentials, CheckOutcome::kFail, conn.status().ToString(), 0};
      for (const auto& s : report->tables) {
        auto cols = DescribeSql(*conn, "SELECT * FROM " + QuoteIdent(s.name));
        if (!cols.ok() || cols->empty()) continue;
        ++scanned;
        std::string where;
        for (const auto& col : *cols) {
          where += (where.empty() ? "" : " OR ") + std::string("contains(CAST(") + QuoteIdent(col.name) +
                   " AS VARCHAR), $1)";
        }
        for (const auto& [name, value] : secrets) {
          auto hits = conn->Query("SELECT count(*) FROM " + QuoteIdent(s.name) + " WHERE " + where,
                                  {value});
          if (hits.ok() && hits->GetInt64(0, 0) > 0) {
            r.detail = "the value of " + name + " appears in the data of table '" + s.table_id + "'";
            return r;
          }
        }
      }
    }
    r.outcome = CheckOutcome::kPass;
    r.detail = std::to_string(m.env_vars.size()) + " credential env var(s)" +
               (secrets.empty() ? std::string()
                                : ", " + std::to_string(secrets.size()) + " set and absent from " +
                                      std::to_string(scanned) + " published file(s)/table(s)");
    return r;
  }
};

ContractRun::ContractRun(ContractTarget target) : state_(std::make_unique<State>()) {
  state_->target = std::move(target);
  state_->dir = fs::temp_directory_path() / ("da-contract-" + RandomHex(8));
  std::error_code ec;
  fs::create_directories(state_->dir, ec);
}

ContractRun::~ContractRun() {
  std::error_code ec;
  fs::remove_all(state_->dir, ec);
}

CheckResult ContractRun::Run(const std::string& check) {
  const auto start = std::chrono::steady_clock::now();
  CheckResult r;
  if (!state_->target.factory) {
    r = {check, CheckOutcome::kFail, "the target has no connector factory", 0};
  } else if (check == kDiscover) {
    r = state_->CheckDiscover();
  } else if (check == kRead) {
    r = state_->CheckRead();
  } else if (check == kExtract) {
    r = state_->CheckExtract();
  } else if (check == kCredentials) {
    r = state_->CheckCredentials();
  } else {
    r = {check, CheckOutcome::kFail, "unknown check", 0};
  }
  r.duration_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                      std::chrono::steady_clock::now() - start)
                      .count();
  return r;
}

std::vector<CheckResult> ContractRun::RunAll() {
  std::vector<CheckResult> out;
  for (const auto& name : CheckNames()) out.push_back(Run(name));
  return out;
}

std::vector<CheckResult> RunContract(ContractTarget target) {
  ContractRun run(std::move(target));
  return run.RunAll();
}

}  // namespace da::kit::contract
