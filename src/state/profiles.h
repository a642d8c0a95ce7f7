#pragma once
/// table_profiles: the latest column profile of each table (migration 3).
///
/// One row per table id: `profile` is the profiler's JSON document stored as text (see
/// sync/profiler.h for its shape), `profiled_at` the UTC time it was computed. A new profile
/// replaces the previous one.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/status.h"
#include "state/state_db.h"

namespace da::state {

/// A stored profile as read back from the state DB.
struct StoredProfile {
  std::string table_id;
  nlohmann::json profile;   ///< the JSON object that was stored
  std::string profiled_at;  ///< ISO-8601 UTC ("YYYY-MM-DDTHH:MM:SSZ")
};

/// Repository of table_profiles. Thread-safe: every call goes through StateDb::Read or StateDb::Write.
class ProfileRepo {
 public:
  explicit ProfileRepo(StateDb& db) : db_(db) {}

  /// Upserts the profile of `table_id`, computed at `profiled_at_micros` (microseconds since the
  /// epoch, UTC). invalid_argument for an empty id or a profile that is not a JSON object.
  Status Put(const std::string& table_id, const nlohmann::json& profile,
             int64_t profiled_at_micros);
  /// The stored profile; nullopt when the table was never profiled. internal when the stored
  /// text is not a JSON object (a corrupted row).
  Result<std::optional<StoredProfile>> Get(const std::string& table_id);
  /// Removes the profile of `table_id` (no error when there is none).
  Status Delete(const std::string& table_id);
  /// Ids of every profiled table, sorted.
  Result<std::vector<std::string>> ListTableIds();

 private:
  StateDb& db_;
};

}  // namespace da::state
