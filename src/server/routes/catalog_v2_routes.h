#pragma once
/// Catalog v2 wiring shared with the rest of the server (routes in catalog_v2_routes.cpp).
#include <string>
#include <vector>

#include "common/status.h"
#include "server/app.h"

namespace da::server {

/// Profiles the given tables on a fresh analytics reader and stores the profiles (the post-sync
/// hook: call it with the ids a run synced successfully). Skips remote and unpublished tables;
/// returns the first failure with context naming the failed ids. Blocks for seconds per million
/// rows, so call it from the sync worker, not a request thread.
Status ProfileSyncedTables(AppContext& ctx, const std::vector<std::string>& table_ids);

}  // namespace da::server
