#include "state/migrations.h"

#include "common/log.h"
#include "common/time_util.h"
#include "state/internal.h"

namespace da::state {

const std::vector<Migration>& Migrations() {
  static const std::vector<Migration> kMigrations = {
      {1,
       "registry, sync state and history, users, access tokens, audit log",
       {
           // primary_key holds a JSON array of column names; version is the optimistic lock.
           // `name` is unique among rows, enforced by the Registry under the DB mutex (a DuckDB
           // unique index would turn every rename into a delete + insert).
           "CREATE TABLE table_registry ("
           "  id VARCHAR PRIMARY KEY,"
           "  name VARCHAR NOT NULL,"
           "  description VARCHAR,"
           "  source_type VARCHAR NOT NULL,"
           "  bucket VARCHAR,"
           "  source_table VARCHAR,"
           "  source_query VARCHAR,"
           "  query_mode VARCHAR NOT NULL DEFAULT 'local',"
           "  sync_strategy VARCHAR NOT NULL DEFAULT 'full_refresh',"
           "  sync_schedule VARCHAR,"
           "  primary_key VARCHAR NOT NULL DEFAULT '[]',"
           "  incremental_column VARCHAR,"
           "  partition_by VARCHAR,"
           "  partition_granularity VARCHAR,"
           "  registered_by VARCHAR,"
           "  registered_at TIMESTAMP,"
           "  updated_at TIMESTAMP,"
           "  version BIGINT NOT NULL DEFAULT 1)",
           "CREATE TABLE sync_state ("
           "  table_id VARCHAR PRIMARY KEY,"
           "  last_sync TIMESTAMP,"
           "  rows BIGINT NOT NULL DEFAULT 0,"
           "  size_bytes BIGINT NOT NULL DEFAULT 0,"
           "  md5 VARCHAR,"
           "  status VARCHAR NOT NULL DEFAULT 'ok',"
           "  error VARCHAR)",
           "CREATE TABLE sync_history ("
           "  id VARCHAR PRIMARY KEY,"
           "  run_id VARCHAR,"
           "  table_id VARCHAR NOT NULL,"
           "  synced_at TIMESTAMP NOT NULL,"
           "  status VARCHAR NOT NULL,"
           "  rows BIGINT NOT NULL DEFAULT 0,"
           "  size_bytes BIGINT NOT NULL DEFAULT 0,"
           "  duration_ms BIGINT NOT NULL DEFAULT 0,"
           "  error VARCHAR)",
           "CREATE TABLE users ("
           "  id VARCHAR PRIMARY KEY,"
           "  email VARCHAR UNIQUE NOT NULL,"
           "  name VARCHAR,"
           "  active BOOLEAN NOT NULL DEFAULT TRUE,"
           "  is_admin BOOLEAN NOT NULL DEFAULT FALSE,"
           "  created_at TIMESTAMP,"
           "  updated_at TIMESTAMP)",
           "CREATE TABLE access_tokens ("
           "  id VARCHAR PRIMARY KEY,"
           "  user_id VARCHAR NOT NULL,"
           "  name VARCHAR,"
           "  token_hash VARCHAR UNIQUE NOT NULL,"
           "  prefix VARCHAR NOT NULL,"
           "  created_at TIMESTAMP,"
           "  expires_at TIMESTAMP,"
           "  last_used_at TIMESTAMP,"
           "  revoked_at TIMESTAMP)",
           // params is JSON text (VARCHAR keeps the state DB free of extension dependencies).
           "CREATE TABLE audit_log ("
           "  id VARCHAR PRIMARY KEY,"
           "  timestamp TIMESTAMP NOT NULL DEFAULT now(),"
           "  actor VARCHAR,"
           "  action VARCHAR NOT NULL,"
           "  resource VARCHAR,"
           "  params VARCHAR,"
           "  result VARCHAR)",
       }},
      {2,
       "sync runs and their per-table outcomes",
       {
           // status: running | ok | partial | error | cancelled | interrupted;
           // trigger: manual | schedule; tables_requested: JSON array of table ids.
           "CREATE TABLE sync_runs ("
           "  id VARCHAR PRIMARY KEY,"
           "  started_at TIMESTAMP NOT NULL,"
           "  finished_at TIMESTAMP,"
           "  status VARCHAR NOT NULL,"
           "  trigger VARCHAR NOT NULL,"
           "  requested_by VARCHAR,"
           "  tables_requested VARCHAR NOT NULL DEFAULT '[]',"
           "  message VARCHAR)",
           // One row per table that reached an outcome: synced | skipped | error.
           "CREATE TABLE sync_run_tables ("
           "  run_id VARCHAR NOT NULL,"
           "  table_id VARCHAR NOT NULL,"
           "  status VARCHAR NOT NULL,"
           "  reason VARCHAR,"
           "  rows BIGINT NOT NULL DEFAULT 0,"
           "  size_bytes BIGINT NOT NULL DEFAULT 0,"
           "  duration_ms BIGINT NOT NULL DEFAULT 0,"
           "  started_at TIMESTAMP,"
           "  finished_at TIMESTAMP,"
           "  PRIMARY KEY (run_id, table_id))",
       }},
      {3,
       "table_profiles: latest column profile per table",
       {
           // profile is the profiler's JSON document as text (see sync/profiler.h).
           "CREATE TABLE table_profiles ("
           "  table_id VARCHAR PRIMARY KEY,"
           "  profile VARCHAR NOT NULL,"
           "  profiled_at TIMESTAMP NOT NULL)",
       }},
      {4,
       "schema evolution: per-table schema_policy, schema change per sync",
       {
           // evolve | freeze (see model::TableSpec::schema_policy).
           "ALTER TABLE table_registry ADD COLUMN schema_policy VARCHAR DEFAULT 'evolve'",
           // The extraction's schema_change JSON ({added, removed, retyped}); NULL = none.
           "ALTER TABLE sync_history ADD COLUMN schema_change VARCHAR",
       }},
      {5,
       "groups, memberships, grants, passwords, token kinds, magic links",
       {
           // argon2id string (libsodium crypto_pwhash_str); NULL = no password sign-in.
           "ALTER TABLE users ADD COLUMN password_hash VARCHAR",
           // kind: pat | session | bootstrap; last_used_ip: the client address of the last use.
           "ALTER TABLE access_tokens ADD COLUMN kind VARCHAR DEFAULT 'pat'",
           "ALTER TABLE access_tokens ADD COLUMN last_used_ip VARCHAR",
           "UPDATE access_tokens SET kind = 'bootstrap' WHERE name = 'bootstrap'",
           // System groups have fixed ids `admin` and `everyone`; `name` is unique (case-folded
           // by GroupRepo under the DB mutex).
           "CREATE TABLE user_groups ("
           "  id VARCHAR PRIMARY KEY,"
           "  name VARCHAR NOT NULL,"
           "  description VARCHAR,"
           "  is_system BOOLEAN NOT NULL DEFAULT FALSE,"
           "  created_at TIMESTAMP)",
           "INSERT INTO user_groups VALUES ('admin', 'Admin', 'Full access to every table and "
           "the admin API', TRUE, now()::TIMESTAMP)",
           "INSERT INTO user_groups VALUES ('everyone', 'Everyone', 'Every active user "
           "(implicit membership)', TRUE, now()::TIMESTAMP)",
           // Everyone's membership is implicit and never stored.
           "CREATE TABLE group_members ("
           "  group_id VARCHAR NOT NULL,"
           "  user_id VARCHAR NOT NULL,"
           "  added_at TIMESTAMP,"
           "  PRIMARY KEY (group_id, user_id))",
           "INSERT INTO group_members SELECT 'admin', id, now()::TIMESTAMP FROM users WHERE is_admin",
           // resource_type: table (resource_id = table_registry.id).
           "CREATE TABLE resource_grants ("
           "  id VARCHAR PRIMARY KEY,"
           "  group_id VARCHAR NOT NULL,"
           "  resource_type VARCHAR NOT NULL,"
           "  resource_id VARCHAR NOT NULL,"
           "  created_by VARCHAR,"
           "  created_at TIMESTAMP)",
           // One-time sign-in links: only sha256(token) is stored.
           "CREATE TABLE magic_links ("
           "  token_hash VARCHAR PRIMARY KEY,"
           "  user_id VARCHAR NOT NULL,"
           "  next VARCHAR,"
           "  created_at TIMESTAMP NOT NULL,"
           "  expires_at TIMESTAMP NOT NULL,"
           "  used_at TIMESTAMP)",
       }},
      {6,
       "OIDC identities: a user is bound to (issuer, sub) at the first OIDC sign-in",
       {
           "CREATE TABLE oidc_identities ("
           "  issuer VARCHAR NOT NULL,"
           "  subject VARCHAR NOT NULL,"
           "  user_id VARCHAR NOT NULL,"
           "  created_at TIMESTAMP,"
           "  PRIMARY KEY (issuer, subject))",
       }},
  };
  return kMigrations;
}

Result<int> ReadSchemaVersion(db::Connection& conn) {
  DA_ASSIGN_OR_RETURN(db::QueryResult exists,
                      conn.Query("SELECT count(*) FROM duckdb_tables() "
                                 "WHERE schema_name = 'main' AND table_name = 'schema_version'"));
  if (exists.GetInt64(0, 0) == 0) return 0;
  DA_ASSIGN_OR_RETURN(db::QueryResult r,
                      conn.Query("SELECT coalesce(max(version), 0) FROM schema_version"));
  return static_cast<int>(r.GetInt64(0, 0));
}

Status ApplyMigrations(db::Connection& conn) {
  DA_RETURN_IF_ERROR(
      conn.Execute("CREATE TABLE IF NOT EXISTS schema_version ("
                   "version INTEGER NOT NULL, applied_at TIMESTAMP DEFAULT now())"));
  DA_ASSIGN_OR_RETURN(int current, ReadSchemaVersion(conn));
  const auto& all = Migrations();
  int expected = all.empty() ? 0 : all.back().version;
  if (current > expected) {
    spdlog::warn("state db: schema version {} is newer than this binary's {}; opening unchanged",
                 current, expected);
    return Status::Ok();
  }
  for (const Migration& m : all) {
    if (m.version <= current) continue;
    spdlog::info("state db: applying migration {} ({})", m.version, m.description);
    Status s = internal::InTransaction(conn, [&]() -> Status {
      for (const std::string& sql : m.sql) DA_RETURN_IF_ERROR(conn.Execute(sql));
      return conn.Execute(
          "INSERT INTO schema_version (version, applied_at) VALUES ($1, make_timestamp($2))",
          {int64_t{m.version}, NowMicros()});
    });
    if (!s.ok()) return s.WithContext("state db migration " + std::to_string(m.version));
    current = m.version;
  }
  return Status::Ok();
}

}  // namespace da::state
