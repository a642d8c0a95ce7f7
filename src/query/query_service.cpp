#include "query/query_service.h"

#include <algorithm>
#include <cctype>
#include <condition_variable>
#include <cstdio>
#include <map>
#include <new>
#include <thread>

#include <sys/stat.h>

#include "common/identifiers.h"
#include "common/log.h"
#include "common/memory_size.h"
#include "query/allocation_guard.h"
#include "db/value_json.h"
#include "common/text.h"

namespace da::query {
namespace {

using nlohmann::json;
using Clock = std::chrono::steady_clock;

bool IsIntegerType(const std::string& t) {
  return t == "TINYINT" || t == "SMALLINT" || t == "INTEGER" || t == "BIGINT" || t == "HUGEINT" ||
         t == "UTINYINT" || t == "USMALLINT" || t == "UINTEGER" || t == "UBIGINT" ||
         t == "UHUGEINT";
}

void AppendCsvField(std::string& out, std::string_view s) {
  if (s.find_first_of(",\"\r\n") == std::string_view::npos) {
    out += s;
    return;
  }
  out += '"';
  for (char ch : s) {
    if (ch == '"') out += '"';
    out += ch;
  }
  out += '"';
}

/// Interrupts `conn` once `timeout` has passed, and keeps interrupting every 50 ms until
/// destroyed (an interrupt that lands just before DuckDB starts the query is not lost).
class Watchdog {
 public:
  Watchdog(db::Connection& conn, std::chrono::milliseconds timeout) : conn_(conn) {
    if (timeout.count() <= 0) return;
    thread_ = std::thread([this, deadline = Clock::now() + timeout] {
      std::unique_lock<std::mutex> lock(mu_);
      if (cv_.wait_until(lock, deadline, [this] { return done_; })) return;
      fired_ = true;
      while (!done_) {
        conn_.Interrupt();
        cv_.wait_for(lock, std::chrono::milliseconds(50), [this] { return done_; });
      }
    });
  }
  Watchdog(const Watchdog&) = delete;
  Watchdog& operator=(const Watchdog&) = delete;
  ~Watchdog() { Stop(); }

  /// Stops watching; true when the time limit was reached.
  bool Stop() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      done_ = true;
    }
    cv_.notify_all();
    if (thread_.joinable()) thread_.join();
    std::lock_guard<std::mutex> lock(mu_);
    return fired_;
  }

 private:
  db::Connection& conn_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool done_ = false;
  bool fired_ = false;
  std::thread thread_;
};

/// Candidate texts to embed: the SQL itself, then the SQL cut at each of its last few `;`
/// (a trailing semicolon, possibly followed by comments that hold `;` themselves).
std::vector<std::string_view> EmbedBodies(std::string_view sql) {
  std::vector<std::string_view> out{sql};
  size_t end = sql.size();
  for (int i = 0; i < 16; ++i) {
    size_t pos = sql.rfind(';', end == 0 ? 0 : end - 1);
    if (pos == std::string_view::npos || end == 0) break;
    out.push_back(sql.substr(0, pos));
    end = pos;
  }
  return out;
}

/// Types whose JSON and CSV forms are read from the value itself; other scalars (dates,
/// UUIDs, ENUMs, ...) are cast to VARCHAR in SQL, which is their JSON form too (DuckDB's text).
bool IsNativeType(const std::string& t) {
  return t == "BOOLEAN" || IsIntegerType(t) || t == "FLOAT" || t == "DOUBLE" ||
         t.starts_with("DECIMAL(") || t == "VARCHAR" || t == "BLOB";
}

/// LIST ("INTEGER[]"), ARRAY ("INTEGER[3]"), STRUCT, MAP and UNION: JSON reads them as they
/// are (arrays and objects), CSV reads a VARCHAR copy (DuckDB's text, e.g. "[1, 2]").
bool IsNestedType(const std::string& t) {
  return (!t.empty() && t.back() == ']') || t.starts_with("STRUCT(") || t.starts_with("MAP(") ||
         t.starts_with("UNION(");
}

/// The AST node at `from_table.<key>` of the only statement of `parsed`, when that statement is
/// a SELECT_NODE whose FROM is a table reference of `kind`.
const json* EmbeddedNode(const json& parsed, const char* kind, const char* key) {
  if (!parsed.is_array() || parsed.size() != 1) return nullptr;
  auto node = parsed[0].find("node");
  if (node == parsed[0].end() || !node->is_object() || node->value("type", "") != "SELECT_NODE") {
    return nullptr;
  }
  auto from = node->find("from_table");
  if (from == node->end() || !from->is_object() || from->value("type", "") != kind) return nullptr;
  auto inner = from->find(key);
  if (inner == from->end()) return nullptr;
  if (inner->is_object() && inner->contains("node")) return &(*inner)["node"];
  return &*inner;
}

/// DuckDB's message for a query stopped by memory_limit, max_temp_directory_size or a failed
/// allocation ("Out of Memory Error: ...").
bool IsOutOfResources(const std::string& message) {
  return message.starts_with("Out of Memory Error") || message.find("bad_alloc") != std::string::npos ||
         message.find("bad allocation") != std::string::npos ||
         message.find("max_temp_directory_size") != std::string::npos;
}

std::string FirstLine(const std::string& s) { return s.substr(0, s.find('\n')); }

/// Identity of the analytics DB file; a rebuild renames a new file over it. "" for no path.
std::string FileStamp(const std::filesystem::path& path) {
  if (path.empty()) return "";
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return "missing";
  return std::to_string(st.st_dev) + ":" + std::to_string(st.st_ino) + ":" +
         std::to_string(st.st_size) + ":" + std::to_string(st.st_mtim.tv_sec) + "." +
         std::to_string(st.st_mtim.tv_nsec);
}

}  // namespace

// ---------------------------------------------------------------------------- ReaderPool

/// What Run learned about one SQL text on one reader: the analysis (views, functions) and the
/// execution wrapper with its column names and types. Access is still checked per caller.
struct CachedPlan {
  QueryPlan plan;
  ExecutionPlan execution;
};

/// A prepared (sandboxed, configuration-locked) reader and what was learned about it.
struct PooledReader {
  static constexpr size_t kMaxCachedPlans = 128;

  orchestrator::AnalyticsReader reader;
  AnalyzerCatalog catalog;
  std::string stamp;  ///< FileStamp of the analytics DB when the reader was opened
  /// (sql, row limit) → plan. Lives as long as the reader, i.e. until the analytics DB changes:
  /// a repeated query skips the parser, binder and DESCRIBE round trips (~5 ms on flights).
  std::map<std::pair<std::string, int64_t>, CachedPlan> plans;
};

/// Idle readers for one analytics DB path. Thread-safe. Readers are closed outside the lock
/// (closing a DuckDB takes tens of milliseconds).
class ReaderPool {
 public:
  ReaderPool(std::filesystem::path path, size_t max_idle)
      : path_(std::move(path)), max_idle_(max_idle) {}

  std::string Stamp() const { return FileStamp(path_); }

  /// An idle reader opened on the file `stamp` identifies; drops idle readers of older files.
  std::unique_ptr<PooledReader> TakeIdle(const std::string& stamp) {
    std::vector<std::unique_ptr<PooledReader>> stale;
    std::unique_ptr<PooledReader> found;
    {
      std::lock_guard<std::mutex> lock(mu_);
      for (auto& r : idle_) {
        if (!found && r->stamp == stamp) {
          found = std::move(r);
        } else if (r->stamp != stamp) {
          stale.push_back(std::move(r));
        }
      }
      std::erase(idle_, nullptr);
    }
    return found;
  }

  /// Keeps `r` for reuse when pooling is on, its file is still current and there is room.
  void Give(std::unique_ptr<PooledReader> r) {
    if (path_.empty() || r->stamp != Stamp()) return;
    std::lock_guard<std::mutex> lock(mu_);
    if (idle_.size() < max_idle_) idle_.push_back(std::move(r));
    // else: `r` is closed when this function returns
  }

  size_t Idle() const {
    std::lock_guard<std::mutex> lock(mu_);
    return idle_.size();
  }

 private:
  const std::filesystem::path path_;
  const size_t max_idle_;
  mutable std::mutex mu_;
  std::vector<std::unique_ptr<PooledReader>> idle_;
};

class ReaderLease {
 public:
  ReaderLease(std::shared_ptr<ReaderPool> pool, std::unique_ptr<PooledReader> reader)
      : pool_(std::move(pool)), reader_(std::move(reader)) {}
  ReaderLease(const ReaderLease&) = delete;
  ReaderLease& operator=(const ReaderLease&) = delete;
  ~ReaderLease() {
    if (reusable_) pool_->Give(std::move(reader_));
  }

  db::Connection& conn() { return reader_->reader.conn(); }
  const AnalyzerCatalog& catalog() const { return reader_->catalog; }
  /// The plan cached for (sql, limit) on this reader, or nullptr.
  const CachedPlan* FindPlan(const std::string& sql, int64_t limit) const {
    auto it = reader_->plans.find({sql, limit});
    return it == reader_->plans.end() ? nullptr : &it->second;
  }
  void RememberPlan(const std::string& sql, int64_t limit, CachedPlan plan) {
    if (sql.size() > 16 * 1024) return;  // long one-off texts would only crowd the cache
    if (reader_->plans.size() >= PooledReader::kMaxCachedPlans) reader_->plans.clear();
    reader_->plans[{sql, limit}] = std::move(plan);
  }
  /// Closes the reader instead of giving it back (after an interrupted or failed execution).
  void Discard() { reusable_ = false; }

 private:
  std::shared_ptr<ReaderPool> pool_;
  std::unique_ptr<PooledReader> reader_;
  bool reusable_ = true;
};

// ---------------------------------------------------------------------------- QueryOutput

QueryOutput::QueryOutput(std::unique_ptr<ReaderLease> lease, db::QueryResult result,
                         std::vector<std::string> columns, std::vector<std::string> types,
                         std::vector<size_t> text_columns, int64_t limit, QueryPlan plan,
                         int64_t elapsed_ms, int64_t max_answer_bytes)
    : lease_(std::move(lease)),
      result_(std::move(result)),
      columns_(std::move(columns)),
      types_(std::move(types)),
      text_columns_(std::move(text_columns)),
      plan_(std::move(plan)),
      elapsed_ms_(elapsed_ms),
      max_answer_bytes_(max_answer_bytes) {
  auto fetched = static_cast<int64_t>(result_.RowCount());
  row_count_ = std::min(fetched, limit);
  truncated_ = fetched > limit;
}

QueryOutput::QueryOutput(QueryOutput&&) noexcept = default;
QueryOutput& QueryOutput::operator=(QueryOutput&&) noexcept = default;
QueryOutput::~QueryOutput() = default;

json QueryOutput::ToJson() const {
  size_t cols = std::min(result_.ColumnCount(), columns_.size());
  json rows = json::array();
  for (size_t r = 0; r < static_cast<size_t>(row_count_); ++r) {
    json row = json::array();
    for (size_t c = 0; c < cols; ++c) row.push_back(db::CellToJson(result_, c, r));
    rows.push_back(std::move(row));
  }
  return json{{"columns", columns_},
              {"types", types_},
              {"rows", std::move(rows)},
              {"row_count", row_count_},
              {"truncated", truncated_}};
}

std::string QueryOutput::ToCsv() const {
  return *EncodeCsvUpTo(SIZE_MAX);  // no cap: cannot fail
}

Status QueryOutput::AnswerTooLarge() const {
  return ResourceExhausted("the answer is larger than the limit of " +
                           FormatMemorySize(max_answer_bytes_) +
                           " (DA_QUERY_MAX_ANSWER_BYTES); select fewer rows or columns, or "
                           "aggregate");
}

Result<std::string> QueryOutput::EncodeJson() const {
  try {
    return EncodeJsonUnguarded();
  } catch (const std::bad_alloc&) {  // a cell larger than the allocation guard allows
    return AnswerTooLarge();
  }
}

Result<std::string> QueryOutput::EncodeCsv() const {
  try {
    return EncodeCsvUpTo(max_answer_bytes_ > 0 ? static_cast<size_t>(max_answer_bytes_) : SIZE_MAX);
  } catch (const std::bad_alloc&) {
    return AnswerTooLarge();
  }
}

Result<std::string> QueryOutput::EncodeJsonUnguarded() const {
  const size_t cap = max_answer_bytes_ > 0 ? static_cast<size_t>(max_answer_bytes_) : SIZE_MAX;
  auto dump = [](const json& j) {
    return j.dump(-1, ' ', false, json::error_handler_t::replace);
  };
  // Same text as ToJson().dump(): nlohmann orders the object's keys alphabetically.
  std::string out = "{\"columns\":" + dump(columns_) + ",\"row_count\":" +
                    std::to_string(row_count_) + ",\"rows\":[";
  const size_t cols = std::min(result_.ColumnCount(), columns_.size());
  for (size_t r = 0; r < static_cast<size_t>(row_count_); ++r) {
    out += r == 0 ? "[" : ",[";
    for (size_t c = 0; c < cols; ++c) {
      if (c > 0) out += ',';
      out += dump(db::CellToJson(result_, c, r));
      if (out.size() > cap) return AnswerTooLarge();
    }
    out += ']';
  }
  out += "],\"truncated\":";
  out += truncated_ ? "true" : "false";
  out += ",\"types\":" + dump(types_) + "}";
  if (out.size() > cap) return AnswerTooLarge();
  return out;
}

Result<std::string> QueryOutput::EncodeCsvUpTo(size_t cap) const {
  std::string out;
  size_t cols = std::min(result_.ColumnCount(), columns_.size());
  for (size_t c = 0; c < cols; ++c) {
    if (c > 0) out += ',';
    AppendCsvField(out, columns_[c]);
  }
  out += "\r\n";
  for (size_t r = 0; r < static_cast<size_t>(row_count_); ++r) {
    for (size_t c = 0; c < cols; ++c) {
      if (c > 0) out += ',';
      size_t source = c < text_columns_.size() ? text_columns_[c] : c;
      AppendCsvField(out, db::CellText(result_, source, r));
      if (out.size() > cap) return AnswerTooLarge();
    }
    out += "\r\n";
  }
  if (out.size() > cap) return AnswerTooLarge();
  return out;
}

// ---------------------------------------------------------------------------- QueryService

QueryService::QueryService(orchestrator::Orchestrator& orchestrator, state::Registry& registry,
                           const auth::AccessPolicy& access, QueryServiceOptions options)
    : orchestrator_(orchestrator),
      registry_(registry),
      access_(access),
      options_(options),
      pool_(std::make_shared<ReaderPool>(options_.analytics_path, options_.max_idle_readers)) {
  if (options_.limits.largest_allocation_bytes > 0) {
    SetLargestMappingBytes(static_cast<size_t>(options_.limits.largest_allocation_bytes));
  }
}

size_t QueryService::IdleReaders() const { return pool_->Idle(); }

Result<std::unique_ptr<ReaderLease>> QueryService::Borrow() {
  std::string stamp = pool_->Stamp();
  if (auto idle = pool_->TakeIdle(stamp)) return std::make_unique<ReaderLease>(pool_, std::move(idle));
  DA_ASSIGN_OR_RETURN(orchestrator::AnalyticsReader reader, orchestrator_.OpenReader());
  DA_ASSIGN_OR_RETURN(AnalyzerCatalog catalog, PrepareReader(reader));
  auto pooled = std::make_unique<PooledReader>(
      PooledReader{std::move(reader), std::move(catalog), std::move(stamp), {}});
  return std::make_unique<ReaderLease>(pool_, std::move(pooled));
}

Result<std::set<std::string>> QueryService::Denylist(db::Connection& conn) {
  std::lock_guard<std::mutex> lock(denylist_mu_);
  if (!denylist_) {
    DA_ASSIGN_OR_RETURN(auto loaded, LoadFunctionDenylist(conn));
    denylist_ = std::move(loaded);
  }
  return *denylist_;
}

Result<AnalyzerCatalog> QueryService::PrepareReader(orchestrator::AnalyticsReader& reader) {
  db::Connection& conn = reader.conn();
  AnalyzerCatalog catalog;
  {
    auto r = conn.Query("SELECT current_database()");
    if (!r.ok()) return Internal("query reader: " + r.status().message());
    catalog.analytics_catalog = r->GetString(0, 0);
  }
  // Published by the orchestrator *and* present in the file this reader opened (a rebuild may
  // have swapped the file in between).
  std::map<std::string, std::string> published;
  for (const auto& [name, source] : orchestrator_.PublishedViews()) published[AsciiLower(name)] = name;
  {
    auto r = conn.Query(
        "SELECT view_name FROM duckdb_views() WHERE database_name = current_database() "
        "AND schema_name = 'main' AND NOT internal");
    if (!r.ok()) return Internal("query reader: " + r.status().message());
    for (size_t i = 0; i < r->RowCount(); ++i) {
      std::string lower = AsciiLower(r->GetString(0, i));
      if (auto it = published.find(lower); it != published.end()) catalog.views[lower] = it->second;
    }
  }
  {
    auto r = conn.Query(
        "SELECT database_name FROM duckdb_databases() UNION SELECT schema_name FROM "
        "duckdb_schemas()");
    if (!r.ok()) return Internal("query reader: " + r.status().message());
    for (size_t i = 0; i < r->RowCount(); ++i) catalog.reserved_qualifiers.insert(AsciiLower(r->GetString(0, i)));
    for (const char* name : {"system", "temp", "pg_catalog", "information_schema", "memory"}) {
      catalog.reserved_qualifiers.insert(name);
    }
    catalog.reserved_qualifiers.erase("main");
  }
  DA_ASSIGN_OR_RETURN(catalog.denied_functions, Denylist(conn));
  // Resource limits (docs/security.md): set before the lock, so no statement can raise them.
  const QueryLimits& limits = options_.limits;
  std::vector<std::string> settings;
  if (limits.memory_limit_bytes > 0) {
    settings.push_back("SET memory_limit = '" + MemorySizeSetting(limits.memory_limit_bytes) + "'");
  }
  if (limits.threads > 0) settings.push_back("SET threads = " + std::to_string(limits.threads));
  if (limits.temp_limit_bytes > 0) {
    settings.push_back("SET max_temp_directory_size = '" +
                       MemorySizeSetting(limits.temp_limit_bytes) + "'");
  }
  for (const std::string& sql : settings) {
    if (Status st = conn.Execute(sql); !st.ok()) {
      return Internal("query reader: " + sql + ": " + st.message());
    }
  }
  // From here on no SET/RESET can change the sandbox, even if a statement slipped through.
  if (Status st = conn.Execute("SET lock_configuration = true"); !st.ok()) {
    return Internal("query reader: lock configuration: " + st.message());
  }
  return catalog;
}

Status QueryService::CheckAccess(const state::Principal& who, const QueryPlan& plan) const {
  if (plan.views.empty()) return Status::Ok();
  DA_ASSIGN_OR_RETURN(auto records, registry_.List());
  std::map<std::string, const model::TableSpec*> by_name;
  for (const auto& t : records) by_name[AsciiLower(t.name)] = &t;
  for (const auto& view : plan.views) {
    auto it = by_name.find(AsciiLower(view));
    bool allowed = it != by_name.end() ? access_.CanSeeTable(who, *it->second) : who.is_admin;
    if (!allowed) {
      return PermissionDenied("table '" + view + "' is not a published view you may query");
    }
  }
  return Status::Ok();
}

Result<ExecutionPlan> PlanExecution(db::Connection& conn, std::string_view sql,
                                    const nlohmann::json& statement, int64_t max_rows) {
  auto node = statement.find("node");
  if (node == statement.end()) return Internal("statement without a node");
  const json expected = WithoutLocations(*node);

  // The text that embeds as exactly this statement, and its output columns.
  std::optional<std::string_view> body;
  std::string describe;
  for (std::string_view candidate : EmbedBodies(sql)) {
    describe = "DESCRIBE (\n";
    describe += candidate;
    describe += "\n)";
    auto parsed = SerializeSql(conn, describe);
    if (!parsed.ok()) continue;
    const json* inner = EmbeddedNode(*parsed, "SHOW_REF", "query");
    if (inner != nullptr && WithoutLocations(*inner) == expected) {
      body = candidate;
      break;
    }
  }
  if (!body) {
    return InvalidArgument(
        "cannot run this statement with a row limit; remove any text after its final ';'");
  }
  auto described = conn.Query(describe);
  if (!described.ok()) return InvalidArgument(described.status().message());

  ExecutionPlan plan;
  std::string select;
  std::string text_copies;
  size_t copies = 0;
  const size_t n = described->RowCount();
  for (size_t i = 0; i < n; ++i) {
    plan.columns.push_back(described->GetString(0, i));
    plan.types.push_back(described->GetString(1, i));
    const std::string& type = plan.types.back();
    std::string ref = "#" + std::to_string(i + 1);
    plan.text_columns.push_back(i);
    if (IsNestedType(type)) {
      plan.text_columns.back() = n + copies++;
      text_copies += ", CAST(" + ref + " AS VARCHAR)";
    } else if (!IsNativeType(type)) {
      ref = "CAST(" + ref + " AS VARCHAR)";
    }
    select += (i == 0 ? "" : ", ") + ref + " AS " + QuoteIdent(plan.columns.back());
  }
  if (plan.columns.empty()) return InvalidArgument("the statement returns no columns");
  select += text_copies;
  plan.sql = "SELECT " + select + " FROM (\n";
  plan.sql += *body;
  plan.sql += "\n) AS da_query LIMIT " + std::to_string(max_rows);

  auto parsed = SerializeSql(conn, plan.sql);
  const json* inner = parsed.ok() ? EmbeddedNode(*parsed, "SUBQUERY", "subquery") : nullptr;
  if (inner == nullptr || WithoutLocations(*inner) != expected) {
    return Internal("the row-limit wrapper did not parse back to the statement");
  }
  return plan;
}

Result<QueryOutput> QueryService::Run(const state::Principal& who, const QueryRequest& request) {
  const std::string& sql = request.sql;
  if (sql.size() > kMaxSqlBytes) {
    return InvalidArgument("SQL is " + std::to_string(sql.size()) + " bytes; the limit is " +
                           std::to_string(kMaxSqlBytes));
  }
  if (sql.find_first_not_of(" \t\r\n") == std::string::npos) return InvalidArgument("empty SQL");
  if (sql.find('\0') != std::string::npos) return InvalidArgument("SQL contains a NUL byte");
  if (request.limit < 1 || request.limit > kMaxRowLimit) {
    return InvalidArgument("limit must be between 1 and " + std::to_string(kMaxRowLimit) +
                           ", got " + std::to_string(request.limit));
  }
  auto started = Clock::now();

  DA_ASSIGN_OR_RETURN(std::unique_ptr<ReaderLease> lease, Borrow());
  db::Connection& conn = lease->conn();
  const AnalyzerCatalog& catalog = lease->catalog();

  CachedPlan prepared;
  if (const CachedPlan* cached = lease->FindPlan(sql, request.limit)) {
    prepared = *cached;
    DA_RETURN_IF_ERROR(CheckAccess(who, prepared.plan));
  } else {
    json statement;
    // EXPLAIN [ANALYZE] <SELECT>: the SELECT is analyzed and checked like any query, then the
    // statement runs as written (its answer is the plan: a row or two) under the same limits.
    const std::optional<ExplainSplit> explain = SplitExplain(sql);
    const std::string_view analyzed = explain ? explain->inner : std::string_view(sql);
    DA_ASSIGN_OR_RETURN(prepared.plan, AnalyzeSql(conn, analyzed, catalog, &statement));
    DA_RETURN_IF_ERROR(CheckAccess(who, prepared.plan));

    // Second opinion from DuckDB's binder: exactly one statement that prepares as a SELECT
    // (for EXPLAIN: one EXPLAIN, of one SELECT).
    auto types = conn.StatementTypes(sql);
    if (!types.ok()) return InvalidArgument(types.status().message());
    if (types->size() != 1 || types->front() != (explain ? "EXPLAIN" : "SELECT")) {
      return InvalidArgument("only a single SELECT statement is allowed");
    }
    if (explain) {
      auto inner = conn.StatementTypes(analyzed);
      if (!inner.ok() || inner->size() != 1 || inner->front() != "SELECT") {
        return InvalidArgument("EXPLAIN is allowed over a single SELECT only");
      }
      prepared.execution = ExecutionPlan{sql, {}, {}, {}};  // columns come from its result
    } else {
      DA_ASSIGN_OR_RETURN(prepared.execution,
                          PlanExecution(conn, sql, statement, request.limit + 1));
      // The wrapper adds no table or function of its own; prove it with the same walk.
      auto wrapped = SerializeSql(conn, prepared.execution.sql);
      if (!wrapped.ok() || wrapped->size() != 1) {
        return Internal("row-limit wrapper does not parse");
      }
      auto again = AnalyzeStatement((*wrapped)[0], catalog);
      if (!again.ok()) return Internal("row-limit wrapper refused: " + again.status().message());
      if (again->views != prepared.plan.views) {
        return Internal("row-limit wrapper reads other views");
      }
    }
    lease->RememberPlan(sql, request.limit, prepared);
  }
  QueryPlan plan = std::move(prepared.plan);
  ExecutionPlan execution = std::move(prepared.execution);

  Result<db::QueryResult> result = Internal("not run");
  bool timed_out = false;
  {
    Watchdog watchdog(conn, options_.timeout);
    result = conn.Query(execution.sql);
    timed_out = watchdog.Stop();
  }
  auto elapsed_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - started).count();
  if (timed_out || !result.ok()) lease->Discard();  // an interrupt may linger on the connection
  if (!result.ok()) {
    if (timed_out) {
      auto secs = std::chrono::duration_cast<std::chrono::duration<double>>(options_.timeout);
      char buf[96];
      std::snprintf(buf, sizeof(buf), "%g s", secs.count());
      return DeadlineExceeded(std::string("query cancelled: it ran longer than the time limit of ") +
                              buf + " (query_timeout_sec)");
    }
    if (IsOutOfResources(result.status().message())) {
      return ResourceExhausted("query stopped: it needed more than its memory limit of " +
                               FormatMemorySize(options_.limits.memory_limit_bytes) +
                               " per query (DA_QUERY_MEMORY_LIMIT) or its temp space; DuckDB: " +
                               FirstLine(result.status().message()));
    }
    return InvalidArgument(result.status().message());
  }
  if (execution.columns.empty()) {
    // EXPLAIN ran unwrapped: its own columns (explain_key, explain_value), all VARCHAR.
    for (size_t c = 0; c < result->ColumnCount(); ++c) {
      execution.columns.push_back(result->ColumnName(c));
      execution.types.push_back(result->ColumnTypeName(c));
      execution.text_columns.push_back(c);
    }
  }
  spdlog::info("query by {}: {} rows in {} ms", who.email, result->RowCount(), elapsed_ms);
  return QueryOutput(std::move(lease), std::move(result).value(), std::move(execution.columns),
                     std::move(execution.types), std::move(execution.text_columns),
                     request.limit, std::move(plan), elapsed_ms,
                     options_.limits.max_answer_bytes);
}

}  // namespace da::query
