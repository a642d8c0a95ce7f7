#include "auth/oidc.h"

#include "auth/pkce.h"
#include <sodium.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>

#include <nlohmann/json.hpp>

#include "auth/https_fetch.h"
#include "auth/jwks.h"
#include "auth/jwt.h"
#include "auth/pkce.h"

namespace da::auth {
namespace {

using nlohmann::json;


std::string Env(const char* name) {
  const char* v = std::getenv(name);
  return v == nullptr ? "" : v;
}

std::string RandomToken() {
  if (sodium_init() < 0) std::abort();
  unsigned char bytes[32];
  randombytes_buf(bytes, sizeof bytes);
  return Base64UrlEncode(std::string_view(reinterpret_cast<char*>(bytes), sizeof bytes));
}

std::string TrimSlash(std::string s) {
  while (!s.empty() && s.back() == '/') s.pop_back();
  return s;
}

std::string StringField(const json& j, const char* name) {
  auto it = j.find(name);
  return it != j.end() && it->is_string() ? it->get<std::string>() : "";
}

// An OAuth error code from a token endpoint answer, reduced to safe characters.
std::string OAuthErrorCode(const std::string& body) {
  std::string code = StringField(json::parse(body, nullptr, false), "error");
  code.erase(std::remove_if(code.begin(), code.end(), [](char c) { return !(std::isalnum(static_cast<unsigned char>(c)) || c == '_'); }),
             code.end());
  return code.empty() ? "no error code" : code.substr(0, 64);
}

OidcIdentity IdentityFrom(const json& claims, const std::string& issuer, const std::string& groups_claim) {
  OidcIdentity id;
  id.issuer = issuer;
  id.hosted_domain = StringField(claims, "hd");
  id.subject = StringField(claims, "sub");
  id.email = StringField(claims, "email");
  id.name = StringField(claims, "name");
  auto verified = claims.find("email_verified");
  if (verified != claims.end()) {
    id.email_verified = (verified->is_boolean() && verified->get<bool>()) ||
                        (verified->is_string() && verified->get<std::string>() == "true");
  }
  if (!groups_claim.empty()) {
    auto g = claims.find(groups_claim);
    if (g != claims.end() && g->is_string()) id.groups.push_back(g->get<std::string>());
    if (g != claims.end() && g->is_array()) {
      for (const json& v : *g) {
        if (v.is_string()) id.groups.push_back(v.get<std::string>());
      }
    }
  }
  return id;
}

/// DA_OIDC_SIGNUP and DA_OIDC_ALLOWED_DOMAINS (see OidcConfigFromEnv).
Result<OidcSignUpPolicy> SignUpPolicyFromEnv() {
  OidcSignUpPolicy policy;
  std::string mode = Env("DA_OIDC_SIGNUP");
  std::transform(mode.begin(), mode.end(), mode.begin(), [](unsigned char ch) { return std::tolower(ch); });
  if (mode.empty() || mode == "invite") {
    policy.mode = OidcSignUpPolicy::Mode::kInvite;
  } else if (mode == "domains") {
    policy.mode = OidcSignUpPolicy::Mode::kDomains;
  } else if (mode == "open") {
    policy.mode = OidcSignUpPolicy::Mode::kOpen;
  } else {
    return InvalidArgument("DA_OIDC_SIGNUP must be invite, domains or open: '" + mode.substr(0, 40) + "'");
  }
  const std::string list = Env("DA_OIDC_ALLOWED_DOMAINS");
  size_t pos = 0;
  while (pos <= list.size()) {
    size_t end = list.find(',', pos);
    if (end == std::string::npos) end = list.size();
    std::string d = list.substr(pos, end - pos);
    d.erase(std::remove_if(d.begin(), d.end(), [](unsigned char ch) { return std::isspace(ch); }), d.end());
    if (!d.empty() && d[0] == '@') d.erase(0, 1);
    std::transform(d.begin(), d.end(), d.begin(), [](unsigned char ch) { return std::tolower(ch); });
    if (!d.empty()) {
      if (d.find_first_of("@/:") != std::string::npos || d.find('.') == std::string::npos) {
        return InvalidArgument("DA_OIDC_ALLOWED_DOMAINS lists '" + d.substr(0, 100) +
                               "', which is not an email domain (e.g. example.com)");
      }
      policy.allowed_domains.push_back(d);
    }
    pos = end + 1;
  }
  if (policy.mode == OidcSignUpPolicy::Mode::kDomains && policy.allowed_domains.empty()) {
    return InvalidArgument("DA_OIDC_SIGNUP=domains needs DA_OIDC_ALLOWED_DOMAINS (comma-separated email domains)");
  }
  return policy;
}

}  // namespace

struct OidcClient::Discovery {
  std::string issuer, authorization_endpoint, token_endpoint;
  std::string userinfo_endpoint;  // "" when the provider has none
  bool secret_post = false;  // client_secret_post instead of client_secret_basic
  std::shared_ptr<JwksCache> jwks;
};

const char* SignUpModeName(OidcSignUpPolicy::Mode mode) {
  switch (mode) {
    case OidcSignUpPolicy::Mode::kInvite: return "invite";
    case OidcSignUpPolicy::Mode::kDomains: return "domains";
    case OidcSignUpPolicy::Mode::kOpen: return "open";
  }
  return "invite";
}

Result<std::optional<OidcConfig>> OidcConfigFromEnv() {
  OidcConfig c;
  c.issuer = Env("DA_OIDC_ISSUER");
  if (c.issuer.empty()) return std::optional<OidcConfig>();
  c.client_id = Env("DA_OIDC_CLIENT_ID");
  c.client_secret = Env("DA_OIDC_CLIENT_SECRET");
  c.redirect_uri = Env("DA_OIDC_REDIRECT_URI");
  for (auto [name, value] : {std::pair{"DA_OIDC_CLIENT_ID", &c.client_id},
                             std::pair{"DA_OIDC_CLIENT_SECRET", &c.client_secret},
                             std::pair{"DA_OIDC_REDIRECT_URI", &c.redirect_uri}}) {
    if (value->empty()) return InvalidArgument(std::string(name) + " is required when DA_OIDC_ISSUER is set");
  }
  DA_RETURN_IF_ERROR(CheckFetchUrl(c.issuer).WithContext("DA_OIDC_ISSUER"));
  if (c.redirect_uri.rfind("https://", 0) != 0 && c.redirect_uri.rfind("http://", 0) != 0) {
    return InvalidArgument("DA_OIDC_REDIRECT_URI must be an absolute http(s) URL: '" + c.redirect_uri + "'");
  }
  if (auto scopes = Env("DA_OIDC_SCOPES"); !scopes.empty()) c.scopes = scopes;
  if (c.scopes.find("openid") == std::string::npos) return InvalidArgument("DA_OIDC_SCOPES must include 'openid'");
  c.groups_claim = Env("DA_OIDC_GROUPS_CLAIM");
  if (auto name = Env("DA_OIDC_NAME"); !name.empty()) c.display_name = name;
  DA_ASSIGN_OR_RETURN(c.signup, SignUpPolicyFromEnv());
  return std::optional<OidcConfig>(std::move(c));
}

OidcClient::OidcClient(OidcConfig config)
    : OidcClient(std::move(config), [] { return std::chrono::system_clock::now(); }) {}

OidcClient::OidcClient(OidcConfig config, Clock clock) : config_(std::move(config)), clock_(std::move(clock)) {}

OidcClient::~OidcClient() = default;

Result<std::shared_ptr<const OidcClient::Discovery>> OidcClient::Discover() {
  std::lock_guard lock(discovery_mu_);
  if (discovery_) return discovery_;
  const std::string url = TrimSlash(config_.issuer) + "/.well-known/openid-configuration";
  DA_ASSIGN_OR_RETURN(FetchResponse response, Fetch(GetRequest(url)));
  if (response.status != 200) {
    return Unavailable("OIDC discovery " + UrlForMessage(url) + " answered HTTP " + std::to_string(response.status));
  }
  json doc = json::parse(response.body, nullptr, false);
  if (!doc.is_object()) return Unavailable("OIDC discovery " + UrlForMessage(url) + " is not a JSON object");
  auto d = std::make_shared<Discovery>();
  d->issuer = StringField(doc, "issuer");
  if (TrimSlash(d->issuer) != TrimSlash(config_.issuer)) {
    return InvalidArgument("OIDC discovery issuer '" + d->issuer.substr(0, 200) + "' is not the configured issuer '" +
                           config_.issuer + "'");
  }
  d->authorization_endpoint = StringField(doc, "authorization_endpoint");
  d->token_endpoint = StringField(doc, "token_endpoint");
  std::string jwks_uri = StringField(doc, "jwks_uri");
  for (auto [name, value] : {std::pair{"authorization_endpoint", &d->authorization_endpoint},
                             std::pair{"token_endpoint", &d->token_endpoint}, std::pair{"jwks_uri", &jwks_uri}}) {
    if (value->empty()) return InvalidArgument(std::string("OIDC discovery lacks ") + name);
    DA_RETURN_IF_ERROR(CheckFetchUrl(*value).WithContext(std::string("OIDC discovery ") + name));
  }
  d->userinfo_endpoint = StringField(doc, "userinfo_endpoint");
  if (!d->userinfo_endpoint.empty()) {
    DA_RETURN_IF_ERROR(CheckFetchUrl(d->userinfo_endpoint).WithContext("OIDC discovery userinfo_endpoint"));
  }
  auto methods = doc.find("token_endpoint_auth_methods_supported");
  if (methods != doc.end() && methods->is_array()) {
    bool basic = std::find(methods->begin(), methods->end(), "client_secret_basic") != methods->end();
    bool post = std::find(methods->begin(), methods->end(), "client_secret_post") != methods->end();
    if (!basic && !post) return InvalidArgument("OIDC provider supports neither client_secret_basic nor client_secret_post");
    d->secret_post = !basic;
  }
  d->jwks = std::make_shared<JwksCache>(jwks_uri);
  discovery_ = d;
  return discovery_;
}

void OidcClient::PruneLocked(std::chrono::system_clock::time_point now) {
  while (!pending_order_.empty()) {
    auto it = pending_.find(pending_order_.front());
    if (it != pending_.end() && now - it->second.created <= kPendingLifetime) return;
    if (it != pending_.end()) pending_.erase(it);
    pending_order_.pop_front();
  }
}

size_t OidcClient::pending_count() {
  std::lock_guard lock(mu_);
  PruneLocked(clock_());
  return pending_.size();
}

Result<std::string> OidcClient::BeginLogin(const std::string& next) {
  DA_ASSIGN_OR_RETURN(auto d, Discover());
  std::string state = RandomToken();
  Pending p{RandomToken(), RandomToken(), SameOriginPath(next), clock_(), {}};
  std::string url = d->authorization_endpoint;
  url += url.find('?') == std::string::npos ? '?' : '&';
  url += "response_type=code&client_id=" + FormEncode(config_.client_id) +
         "&redirect_uri=" + FormEncode(config_.redirect_uri) + "&scope=" + FormEncode(config_.scopes) +
         "&state=" + state + "&nonce=" + p.nonce + "&code_challenge=" + PkceS256(p.verifier) +
         "&code_challenge_method=S256";
  std::lock_guard lock(mu_);
  PruneLocked(p.created);
  while (pending_.size() >= kMaxPending && !pending_order_.empty()) {  // evict the oldest
    pending_.erase(pending_order_.front());
    pending_order_.pop_front();
  }
  pending_order_.push_back(state);
  p.order = std::prev(pending_order_.end());
  pending_.emplace(state, std::move(p));
  return url;
}

Result<OidcLoginResult> OidcClient::CompleteLogin(const std::string& code, const std::string& state) {
  Pending p;
  {
    std::lock_guard lock(mu_);
    auto it = pending_.find(state);
    bool live = it != pending_.end() && clock_() - it->second.created <= kPendingLifetime;
    if (it != pending_.end()) {
      p = std::move(it->second);
      pending_order_.erase(p.order);
      pending_.erase(it);
    }
    if (!live) return Unauthenticated("OIDC login state unknown, expired or already used; start the sign-in again");
  }
  if (code.empty()) return Unauthenticated("OIDC callback carries no authorization code");
  DA_ASSIGN_OR_RETURN(auto d, Discover());
  FetchRequest token_request = GetRequest(d->token_endpoint);
  token_request.post = true;
  token_request.form_body = "grant_type=authorization_code&code=" + FormEncode(code) +
                            "&redirect_uri=" + FormEncode(config_.redirect_uri) + "&code_verifier=" + p.verifier;
  if (d->secret_post) {
    token_request.form_body +=
        "&client_id=" + FormEncode(config_.client_id) + "&client_secret=" + FormEncode(config_.client_secret);
  } else {
    token_request.basic_user = FormEncode(config_.client_id);
    token_request.basic_password = FormEncode(config_.client_secret);
  }
  DA_ASSIGN_OR_RETURN(FetchResponse response, Fetch(token_request));
  if (response.status != 200) {
    return Unauthenticated("OIDC token endpoint refused the code (HTTP " + std::to_string(response.status) + ", " +
                           OAuthErrorCode(response.body) + ")");
  }
  const json tokens = json::parse(response.body, nullptr, false);
  std::string id_token = StringField(tokens, "id_token");
  if (id_token.empty()) return Unauthenticated("OIDC token endpoint answered without an ID token");
  IdTokenExpectations expect{d->issuer, config_.client_id, p.nonce, clock_()};
  auto claims = VerifyIdToken(id_token, *d->jwks, expect);
  if (!claims.ok()) {
    if (claims.status().code() == StatusCode::kUnauthenticated) return claims.status().WithContext("OIDC sign-in refused");
    return claims.status();
  }
  // Providers that keep scope claims out of the ID token serve them at the userinfo endpoint.
  bool want_userinfo = !claims->contains("email") || (!config_.groups_claim.empty() && !claims->contains(config_.groups_claim));
  std::string access_token = StringField(tokens, "access_token");
  if (want_userinfo && !d->userinfo_endpoint.empty() && !access_token.empty()) {
    FetchRequest info_request = GetRequest(d->userinfo_endpoint);
    info_request.bearer_token = access_token;
    DA_ASSIGN_OR_RETURN(FetchResponse info, Fetch(info_request));
    json info_claims = json::parse(info.body, nullptr, false);
    if (info.status != 200 || !info_claims.is_object()) {
      return Unauthenticated("OIDC userinfo endpoint refused the access token (HTTP " + std::to_string(info.status) + ")");
    }
    if (StringField(info_claims, "sub") != StringField(*claims, "sub")) {
      return Unauthenticated("OIDC userinfo subject differs from the ID token subject");
    }
    for (auto& [name, value] : info_claims.items()) {
      if (!claims->contains(name)) (*claims)[name] = value;
    }
  }
  return OidcLoginResult{IdentityFrom(*claims, TrimSlash(d->issuer), config_.groups_claim), p.next};
}

}  // namespace da::auth
