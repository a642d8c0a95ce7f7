#pragma once
/// Forward-only, numbered migrations of the system DB (internal to the state layer).
///
/// Each migration runs in its own transaction together with the insert of its schema_version
/// row, so a failed migration leaves the DB at the previous version. Migrations are never
/// edited once released: a schema change is a new entry at the end of the list.
#include <string>
#include <vector>

#include "common/status.h"
#include "db/duckdb.h"

namespace da::state {

/// One schema step: applied when the DB's version is below `version`.
struct Migration {
  int version;                   ///< strictly increasing, starting at 1
  const char* description;       ///< one line, for logs
  std::vector<std::string> sql;  ///< statements run in order inside one transaction
};

/// All migrations in ascending version order.
const std::vector<Migration>& Migrations();

/// Highest version in schema_version; 0 when the table is missing or empty.
Result<int> ReadSchemaVersion(db::Connection& conn);

/// Creates schema_version if needed and applies every migration newer than the DB's version,
/// in order, each in its own transaction. A DB newer than the binary is left unchanged
/// (a warning is logged). Errors: the failing migration's Status, prefixed with its version.
Status ApplyMigrations(db::Connection& conn);

}  // namespace da::state
