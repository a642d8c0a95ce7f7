#include "state/profiles.h"

#include "state/internal.h"

namespace da::state {

Status ProfileRepo::Put(const std::string& table_id, const nlohmann::json& profile,
                        int64_t profiled_at_micros) {
  if (table_id.empty()) return InvalidArgument("table_id is required");
  if (!profile.is_object()) {
    return InvalidArgument("profile of table '" + table_id + "' must be a JSON object");
  }
  // Invalid UTF-8 in a profiled value must not make the whole profile unstorable.
  std::string text = profile.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  return db_.Write([&](db::Connection& c) {
    return c.Execute(
        "INSERT INTO table_profiles (table_id, profile, profiled_at) "
        "VALUES ($1, $2, make_timestamp($3)) "
        "ON CONFLICT (table_id) DO UPDATE SET profile = excluded.profile, "
        "profiled_at = excluded.profiled_at",
        {table_id, text, profiled_at_micros});
  });
}

Result<std::optional<StoredProfile>> ProfileRepo::Get(const std::string& table_id) {
  DA_ASSIGN_OR_RETURN(db::QueryResult r, db_.Read([&](db::Connection& c) {
                        return c.Query(
                            "SELECT table_id, profile, epoch_us(profiled_at) FROM table_profiles "
                            "WHERE table_id = $1",
                            {table_id});
                      }));
  if (r.RowCount() == 0) return std::optional<StoredProfile>();
  StoredProfile p;
  p.table_id = r.GetString(0, 0);
  p.profile = nlohmann::json::parse(r.GetString(1, 0), nullptr, /*allow_exceptions=*/false);
  if (!p.profile.is_object()) {
    return Internal("stored profile of table '" + table_id + "' is not a JSON object");
  }
  p.profiled_at = internal::IsoCell(r, 2, 0);
  return std::optional<StoredProfile>(std::move(p));
}

Status ProfileRepo::Delete(const std::string& table_id) {
  return db_.Write([&](db::Connection& c) {
    return c.Execute("DELETE FROM table_profiles WHERE table_id = $1", {table_id});
  });
}

Result<std::vector<std::string>> ProfileRepo::ListTableIds() {
  DA_ASSIGN_OR_RETURN(db::QueryResult r, db_.Read([&](db::Connection& c) {
                        return c.Query("SELECT table_id FROM table_profiles ORDER BY table_id");
                      }));
  std::vector<std::string> ids;
  ids.reserve(r.RowCount());
  for (size_t i = 0; i < r.RowCount(); ++i) ids.push_back(r.GetString(0, i));
  return ids;
}

}  // namespace da::state
