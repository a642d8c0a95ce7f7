#pragma once
/// All services of one instance, built on one ServiceContext. The HTTP handlers (src/server)
/// call exactly one of these per request; the CLI's admin commands and the web UI reach them
/// through the same HTTP routes.
#include <memory>

#include "service/access_service.h"
#include "service/catalog_service.h"
#include "service/cli_login.h"
#include "service/context.h"
#include "service/discovery_service.h"
#include "service/distribution_service.h"
#include "service/health_service.h"
#include "service/query_service.h"
#include "service/registry_service.h"
#include "service/sync_service.h"
#include "service/table_access.h"
#include "service/users_service.h"

namespace da::service {

/// Thread-safe: every service may be called from any request thread at once.
struct Services {
  explicit Services(const ServiceContext& ctx)
      : context(ctx),
        table_access(ctx.registry, ctx.access),
        registry(ctx),
        catalog(ctx),
        distribution(ctx),
        query(ctx),
        sync(ctx),
        access(ctx),
        users(ctx),
        cli_login(ctx),
        discovery(ctx),
        health(ctx) {}
  Services(const Services&) = delete;
  Services& operator=(const Services&) = delete;

  ServiceContext context;
  /// The table access answer every service uses.
  TableAccess table_access;
  RegistryService registry;
  CatalogService catalog;
  DistributionService distribution;
  QueryService query;
  SyncService sync;
  AccessService access;
  UsersService users;
  CliLoginService cli_login;
  DiscoveryService discovery;
  HealthService health;
};

}  // namespace da::service
