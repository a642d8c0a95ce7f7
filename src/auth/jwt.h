#pragma once
/// JSON Web Tokens as OpenID Connect ID tokens use them: compact JWS with RS256 or ES256,
/// public keys from a JWKS (RFC 7517/7518), and the ID token claim checks of OpenID Connect
/// Core 1.0 §3.1.3.7. Pure functions over OpenSSL 3; fetching and caching keys is jwks.h.
///
/// Only RS256 and ES256 are accepted ("none", HMAC and every other alg are refused), RSA keys
/// need at least 2048 bits, EC keys must be P-256. Messages never contain the token.
#include <chrono>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/status.h"

typedef struct evp_pkey_st EVP_PKEY;  // NOLINT: matches <openssl/types.h>

namespace da::auth {

/// Base64url without padding (RFC 7515 §2).
std::string Base64UrlEncode(std::string_view bytes);
/// Decodes base64url (padding tolerated); malformed on any other character.
Result<std::string> Base64UrlDecode(std::string_view text);

/// One signature key of a JWKS.
struct Jwk {
  std::string kid;  ///< "" when the JWK has none
  std::string alg;  ///< "RS256" or "ES256": the only alg this key may verify
  std::shared_ptr<EVP_PKEY> key;
};

/// The usable keys of a JWKS document `{"keys":[...]}`: RSA keys from `n`/`e` and EC P-256 keys
/// from `x`/`y`. Keys with `use` other than "sig", other types or curves, or an `alg` other than
/// RS256/ES256 are skipped; a key that claims to be usable but does not decode is an error.
class JwkSet {
 public:
  /// malformed when the document is not `{"keys":[...]}` or a usable-looking key is broken.
  static Result<JwkSet> FromJson(const nlohmann::json& document);
  /// Keys that may verify `alg` with `kid` (any kid when `kid` is empty).
  std::vector<const Jwk*> Candidates(std::string_view kid, std::string_view alg) const;
  size_t size() const { return keys_.size(); }

 private:
  std::vector<Jwk> keys_;
};

/// A compact JWS split into its parts (nothing verified yet).
struct JwtParts {
  nlohmann::json header;
  nlohmann::json payload;
  std::string signing_input;  ///< "<b64 header>.<b64 payload>"
  std::string signature;      ///< raw bytes (ES256: 64-byte r||s)
};
/// malformed "ID token is not a well-formed JWT" when it is not three base64url JSON parts.
Result<JwtParts> ParseJwt(std::string_view token);

/// Ok when `parts.signature` is valid over `parts.signing_input` for `key` (alg from the key,
/// which must equal the header's alg); unauthenticated otherwise.
Status VerifyJwtSignature(const JwtParts& parts, const Jwk& key);

/// What an ID token must say (OpenID Connect Core §3.1.3.7).
struct IdTokenExpectations {
  std::string issuer;     ///< exact `iss`
  std::string client_id;  ///< must be in `aud`; `azp` must equal it when `aud` has several entries
  std::string nonce;      ///< exact `nonce`
  std::chrono::system_clock::time_point now = std::chrono::system_clock::now();
  std::chrono::seconds skew{60};  ///< tolerance for exp, iat and nbf
};

/// Checks sub, iss, aud/azp, exp, iat, nbf and nonce; unauthenticated naming the failed claim
/// ("ID token expired", "ID token audience does not include this client", ...).
Status CheckIdTokenClaims(const nlohmann::json& payload, const IdTokenExpectations& expect);

/// The message of VerifyIdToken when no key of the set matches the token's kid/alg.
inline constexpr std::string_view kUnknownJwtKey = "ID token signed with unknown key";

/// ParseJwt + signature against `keys` (by kid and alg) + CheckIdTokenClaims. Returns the payload.
/// unauthenticated "ID token signed with unknown key" when no key of the set matches kid/alg.
Result<nlohmann::json> VerifyIdToken(std::string_view token, const JwkSet& keys,
                                     const IdTokenExpectations& expect);

}  // namespace da::auth
