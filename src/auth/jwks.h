#pragma once
/// A provider's JWKS fetched over HTTPS (https_fetch.h) and cached, and ID token verification
/// against it. The set is fetched on first use and refetched at most once per verification when
/// the token names a key (kid/alg) the cached set lacks — providers rotate keys that way.
/// Thread-safe.
#include <memory>
#include <mutex>
#include <string>

#include "auth/jwt.h"

namespace da::auth {

class JwksCache {
 public:
  explicit JwksCache(std::string jwks_uri) : uri_(std::move(jwks_uri)) {}

  /// The cached set (fetched when none yet). unavailable when the fetch fails, malformed when
  /// the document is not a JWKS.
  Result<std::shared_ptr<const JwkSet>> Get();
  /// Fetches the set again and replaces the cached one.
  Result<std::shared_ptr<const JwkSet>> Refetch();
  /// Number of successful fetches so far (for tests and diagnostics).
  int fetch_count() const;

 private:
  std::string uri_;
  mutable std::mutex mu_;
  std::shared_ptr<const JwkSet> keys_;
  int fetches_ = 0;
};

/// jwt.h's VerifyIdToken against the cache, refetching once when no cached key matches the
/// token's kid/alg. unavailable when the JWKS cannot be fetched; unauthenticated for a bad token.
Result<nlohmann::json> VerifyIdToken(std::string_view token, JwksCache& jwks, const IdTokenExpectations& expect);

}  // namespace da::auth
