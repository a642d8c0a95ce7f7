#pragma once
/// `da serve`: owns the state DB, registry, orchestrator, sync service and the HTTP server.
#include <atomic>
#include <memory>
#include <optional>
#include <string>
#include <thread>


#include "auth/access.h"
#include "auth/mailer.h"
#include "auth/oidc.h"
#include "auth/rate_limit.h"
#include "auth/same_origin.h"
#include "common/config.h"
#include "common/status.h"
#include "orchestrator/orchestrator.h"
#include "http/server.h"
#include "server/listen_address.h"
#include "server/router.h"
#include "service/services.h"
#include "state/registry.h"
#include "state/state_db.h"
#include "state/sync_state.h"
#include "state/groups.h"
#include "state/users.h"
#include "sync/scheduler.h"
#include "sync/sync_service.h"

namespace da::server {

/// The instance's state and the services over it. Owned by ServerApp; outlives the HTTP
/// server. Route handlers call `services`; the rest is what the services are built on (and
/// what the HTTP-specific sign-in and operations routes read).
struct AppContext {
  InstanceConfig config;
  std::unique_ptr<state::StateDb> db;
  std::unique_ptr<state::Registry> registry;
  std::unique_ptr<state::SyncStateRepo> sync_state;
  std::unique_ptr<state::UserRepo> users;
  std::unique_ptr<state::GroupRepo> groups;
  /// Per-client limit on sign-in endpoints (DA_AUTH_RATE_LIMIT; auth/rate_limit.h).
  std::unique_ptr<auth::RateLimiter> sign_in_limiter;
  /// Failed password checks per account (DA_AUTH_ACCOUNT_RATE_LIMIT), keyed by lower-cased email.
  std::unique_ptr<auth::RateLimiter> account_limiter;
  /// Magic links requested per target address (DA_AUTH_EMAIL_RATE_LIMIT).
  std::unique_ptr<auth::RateLimiter> email_limiter;
  /// DA_TRUSTED_PROXIES (http/client_address.h).
  http::TrustedProxies trusted_proxies;
  /// Email magic links (DA_SMTP_URL); nullopt = not configured. Links are sent only with
  /// `public_url`.
  std::optional<auth::SmtpConfig> smtp;
  /// DA_PUBLIC_URL: the only base of links in mails and the origin sign-in posts must come
  /// from; nullopt = not set (magic links off).
  std::optional<auth::PublicUrl> public_url;
  /// OpenID Connect sign-in (DA_OIDC_*); null = not configured.
  std::unique_ptr<auth::OidcClient> oidc;
  /// DA_OIDC_GROUPS_CLAIM is set: memberships follow the claim at each OIDC sign-in.
  bool oidc_sync_groups = false;
  std::unique_ptr<orchestrator::Orchestrator> orchestrator;
  /// The use cases (src/service). Declared before `sync` and `scheduler`, so destroyed after
  /// them: a run's profiling hook calls it. Built on the members around it (all outlive it:
  /// `sync` is only referenced, never used on destruction).
  std::unique_ptr<service::Services> services;
  std::unique_ptr<sync::SyncService> sync;
  /// Starts due scheduled tables every config.scheduler_tick_sec (declared after `sync`, so it
  /// is destroyed — and its thread stopped — first).
  std::unique_ptr<sync::Scheduler> scheduler;
  auth::AccessPolicy access;
};

class ServerApp {
 public:
  /// Opens the state DB (migrating it), creates the bootstrap admin on first start (its token
  /// written only to <state>/bootstrap-token, mode 600; service/bootstrap_token.h), publishes the
  /// existing extracts and prepares the routes.
  static Result<std::unique_ptr<ServerApp>> Create(const InstanceConfig& config);

  /// Binds host:port (port 0 = any free port) and serves until Stop(). Prints
  /// "da serve listening on http://host:port" to stdout once bound. With DA_METRICS_LISTEN it
  /// also binds that address, serving only GET /metrics there, and prints
  /// "da serve metrics at http://host:port/metrics" before the first line.
  Status Run();
  void Stop();
  AppContext& context() { return ctx_; }
  /// The router with every registered route (complete once Create returned).
  const Router& router() const { return *router_; }

 private:
  ServerApp() = default;
  Status BootstrapAdmin();
  void RegisterRoutes();

  /// Binds the metrics listener and starts serving it on metrics_thread_.
  Status StartMetricsListener();

  AppContext ctx_;
  http::Server http_;
  std::unique_ptr<Router> router_;
  /// DA_METRICS_LISTEN; nullopt = no metrics endpoint at all.
  std::optional<ListenAddress> metrics_listen_;
  /// The metrics listener: GET /metrics only, apart from the API's port (declared after
  /// router_, whose request metrics it renders, so it stops first).
  http::Server metrics_http_;
  std::thread metrics_thread_;
};

/// Route groups, one file each under routes/.
void RegisterHealthRoutes(Router& r, AppContext& ctx);
void RegisterRegistryRoutes(Router& r, AppContext& ctx);
void RegisterDiscoverRoutes(Router& r, AppContext& ctx);
void RegisterSyncRoutes(Router& r, AppContext& ctx);
void RegisterDataRoutes(Router& r, AppContext& ctx);
void RegisterCatalogRoutes(Router& r, AppContext& ctx);
void RegisterRunRoutes(Router& r, AppContext& ctx);        ///< routes/run_routes.cpp
void RegisterQueryRoutes(Router& r, AppContext& ctx);      ///< routes/query_routes.cpp
void RegisterCatalogV2Routes(Router& r, AppContext& ctx);  ///< routes/catalog_v2_routes.cpp
void RegisterOpsRoutes(Router& r, AppContext& ctx);        ///< routes/ops_routes.cpp (health detail, openapi)
/// routes/ops_routes.cpp: GET /metrics (the API router's request metrics and the state DB's
/// families, which label every table id) on the metrics listener `metrics_server`, public
/// there: who can reach that address can read every table id, so bind it where only the
/// monitoring system can (docs/security.md).
void RegisterMetricsRoute(http::Server& metrics_server, Router& api, AppContext& ctx);
void RegisterAccessRoutes(Router& r, AppContext& ctx);  ///< routes/user_routes.cpp (users, groups, grants, me, audit)
void RegisterAuthRoutes(Router& r, AppContext& ctx);    ///< routes/auth_routes.cpp (sign-in, sessions, PATs)
void RegisterCliLoginRoutes(Router& r, AppContext& ctx);  ///< routes/cli_login_routes.cpp (`da login` approval and code exchange)
void RegisterExternalSignInRoutes(Router& r, AppContext& ctx);  ///< routes/external_sign_in_routes.cpp (magic links, OIDC)
/// routes/ui_routes.cpp: the web UI's page paths (answer ui/index.html) and /ui/ assets, on the
/// http::Server directly (public, not API routes). Register after every API route. Pages carry
/// HSTS when `public_url_is_https` (or the proxy says https).
void RegisterUiRoutes(http::Server& server, bool public_url_is_https);

}  // namespace da::server
