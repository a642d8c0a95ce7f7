#include "state/state_db.h"

#include <chrono>
#include <system_error>

#include "common/fs_util.h"
#include "state/migrations.h"

namespace da::state {

int StateDb::ExpectedSchemaVersion() {
  const auto& all = Migrations();
  return all.empty() ? 0 : all.back().version;
}

Result<std::unique_ptr<StateDb>> StateDb::Open(const std::filesystem::path& path) {
  if (path.has_parent_path()) DA_RETURN_IF_ERROR(EnsureDir(path.parent_path()));
  auto database = db::Database::Open(path.string());
  if (!database.ok()) return database.status().WithContext("open state db " + path.string());
  auto conn = database->Connect();
  if (!conn.ok()) return conn.status().WithContext("connect state db " + path.string());
  DA_RETURN_IF_ERROR(ApplyMigrations(*conn));
  return std::unique_ptr<StateDb>(
      new StateDb(std::move(database).value(), std::move(conn).value()));
}

Result<std::unique_ptr<StateDb>> StateDb::OpenReadOnly(const std::filesystem::path& path) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) {
    return NotFound("state db " + path.string() + " does not exist");
  }
  db::DatabaseOptions options;
  options.read_only = true;
  auto database = db::Database::Open(path.string(), options);
  if (!database.ok()) return database.status().WithContext("open state db " + path.string());
  auto conn = database->Connect();
  if (!conn.ok()) return conn.status().WithContext("connect state db " + path.string());
  return std::unique_ptr<StateDb>(
      new StateDb(std::move(database).value(), std::move(conn).value()));
}

Result<int> StateDb::CurrentSchemaVersion() {
  return Read([](db::Connection& c) { return ReadSchemaVersion(c); });
}

Result<int> StateDb::RecentSchemaVersion(int64_t max_age_us) {
  int64_t now = std::chrono::duration_cast<std::chrono::microseconds>(
                    std::chrono::steady_clock::now().time_since_epoch())
                    .count();
  int cached = recent_version_.load(std::memory_order_acquire);
  if (cached >= 0 && now - recent_version_at_us_.load(std::memory_order_acquire) < max_age_us) {
    return cached;
  }
  auto version = CurrentSchemaVersion();
  if (!version.ok()) return version;
  recent_version_at_us_.store(now, std::memory_order_release);
  recent_version_.store(*version, std::memory_order_release);
  return version;
}

}  // namespace da::state
