#include "query/sql_analyzer.h"

#include <algorithm>
#include <cctype>
#include <optional>
#include <utility>

#include "common/identifiers.h"
#include "common/text.h"

namespace da::query {
namespace {

using nlohmann::json;

/// A string member of `o`, or "" when absent or not a string.
std::string Str(const json& o, const char* key) {
  auto it = o.find(key);
  if (it == o.end() || !it->is_string()) return "";
  return it->get<std::string>();
}

/// Table-reference kinds a SELECT may contain besides BASE_TABLE (walked further).
bool IsPlainTableRefKind(const std::string& type) {
  return type == "JOIN" || type == "SUBQUERY" || type == "EXPRESSION_LIST" || type == "EMPTY" ||
         type == "PIVOT";
}

std::string Qualified(const std::string& catalog, const std::string& schema,
                      const std::string& name) {
  std::string out;
  if (!catalog.empty()) out += catalog + ".";
  if (!schema.empty()) out += schema + ".";
  return out + name;
}

/// CTE names in scope form a tree of chains: each scope adds one name to its parent.
class Scopes {
 public:
  static constexpr int kRoot = -1;
  int Push(int parent, std::string name) {
    nodes_.push_back({parent, std::move(name)});
    return static_cast<int>(nodes_.size()) - 1;
  }
  bool Contains(int scope, const std::string& lower_name) const {
    for (int s = scope; s != kRoot; s = nodes_[static_cast<size_t>(s)].parent) {
      if (nodes_[static_cast<size_t>(s)].name == lower_name) return true;
    }
    return false;
  }

 private:
  struct Node {
    int parent;
    std::string name;
  };
  std::vector<Node> nodes_;
};

class Walker {
 public:
  explicit Walker(const AnalyzerCatalog& catalog) : catalog_(catalog) {}

  Result<QueryPlan> Run(const json& statement) {
    stack_.push_back({&statement, Scopes::kRoot});
    while (!stack_.empty()) {
      Item item = stack_.back();
      stack_.pop_back();
      DA_RETURN_IF_ERROR(Visit(*item.node, item.scope));
    }
    QueryPlan plan;
    plan.views.assign(views_.begin(), views_.end());
    plan.ctes.assign(ctes_.begin(), ctes_.end());
    plan.functions.assign(functions_.begin(), functions_.end());
    return plan;
  }

 private:
  struct Item {
    const json* node;
    int scope;
  };

  void PushChildren(const json& o, int scope) {
    for (const auto& child : o) {
      if (child.is_object() || child.is_array()) stack_.push_back({&child, scope});
    }
  }

  Status Visit(const json& o, int scope) {
    if (o.is_array()) {
      PushChildren(o, scope);
      return Status::Ok();
    }
    if (!o.is_object()) return Status::Ok();
    if (auto it = o.find("cte_map"); it != o.end() && it->is_object()) {
      return VisitQueryNode(o, *it, scope);
    }
    if (o.contains("function_name")) DA_RETURN_IF_ERROR(CheckFunction(o));

    const std::string type = Str(o, "type");
    if (type == "TABLE_FUNCTION") {
      std::string fn = "?";
      if (auto f = o.find("function"); f != o.end() && f->is_object()) {
        fn = Qualified(Str(*f, "catalog"), Str(*f, "schema"), Str(*f, "function_name"));
      }
      return PermissionDenied("table function '" + PrintableForMessage(fn) +
                              "' is not allowed; only published views can be queried");
    }
    if (type == "SHOW_REF") return VisitShowRef(o, scope);
    if (type == "BASE_TABLE") return CheckBaseTable(o, scope);
    if (o.contains("table_name")) {
      return PermissionDenied("unsupported table reference of kind '" + PrintableForMessage(type) +
                              "'");
    }
    // Every TableRef carries `sample`; so do query nodes, which were handled above.
    if (o.contains("sample") && !o.contains("class") && !type.empty() &&
        !IsPlainTableRefKind(type)) {
      return PermissionDenied("unsupported table reference of kind '" + PrintableForMessage(type) +
                              "'");
    }
    PushChildren(o, scope);
    return Status::Ok();
  }

  /// DESCRIBE / SUMMARIZE of a view or a SELECT: DuckDB serializes them as a SHOW_REF over
  /// `SELECT * FROM <view>` or the SELECT itself, which is walked like any query, so a view the
  /// caller may not see is refused with a SELECT's message. SHOW TABLES, DESCRIBE without an
  /// argument and SHOW <setting> name a system listing in `table_name` and are refused.
  Status VisitShowRef(const json& o, int scope) {
    const std::string show = Str(o, "show_type");
    auto query = o.find("query");
    if (!Str(o, "table_name").empty() || query == o.end() || !query->is_object() ||
        (show != "DESCRIBE" && show != "SUMMARY")) {
      return PermissionDenied(
          "SHOW and DESCRIBE without a view are not allowed in queries (GET /api/catalog lists "
          "the tables you may see); DESCRIBE <view>, SUMMARIZE <view> and DESCRIBE SELECT ... "
          "are");
    }
    stack_.push_back({&*query, scope});
    return Status::Ok();
  }

  /// A query node (SELECT_NODE, SET_OPERATION_NODE, CTE_NODE, RECURSIVE_CTE_NODE): CTE i sees
  /// the CTEs defined before it; the node's body sees all of them. Deliberately never wider than
  /// DuckDB's own scoping, so a name this treats as a CTE is a CTE to DuckDB too.
  Status VisitQueryNode(const json& o, const json& cte_map, int scope) {
    std::vector<std::string> names;
    std::vector<int> before;  // scope in force before CTE i
    int s = scope;
    if (auto m = cte_map.find("map"); m != cte_map.end() && m->is_array()) {
      for (const auto& entry : *m) {
        if (!entry.is_object()) continue;
        std::string name = AsciiLower(Str(entry, "key"));
        if (auto v = entry.find("value"); v != entry.end()) stack_.push_back({&*v, s});
        before.push_back(s);
        names.push_back(name);
        s = scopes_.Push(s, name);
      }
    }
    const int full = s;
    const std::string type = Str(o, "type");
    const std::string cte_name = AsciiLower(Str(o, "cte_name"));
    for (auto it = o.begin(); it != o.end(); ++it) {
      if (it.key() == "cte_map") continue;
      if (!it->is_object() && !it->is_array()) continue;
      int child_scope = full;
      if (type == "CTE_NODE" && it.key() == "query") {
        // The materialized CTE's own body: only the CTEs defined before it.
        child_scope = scope;
        for (size_t i = 0; i < names.size(); ++i) {
          if (names[i] == cte_name) {
            child_scope = before[i];
            break;
          }
        }
      } else if (type == "CTE_NODE" && it.key() == "child") {
        child_scope = scopes_.Push(full, cte_name);
      } else if (type == "RECURSIVE_CTE_NODE" && it.key() == "right") {
        // Only the recursive term may name the CTE itself.
        child_scope = scopes_.Push(full, cte_name);
      }
      stack_.push_back({&*it, child_scope});
    }
    return Status::Ok();
  }

  Status CheckBaseTable(const json& o, int scope) {
    const std::string catalog = Str(o, "catalog_name");
    const std::string schema = Str(o, "schema_name");
    const std::string name = Str(o, "table_name");
    const std::string shown = PrintableForMessage(Qualified(catalog, schema, name));
    if (auto at = o.find("at_clause"); at != o.end() && !at->is_null()) {
      return PermissionDenied("time travel (AT ...) on '" + shown + "' is not allowed");
    }
    const std::string lcat = AsciiLower(catalog);
    const std::string lschema = AsciiLower(schema);
    const std::string lname = AsciiLower(name);
    if (lcat.empty() && lschema.empty() && scopes_.Contains(scope, lname)) {
      ctes_.insert(lname);
      return Status::Ok();
    }
    const std::string analytics = AsciiLower(catalog_.analytics_catalog);
    bool in_analytics;
    if (lcat.empty()) {
      // `x.t` is schema x of the default catalog, or catalog x's default schema.
      in_analytics = lschema.empty() || lschema == "main" || lschema == analytics;
    } else {
      in_analytics = lcat == analytics && (lschema.empty() || lschema == "main");
    }
    if (!in_analytics) {
      return PermissionDenied("table '" + shown +
                              "' is outside the analytics catalog; only published views can be "
                              "queried");
    }
    auto it = catalog_.views.find(lname);
    if (it == catalog_.views.end()) {
      bool path_like = name.find_first_of("/\\:.") != std::string::npos;
      return PermissionDenied("table '" + shown + "' is not a published view you may query" +
                              (path_like ? " (files and URLs cannot be read)" : ""));
    }
    views_.insert(it->second);
    return Status::Ok();
  }

  Status CheckFunction(const json& o) {
    const std::string name = AsciiLower(Str(o, "function_name"));
    const std::string catalog = AsciiLower(Str(o, "catalog"));
    const std::string schema = AsciiLower(Str(o, "schema"));
    const std::string shown = PrintableForMessage(Qualified(catalog, schema, name));
    if (catalog_.denied_functions.contains(name) || name.starts_with("duckdb_") ||
        name.starts_with("pg_")) {
      return PermissionDenied("function '" + shown + "' is not allowed in queries");
    }
    if (!catalog.empty()) {
      return PermissionDenied("function '" + shown + "' may not be qualified with a catalog");
    }
    // `col.f()` parses as schema `col`; a schema that names a catalog or system schema is
    // refused, since DuckDB would look the function up there.
    if (!schema.empty() && catalog_.reserved_qualifiers.contains(schema)) {
      return PermissionDenied("function '" + shown + "' may not be qualified with '" + schema +
                              "'");
    }
    functions_.insert(name);
    return Status::Ok();
  }

  const AnalyzerCatalog& catalog_;
  std::vector<Item> stack_;
  Scopes scopes_;
  std::set<std::string> views_;
  std::set<std::string> ctes_;
  std::set<std::string> functions_;
};

}  // namespace

const std::set<std::string>& StaticFunctionDenylist() {
  static const std::set<std::string> kDenied = {
      // settings, variables, environment
      "current_setting", "getvariable", "getenv", "in_search_path",
      // sequences (state changes)
      "nextval", "currval",
      // functions that parse, plan or run SQL given as text (tables inside would go unchecked)
      "json_serialize_sql", "json_deserialize_sql", "json_serialize_plan",
      "json_execute_serialized_sql", "query", "query_table",
      // logging into DuckDB's log storage
      "write_log",
      // macros over system tables (also found dynamically; listed for clear messages)
      "get_block_size", "format_type", "col_description", "obj_description",
      "shobj_description",
      // file readers written as scalars: the binder would refuse them anyway
      "read_text", "read_blob", "read_csv", "read_csv_auto", "read_parquet", "parquet_scan",
      "read_json", "read_json_auto", "read_ndjson", "read_ndjson_auto", "glob", "sniff_csv"};
  return kDenied;
}

Result<std::set<std::string>> LoadFunctionDenylist(db::Connection& conn) {
  std::set<std::string> out = StaticFunctionDenylist();
  auto r = conn.Query(
      "SELECT DISTINCT lower(function_name) FROM duckdb_functions() "
      "WHERE schema_name = 'pg_catalog' "
      "OR (function_type = 'macro' AND macro_definition ILIKE '%select%')");
  if (!r.ok()) return Internal("load function denylist: " + r.status().message());
  for (size_t i = 0; i < r->RowCount(); ++i) out.insert(r->GetString(0, i));
  return out;
}

Result<QueryPlan> AnalyzeStatement(const nlohmann::json& statement,
                                   const AnalyzerCatalog& catalog) {
  Walker walker(catalog);
  return walker.Run(statement);
}

Result<nlohmann::json> SerializeSql(db::Connection& conn, std::string_view sql,
                                    bool* not_select) {
  if (not_select != nullptr) *not_select = false;
  auto r = conn.Query("SELECT json_serialize_sql($1::VARCHAR)", {db::Value(std::string(sql))});
  if (!r.ok()) return InvalidArgument(r.status().message());
  if (r->RowCount() != 1) return Internal("json_serialize_sql returned no row");
  json parsed;
  try {
    parsed = json::parse(r->GetString(0, 0));
  } catch (const json::exception& e) {
    return Internal(std::string("cannot parse json_serialize_sql output: ") + e.what());
  }
  if (!parsed.is_object()) return Internal("json_serialize_sql returned no object");
  if (parsed.value("error", false)) {
    std::string message = Str(parsed, "error_message");
    if (Str(parsed, "error_type") == "not implemented") {
      if (not_select != nullptr) *not_select = true;
      return InvalidArgument("only a single SELECT statement is allowed");
    }
    return InvalidArgument(message.empty() ? "cannot parse SQL" : "Parser Error: " + message);
  }
  auto it = parsed.find("statements");
  if (it == parsed.end() || !it->is_array()) return Internal("json_serialize_sql: no statements");
  return std::move(*it);
}

namespace {

bool IsWordChar(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_' ||
         static_cast<unsigned char>(c) >= 0x80;
}

/// Position after the whitespace and comments (`-- ...`, nested `/* ... */`) at `pos`.
size_t SkipSpaceAndComments(std::string_view sql, size_t pos) {
  while (pos < sql.size()) {
    if (std::isspace(static_cast<unsigned char>(sql[pos])) != 0) {
      ++pos;
    } else if (sql.compare(pos, 2, "--") == 0) {
      size_t eol = sql.find('\n', pos);
      pos = eol == std::string_view::npos ? sql.size() : eol + 1;
    } else if (sql.compare(pos, 2, "/*") == 0) {
      int depth = 0;
      while (pos < sql.size()) {
        if (sql.compare(pos, 2, "/*") == 0) {
          ++depth;
          pos += 2;
        } else if (sql.compare(pos, 2, "*/") == 0) {
          pos += 2;
          if (--depth == 0) break;
        } else {
          ++pos;
        }
      }
    } else {
      break;
    }
  }
  return pos;
}

/// The word at `pos` (letters, digits, `_`), lower-cased, and the position after it.
std::pair<std::string, size_t> WordAt(std::string_view sql, size_t pos) {
  size_t end = pos;
  while (end < sql.size() && IsWordChar(sql[end])) ++end;
  return {AsciiLower(std::string(sql.substr(pos, end - pos))), end};
}

}  // namespace

std::optional<ExplainSplit> SplitExplain(std::string_view sql) {
  size_t pos = SkipSpaceAndComments(sql, 0);
  auto [first, after_first] = WordAt(sql, pos);
  if (first != "explain") return std::nullopt;
  ExplainSplit out;
  size_t next = SkipSpaceAndComments(sql, after_first);
  auto [second, after_second] = WordAt(sql, next);
  if (second == "analyze" || second == "analyse") {
    out.analyze = true;
    out.inner = sql.substr(after_second);
  } else {
    out.inner = sql.substr(after_first);
  }
  return out;
}

Result<QueryPlan> AnalyzeSql(db::Connection& conn, std::string_view sql,
                             const AnalyzerCatalog& catalog, nlohmann::json* ast) {
  bool not_select = false;
  auto statements = SerializeSql(conn, sql, &not_select);
  if (!statements.ok()) {
    if (!not_select) return statements.status();
    // Not even prepared to name its type: binding alone has side effects for some statements
    // (DuckDB 1.4 creates the target directory while preparing EXPORT DATABASE).
    return InvalidArgument(
        "only a single SELECT statement is allowed; this SQL holds another kind of statement "
        "(COPY, EXPORT, ATTACH, SET, PRAGMA, CALL, DDL, DML, ...); EXPLAIN is allowed over a "
        "SELECT only");
  }
  if (statements->empty()) return InvalidArgument("empty SQL: no statement");
  if (statements->size() > 1) {
    return InvalidArgument("only one statement is allowed; got " +
                           std::to_string(statements->size()));
  }
  DA_ASSIGN_OR_RETURN(QueryPlan plan, AnalyzeStatement((*statements)[0], catalog));
  if (ast != nullptr) *ast = std::move((*statements)[0]);
  return plan;
}

nlohmann::json WithoutLocations(nlohmann::json ast) {
  // Iterative: the AST can be thousands of levels deep.
  json out = std::move(ast);
  std::vector<json*> stack{&out};
  while (!stack.empty()) {
    json* node = stack.back();
    stack.pop_back();
    if (node->is_object()) {
      node->erase("query_location");
      for (auto& child : *node) {
        if (child.is_structured()) stack.push_back(&child);
      }
    } else if (node->is_array()) {
      for (auto& child : *node) {
        if (child.is_structured()) stack.push_back(&child);
      }
    }
  }
  return out;
}

}  // namespace da::query
