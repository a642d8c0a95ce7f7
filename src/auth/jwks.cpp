#include "auth/jwks.h"

#include "auth/https_fetch.h"

namespace da::auth {

Result<std::shared_ptr<const JwkSet>> JwksCache::Get() {
  {
    std::lock_guard lock(mu_);
    if (keys_) return keys_;
  }
  return Refetch();
}

Result<std::shared_ptr<const JwkSet>> JwksCache::Refetch() {
  DA_ASSIGN_OR_RETURN(FetchResponse response, Fetch(GetRequest(uri_)));
  if (response.status != 200) {
    return Unavailable("cannot fetch JWKS " + UrlForMessage(uri_) + ": HTTP " + std::to_string(response.status));
  }
  auto document = nlohmann::json::parse(response.body, nullptr, false);
  auto set = JwkSet::FromJson(document);
  if (!set.ok()) return set.status().WithContext("JWKS " + UrlForMessage(uri_));
  auto shared = std::make_shared<const JwkSet>(std::move(set).value());
  std::lock_guard lock(mu_);
  keys_ = shared;
  ++fetches_;
  return shared;
}

int JwksCache::fetch_count() const {
  std::lock_guard lock(mu_);
  return fetches_;
}

Result<nlohmann::json> VerifyIdToken(std::string_view token, JwksCache& jwks, const IdTokenExpectations& expect) {
  DA_ASSIGN_OR_RETURN(auto keys, jwks.Get());
  auto payload = VerifyIdToken(token, *keys, expect);
  if (payload.ok() || payload.status().message() != kUnknownJwtKey) return payload;
  DA_ASSIGN_OR_RETURN(keys, jwks.Refetch());
  return VerifyIdToken(token, *keys, expect);
}

}  // namespace da::auth
