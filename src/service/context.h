#pragma once
/// What the services work on: the state repositories, the orchestrator and the sync runner of
/// one instance. Owned by the server (server::AppContext), which outlives the services.
#include "auth/access.h"
#include "common/config.h"
#include "orchestrator/orchestrator.h"
#include "state/groups.h"
#include "state/registry.h"
#include "state/state_db.h"
#include "state/sync_state.h"
#include "state/users.h"
#include "sync/sync_service.h"

namespace da::service {

/// Non-owning references; every member must outlive the services built on it.
struct ServiceContext {
  const InstanceConfig& config;
  state::StateDb& db;
  state::Registry& registry;
  state::SyncStateRepo& sync_state;
  state::UserRepo& users;
  state::GroupRepo& groups;
  orchestrator::Orchestrator& orchestrator;
  sync::SyncService& sync;
  const auth::AccessPolicy& access;
};

}  // namespace da::service
