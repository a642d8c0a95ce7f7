#include "server/app.h"

#include <strings.h>

#include <cstdio>
#include <cstdlib>
#include <string_view>

#include "common/fs_util.h"
#include "common/hash.h"
#include "connectors/catalog.h"
#include "common/log.h"
#include "query/query_limits.h"
#include "service/bootstrap_token.h"
#include "sync/child_process.h"

namespace da::server {
namespace {

/// Largest body of a request whose credentials are not (yet) known good: sign-in forms and
/// JSON fit easily; anything bigger needs a valid token or session first.
constexpr size_t kUnauthenticatedBodyMaxBytes = 64 * 1024;
/// Largest body of an authenticated request.
constexpr size_t kBodyMaxBytes = 16 * 1024 * 1024;
/// DA_HTTP_MAX_CONNECTIONS_PER_CLIENT when unset: above the 64 connections bench/http_bench.sh
/// opens from loopback (plus its probes), far below what exhausts the server's descriptors.
constexpr size_t kDefaultMaxConnectionsPerClient = 256;

Result<size_t> MaxConnectionsPerClientFromEnv() {
  const char* v = std::getenv("DA_HTTP_MAX_CONNECTIONS_PER_CLIENT");
  if (v == nullptr || *v == '\0') return kDefaultMaxConnectionsPerClient;
  std::string text = v;
  if (text.size() > 9 || text.find_first_not_of("0123456789") != std::string::npos) {
    return InvalidArgument("DA_HTTP_MAX_CONNECTIONS_PER_CLIENT must be a number of connections "
                           "(0 = unlimited), got '" + text.substr(0, 40) + "'");
  }
  return static_cast<size_t>(std::stoll(text));
}

/// The value of cookie `name` in a Cookie header; "" when absent.
std::string_view CookieIn(std::string_view header, std::string_view name) {
  while (!header.empty()) {
    size_t semi = header.find(';');
    std::string_view pair = header.substr(0, semi);
    header = semi == std::string_view::npos ? std::string_view() : header.substr(semi + 1);
    while (!pair.empty() && pair.front() == ' ') pair.remove_prefix(1);
    if (pair.size() > name.size() && pair.substr(0, name.size()) == name && pair[name.size()] == '=') {
      return pair.substr(name.size() + 1);
    }
  }
  return {};
}

/// True when the head carries a bearer token or session cookie that authenticates now.
bool HeadAuthenticates(const http::RequestHead& head, state::UserRepo& users,
                       const http::TrustedProxies& proxies) {
  std::string_view auth = head.Header("Authorization");
  std::string_view token;
  if (auth.size() > 7 && strncasecmp(auth.data(), "Bearer ", 7) == 0) {
    token = auth.substr(7);
  } else {
    token = CookieIn(head.Header("Cookie"), kSessionCookie);
  }
  if (token.empty()) return false;
  std::string client = http::ClientAddress(head.PeerAddress(), head.Header("X-Forwarded-For"), proxies);
  return users.Authenticate(std::string(token), client).ok();
}

}  // namespace

Result<std::unique_ptr<ServerApp>> ServerApp::Create(const InstanceConfig& config) {
  std::unique_ptr<ServerApp> app(new ServerApp());
  AppContext& ctx = app->ctx_;
  ctx.config = config;
  if (const char* listen = std::getenv("DA_METRICS_LISTEN"); listen != nullptr && *listen) {
    DA_ASSIGN_OR_RETURN(ListenAddress address, ParseListenAddress("DA_METRICS_LISTEN", listen));
    app->metrics_listen_ = address;
  }
  DA_RETURN_IF_ERROR(EnsureDir(config.StateDir()));
  DA_RETURN_IF_ERROR(EnsureDir(config.ExtractsDir()));
  DA_RETURN_IF_ERROR(EnsureDir(config.AnalyticsDir()));
  DA_ASSIGN_OR_RETURN(ctx.db, state::StateDb::Open(config.SystemDbPath()));
  // Known source types: the built-in connectors and those installed under the connectors dir
  // (read on every check, so a newly installed connector needs no restart).
  ctx.registry = std::make_unique<state::Registry>(
      *ctx.db, [cfg = &ctx.config](const std::string& name) {
        return connectors::IsKnownConnector(*cfg, name);
      });
  ctx.sync_state = std::make_unique<state::SyncStateRepo>(*ctx.db);
  ctx.users = std::make_unique<state::UserRepo>(*ctx.db);
  ctx.groups = std::make_unique<state::GroupRepo>(*ctx.db, *ctx.users);
  ctx.access.Bind(ctx.db.get(), ctx.groups.get());
  DA_ASSIGN_OR_RETURN(auth::SignInLimits limits, auth::SignInLimitsFromEnv());
  ctx.sign_in_limiter = std::make_unique<auth::RateLimiter>(limits.per_client);
  ctx.account_limiter = std::make_unique<auth::RateLimiter>(limits.per_account);
  ctx.email_limiter = std::make_unique<auth::RateLimiter>(limits.per_email);
  DA_ASSIGN_OR_RETURN(ctx.trusted_proxies, http::TrustedProxiesFromEnv());
  DA_ASSIGN_OR_RETURN(size_t max_connections, MaxConnectionsPerClientFromEnv());
  // A trusted proxy carries many clients over its connections: it is not capped.
  app->http_.SetMaxConnectionsPerClient(max_connections, ctx.trusted_proxies);
  DA_ASSIGN_OR_RETURN(ctx.smtp, auth::SmtpConfigFromEnv());
  DA_ASSIGN_OR_RETURN(ctx.public_url, auth::PublicUrlFromEnv());
  if (ctx.smtp && !ctx.public_url) {
    spdlog::warn("magic links are off: DA_SMTP_URL is set but DA_PUBLIC_URL is not (links are only "
                 "ever built from DA_PUBLIC_URL, never from a request's Host header)");
  }
  DA_ASSIGN_OR_RETURN(std::optional<auth::OidcConfig> oidc, auth::OidcConfigFromEnv());
  if (oidc) {
    ctx.oidc_sync_groups = !oidc->groups_claim.empty();
    ctx.oidc = std::make_unique<auth::OidcClient>(*oidc);
  }
  ctx.orchestrator = std::make_unique<orchestrator::Orchestrator>(
      config.ExtractsDir(), config.AnalyticsDir() / "server.duckdb");
  ctx.sync = std::make_unique<sync::SyncService>(config, *ctx.db, *ctx.registry,
                                                 *ctx.orchestrator, sync::SelfExecutablePath());
  ctx.services = std::make_unique<service::Services>(service::ServiceContext{
      ctx.config, *ctx.db, *ctx.registry, *ctx.sync_state, *ctx.users, *ctx.groups,
      *ctx.orchestrator, *ctx.sync, ctx.access});
  // Runs a killed server left `running` end as interrupted; their temp files are never
  // published (only extract.duckdb and renamed Parquet files are read).
  // Profiles of freshly synced tables are computed on the run's thread before the run ends.
  ctx.sync->on_tables_synced = [&ctx](const std::vector<std::string>& ids) {
    Status st = ctx.services->catalog.ProfileSyncedTables(ids);
    if (!st.ok()) spdlog::warn("profiling after sync: {}", st.ToString());
  };
  // An extraction child gets its own connector's declared variables (credentials) only.
  ctx.sync->source_environment = [cfg = &ctx.config](const std::string& source) {
    auto entry = connectors::FindConnector(*cfg, source);
    return entry.ok() ? kit::DeclaredEnvVars(entry->manifest) : std::vector<std::string>{};
  };
  Status recovered = ctx.sync->RecoverInterruptedRuns();
  if (!recovered.ok()) spdlog::error("sync run recovery failed: {}", recovered.ToString());
  ctx.scheduler = std::make_unique<sync::Scheduler>(*ctx.sync, *ctx.registry, *ctx.db,
                                                    config.scheduler_tick_sec);
  DA_RETURN_IF_ERROR(app->BootstrapAdmin());
  auto rebuilt = ctx.orchestrator->Rebuild();
  if (!rebuilt.ok()) spdlog::warn("initial view rebuild failed: {}", rebuilt.status().ToString());
  app->RegisterRoutes();
  return app;
}

Status ServerApp::BootstrapAdmin() {
  DA_ASSIGN_OR_RETURN(service::BootstrapOutcome outcome,
                      service::EnsureBootstrapAdmin(ctx_.services->context));
  if (!outcome.admin_created) return Status::Ok();
  // The token itself goes only to its mode-600 file: never to stdout or the log.
  if (outcome.token_written) {
    std::printf("Bootstrap admin %s created. Its token is in %s (readable by this user only; "
                "expires in %lld h, and is revoked once the admin sets a password or creates a "
                "token).\n",
                outcome.email.c_str(), outcome.token_path.c_str(),
                static_cast<long long>(outcome.token_ttl_seconds / 3600));
  } else {
    std::printf("Bootstrap admin %s created with the password from DA_BOOTSTRAP_ADMIN_PASSWORD.\n",
                outcome.email.c_str());
  }
  std::fflush(stdout);
  return Status::Ok();
}

void ServerApp::RegisterRoutes() {
  router_ = std::make_unique<Router>(http_, [this](const std::string& token, const std::string& ip) {
    return ctx_.users->Authenticate(token, ip);
  });
  const bool public_https = ctx_.public_url && ctx_.public_url->is_https;
  router_->SetPublicUrlIsHttps(public_https);
  router_->SetTrustedProxies(ctx_.trusted_proxies);
  // No more than 64 KiB is read before the request's credentials are known good (a token
  // check is a hash and a cache lookup; the router authenticates again, from the cache).
  http_.SetBodyLimitHook([this](const http::RequestHead& head) {
    return HeadAuthenticates(head, *ctx_.users, ctx_.trusted_proxies) ? kBodyMaxBytes
                                                                       : kUnauthenticatedBodyMaxBytes;
  });
  RegisterHealthRoutes(*router_, ctx_);
  RegisterRegistryRoutes(*router_, ctx_);
  RegisterDiscoverRoutes(*router_, ctx_);
  RegisterSyncRoutes(*router_, ctx_);
  RegisterDataRoutes(*router_, ctx_);
  RegisterCatalogRoutes(*router_, ctx_);
  RegisterRunRoutes(*router_, ctx_);
  RegisterQueryRoutes(*router_, ctx_);
  RegisterCatalogV2Routes(*router_, ctx_);
  RegisterAccessRoutes(*router_, ctx_);
  RegisterAuthRoutes(*router_, ctx_);
  RegisterCliLoginRoutes(*router_, ctx_);
  RegisterExternalSignInRoutes(*router_, ctx_);
  RegisterOpsRoutes(*router_, ctx_);  // describes every API route registered before it
  RegisterUiRoutes(http_, public_https);  // web pages and assets: not API routes, so not on the router
  if (metrics_listen_) RegisterMetricsRoute(metrics_http_, *router_, ctx_);
  http_.SetErrorHandler([](const http::Request& req, http::Response& res) {
    if (!res.BodyEmpty()) return;  // a handler already wrote its JSON error
    std::string code = res.status == 404 ? "not_found" : "http_" + std::to_string(res.status);
    std::string msg = res.status == 404 ? "no route for " + req.method + " " + req.path
                                        : "request failed";
    if (res.status == 413) {
      code = "payload_too_large";
      msg = "request body too large (at most " + std::to_string(kUnauthenticatedBodyMaxBytes / 1024) +
            " KiB before sign-in, " + std::to_string(kBodyMaxBytes / (1024 * 1024)) + " MiB after)";
    } else if (res.status == HttpStatusFor(StatusCode::kUnavailable)) {
      // The engine's worker queue is full (src/http/server.h).
      code = std::string(StatusCodeName(StatusCode::kUnavailable));
      msg = "the server is busy; retry shortly";
    }
    std::string request_id = res.Header("X-Request-ID");
    if (request_id.empty()) request_id = RandomHex(6);
    res.SetHeader("X-Request-ID", request_id);
    WriteError(res, res.status, code, msg, request_id);
  });
}

Status ServerApp::Run() {
  // The engine (src/http/server.h): io threads for cheap routes, a worker pool for long ones;
  // keep-alive, TCP_NODELAY and empty bodies for requests without Content-Length are built in.
  http_.SetPayloadMaxLength(kBodyMaxBytes);
  // Queries on their own pool, one thread per query slot (query/query_limits.h).
  http_.SetQueryWorkers(query::QueryConcurrency(ctx_.config), 0);
  int port = ctx_.config.port;
  if (port == 0) {
    port = http_.BindToAnyPort(ctx_.config.host);
    if (port < 0) return Unavailable("cannot bind " + ctx_.config.host);
  } else if (!http_.BindToPort(ctx_.config.host, port)) {
    return Unavailable("cannot bind " + ctx_.config.host + ":" + std::to_string(port) +
                       " (address in use?)");
  }
  // Metrics first: once "listening on" is printed, both addresses are known and serving.
  DA_RETURN_IF_ERROR(StartMetricsListener());
  std::printf("da serve listening on http://%s:%d\n", ctx_.config.host.c_str(), port);
  std::fflush(stdout);
  spdlog::info("serving data dir {}", ctx_.config.data_dir.string());
  if (ctx_.scheduler) ctx_.scheduler->Start();
  const bool served = http_.ListenAfterBind();
  metrics_http_.Stop();
  if (metrics_thread_.joinable()) metrics_thread_.join();
  if (!served) return Internal("HTTP server stopped with an error");
  return Status::Ok();
}

Status ServerApp::StartMetricsListener() {
  if (!metrics_listen_) {
    spdlog::info("metrics are off; set DA_METRICS_LISTEN=host:port to serve GET /metrics there");
    return Status::Ok();
  }
  const ListenAddress& at = *metrics_listen_;
  int port = at.port;
  if (port == 0) {
    port = metrics_http_.BindToAnyPort(at.host);
    if (port < 0) return Unavailable("DA_METRICS_LISTEN: cannot bind " + at.host);
  } else if (!metrics_http_.BindToPort(at.host, port)) {
    return Unavailable("DA_METRICS_LISTEN: cannot bind " + at.host + ":" + std::to_string(port) +
                       " (address in use?)");
  }
  std::printf("da serve metrics at http://%s:%d/metrics\n", at.host.c_str(), port);
  std::fflush(stdout);
  metrics_thread_ = std::thread([this] {
    if (!metrics_http_.ListenAfterBind()) spdlog::error("the metrics listener stopped with an error");
  });
  return Status::Ok();
}

void ServerApp::Stop() {
  http_.Stop();
  metrics_http_.Stop();
  if (ctx_.scheduler) ctx_.scheduler->Stop();
  if (ctx_.sync) ctx_.sync->Shutdown();
}

}  // namespace da::server
