// Keboola Storage API emulator (tests only): HTTPS on loopback, wire shapes per
// shared/reference/source-apis.md §1, data from the vega datasets through DuckDB.
//
// Usage: keboola_emulator --data-dir <vega data dir> --work-dir <scratch dir>
//          [--token T] [--polls N] [--slice-bytes N] [--project default|company]
// --project company serves, instead of the test tables, a project shaped like a company's first
// one: flights (3,000,000 rows, 8 gzip slices), zip codes (40k rows of text, 4 slices), movies
// (from JSON, many empty values) and five small tables (airports, birdstrikes, Seattle
// weather, cars, stocks). Column names are made Keboola-safe ("Airport Name" → Airport_Name).
// Prints one JSON line on stdout once listening: {"port": P, "ca_file": "...", "token": "..."}
// and serves until killed.
//
// Endpoints (X-StorageApi-Token required unless noted):
//   GET  /v2/storage/tokens/verify
//   GET  /v2/storage/buckets                          bare array
//   GET  /v2/storage/tables?include=...               bare array, nested bucket
//   GET  /v2/storage/buckets/{bucket}/tables          bare array, no nested bucket
//   GET  /v2/storage/tables/{id}                      table or 404 storage.tables.notFound
//   POST /v2/storage/tables/{id}/export-async         form (bracket arrays) or JSON → 202 job
//   GET  /v2/storage/jobs/{id}                        waiting → processing (N polls) → success|error
//   GET  /v2/storage/files/{id}?federationToken=1     file detail (sliced manifest or single)
//   GET  /_files/{file}/{object}?X-Amz-Signature=..   signed download (no token; 403 when unsigned)
// Test controls (no token):
//   POST /_emulator/fail?status=503&count=N&retry_after=S&prefix=/v2/...  next N matching fail
//   POST /_emulator/tables/{id}/rows                  JSON array of row objects appended now
//   GET  /_emulator/exports                           export parameters received, in order
//   GET  /_emulator/stats                             request counters
// Behaviour tables: in.c-test.job_error (job ends in error), in.c-test.job_stuck (never
// finishes), in.c-test.broken_slice (first download of each slice breaks midway),
// in.c-test.token_echo (export answers 400 with the token in the body), in.c-test.empty
// (manifest without entries), in.c-test.gcs_sliced (gs:// manifest entries + gcsCredentials;
// GET /storage/v1/b/kbc-files-emu/o/<key>?alt=media with the bearer token), in.c-test.typed_blank
// (a quoted empty string in a column whose metadata says INTEGER).
#include <httplib.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "db/duckdb.h"
#include "support/test_tls.h"

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

struct Options {
  fs::path data_dir, work_dir;
  std::string token = "kbc-emulator-token-5f2e9a7c31";
  int polls = 2;
  int64_t slice_bytes = 8 << 20;
  std::string project = "default";
};

struct Table {
  std::string id, bucket, name, description, relation;
  std::vector<std::string> pk;
  std::vector<std::pair<std::string, std::string>> columns;  // name, duckdb type
  bool has_ts = false;     // relation carries _timestamp (row change time, epoch seconds)
  bool sliced = true;      // export as sliced file (else single)
  int slice_count = 0;     // sliced into exactly this many files (0 = by --slice-bytes)
  bool typed_meta = true;  // columnMetadata carries basetypes
  std::map<std::string, std::string> forced_basetype;  // column → basetype overriding the data's
  int64_t rows = 0;
  std::string last_change;
};

struct Slice {
  std::string name;
  fs::path path;
};

struct File {
  int64_t id = 0;
  std::string name, file_type, signature, table_id;
  bool sliced = true, gz = false;
  bool gcs = false;  // manifest entries are gs:// URLs served by the fake GCS JSON API
  std::vector<Slice> slices;  // sliced; or the one file when single
  int64_t size = 0;
};

struct Job {
  int64_t id = 0;
  std::string table_id, outcome = "success";  // success | error | never
  int polls = 0;
  json export_params;
  int64_t file_id = 0;
  std::string error_message;
  std::string created;
};

struct Fault {
  int status = 503, count = 0, retry_after = -1;
  std::string prefix;
};

std::string KbcTime(std::time_t t) {
  char buf[40];
  std::tm tm{};
  gmtime_r(&t, &tm);
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S+0000", &tm);
  return buf;
}

std::string Lit(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("''") : std::string(1, c);
  return out + "'";
}
std::string Ident(const std::string& s) {
  std::string out = "\"";
  for (char c : s) out += c == '"' ? std::string("\"\"") : std::string(1, c);
  return out + "\"";
}

std::string BaseType(const std::string& t) {
  if (t == "BIGINT" || t == "INTEGER" || t == "SMALLINT" || t == "TINYINT" || t == "HUGEINT" ||
      t == "UBIGINT" || t == "UINTEGER" || t == "USMALLINT" || t == "UTINYINT")
    return "INTEGER";
  if (t == "DOUBLE" || t == "FLOAT" || t == "REAL") return "FLOAT";
  if (t.starts_with("DECIMAL")) return "NUMERIC";
  if (t == "BOOLEAN") return "BOOLEAN";
  if (t == "DATE") return "DATE";
  if (t.starts_with("TIMESTAMP")) return "TIMESTAMP";
  return "STRING";
}

/// PHP json_encode escapes '/': reproduce it for the manifest.
std::string PhpJson(const json& j) {
  std::string s = j.dump(), out;
  for (char c : s) out += c == '/' ? std::string("\\/") : std::string(1, c);
  return out;
}

/// `a[0][b][1]=v` form fields → nested JSON (digit-keyed objects become arrays).
json FormToJson(const httplib::Params& params) {
  json root = json::object();
  for (const auto& [key, value] : params) {
    std::vector<std::string> parts;
    size_t br = key.find('[');
    parts.push_back(key.substr(0, br));
    while (br != std::string::npos) {
      size_t end = key.find(']', br);
      if (end == std::string::npos) break;
      parts.push_back(key.substr(br + 1, end - br - 1));
      br = key.find('[', end);
    }
    json* node = &root;
    for (size_t i = 0; i + 1 < parts.size(); ++i) {
      if (!node->contains(parts[i]) || !(*node)[parts[i]].is_object()) (*node)[parts[i]] = json::object();
      node = &(*node)[parts[i]];
    }
    (*node)[parts.back()] = value;
  }
  std::function<json(const json&)> fix = [&](const json& j) -> json {
    if (!j.is_object()) return j;
    bool all_digits = !j.empty();
    for (auto it = j.begin(); it != j.end(); ++it)
      all_digits = all_digits && !it.key().empty() &&
                   it.key().find_first_not_of("0123456789") == std::string::npos;
    if (all_digits) {
      std::map<int, json> ordered;
      for (auto it = j.begin(); it != j.end(); ++it) ordered[std::stoi(it.key())] = fix(it.value());
      json arr = json::array();
      for (auto& [_, v] : ordered) arr.push_back(v);
      return arr;
    }
    json out = json::object();
    for (auto it = j.begin(); it != j.end(); ++it) out[it.key()] = fix(it.value());
    return out;
  };
  return fix(root);
}

class Emulator {
 public:
  explicit Emulator(Options o) : opt_(std::move(o)), start_(std::time(nullptr)) {}

  bool Load() {
    auto db = da::db::Database::Open(":memory:", {.read_only = false, .settings = {{"threads", "2"}}});
    if (!db.ok()) return false;
    db_.emplace(std::move(db).value());
    auto c = db_->Connect();
    if (!c.ok()) return false;
    auto& conn = *c;
    const std::string ts = std::to_string(start_);
    auto file = [&](const char* name) { return Lit((opt_.data_dir / name).string()); };
    struct Def {
      std::string id, desc, sql;
      std::vector<std::string> pk;
      bool table = true, sliced = true, typed = true;
      std::string ts_expr = "";  // the rows' _timestamp (SQL over the columns); "" = load time
      int slice_count = 0;
    };
    // in.c-test.history: 115 rows changed over the last 200 days (one a day at load time −
    // days_ago days − 1 hour), days_ago 0..99 and 185..199 — a 85-day gap with no changes.
    const std::string hist_ts = "(" + ts + " - days_ago * 86400 - 3600)";
    std::vector<Def> defs = {
        {"in.c-flights.flights", "US domestic flights, 3M rows", "SELECT * FROM read_parquet(" + file("flights-3m.parquet") + ")", {}, false},
        {"in.c-flights.airports", "US airports by IATA code", "SELECT * FROM read_csv(" + file("airports.csv") + ")", {"iata"}, true, false},
        {"in.c-weather.seattle_weather", "Daily Seattle weather 2012-2015", "SELECT * FROM read_csv(" + file("seattle-weather.csv") + ")", {"date"}},
        {"in.c-test.tricky", "", "SELECT * FROM (VALUES (1, 'line1\nline2', 'say \"hi\", ok'), (2, 'Zürich – 東京 🚀', ''), (3, repeat('x', 100000), NULL)) t(id, text, note)", {"id"}, true, true, false},
        {"in.c-test.empty", "", "SELECT 1 AS id, 'x' AS name WHERE false", {}},
        {"in.c-test.job_error", "", "SELECT 1 AS id", {}},
        {"in.c-test.job_stuck", "", "SELECT 1 AS id", {}},
        {"in.c-test.broken_slice", "", "SELECT * FROM read_csv(" + file("seattle-weather.csv") + ")", {"date"}},
        {"in.c-test.token_echo", "", "SELECT 1 AS id", {}},
        {"in.c-test.typed_blank", "", "SELECT * FROM (VALUES ('1', ''), ('2', '7'), ('3', NULL)) t(id, n)", {"id"}},
        {"in.c-test.gcs_sliced", "", "SELECT * FROM read_csv(" + file("seattle-weather.csv") + ")", {"date"}},
        {"in.c-test.x'; DROP TABLE t; --", "", "SELECT 1 AS id", {}},
        {"in.c-test.history", "Rows changed over the last 200 days",
         "SELECT d::BIGINT AS id, CAST(to_timestamp(" + ts + " - d * 86400 - 3600) AS DATE) AS day, "
         "'row ' || d AS note, d::BIGINT AS days_ago FROM range(200) r(d) WHERE d < 100 OR d >= 185",
         {"id"}, true, true, true, hist_ts},
    };
    if (opt_.project == "company") {
      defs = {
          {"in.c-flights.flights", "US domestic flights, 3M rows", "SELECT * FROM read_parquet(" + file("flights-3m.parquet") + ")", {}, false, true, true, "", 8},
          {"in.c-geo.zipcodes", "US zip codes", "SELECT * FROM read_csv(" + file("zipcodes.csv") + ", all_varchar = true)", {"zip_code"}, true, true, false, "", 4},
          {"in.c-movies.movies", "Movies with grosses and ratings", "SELECT * FROM read_json(" + file("movies.json") + ")", {}, true, true, true, "", 2},
          {"in.c-flights.airports", "US airports by IATA code", "SELECT * FROM read_csv(" + file("airports.csv") + ")", {"iata"}, true, false},
          {"in.c-wildlife.birdstrikes", "Wildlife strikes on aircraft", "SELECT * FROM read_csv(" + file("birdstrikes.csv") + ")", {}},
          {"in.c-weather.seattle_weather", "Daily Seattle weather 2012-2015", "SELECT * FROM read_csv(" + file("seattle-weather.csv") + ")", {"date"}},
          {"in.c-cars.cars", "Cars of the 1970s and 80s", "SELECT * FROM read_json(" + file("cars.json") + ")", {"Name", "Year"}},
          {"in.c-finance.stocks", "Monthly stock prices", "SELECT * FROM read_csv(" + file("stocks.csv") + ")", {"symbol", "date"}},
      };
    }
    int n = 0;
    for (const auto& d : defs) {
      Table t;
      t.id = d.id;
      t.bucket = d.id.substr(0, d.id.find('.', 3));
      t.name = d.id.substr(t.bucket.size() + 1);
      t.description = d.desc;
      t.pk = d.pk;
      t.sliced = d.sliced;
      t.slice_count = d.slice_count;
      t.typed_meta = d.typed;
      t.relation = "t" + std::to_string(n++);
      t.last_change = KbcTime(start_);
      std::string source_sql = d.sql;
      if (opt_.project == "company") {
        // Keboola column names are [A-Za-z0-9_]: rename the datasets' others.
        auto described = conn.Query("DESCRIBE " + d.sql);
        if (!described.ok()) {
          std::fprintf(stderr, "emulator: cannot describe %s: %s\n", d.id.c_str(), described.status().message().c_str());
          return false;
        }
        std::string list;
        for (size_t i = 0; i < described->RowCount(); ++i) {
          const std::string name = described->GetString(0, i);
          std::string safe;
          for (char ch : name) safe += std::isalnum(static_cast<unsigned char>(ch)) ? ch : '_';
          list += (list.empty() ? "" : ", ") + std::string("\"") + name + "\" AS " + safe;
        }
        source_sql = "SELECT " + list + " FROM (" + d.sql + ")";
      }
      std::string sql = d.table ? "CREATE TABLE " + t.relation + " AS SELECT *, " +
                                      (d.ts_expr.empty() ? ts : d.ts_expr) +
                                      "::BIGINT AS _timestamp FROM (" + source_sql + ")"
                                : "CREATE VIEW " + t.relation + " AS " + source_sql;
      if (!conn.Execute(sql).ok()) {
        std::fprintf(stderr, "emulator: cannot load %s\n", d.id.c_str());
        return false;
      }
      t.has_ts = d.table;
      auto desc = conn.Query("DESCRIBE " + t.relation);
      for (size_t i = 0; i < desc->RowCount(); ++i) {
        if (desc->GetString(0, i) == "_timestamp") continue;
        t.columns.emplace_back(desc->GetString(0, i), desc->GetString(1, i));
      }
      t.rows = conn.Query("SELECT count(*) FROM " + t.relation)->GetInt64(0, 0);
      // Untyped Keboola tables can hold '' in a column whose metadata says INTEGER.
      if (t.id == "in.c-test.typed_blank") t.forced_basetype["n"] = "INTEGER";
      tables_[t.id] = t;
    }
    return true;
  }

  void Serve(httplib::SSLServer& srv, int port) {
    port_ = port;
    srv.set_pre_routing_handler([this](const httplib::Request& req, httplib::Response& res) {
      ++requests_;
      std::lock_guard<std::mutex> lock(mu_);
      for (auto& f : faults_) {
        if (f.count > 0 && req.path.starts_with(f.prefix)) {
          --f.count;
          res.status = f.status;
          if (f.retry_after >= 0) res.set_header("Retry-After", std::to_string(f.retry_after));
          json body = f.status == 503
                          ? json{{"status", "maintenance"}, {"estimatedEndTime", KbcTime(std::time(nullptr) + 60)}, {"reason", "Emulated maintenance"}}
                          : Error("Emulated failure " + std::to_string(f.status), "storage.emulated");
          res.set_content(body.dump(), "application/json");
          return httplib::Server::HandlerResponse::Handled;
        }
      }
      return httplib::Server::HandlerResponse::Unhandled;
    });
    srv.Get("/v2/storage/tokens/verify", [this](const auto& req, auto& res) {
      if (!Auth(req, res)) return;
      json perms = json::object();
      for (const auto& [_, t] : tables_) perms[t.bucket] = "read";
      Json(res, 200, {{"id", "204"}, {"created", KbcTime(start_)}, {"description", "da-emulator"},
                      {"isMasterToken", false}, {"canManageBuckets", false}, {"expires", nullptr},
                      {"isExpired", false}, {"isDisabled", false}, {"bucketPermissions", perms},
                      {"componentAccess", json::array()},
                      {"admin", {{"id", 42}, {"name", "Jane Doe"}, {"role", "admin"}}},
                      {"adminOwner", {{"id", 42}, {"email", "jane@example.com"}, {"name", "Jane Doe"}}},
                      {"owner", {{"id", 1234}, {"name", "Emulated DWH"}, {"type", "production"},
                                 {"region", "us-east-1"}, {"defaultBackend", "snowflake"},
                                 {"fileStorageProvider", "aws"}, {"features", json::array()}}}});
    });
    srv.Get("/v2/storage/buckets", [this](const auto& req, auto& res) {
      if (!Auth(req, res)) return;
      json out = json::array();
      std::set<std::string> seen;
      for (const auto& [_, t] : tables_)
        if (seen.insert(t.bucket).second) out.push_back(BucketJson(t.bucket));
      Json(res, 200, out);
    });
    srv.Get("/v2/storage/tables", [this](const auto& req, auto& res) {
      if (!Auth(req, res)) return;
      std::string include = req.get_param_value("include");
      json out = json::array();
      for (const auto& [_, t] : tables_) out.push_back(TableJson(t, true, include.find("columns") != std::string::npos));
      Json(res, 200, out);
    });
    srv.Get(R"(/v2/storage/buckets/([^/]+)/tables)", [this](const auto& req, auto& res) {
      if (!Auth(req, res)) return;
      json out = json::array();
      for (const auto& [_, t] : tables_)
        if (t.bucket == req.matches[1].str()) out.push_back(TableJson(t, false, true));
      Json(res, 200, out);
    });
    srv.Get(R"(/v2/storage/tables/([^/]+))", [this](const auto& req, auto& res) {
      if (!Auth(req, res)) return;
      const Table* t = Find(req.matches[1].str(), res);
      if (t) Json(res, 200, TableJson(*t, true, true));
    });
    srv.Post(R"(/v2/storage/tables/([^/]+)/export-async)", [this](const auto& req, auto& res) {
      if (!Auth(req, res)) return;
      const Table* t = Find(req.matches[1].str(), res);
      if (t) Export(*t, req, res);
    });
    srv.Get(R"(/v2/storage/jobs/(\d+))", [this](const auto& req, auto& res) {
      if (!Auth(req, res)) return;
      std::lock_guard<std::mutex> lock(mu_);
      auto it = jobs_.find(std::stoll(req.matches[1].str()));
      if (it == jobs_.end()) {
        Json(res, 404, Error("Job " + req.matches[1].str() + " not found", "storage.jobs.notFound"));
        return;
      }
      Job& j = it->second;
      ++j.polls;
      Json(res, 200, JobJson(j));
    });
    srv.Get(R"(/v2/storage/files/(\d+))", [this](const auto& req, auto& res) {
      if (!Auth(req, res)) return;
      std::lock_guard<std::mutex> lock(mu_);
      auto it = files_.find(std::stoll(req.matches[1].str()));
      if (it == files_.end()) {
        Json(res, 404, Error("File " + req.matches[1].str() + " not found", "storage.files.notFound"));
        return;
      }
      Json(res, 200, FileJson(it->second, req.has_param("federationToken")));
    });
    srv.Get(R"(/_files/(\d+)/([^/]+))", [this](const auto& req, auto& res) { Download(req, res, false); });
    // Fake GCS JSON API media download: /storage/v1/b/<bucket>/o/<file id>%2F<object>?alt=media.
    srv.Get(R"(/storage/v1/b/kbc-files-emu/o/(\d+)/([^/]+))", [this](const auto& req, auto& res) { Download(req, res, true); });
    srv.Post("/_emulator/fail", [this](const auto& req, auto& res) {
      Fault f;
      f.status = std::stoi(req.has_param("status") ? req.get_param_value("status") : "503");
      f.count = std::stoi(req.has_param("count") ? req.get_param_value("count") : "1");
      if (req.has_param("retry_after")) f.retry_after = std::stoi(req.get_param_value("retry_after"));
      f.prefix = req.has_param("prefix") ? req.get_param_value("prefix") : "/v2/";
      std::lock_guard<std::mutex> lock(mu_);
      faults_.push_back(f);
      Json(res, 200, {{"ok", true}});
    });
    srv.Post(R"(/_emulator/tables/([^/]+)/rows)", [this](const auto& req, auto& res) { AppendRows(req, res); });
    srv.Get("/_emulator/exports", [this](const auto&, auto& res) {
      std::lock_guard<std::mutex> lock(mu_);
      Json(res, 200, exports_);
    });
    srv.Get("/_emulator/stats", [this](const auto&, auto& res) {
      std::lock_guard<std::mutex> lock(mu_);
      Json(res, 200, {{"requests", requests_.load()}, {"downloads", downloads_}, {"jobs", jobs_.size()}});
    });
  }

 private:
  static json Error(const std::string& msg, const std::string& code) {
    static std::atomic<int> n{0};
    char ex[40];
    std::snprintf(ex, sizeof ex, "exception-%08x%04x", static_cast<unsigned>(std::time(nullptr)), n++ & 0xffff);
    return {{"error", msg}, {"code", code}, {"status", "error"}, {"exceptionId", ex}};
  }
  static void Json(httplib::Response& res, int status, const json& body) {
    res.status = status;
    res.set_content(body.dump(), "application/json");
  }
  bool Auth(const httplib::Request& req, httplib::Response& res) {
    if (!req.has_header("X-StorageApi-Token")) {
      Json(res, 401, Error("Access token must be set", ""));
      return false;
    }
    if (req.get_header_value("X-StorageApi-Token") != opt_.token) {
      Json(res, 401, Error("Invalid access token", "storage.tokenInvalid"));
      return false;
    }
    return true;
  }
  const Table* Find(const std::string& id, httplib::Response& res) {
    auto it = tables_.find(id);
    if (it != tables_.end()) return &it->second;
    std::string bucket = id.substr(0, id.rfind('.'));
    std::string name = id.substr(id.rfind('.') + 1);
    Json(res, 404, Error("The table \"" + name + "\" was not found in the bucket \"" + bucket +
                             "\" in the project \"1234\"", "storage.tables.notFound"));
    return nullptr;
  }
  std::string Base() const { return "https://127.0.0.1:" + std::to_string(port_); }

  json BucketJson(const std::string& id) const {
    std::string name = id.substr(id.find('.') + 1);
    return {{"uri", Base() + "/v2/storage/buckets/" + id}, {"id", id}, {"name", name},
            {"displayName", name.substr(2)}, {"stage", id.substr(0, id.find('.'))},
            {"description", "Emulated bucket " + id}, {"tables", Base() + "/v2/storage/buckets/" + id + "/tables"},
            {"created", KbcTime(start_)}, {"lastChangeDate", KbcTime(start_)}, {"isReadOnly", false},
            {"backend", "snowflake"}, {"sharing", nullptr}, {"isMaintenance", false}};
  }

  json TableJson(const Table& t, bool with_bucket, bool with_columns) const {
    json meta = json::array();
    meta.push_back({{"id", "906180828"}, {"key", "KBC.createdBy.component.id"}, {"value", "keboola.ex-db-snowflake"},
                    {"provider", "system"}, {"timestamp", KbcTime(start_)}});
    if (!t.description.empty())
      meta.push_back({{"id", "906180829"}, {"key", "KBC.description"}, {"value", t.description},
                      {"provider", "user"}, {"timestamp", KbcTime(start_)}});
    json colmeta = json::object();
    if (t.typed_meta) {
      int n = 0;
      for (const auto& [name, type] : t.columns) {
        colmeta[name] = json::array(
            {{{"id", std::to_string(907000000 + n++)}, {"key", "KBC.datatype.basetype"},
              {"value", t.forced_basetype.count(name) ? t.forced_basetype.at(name) : BaseType(type)},
              {"provider", "keboola.ex-db-snowflake"}, {"timestamp", KbcTime(start_)}}});
      }
    }
    json cols = json::array();
    for (const auto& c : t.columns) cols.push_back(c.first);
    json j = {{"uri", Base() + "/v2/storage/tables/" + t.id}, {"id", t.id}, {"name", t.name},
              {"displayName", t.name}, {"transactional", false}, {"primaryKey", t.pk},
              {"created", KbcTime(start_)}, {"lastImportDate", t.last_change},
              {"lastChangeDate", t.last_change}, {"rowsCount", t.rows},
              {"dataSizeBytes", t.rows * 64}, {"isAlias", false}, {"isAliasable", true},
              {"isTyped", false}, {"timestampType", "MANAGED"}, {"tableType", "table"},
              {"path", "KBC_PRJ_1234." + t.id}, {"metadata", meta},
              // PHP serialises an empty map as [] (source-apis.md §1.1).
              {"columnMetadata", colmeta.empty() ? json::array() : colmeta}};
    if (with_columns) j["columns"] = cols;
    if (with_bucket) j["bucket"] = BucketJson(t.bucket);
    return j;
  }

  json JobJson(Job& j) {
    std::string status = "waiting";
    if (j.polls > 0) status = "processing";
    if (j.outcome != "never" && j.polls > opt_.polls) status = j.outcome;
    json out = {{"id", j.id}, {"status", status}, {"url", Base() + "/v2/storage/jobs/" + std::to_string(j.id)},
                {"tableId", j.table_id}, {"operationName", "tableExport"},
                {"operationParams", {{"export", j.export_params}, {"queue", "main_fast"}}},
                {"createdTime", j.created}, {"startTime", j.polls > 0 ? json(j.created) : json(nullptr)},
                {"endTime", nullptr}, {"runId", nullptr}, {"results", json::array()},
                {"creatorToken", {{"id", "204"}, {"description", "da-emulator"}}}};
    if (status == "success") {
      out["results"] = {{"file", {{"id", j.file_id}}}, {"cacheHit", false}};
      out["endTime"] = KbcTime(std::time(nullptr));
    } else if (status == "error") {
      out["results"] = nullptr;
      out["error"] = {{"code", "storage.jobs.tableExportError"}, {"message", j.error_message},
                      {"exceptionId", "exception-91d0c2"}};
      out["endTime"] = KbcTime(std::time(nullptr));
    }
    return out;
  }

  json FileJson(const File& f, bool federation) const {
    std::string prefix = Base() + "/_files/" + std::to_string(f.id) + "/";
    json j = {{"id", f.id}, {"created", KbcTime(start_)}, {"isPublic", false}, {"isSliced", f.sliced},
              {"isEncrypted", true}, {"name", f.name}, {"fileType", f.file_type},
              {"url", prefix + (f.sliced ? "manifest" : f.slices.at(0).name) + "?X-Amz-Signature=" + f.signature},
              {"provider", "aws"}, {"region", "us-east-1"}, {"sizeBytes", f.size},
              {"tags", {"table-export"}}, {"maxAgeDays", 15}, {"runId", nullptr}, {"runIds", json::array()},
              {"creatorToken", {{"id", 204}, {"description", "da-emulator"}}}};
    if (federation && f.gcs) {
      j["provider"] = "gcp";
      j["gcsCredentials"] = {{"access_token", "ya29.emulated-" + f.signature}, {"expires_in", 3599},
                             {"token_type", "Bearer"}, {"projectId", "kbc-files-emu"}};
      j["gcsPath"] = {{"bucket", "kbc-files-emu"}, {"key", std::to_string(f.id)}};
    } else if (federation) {
      j["credentials"] = {{"AccessKeyId", "ASIAEMULATOR"}, {"SecretAccessKey", "emulated-secret"},
                          {"SessionToken", "emulated-session"}, {"Expiration", KbcTime(std::time(nullptr) + 3600)}};
      j["s3Path"] = {{"bucket", "kbc-sapi-files"}, {"key", "exp-15/1234/table-exports/" + std::to_string(f.id)}};
    }
    return j;
  }

  /// Builds the SELECT of an export; "" + error message when a parameter is bad.
  std::pair<std::string, std::string> ExportSql(const Table& t, const json& p, bool parquet) {
    std::vector<std::string> cols;
    if (p.contains("columns")) {
      const json& c = p["columns"];
      if (c.is_string()) {
        std::string s = c.get<std::string>();
        for (size_t a = 0; a <= s.size();) {
          size_t b = s.find(',', a);
          if (b == std::string::npos) b = s.size();
          if (b > a) cols.push_back(s.substr(a, b - a));
          a = b + 1;
        }
      } else if (c.is_array()) {
        for (const auto& x : c) cols.push_back(x.get<std::string>());
      }
    }
    if (cols.empty())
      for (const auto& c : t.columns) cols.push_back(c.first);
    auto known = [&](const std::string& n) {
      for (const auto& c : t.columns)
        if (c.first == n) return true;
      return false;
    };
    std::string select;
    for (const auto& c : cols) {
      if (!known(c)) return {"", "Column \"" + c + "\" not found in table " + t.id};
      // Non-typed Keboola tables are all VARCHAR; CSV output is text anyway.
      select += (select.empty() ? "" : ", ") + std::string("CAST(") + Ident(c) + " AS VARCHAR) AS " + Ident(c);
    }
    (void)parquet;
    std::string where;
    if (p.contains("whereFilters")) {
      if (!p["whereFilters"].is_array()) return {"", "whereFilters should be an array"};
      for (const auto& f : p["whereFilters"]) {
        if (!f.is_object() || !f.contains("column") || !f.contains("values") || !f["values"].is_array())
          return {"", "whereFilters should be an array, but parameter contains: 'values'"};
        std::string col = f["column"].get<std::string>();
        if (!known(col)) return {"", "Column \"" + col + "\" not found in table " + t.id};
        std::string op = f.value("operator", "eq");
        std::string dtype = f.value("dataType", "");
        std::string lhs = "CAST(" + Ident(col) + " AS VARCHAR)";
        auto val = [&](const json& v) {
          std::string s = v.is_string() ? v.get<std::string>() : v.dump();
          if (!dtype.empty()) return "TRY_CAST(" + Lit(s) + " AS DOUBLE)";
          return Lit(s);
        };
        if (!dtype.empty()) lhs = "TRY_CAST(" + Ident(col) + " AS DOUBLE)";
        std::string cond;
        if (op == "eq" || op == "ne") {
          std::string list;
          for (const auto& v : f["values"]) list += (list.empty() ? "" : ", ") + val(v);
          if (list.empty()) return {"", "whereFilters values must not be empty"};
          cond = lhs + (op == "eq" ? " IN (" : " NOT IN (") + list + ")";
        } else {
          static const std::map<std::string, std::string> kOps = {{"gt", ">"}, {"ge", ">="}, {"lt", "<"}, {"le", "<="}};
          auto it = kOps.find(op);
          if (it == kOps.end() || f["values"].size() != 1) return {"", "Invalid where operator \"" + op + "\""};
          cond = lhs + " " + it->second + " " + val(f["values"][0]);
        }
        where += (where.empty() ? " WHERE " : " AND ") + cond;
      }
    }
    for (const char* key : {"changedSince", "changedUntil"}) {
      if (!p.contains(key) || !p[key].is_string() || p[key].get<std::string>().empty()) continue;
      std::string v = p[key].get<std::string>();
      int64_t when;
      if (v.find_first_not_of("0123456789") == std::string::npos) {
        when = std::stoll(v);
      } else {
        long n = 0;
        char unit[16] = {0};
        if (std::sscanf(v.c_str(), "-%ld %15s", &n, unit) != 2) return {"", std::string("Invalid ") + key + " value"};
        std::string u(unit);
        int64_t mult = u.starts_with("day") ? 86400 : u.starts_with("hour") ? 3600 : u.starts_with("minute") ? 60 : 1;
        when = std::time(nullptr) - n * mult;
      }
      if (t.has_ts) {
        where += (where.empty() ? " WHERE " : " AND ") + std::string("_timestamp ") +
                 (std::string(key) == "changedSince" ? ">= " : "< ") + std::to_string(when);
      }
    }
    std::string limit;
    if (p.contains("limit") && !p["limit"].is_null()) {
      std::string l = p["limit"].is_string() ? p["limit"].get<std::string>() : p["limit"].dump();
      if (l.empty() || l.find_first_not_of("0123456789") != std::string::npos) return {"", "Invalid limit"};
      limit = " LIMIT " + l;
    }
    return {"SELECT " + select + " FROM " + t.relation + where + limit, ""};
  }

  void Export(const Table& t, const httplib::Request& req, httplib::Response& res) {
    json p;
    if (req.get_header_value("Content-Type").starts_with("application/json")) {
      p = json::parse(req.body, nullptr, false);
      if (!p.is_object()) {
        Json(res, 400, Error("Malformed JSON body", "storage.validation"));
        return;
      }
    } else {
      httplib::Params params;
      httplib::detail::parse_query_text(req.body, params);
      p = FormToJson(params);
    }
    if (t.id == "in.c-test.token_echo") {
      Json(res, 400, Error("Export refused for token " + opt_.token + " (emulated leak)", "storage.validation"));
      return;
    }
    const std::string type = p.value("fileType", "csv");
    if (type != "csv" && type != "parquet") {
      Json(res, 400, Error("Invalid fileType \"" + type + "\"", "storage.validation"));
      return;
    }
    const bool gz = type == "csv" && (p.value("gzip", "") == "1" || p.value("gzip", "") == "true");
    Job job;
    job.table_id = t.id;
    job.created = KbcTime(std::time(nullptr));
    job.export_params = p;
    if (t.id == "in.c-test.job_stuck") job.outcome = "never";
    auto [sql, err] = ExportSql(t, p, type == "parquet");
    if (t.id == "in.c-test.job_error") err = "Snowflake unload failed: emulated warehouse error";
    if (!err.empty() && err.starts_with("whereFilters")) {
      Json(res, 400, Error(err, "storage.validation"));
      return;
    }
    if (!err.empty()) {
      job.outcome = "error";
      job.error_message = err;
    } else if (job.outcome == "success") {
      // Identical parameters on an unchanged table return the previous file (cacheHit).
      const std::string key = t.id + "|" + t.last_change + "|" + p.dump();
      {
        std::lock_guard<std::mutex> lock(mu_);
        if (auto hit = cache_.find(key); hit != cache_.end()) job.file_id = hit->second;
      }
      auto file = job.file_id ? std::pair<std::string, int64_t>{"", job.file_id} : Produce(t, sql, type, gz);
      if (file.first.empty()) {
        std::lock_guard<std::mutex> lock(mu_);
        cache_[key] = file.second;
      }
      if (!file.first.empty()) {
        job.outcome = "error";
        job.error_message = file.first;
      } else {
        job.file_id = file.second;
      }
    }
    std::lock_guard<std::mutex> lock(mu_);
    job.id = next_id_++;
    exports_.push_back({{"table", t.id}, {"params", p}});
    jobs_[job.id] = job;
    json body = JobJson(jobs_[job.id]);
    jobs_[job.id].polls = 0;
    Json(res, 202, body);
  }

  /// Runs the export: error text, or "" and the file id.
  std::pair<std::string, int64_t> Produce(const Table& t, const std::string& sql, const std::string& type, bool gz) {
    int64_t id;
    {
      std::lock_guard<std::mutex> lock(mu_);
      id = next_id_++;
    }
    fs::path dir = opt_.work_dir / "files" / std::to_string(id);
    fs::create_directories(dir);
    auto conn = db_->Connect();
    if (!conn.ok()) return {"emulator: no connection", 0};
    File f;
    f.id = id;
    f.table_id = t.id;
    f.file_type = type;
    f.gz = gz;
    f.sliced = t.sliced;
    f.gcs = t.id == "in.c-test.gcs_sliced";
    std::mt19937_64 rng(id);
    f.signature = std::to_string(rng());
    const std::string ext = type == "parquet" ? "parquet" : (gz ? "csv.gz" : "csv");
    f.name = t.id + "." + ext;
    std::string fmt = type == "parquet"
                          ? "FORMAT parquet"
                          : std::string("FORMAT csv, HEADER false, FORCE_QUOTE *") + (gz ? ", COMPRESSION gzip" : "");
    if (t.id == "in.c-test.empty") {
      // Snowflake unloads nothing: a manifest without entries.
    } else if (t.sliced) {
      // An unload directory of slices: exactly slice_count files (rows dealt round-robin, one
      // hive partition each), or files of about --slice-bytes.
      fs::path out = dir / "unload";
      const std::string n = std::to_string(t.slice_count);
      std::string copy = t.slice_count > 0
                             ? "COPY (SELECT *, (row_number() OVER () % " + n + ") AS _da_slice FROM (" + sql +
                                   ")) TO " + Lit(out.string()) + " (" + fmt + ", PARTITION_BY (_da_slice))"
                             : "COPY (" + sql + ") TO " + Lit(out.string()) + " (" + fmt + ", FILE_SIZE_BYTES " +
                                   std::to_string(opt_.slice_bytes) + ", PER_THREAD_OUTPUT false)";
      Status_ st = Exec(*conn, copy);
      if (!st.empty()) return {st, 0};
      std::vector<fs::path> produced;
      if (fs::is_directory(out))
        for (const auto& e : fs::recursive_directory_iterator(out))
          if (e.is_regular_file()) produced.push_back(e.path());
      std::sort(produced.begin(), produced.end());
      int k = 0;
      for (const auto& src : produced) {
        std::string name = std::to_string(id) + "." + ext + "_0_" + std::to_string(k++) + "_0." + ext;
        fs::rename(src, dir / name);
        f.slices.push_back({name, dir / name});
      }
      fs::remove_all(out);
      // Snowflake order is not sorted: list the slices reversed to keep clients honest.
      std::reverse(f.slices.begin(), f.slices.end());
    } else {
      std::string name = std::to_string(id) + "." + ext;
      // A single (non-sliced) CSV file carries its header row.
      std::string single_fmt = fmt;
      if (type == "csv") single_fmt.replace(single_fmt.find("HEADER false"), 12, "HEADER true");
      Status_ st = Exec(*conn, "COPY (" + sql + ") TO " + Lit((dir / name).string()) + " (" + single_fmt + ")");
      if (!st.empty()) return {st, 0};
      f.slices.push_back({name, dir / name});
    }
    json entries = json::array();
    for (const auto& s : f.slices) {
      f.size += static_cast<int64_t>(fs::file_size(s.path));
      const std::string url = f.gcs ? "gs://kbc-files-emu/" + std::to_string(id) + "/" + s.name
                                    : Base() + "/_files/" + std::to_string(id) + "/" + s.name +
                                          "?X-Amz-Signature=" + f.signature;
      entries.push_back({{"url", url}, {"mandatory", true}});
    }
    if (f.sliced) {
      std::ofstream(dir / "manifest") << PhpJson({{"entries", entries}});
    }
    std::lock_guard<std::mutex> lock(mu_);
    files_[id] = f;
    return {"", id};
  }

  using Status_ = std::string;
  static Status_ Exec(da::db::Connection& c, const std::string& sql) {
    auto st = c.Execute(sql);
    return st.ok() ? "" : st.message();
  }

  void Download(const httplib::Request& req, httplib::Response& res, bool gcs) {
    File f;
    {
      std::lock_guard<std::mutex> lock(mu_);
      auto it = files_.find(std::stoll(req.matches[1].str()));
      if (it == files_.end()) {
        res.status = 404;
        res.set_content("<Error><Code>NoSuchKey</Code></Error>", "application/xml");
        return;
      }
      f = it->second;
    }
    if (gcs && (req.get_header_value("Authorization") != "Bearer ya29.emulated-" + f.signature ||
                req.get_param_value("alt") != "media")) {
      res.status = 401;
      res.set_content("{\"error\":{\"code\":401,\"message\":\"Invalid Credentials\"}}", "application/json");
      return;
    }
    if (!gcs && req.get_param_value("X-Amz-Signature") != f.signature) {
      res.status = 403;
      res.set_content("<Error><Code>SignatureDoesNotMatch</Code></Error>", "application/xml");
      return;
    }
    const std::string object = req.matches[2].str();
    fs::path path = opt_.work_dir / "files" / std::to_string(f.id) / object;
    bool known = object == "manifest" && f.sliced;
    for (const auto& s : f.slices) known = known || s.name == object;
    if (!known || !fs::exists(path)) {
      res.status = 404;
      res.set_content("<Error><Code>NoSuchKey</Code></Error>", "application/xml");
      return;
    }
    bool break_it = false;
    {
      std::lock_guard<std::mutex> lock(mu_);
      ++downloads_;
      if (f.table_id == "in.c-test.broken_slice" && object != "manifest")
        break_it = broken_.insert(path.string()).second;
    }
    const size_t size = fs::file_size(path);
    auto in = std::make_shared<std::ifstream>(path, std::ios::binary);
    res.set_content_provider(size, object == "manifest" ? "application/json" : "application/octet-stream",
                             [in, size, break_it](size_t offset, size_t, httplib::DataSink& sink) {
                               if (break_it && offset >= size / 2) return false;  // connection dropped
                               char buf[65536];
                               size_t want = std::min(sizeof buf, break_it ? std::max<size_t>(1, size / 2 - offset) : sizeof buf);
                               in->read(buf, static_cast<std::streamsize>(want));
                               auto got = static_cast<size_t>(in->gcount());
                               if (got == 0) return false;
                               sink.write(buf, got);
                               return true;
                             });
  }

  void AppendRows(const httplib::Request& req, httplib::Response& res) {
    auto it = tables_.find(req.matches[1].str());
    json rows = json::parse(req.body, nullptr, false);
    if (it == tables_.end() || !it->second.has_ts || !rows.is_array()) {
      Json(res, 400, Error("unknown table or bad rows", "emulator"));
      return;
    }
    Table& t = it->second;
    auto conn = db_->Connect();
    const auto now = std::time(nullptr) + 1;  // strictly after the load time
    for (const auto& r : rows) {
      std::string cols, vals;
      for (auto f = r.begin(); f != r.end(); ++f) {
        cols += Ident(f.key()) + ", ";
        vals += f.value().is_null() ? "NULL, " : Lit(f.value().is_string() ? f.value().get<std::string>() : f.value().dump()) + ", ";
      }
      Status_ st = Exec(*conn, "INSERT INTO " + t.relation + " (" + cols + "_timestamp) VALUES (" + vals + std::to_string(now) + ")");
      if (!st.empty()) {
        Json(res, 400, Error(st, "emulator"));
        return;
      }
    }
    std::lock_guard<std::mutex> lock(mu_);
    t.rows = conn->Query("SELECT count(*) FROM " + t.relation)->GetInt64(0, 0);
    t.last_change = KbcTime(now);
    Json(res, 200, {{"rows", t.rows}});
  }

  Options opt_;
  std::time_t start_;
  int port_ = 0;
  std::optional<da::db::Database> db_;
  std::map<std::string, Table> tables_;
  std::mutex mu_;
  std::map<int64_t, Job> jobs_;
  std::map<int64_t, File> files_;
  std::vector<Fault> faults_;
  std::set<std::string> broken_;
  std::map<std::string, int64_t> cache_;
  json exports_ = json::array();
  int64_t next_id_ = 1283745599;
  std::atomic<int64_t> requests_{0};
  int64_t downloads_ = 0;
};

}  // namespace

int main(int argc, char** argv) {
  Options opt;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string k = argv[i], v = argv[i + 1];
    if (k == "--data-dir") opt.data_dir = v;
    else if (k == "--work-dir") opt.work_dir = v;
    else if (k == "--token") opt.token = v;
    else if (k == "--polls") opt.polls = std::stoi(v);
    else if (k == "--slice-bytes") opt.slice_bytes = std::stoll(v);
    else if (k == "--project") opt.project = v;
    else {
      std::fprintf(stderr, "keboola_emulator: unknown option %s\n", k.c_str());
      return 2;
    }
  }
  if (opt.data_dir.empty() || opt.work_dir.empty()) {
    std::fprintf(stderr, "usage: keboola_emulator --data-dir D --work-dir W [--token T] [--polls N] [--slice-bytes N] [--project default|company]\n");
    return 2;
  }
  fs::create_directories(opt.work_dir);
  // Certificates already in the work dir are reused, so a CA handed out before a restart stays valid.
  const fs::path work(opt.work_dir);
  da::testing::TestTls certs{(work / "ca.pem").string(), (work / "server.pem").string(),
                             (work / "server-key.pem").string()};
  if (!fs::exists(certs.cert_file) || !fs::exists(certs.key_file)) {
    auto made = da::testing::MakeTestTls(work);
    if (!made.ok()) {
      std::fprintf(stderr, "keboola_emulator: %s\n", made.status().ToString().c_str());
      return 1;
    }
    certs = *made;
  }
  Emulator emu(opt);
  if (!emu.Load()) return 1;
  httplib::SSLServer srv(certs.cert_file.c_str(), certs.key_file.c_str());
  if (!srv.is_valid()) {
    std::fprintf(stderr, "keboola_emulator: bad TLS material\n");
    return 1;
  }
  int port = srv.bind_to_any_port("127.0.0.1");
  if (port <= 0) return 1;
  emu.Serve(srv, port);
  std::printf("%s\n", json{{"port", port}, {"ca_file", certs.ca_file}, {"token", opt.token}}.dump().c_str());
  std::fflush(stdout);
  srv.listen_after_bind();
  return 0;
}
