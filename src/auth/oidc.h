#pragma once
/// OpenID Connect sign-in (authorization code flow with PKCE S256) against any standard
/// provider (Google, Keycloak, Entra ID, oidc-provider, ...). Library code only; the HTTP routes
/// `GET /auth/oidc/login` and `/auth/oidc/callback` call BeginLogin / CompleteLogin.
///
/// Outside-spec sources: OpenID Connect Core 1.0 §3.1 (code flow, ID token validation),
/// OpenID Connect Discovery 1.0 (`<issuer>/.well-known/openid-configuration`), RFC 7636 (PKCE),
/// RFC 6749 §2.3.1 (client_secret_basic / client_secret_post).
///
/// All provider URLs must be https; plain http is allowed only for loopback hosts (see
/// https_fetch.h). DA_CA_FILE adds trusted CAs.
#include <chrono>
#include <functional>
#include <list>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "auth/same_origin.h"
#include "common/status.h"

namespace da::auth {

class JwksCache;

/// Who may sign in through OIDC (DA_OIDC_SIGNUP, DA_OIDC_ALLOWED_DOMAINS). The decision is
/// taken by service::UsersService::ExternalUser.
struct OidcSignUpPolicy {
  enum class Mode {
    kInvite,   ///< only existing users (an admin created them); the default
    kDomains,  ///< also new users whose email domain is in `allowed_domains`
    kOpen,     ///< anyone the provider vouches for becomes a user
  };
  Mode mode = Mode::kInvite;
  /// Lower-case email domains; when non-empty every OIDC sign-in (any mode) needs an email in
  /// one of them, and the `hd` claim (Google Workspace), when present, must be one of them too.
  std::vector<std::string> allowed_domains;
};
/// "invite", "domains" or "open".
const char* SignUpModeName(OidcSignUpPolicy::Mode mode);

/// Configuration, normally from the environment (OidcConfigFromEnv).
struct OidcConfig {            // from env: DA_OIDC_ISSUER, DA_OIDC_CLIENT_ID, DA_OIDC_CLIENT_SECRET,
  std::string issuer;          // DA_OIDC_REDIRECT_URI, DA_OIDC_SCOPES (default "openid email profile"),
  std::string client_id;       // DA_OIDC_GROUPS_CLAIM (optional), DA_OIDC_NAME (button label, default "Single sign-on")
  std::string client_secret;
  std::string redirect_uri;    // e.g. https://da.example.com/auth/oidc/callback
  std::string scopes = "openid email profile";
  std::string groups_claim;    // empty = no group sync
  std::string display_name = "Single sign-on";
  OidcSignUpPolicy signup;     // DA_OIDC_SIGNUP (invite|domains|open, default invite), DA_OIDC_ALLOWED_DOMAINS
};

/// nullopt when DA_OIDC_ISSUER is unset; invalid_argument naming the missing variable when
/// partially set (DA_OIDC_CLIENT_ID, DA_OIDC_CLIENT_SECRET and DA_OIDC_REDIRECT_URI are required
/// with an issuer), when the issuer URL is not https (loopback http excepted) or the redirect URI
/// is not an absolute http(s) URL, when DA_OIDC_SIGNUP is not invite|domains|open, or is
/// `domains` without DA_OIDC_ALLOWED_DOMAINS (comma-separated domains; a leading "@" is dropped).
Result<std::optional<OidcConfig>> OidcConfigFromEnv();

/// Who signed in, from the verified ID token: the issuer (as discovered, equal to the configured
/// one), `sub`, `email`, `name` (may be empty), `email_verified` (true only for JSON true or
/// "true"), Google's `hd` (hosted domain, "" when absent) and the string values of the groups
/// claim (a string is one group; missing or another type = no groups).
struct OidcIdentity {
  std::string issuer, subject, email, name;
  std::string hosted_domain;
  bool email_verified = false;
  std::vector<std::string> groups;
};
struct OidcLoginResult {
  OidcIdentity identity;
  std::string next;  ///< the same-origin path given to BeginLogin
};

/// Thread-safe. Discovery document and JWKS are fetched over HTTPS (https_fetch.h over net::Transfer; DA_CA_FILE honoured) and cached;
/// JWKS refetched once on an unknown `kid`.
class OidcClient {
 public:
  using Clock = std::function<std::chrono::system_clock::time_point()>;
  /// How long a begun login may be completed.
  static constexpr std::chrono::minutes kPendingLifetime{10};
  /// Logins remembered at once (the oldest is evicted beyond it).
  static constexpr size_t kMaxPending = 10'000;

  explicit OidcClient(OidcConfig config);
  /// With an injected clock (tests: pending-login expiry, token time checks).
  OidcClient(OidcConfig config, Clock clock);
  ~OidcClient();

  /// Authorization URL (code flow, PKCE S256, random state + nonce). Remembers state → {verifier, nonce, next}
  /// for 10 minutes, one use; at most kMaxPending at once, the oldest forgotten first when full
  /// (a flood of begun logins cannot block one started after it). `next` must be a same-origin path (else "/").
  /// unavailable when the discovery document cannot be fetched; invalid_argument when it is
  /// inconsistent (issuer differs from the configured one, non-https endpoints).
  Result<std::string> BeginLogin(const std::string& next);
  /// Exchanges the code (state consumed even on failure), verifies the ID token: signature against the JWKS
  /// (RS256 and ES256), iss, aud (and azp), exp/iat with 60 s skew, nonce. unauthenticated with a clear
  /// message on any failure (never echoes tokens).
  /// When the ID token lacks `email` (or the groups claim), the provider's userinfo endpoint is
  /// asked with the access token; its `sub` must equal the ID token's, and it only fills claims
  /// the ID token lacks.
  Result<OidcLoginResult> CompleteLogin(const std::string& code, const std::string& state);

  const OidcConfig& config() const { return config_; }
  /// Logins begun and neither completed nor expired (diagnostics, tests).
  size_t pending_count();

 private:
  struct Discovery;
  struct Pending {
    std::string verifier, nonce, next;
    std::chrono::system_clock::time_point created;
    std::list<std::string>::iterator order;  ///< position in pending_order_
  };
  Result<std::shared_ptr<const Discovery>> Discover();
  void PruneLocked(std::chrono::system_clock::time_point now);

  OidcConfig config_;
  Clock clock_;
  std::mutex discovery_mu_;  // serialises the discovery fetch
  std::shared_ptr<const Discovery> discovery_;
  std::mutex mu_;
  std::map<std::string, Pending> pending_;  // by state
  /// States by start time, oldest first: expiry and eviction take from the front, so a flood
  /// of begun logins pushes out the oldest ones rather than blocking new ones.
  std::list<std::string> pending_order_;
};

}  // namespace da::auth
