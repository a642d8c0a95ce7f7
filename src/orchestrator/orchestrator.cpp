#include "orchestrator/orchestrator.h"

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <optional>
#include <set>
#include <system_error>
#include <utility>

#include "common/fs_util.h"
#include "common/hash.h"
#include "common/identifiers.h"
#include "common/log.h"
#include "common/text.h"

namespace da::orchestrator {
namespace fs = std::filesystem;

namespace {

constexpr const char* kExtractFile = "extract.duckdb";

/// A name from an extract, safe to log or report: control characters → '?', at most 80 chars.
std::string Printable(std::string_view s) { return PrintableForMessage(s); }

/// DuckDB error messages carry a "LINE 1: ..." excerpt after the first line; keep the first.
std::string FirstLine(const std::string& s) {
  auto pos = s.find('\n');
  return pos == std::string::npos ? s : s.substr(0, pos);
}

std::vector<std::string> SplitCsv(const std::string& s) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= s.size()) {
    size_t end = s.find(',', start);
    if (end == std::string::npos) end = s.size();
    std::string item = s.substr(start, end - start);
    auto not_space = [](unsigned char c) { return !std::isspace(c); };
    item.erase(item.begin(), std::find_if(item.begin(), item.end(), not_space));
    item.erase(std::find_if(item.rbegin(), item.rend(), not_space).base(), item.end());
    if (!item.empty()) out.push_back(item);
    start = end + 1;
  }
  return out;
}

bool IsEnvVarName(std::string_view s) {
  if (s.empty() || s.size() > 64) return false;
  if (s[0] < 'A' || s[0] > 'Z') return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
  });
}

/// One directory under extracts/ that holds an extract.duckdb.
struct SourceDir {
  std::string name;
  fs::path extract_path;
};

/// Directories under `extracts_dir` holding an extract.duckdb, sorted by name (byte order).
/// Listing errors other than "missing" → unavailable.
Result<std::vector<SourceDir>> ScanSources(const fs::path& extracts_dir) {
  std::vector<SourceDir> out;
  std::error_code ec;
  if (!fs::is_directory(extracts_dir, ec)) return out;
  fs::directory_iterator it(extracts_dir, ec);
  if (ec) return Unavailable("cannot list " + extracts_dir.string() + ": " + ec.message());
  for (; it != fs::directory_iterator(); it.increment(ec)) {
    if (ec) return Unavailable("cannot list " + extracts_dir.string() + ": " + ec.message());
    std::error_code entry_ec;
    if (!it->is_directory(entry_ec)) continue;
    fs::path extract = it->path() / kExtractFile;
    if (!fs::exists(extract, entry_ec)) continue;
    out.push_back({it->path().filename().string(), extract});
  }
  std::sort(out.begin(), out.end(),
            [](const SourceDir& a, const SourceDir& b) { return a.name < b.name; });
  return out;
}

/// Why a source directory name cannot be used as a catalog alias, or "" when it can.
/// `analytics_catalog` is the analytics DB's own catalog name (its file stem, "server").
std::string SourceNameProblem(const std::string& name, const std::string& analytics_catalog) {
  if (!IsStrictIdentifier(name)) {
    return "source directory name '" + Printable(name) + "' is not a strict identifier; ignored";
  }
  static const std::set<std::string> kReserved = {
      "main", "memory", "system", "temp", "information_schema", "pg_catalog"};
  std::string lower = AsciiLower(name);
  if (kReserved.count(lower) || lower == AsciiLower(analytics_catalog)) {
    return "source name '" + name + "' is reserved by DuckDB or the analytics DB; ignored";
  }
  return "";
}

/// Forms of the extracts dir that inner views may name: absolute + normalized, and the
/// canonical path when it differs (symlinks). Each ends with '/'.
std::vector<std::string> AllowedDirs(const fs::path& extracts_dir) {
  std::vector<std::string> out;
  auto add = [&](fs::path p) {
    std::string s = p.lexically_normal().string();
    while (s.size() > 1 && s.back() == '/') s.pop_back();
    s += '/';
    if (std::find(out.begin(), out.end(), s) == out.end()) out.push_back(s);
  };
  add(extracts_dir);
  std::error_code ec;
  fs::path canonical = fs::weakly_canonical(extracts_dir, ec);
  if (!ec) add(canonical);
  return out;
}

/// Settings applied at open: never install or auto-load extensions.
std::map<std::string, std::string> BaseSettings() {
  return {{"autoinstall_known_extensions", "false"}, {"autoload_known_extensions", "false"}};
}

/// Confines the database behind `conn` to `allowed` directories (plus DuckDB's own files) and
/// switches external access off for good: DuckDB refuses to turn it back on while running.
Status Sandbox(db::Connection& conn, const std::vector<std::string>& allowed) {
  std::string list;
  for (const auto& dir : allowed) {
    DA_ASSIGN_OR_RETURN(std::string lit, QuoteLiteral(dir));
    if (!list.empty()) list += ", ";
    list += lit;
  }
  if (!list.empty()) {
    DA_RETURN_IF_ERROR(conn.Execute("SET allowed_directories = [" + list + "]")
                           .WithContext("sandbox analytics DB"));
  }
  return conn.Execute("SET enable_external_access = false").WithContext("sandbox analytics DB");
}

Status Attach(db::Connection& conn, const SourceDir& src) {
  DA_ASSIGN_OR_RETURN(std::string path, QuoteLiteral(src.extract_path.string()));
  return conn.Execute("ATTACH " + path + " AS " + QuoteIdent(src.name) + " (READ_ONLY)");
}

/// Names of the tables and views in the main schema of catalog `source`.
Result<std::vector<std::string>> ListObjects(db::Connection& conn, const std::string& source) {
  DA_ASSIGN_OR_RETURN(
      auto r, conn.Query("SELECT table_name FROM duckdb_tables() "
                         "WHERE database_name = $1 AND schema_name = 'main' "
                         "UNION ALL SELECT view_name FROM duckdb_views() "
                         "WHERE database_name = $1 AND schema_name = 'main' AND NOT internal",
                         {db::Value(source)}));
  std::vector<std::string> out;
  for (size_t i = 0; i < r.RowCount(); ++i) out.push_back(r.GetString(0, i));
  return out;
}

}  // namespace

// ---------------------------------------------------------------------------- reports

nlohmann::json RebuildReport::ToJson() const {
  nlohmann::json sources_json = nlohmann::json::array();
  size_t view_count = 0;
  for (const auto& s : sources) {
    view_count += s.views.size();
    sources_json.push_back(
        {{"source", s.source},
         {"views", s.views},
         {"skipped", s.skipped},
         {"error", s.error.empty() ? nlohmann::json() : nlohmann::json(s.error)}});
  }
  return {{"sources", std::move(sources_json)}, {"view_count", view_count}};
}

// ---------------------------------------------------------------------------- _remote_attach

RemoteAttachPolicy RemoteAttachPolicy::FromEnvironment() {
  RemoteAttachPolicy policy;
  if (const char* v = std::getenv("DA_REMOTE_ATTACH_EXTENSIONS")) {
    auto items = SplitCsv(v);
    policy.extensions = std::set<std::string>(items.begin(), items.end());
  }
  if (const char* v = std::getenv("DA_REMOTE_ATTACH_TOKEN_ENVS")) {
    auto items = SplitCsv(v);
    policy.token_envs = std::set<std::string>(items.begin(), items.end());
  }
  return policy;
}

Status ValidateRemoteAttach(const RemoteAttachRow& row, const RemoteAttachPolicy& policy) {
  DA_RETURN_IF_ERROR(ValidateStrictIdentifier("_remote_attach alias", row.alias));
  DA_RETURN_IF_ERROR(ValidateStrictIdentifier("_remote_attach extension", row.extension));
  if (!policy.extensions.count(row.extension)) {
    return InvalidArgument("_remote_attach extension '" + row.extension +
                           "' is not in the allowed set");
  }
  if (!row.token_env.empty()) {
    if (!IsEnvVarName(row.token_env)) {
      return InvalidArgument("_remote_attach token_env '" + Printable(row.token_env) +
                             "' is not an environment variable name");
    }
    if (!policy.token_envs.count(row.token_env)) {
      return InvalidArgument("_remote_attach token_env '" + row.token_env +
                             "' is not in the allowed set");
    }
  }
  if (!QuoteLiteral(row.url).ok()) {
    return InvalidArgument("_remote_attach url contains control characters");
  }
  return Status::Ok();
}

// ---------------------------------------------------------------------------- Orchestrator

Orchestrator::Orchestrator(fs::path extracts_dir, fs::path analytics_path,
                           RemoteAttachPolicy remote_policy)
    : remote_policy_(std::move(remote_policy)) {
  // Inner views name absolute paths, and the sandbox compares against absolute paths.
  std::error_code ec;
  extracts_dir_ = fs::absolute(extracts_dir, ec).lexically_normal();
  if (ec) extracts_dir_ = std::move(extracts_dir);
  analytics_path_ = fs::absolute(analytics_path, ec).lexically_normal();
  if (ec) analytics_path_ = std::move(analytics_path);
}

Result<RebuildReport> Orchestrator::Rebuild() {
  std::lock_guard<std::mutex> lock(rebuild_mu_);
  return RebuildLocked();
}

Result<RebuildReport> Orchestrator::RebuildSource(const std::string& source) {
  DA_RETURN_IF_ERROR(ValidateStrictIdentifier("source", source));
  std::lock_guard<std::mutex> lock(rebuild_mu_);
  std::error_code ec;
  if (!fs::exists(extracts_dir_ / source / kExtractFile, ec)) {
    return NotFound("source '" + source + "' has no " +
                    (extracts_dir_ / source / kExtractFile).string());
  }
  DA_ASSIGN_OR_RETURN(RebuildReport full, RebuildLocked());
  RebuildReport one;
  for (auto& s : full.sources) {
    if (s.source == source) one.sources.push_back(std::move(s));
  }
  if (one.sources.empty()) {
    return NotFound("source '" + source + "' disappeared during the rebuild");
  }
  return one;
}

Result<RebuildReport> Orchestrator::RebuildLocked() {
  RebuildReport report;
  std::error_code ec;
  if (!fs::is_directory(extracts_dir_, ec)) {
    spdlog::info("orchestrator: {} does not exist; analytics DB left as is",
                 extracts_dir_.string());
    return report;
  }
  DA_ASSIGN_OR_RETURN(std::vector<SourceDir> sources, ScanSources(extracts_dir_));

  const fs::path tmp_path = fs::path(analytics_path_.string() + ".tmp");
  const fs::path tmp_wal = fs::path(tmp_path.string() + ".wal");
  const std::string analytics_catalog = analytics_path_.stem().string();
  DA_RETURN_IF_ERROR(EnsureDir(analytics_path_.parent_path()));
  DA_RETURN_IF_ERROR(RemoveIfExists(tmp_path));
  DA_RETURN_IF_ERROR(RemoveIfExists(tmp_wal));

  std::map<std::string, std::string> published;  // view name → source
  auto build = [&]() -> Status {
    DA_ASSIGN_OR_RETURN(db::Database database,
                        db::Database::Open(tmp_path.string(), {false, BaseSettings()}));
    DA_ASSIGN_OR_RETURN(db::Connection conn, database.Connect());
    DA_RETURN_IF_ERROR(Sandbox(conn, AllowedDirs(extracts_dir_)));

    std::map<std::string, std::string> claims;  // lower-case view name → owning source
    std::vector<std::string> attached;
    for (const SourceDir& src : sources) {
      SourceReport sr;
      sr.source = src.name;
      if (std::string problem = SourceNameProblem(src.name, analytics_catalog); !problem.empty()) {
        spdlog::warn("orchestrator: {}", problem);
        sr.error = problem;
        report.sources.push_back(std::move(sr));
        continue;
      }
      if (Status st = Attach(conn, src); !st.ok()) {
        sr.error = "cannot attach " + src.extract_path.string() + ": " + FirstLine(st.message());
        spdlog::warn("orchestrator: source {}: {}", src.name, sr.error);
        report.sources.push_back(std::move(sr));
        continue;
      }
      attached.push_back(src.name);
      const std::string catalog = QuoteIdent(src.name) + ".\"main\".";

      auto objects = ListObjects(conn, src.name);
      if (!objects.ok()) {
        sr.error = "cannot list objects: " + FirstLine(objects.status().message());
      }
      std::set<std::string> inner;  // lower-case: DuckDB resolves names case-insensitively
      if (objects.ok()) {
        for (const auto& o : *objects) inner.insert(AsciiLower(o));
        if (!inner.count("_meta")) sr.error = "extract has no _meta table";
      }
      std::vector<std::optional<std::string>> names;
      if (sr.error.empty()) {
        auto meta = conn.Query("SELECT table_name FROM " + catalog + "\"_meta\"");
        if (!meta.ok()) {
          sr.error = "cannot read _meta: " + FirstLine(meta.status().message());
        } else {
          for (size_t i = 0; i < meta->RowCount(); ++i) names.push_back(meta->GetOptString(0, i));
        }
      }
      if (!sr.error.empty()) {
        spdlog::warn("orchestrator: source {}: {}", src.name, sr.error);
        report.sources.push_back(std::move(sr));
        continue;
      }

      if (inner.count("_remote_attach")) {
        auto rows = conn.Query("SELECT alias, extension, url, token_env FROM " + catalog +
                               "\"_remote_attach\"");
        if (!rows.ok()) {
          sr.skipped.push_back("_remote_attach: cannot read: " +
                               FirstLine(rows.status().message()));
        } else {
          for (size_t i = 0; i < rows->RowCount(); ++i) {
            RemoteAttachRow row{rows->GetString(0, i), rows->GetString(1, i), rows->GetString(2, i),
                                rows->GetString(3, i)};
            Status valid = ValidateRemoteAttach(row, remote_policy_);
            std::string reason = valid.ok() ? "remote sources arrive in a later issue; not attached"
                                            : "refused: " + valid.message();
            spdlog::info("orchestrator: source {}: _remote_attach {}: {}", src.name,
                         Printable(row.alias), reason);
            sr.skipped.push_back("_remote_attach." + Printable(row.alias) + ": " + reason);
          }
        }
      }

      std::set<std::string> seen_in_source;
      for (const auto& opt_name : names) {
        if (!opt_name) {
          sr.skipped.push_back("(null): table_name is NULL");
          continue;
        }
        const std::string& name = *opt_name;
        const std::string lower = AsciiLower(name);
        auto skip = [&](const std::string& reason) {
          sr.skipped.push_back(Printable(name) + ": " + reason);
          spdlog::warn("orchestrator: source {}: skipped {}: {}", src.name, Printable(name),
                       reason);
        };
        if (!IsStrictIdentifier(name)) {
          skip("not a strict identifier");
          continue;
        }
        if (lower == "_meta" || lower == "_remote_attach") {
          skip("reserved name");
          continue;
        }
        if (!seen_in_source.insert(lower).second) {
          skip("listed twice in _meta");
          continue;
        }
        if (!inner.count(lower)) {
          skip("no view or table of that name in the extract");
          continue;
        }
        if (auto owner = claims.find(lower); owner != claims.end()) {
          skip("view name already published by source '" + owner->second + "'");
          continue;
        }
        Status created = conn.Execute("CREATE VIEW " + QuoteIdent(name) + " AS SELECT * FROM " +
                                      catalog + QuoteIdent(name));
        if (!created.ok()) {
          skip("cannot create view: " + FirstLine(created.message()));
          continue;
        }
        claims.emplace(lower, src.name);
        published.emplace(name, src.name);
        sr.views.push_back(name);
      }
      spdlog::info("orchestrator: source {}: {} view(s), {} skipped", src.name, sr.views.size(),
                   sr.skipped.size());
      report.sources.push_back(std::move(sr));
    }

    for (const auto& name : attached) {
      if (Status st = conn.Execute("DETACH " + QuoteIdent(name)); !st.ok()) {
        spdlog::warn("orchestrator: detach {}: {}", name, st.message());
      }
    }
    return conn.Execute("CHECKPOINT").WithContext("checkpoint " + tmp_path.string());
  };

  if (Status st = build(); !st.ok()) {
    (void)RemoveIfExists(tmp_path);
    (void)RemoveIfExists(tmp_wal);
    return st;
  }
  // The tmp DB is closed here. A WAL left by an earlier crash would be replayed over the new
  // file, so it goes before the swap.
  DA_RETURN_IF_ERROR(RemoveIfExists(tmp_wal));
  DA_RETURN_IF_ERROR(RemoveIfExists(fs::path(analytics_path_.string() + ".wal")));
  fs::rename(tmp_path, analytics_path_, ec);
  if (ec) {
    (void)RemoveIfExists(tmp_path);
    return Internal("cannot rename " + tmp_path.string() + " over " + analytics_path_.string() +
                    ": " + ec.message());
  }
  {
    std::lock_guard<std::mutex> lock(state_mu_);
    published_ = std::move(published);
    // Unique across orchestrators in the process, so a cache keyed by it alone cannot confuse
    // two instances (tests run several); 0 means "never published".
    static std::atomic<uint64_t> last_generation{0};
    publish_generation_.store(last_generation.fetch_add(1) + 1, std::memory_order_release);
  }
  spdlog::info("orchestrator: analytics DB rebuilt: {} source(s)", report.sources.size());
  return report;
}

Result<AnalyticsReader> Orchestrator::OpenReader() {
  std::error_code ec;
  if (!fs::exists(analytics_path_, ec)) {
    DA_ASSIGN_OR_RETURN(db::Database database,
                        db::Database::Open(":memory:", {false, BaseSettings()}));
    DA_ASSIGN_OR_RETURN(db::Connection conn, database.Connect());
    DA_RETURN_IF_ERROR(Sandbox(conn, {}));
    return AnalyticsReader(std::move(database), std::move(conn), {}, true);
  }

  db::DatabaseOptions options{true, BaseSettings()};
  // DuckDB's default spill directory is "<db>.tmp", which is the rebuild's tmp file; and
  // readers must not share one (spill file names would collide).
  options.settings["temp_directory"] =
      (analytics_path_.parent_path() /
       ("." + analytics_path_.filename().string() + ".reader_" + RandomHex(8) + ".tmp"))
          .string();
  DA_ASSIGN_OR_RETURN(db::Database database, db::Database::Open(analytics_path_.string(), options));
  DA_ASSIGN_OR_RETURN(db::Connection conn, database.Connect());
  DA_RETURN_IF_ERROR(Sandbox(conn, AllowedDirs(extracts_dir_)));

  DA_ASSIGN_OR_RETURN(std::vector<SourceDir> sources, ScanSources(extracts_dir_));
  const std::string analytics_catalog = analytics_path_.stem().string();
  std::vector<std::string> attached;
  for (const SourceDir& src : sources) {
    if (!SourceNameProblem(src.name, analytics_catalog).empty()) continue;
    if (Status st = Attach(conn, src); !st.ok()) {
      spdlog::debug("orchestrator: reader: cannot attach {}: {}", src.name,
                    FirstLine(st.message()));
      continue;
    }
    attached.push_back(src.name);
  }
  return AnalyticsReader(std::move(database), std::move(conn), std::move(attached), false);
}

std::map<std::string, std::string> Orchestrator::PublishedViews() const {
  std::lock_guard<std::mutex> lock(state_mu_);
  return published_;
}

}  // namespace da::orchestrator
