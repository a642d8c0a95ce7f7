#include "server/router.h"

#include <chrono>

#include "common/hash.h"
#include "common/log.h"
#include "http/url.h"
#include "server/openapi_validator.h"

namespace da::server {

void WriteJson(http::Response& res, int status, const nlohmann::json& body) {
  res.status = status;
  res.SetContent(body.dump(), "application/json");
}

void WriteError(http::Response& res, int http_status, const std::string& code,
                const std::string& message, const std::string& request_id) {
  WriteJson(res, http_status,
            {{"error", {{"code", code}, {"message", message}, {"request_id", request_id}}}});
}

void WriteError(http::Response& res, const Status& status, const std::string& request_id) {
  WriteError(res, HttpStatusFor(status.code()), std::string(StatusCodeName(status.code())),
             status.message(), request_id);
}

Result<nlohmann::json> ParseJsonBody(const http::Request& req) {
  if (req.body.empty()) return nlohmann::json(nullptr);
  auto parsed = nlohmann::json::parse(req.body, nullptr, /*allow_exceptions=*/false);
  if (parsed.is_discarded()) return Malformed("request body is not valid JSON");
  return parsed;
}

Router::Router(http::Server& server, Authenticator authenticator)
    : server_(server),
      authenticator_(std::move(authenticator)),
      requests_total_(metrics_.AddCounter("da_http_requests_total",
                                          "HTTP requests answered, by route pattern, method and status.",
                                          {"route", "method", "status"})),
      request_duration_(metrics_.AddHistogram(
          "da_http_request_duration_seconds",
          "Time to authenticate and handle a request (before a streamed body), by route pattern.",
          {"route"}, DurationBuckets())) {}

const std::vector<double>& Router::DurationBuckets() {
  static const std::vector<double> kBuckets = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                               0.1,    0.25,  0.5,    1,     2.5,  5,    10, 30};
  return kBuckets;
}

void Router::Record(RouteMetrics& m, int status, double seconds) {
  m.duration->Observe(seconds);
  if (status >= 100 && status < 600) {
    std::atomic<Counter*>& slot = m.by_status[static_cast<size_t>(status - 100)];
    Counter* c = slot.load(std::memory_order_acquire);
    if (c == nullptr) {
      // Racing threads get the same child from the family; storing it twice is harmless.
      c = &requests_total_.WithLabels({m.pattern, m.method, std::to_string(status)});
      slot.store(c, std::memory_order_release);
    }
    c->Increment();
  } else {
    requests_total_.WithLabels({m.pattern, m.method, std::to_string(status)}).Increment();
  }
}

namespace {
/// 12 random hex digits from a per-thread generator seeded from the CSPRNG (request ids need
/// uniqueness, not secrecy; RAND_bytes per request cost ~10% of a small request's CPU).
std::string NewRequestId() {
  thread_local uint64_t state = std::stoull(RandomHex(8), nullptr, 16);
  // splitmix64
  uint64_t z = (state += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  z ^= z >> 31;
  static constexpr char kHex[] = "0123456789abcdef";
  std::string id(12, '0');
  for (size_t i = 0; i < id.size(); ++i) id[i] = kHex[(z >> (4 * i)) & 0xf];
  return id;
}

std::string RequestIdFor(const http::Request& req) {
  std::string id = req.Header("X-Request-ID");
  bool ok = !id.empty() && id.size() <= 64;
  for (char c : id) {
    if (!(isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_')) ok = false;
  }
  return ok ? id : NewRequestId();
}

bool IsStateChanging(const std::string& method) {
  return method == "POST" || method == "PUT" || method == "PATCH" || method == "DELETE";
}

std::string BearerToken(const http::Request& req) {
  std::string h = req.Header("Authorization");
  const std::string prefix = "Bearer ";
  if (h.size() > prefix.size() && strncasecmp(h.c_str(), prefix.c_str(), prefix.size()) == 0) {
    return h.substr(prefix.size());
  }
  return "";
}
}  // namespace

std::string CookieValue(const http::Request& req, const std::string& name) {
  for (const std::string& h : req.HeaderValues("Cookie")) {
    size_t pos = 0;
    while (pos < h.size()) {
      size_t end = h.find(';', pos);
      if (end == std::string::npos) end = h.size();
      std::string part = h.substr(pos, end - pos);
      size_t b = part.find_first_not_of(' ');
      if (b != std::string::npos) part = part.substr(b);
      size_t eq = part.find('=');
      if (eq != std::string::npos && part.compare(0, eq, name) == 0 && eq == name.size()) {
        return part.substr(eq + 1);
      }
      pos = end + 1;
    }
  }
  return "";
}

std::multimap<std::string, std::string> FormFields(const http::Request& req) {
  std::multimap<std::string, std::string> out;
  std::string type = req.Header("Content-Type");
  if (type.rfind("application/x-www-form-urlencoded", 0) != 0) return out;
  for (auto& [k, v] : http::ParseFormUrlEncoded(req.body)) out.emplace(k, v);
  return out;
}

std::string CsrfCookieValue(const http::Request& req) {
  std::string value = CookieValue(req, kCsrfCookieHttps);
  return value.empty() ? CookieValue(req, kCsrfCookie) : value;
}

bool CsrfOk(const http::Request& req) {
  std::string cookie = CsrfCookieValue(req);
  if (cookie.empty()) return false;
  std::string sent = req.Header("X-CSRF-Token");
  if (sent.empty()) {
    auto fields = FormFields(req);
    auto it = fields.find("csrf_token");
    if (it != fields.end()) sent = it->second;
  }
  // Constant-time compare of equal-length strings.
  if (sent.size() != cookie.size()) return false;
  unsigned char diff = 0;
  for (size_t i = 0; i < sent.size(); ++i) diff |= static_cast<unsigned char>(sent[i] ^ cookie[i]);
  return diff == 0;
}

bool RequestIsHttps(const http::Request& req) {
  std::string proto = req.Header("X-Forwarded-Proto");
  return strncasecmp(proto.c_str(), "https", 5) == 0 && proto.size() == 5;
}

http::Handler Router::Wrap(const std::string& method, const std::string& pattern,
                           AccessLevel access, Execution execution, Handler handler) {
  routes_.push_back({method, pattern, access, execution});
  RouteMetrics& m = route_metrics_.emplace_back();
  m.pattern = pattern;
  m.method = method;
  m.duration = &request_duration_.WithLabels({pattern});
  const BodySchema* body_schema = BodySchemaFor(method, pattern);
  return [this, access, &m, body_schema, handler = std::move(handler)](const http::Request& req,
                                                                       http::Response& res) {
    const auto started = std::chrono::steady_clock::now();
    // Records on every way out (auth refusals, handler returns, exceptions).
    struct RecordOnExit {
      Router* router;
      RouteMetrics& metrics;
      const http::Request& req;
      const http::Response& res;
      std::chrono::steady_clock::time_point started;
      ~RecordOnExit() {
        // The engine answers an unset status (0) with 200, or 206 for a range request.
        int status = res.status != 0 ? res.status : (req.range ? 206 : 200);
        std::chrono::duration<double> elapsed = std::chrono::steady_clock::now() - started;
        router->Record(metrics, status, elapsed.count());
      }
    } record_on_exit{this, m, req, res, started};
    RequestContext ctx;
    ctx.request_id = RequestIdFor(req);
    res.SetHeader("X-Request-ID", ctx.request_id);
    if (public_url_is_https_ || RequestIsHttps(req)) res.SetHeader("Strict-Transport-Security", kHstsValue);
    try {
      ctx.client_ip = trusted_proxies_.empty()
                          ? req.peer_address
                          : http::ClientAddress(req.peer_address, req.Header("X-Forwarded-For"),
                                                trusted_proxies_);
      std::string token = BearerToken(req);
      bool via_cookie = false;
      if (token.empty()) {
        token = CookieValue(req, kSessionCookie);
        via_cookie = !token.empty();
      }
      if (!token.empty()) {
        auto who = authenticator_(token, ctx.client_ip);
        if (who.ok()) {
          ctx.principal = *who;
          ctx.authenticated = true;
          ctx.via_cookie = via_cookie;
        } else if (access != AccessLevel::kPublic) {
          WriteError(res, via_cookie ? Unauthenticated("session expired; sign in again")
                                     : who.status(),
                     ctx.request_id);
          return;
        }
      }
      if (access != AccessLevel::kPublic && !ctx.authenticated) {
        WriteError(res, Unauthenticated("missing bearer token (Authorization: Bearer <token>)"),
                   ctx.request_id);
        return;
      }
      if (access != AccessLevel::kPublic && ctx.via_cookie && IsStateChanging(req.method) &&
          !CsrfOk(req)) {
        WriteError(res, 403, "csrf_failed",
                   "missing or wrong CSRF token (send the da_csrf cookie value as X-CSRF-Token)",
                   ctx.request_id);
        return;
      }
      if (access == AccessLevel::kAdmin && !ctx.principal.is_admin) {
        WriteError(res, PermissionDenied("admin access required"), ctx.request_id);
        return;
      }
      if (!CheckBody(body_schema, req, res, ctx.request_id)) return;
      handler(ctx, req, res);
    } catch (const std::exception& e) {
      spdlog::error("request {} {} {} failed: {}", ctx.request_id, req.method, req.path, e.what());
      WriteError(res, Internal("internal server error"), ctx.request_id);
    }
  };
}

const BodySchema* Router::BodySchemaFor(const std::string& method, const std::string& pattern) {
  return BodyValidator::Embedded().Find(method, pattern);
}

bool Router::CheckBody(const BodySchema* schema, const http::Request& req,
                       http::Response& res, const std::string& request_id) {
  if (schema == nullptr) return true;
  Status valid = schema->ValidateRaw(req.Header("Content-Type"), req.body);
  if (valid.ok()) return true;
  WriteError(res, valid, request_id);
  return false;
}

void Router::Get(const std::string& p, AccessLevel a, Execution e, Handler h) {
  server_.Get(p, Wrap("GET", p, a, e, std::move(h)), e);
}
void Router::Post(const std::string& p, AccessLevel a, Execution e, Handler h) {
  server_.Post(p, Wrap("POST", p, a, e, std::move(h)), e);
}
void Router::Put(const std::string& p, AccessLevel a, Execution e, Handler h) {
  server_.Put(p, Wrap("PUT", p, a, e, std::move(h)), e);
}
void Router::Delete(const std::string& p, AccessLevel a, Execution e, Handler h) {
  server_.Delete(p, Wrap("DELETE", p, a, e, std::move(h)), e);
}
void Router::Patch(const std::string& p, AccessLevel a, Execution e, Handler h) {
  server_.Patch(p, Wrap("PATCH", p, a, e, std::move(h)), e);
}

}  // namespace da::server
