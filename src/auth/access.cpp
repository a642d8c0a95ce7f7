#include "auth/access.h"

#include "common/log.h"

namespace da::auth {

namespace {
constexpr size_t kMaxCachedUsers = 10000;
}

AccessPolicy::TableSet AccessPolicy::GrantedTables(const std::string& user_id) const {
  // The generation is read before the lookup: a write racing with it leaves a stale key, so the
  // entry is dropped on the next call rather than kept.
  const uint64_t generation = db_->Generation();
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (generation != cached_generation_) {
      cache_.clear();
      cached_generation_ = generation;
    }
    auto it = cache_.find(user_id);
    if (it != cache_.end()) return it->second;
  }
  auto ids = groups_->GrantedTableIds(user_id);
  if (!ids.ok()) {
    spdlog::error("access: grants of user {} not readable: {}", user_id, ids.status().ToString());
    return nullptr;
  }
  auto set = std::make_shared<const std::set<std::string>>(ids->begin(), ids->end());
  std::lock_guard<std::mutex> lock(mu_);
  if (generation == cached_generation_) {
    if (cache_.size() >= kMaxCachedUsers) cache_.clear();
    cache_[user_id] = set;
  }
  return set;
}

bool AccessPolicy::CanSeeTable(const state::Principal& who, const model::TableSpec& t) const {
  if (who.is_admin) return true;
  if (who.user_id.empty() || groups_ == nullptr || db_ == nullptr) return false;
  TableSet granted = GrantedTables(who.user_id);
  return granted != nullptr && granted->count(t.id) > 0;
}

}  // namespace da::auth
