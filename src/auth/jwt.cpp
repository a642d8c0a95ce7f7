#include "auth/jwt.h"

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <sodium.h>

#include <cmath>

namespace da::auth {
namespace {

using nlohmann::json;

struct BnDeleter {
  void operator()(BIGNUM* b) const { BN_free(b); }
};
using BnPtr = std::unique_ptr<BIGNUM, BnDeleter>;

std::shared_ptr<EVP_PKEY> WrapKey(EVP_PKEY* key) { return {key, EVP_PKEY_free}; }

BnPtr ToBn(const std::string& bytes) {
  return BnPtr(BN_bin2bn(reinterpret_cast<const unsigned char*>(bytes.data()), static_cast<int>(bytes.size()),
                         nullptr));
}

// Builds a public key of `type` ("RSA"/"EC") from OSSL params.
Result<std::shared_ptr<EVP_PKEY>> KeyFromParams(const char* type, OSSL_PARAM_BLD* bld) {
  OSSL_PARAM* params = OSSL_PARAM_BLD_to_param(bld);
  EVP_PKEY_CTX* ctx = EVP_PKEY_CTX_new_from_name(nullptr, type, nullptr);
  EVP_PKEY* key = nullptr;
  bool ok = params != nullptr && ctx != nullptr && EVP_PKEY_fromdata_init(ctx) == 1 &&
            EVP_PKEY_fromdata(ctx, &key, EVP_PKEY_PUBLIC_KEY, params) == 1;
  EVP_PKEY_CTX_free(ctx);
  OSSL_PARAM_free(params);
  if (!ok) {
    EVP_PKEY_free(key);
    return Malformed(std::string("JWKS ") + type + " key cannot be loaded");
  }
  return WrapKey(key);
}

Result<std::string> B64Member(const json& jwk, const char* name) {
  auto it = jwk.find(name);
  if (it == jwk.end() || !it->is_string()) return Malformed(std::string("JWKS key lacks '") + name + "'");
  auto decoded = Base64UrlDecode(it->get<std::string>());
  if (!decoded.ok() || decoded->empty()) return Malformed(std::string("JWKS key has a bad '") + name + "'");
  return decoded;
}

Result<std::shared_ptr<EVP_PKEY>> RsaKey(const json& jwk) {
  DA_ASSIGN_OR_RETURN(std::string n, B64Member(jwk, "n"));
  DA_ASSIGN_OR_RETURN(std::string e, B64Member(jwk, "e"));
  BnPtr bn_n = ToBn(n), bn_e = ToBn(e);
  if (!bn_n || !bn_e) return Internal("out of memory");
  if (BN_num_bits(bn_n.get()) < 2048) return Malformed("JWKS RSA key shorter than 2048 bits");
  std::unique_ptr<OSSL_PARAM_BLD, decltype(&OSSL_PARAM_BLD_free)> bld(OSSL_PARAM_BLD_new(), OSSL_PARAM_BLD_free);
  OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_N, bn_n.get());
  OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_E, bn_e.get());
  return KeyFromParams("RSA", bld.get());
}

Result<std::shared_ptr<EVP_PKEY>> EcKey(const json& jwk) {
  DA_ASSIGN_OR_RETURN(std::string x, B64Member(jwk, "x"));
  DA_ASSIGN_OR_RETURN(std::string y, B64Member(jwk, "y"));
  if (x.size() != 32 || y.size() != 32) return Malformed("JWKS P-256 key coordinates must be 32 bytes");
  std::string point = "\x04" + x + y;
  std::unique_ptr<OSSL_PARAM_BLD, decltype(&OSSL_PARAM_BLD_free)> bld(OSSL_PARAM_BLD_new(), OSSL_PARAM_BLD_free);
  OSSL_PARAM_BLD_push_utf8_string(bld.get(), OSSL_PKEY_PARAM_GROUP_NAME, "prime256v1", 0);
  OSSL_PARAM_BLD_push_octet_string(bld.get(), OSSL_PKEY_PARAM_PUB_KEY, point.data(), point.size());
  return KeyFromParams("EC", bld.get());  // fails for a point not on the curve
}

std::string StringMember(const json& j, const char* name) {
  auto it = j.find(name);
  return it != j.end() && it->is_string() ? it->get<std::string>() : "";
}

// ES256 signatures are JOSE r||s (2 x 32 bytes); OpenSSL wants DER.
Result<std::string> EcdsaJoseToDer(const std::string& sig) {
  if (sig.size() != 64) return Unauthenticated("ID token signature invalid");
  ECDSA_SIG* es = ECDSA_SIG_new();
  BIGNUM* r = BN_bin2bn(reinterpret_cast<const unsigned char*>(sig.data()), 32, nullptr);
  BIGNUM* s = BN_bin2bn(reinterpret_cast<const unsigned char*>(sig.data()) + 32, 32, nullptr);
  if (es == nullptr || r == nullptr || s == nullptr || ECDSA_SIG_set0(es, r, s) != 1) {
    ECDSA_SIG_free(es);
    BN_free(r);
    BN_free(s);
    return Internal("out of memory");
  }
  unsigned char* der = nullptr;
  int len = i2d_ECDSA_SIG(es, &der);
  ECDSA_SIG_free(es);
  if (len <= 0) return Internal("cannot encode ECDSA signature");
  std::string out(reinterpret_cast<char*>(der), static_cast<size_t>(len));
  OPENSSL_free(der);
  return out;
}

// A NumericDate claim as seconds since the epoch; nullopt when absent or not a number.
std::optional<double> NumericClaim(const json& payload, const char* name) {
  auto it = payload.find(name);
  if (it == payload.end() || !it->is_number()) return std::nullopt;
  double v = it->get<double>();
  return std::isfinite(v) ? std::optional<double>(v) : std::nullopt;
}

}  // namespace

std::string Base64UrlEncode(std::string_view bytes) {
  std::string out(sodium_base64_ENCODED_LEN(bytes.size(), sodium_base64_VARIANT_URLSAFE_NO_PADDING), '\0');
  sodium_bin2base64(out.data(), out.size(), reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size(),
                    sodium_base64_VARIANT_URLSAFE_NO_PADDING);
  out.resize(out.size() - 1);  // the terminating NUL
  return out;
}

Result<std::string> Base64UrlDecode(std::string_view text) {
  while (!text.empty() && text.back() == '=') text.remove_suffix(1);
  std::string out(text.size() * 3 / 4 + 3, '\0');
  size_t len = 0;
  const char* end = nullptr;
  if (sodium_base642bin(reinterpret_cast<unsigned char*>(out.data()), out.size(), text.data(), text.size(),
                        nullptr, &len, &end, sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0 ||
      end != text.data() + text.size()) {
    return Malformed("invalid base64url");
  }
  out.resize(len);
  return out;
}

Result<JwkSet> JwkSet::FromJson(const json& document) {
  if (!document.is_object() || !document.contains("keys") || !document["keys"].is_array()) {
    return Malformed("JWKS document is not {\"keys\":[...]}");
  }
  JwkSet set;
  for (const json& jwk : document["keys"]) {
    if (!jwk.is_object()) return Malformed("JWKS key is not an object");
    std::string use = StringMember(jwk, "use"), kty = StringMember(jwk, "kty"), alg = StringMember(jwk, "alg");
    if (!use.empty() && use != "sig") continue;
    Jwk key{StringMember(jwk, "kid"), "", nullptr};
    if (kty == "RSA" && (alg.empty() || alg == "RS256")) {
      key.alg = "RS256";
      DA_ASSIGN_OR_RETURN(key.key, RsaKey(jwk));
    } else if (kty == "EC" && StringMember(jwk, "crv") == "P-256" && (alg.empty() || alg == "ES256")) {
      key.alg = "ES256";
      DA_ASSIGN_OR_RETURN(key.key, EcKey(jwk));
    } else {
      continue;
    }
    set.keys_.push_back(std::move(key));
  }
  return set;
}

std::vector<const Jwk*> JwkSet::Candidates(std::string_view kid, std::string_view alg) const {
  std::vector<const Jwk*> out;
  for (const Jwk& k : keys_) {
    if (k.alg == alg && (kid.empty() || k.kid == kid)) out.push_back(&k);
  }
  return out;
}

Result<JwtParts> ParseJwt(std::string_view token) {
  const Status bad = Malformed("ID token is not a well-formed JWT");
  size_t a = token.find('.');
  size_t b = a == std::string_view::npos ? a : token.find('.', a + 1);
  if (b == std::string_view::npos || token.find('.', b + 1) != std::string_view::npos) return bad;
  auto header = Base64UrlDecode(token.substr(0, a));
  auto payload = Base64UrlDecode(token.substr(a + 1, b - a - 1));
  auto signature = Base64UrlDecode(token.substr(b + 1));
  if (!header.ok() || !payload.ok() || !signature.ok()) return bad;
  JwtParts parts;
  parts.header = json::parse(*header, nullptr, false);
  parts.payload = json::parse(*payload, nullptr, false);
  if (!parts.header.is_object() || !parts.payload.is_object()) return bad;
  parts.signing_input = std::string(token.substr(0, b));
  parts.signature = std::move(signature).value();
  return parts;
}

Status VerifyJwtSignature(const JwtParts& parts, const Jwk& key) {
  if (StringMember(parts.header, "alg") != key.alg) return Unauthenticated("ID token alg does not match its key");
  std::string sig = parts.signature;
  if (key.alg == "ES256") {
    DA_ASSIGN_OR_RETURN(sig, EcdsaJoseToDer(parts.signature));
  }
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> md(EVP_MD_CTX_new(), EVP_MD_CTX_free);
  bool ok = md && EVP_DigestVerifyInit(md.get(), nullptr, EVP_sha256(), nullptr, key.key.get()) == 1 &&
            EVP_DigestVerify(md.get(), reinterpret_cast<const unsigned char*>(sig.data()), sig.size(),
                             reinterpret_cast<const unsigned char*>(parts.signing_input.data()),
                             parts.signing_input.size()) == 1;
  if (!ok) return Unauthenticated("ID token signature invalid");
  return Status::Ok();
}

Status CheckIdTokenClaims(const json& payload, const IdTokenExpectations& expect) {
  if (StringMember(payload, "sub").empty()) return Unauthenticated("ID token has no subject");
  if (StringMember(payload, "iss") != expect.issuer) return Unauthenticated("ID token issuer is not the configured issuer");
  auto aud = payload.find("aud");
  bool has_aud = false;
  size_t n_aud = 0;
  if (aud != payload.end() && aud->is_string()) {
    has_aud = aud->get<std::string>() == expect.client_id;
    n_aud = 1;
  } else if (aud != payload.end() && aud->is_array()) {
    for (const json& a : *aud) has_aud = has_aud || (a.is_string() && a.get<std::string>() == expect.client_id);
    n_aud = aud->size();
  }
  if (!has_aud) return Unauthenticated("ID token audience does not include this client");
  std::string azp = StringMember(payload, "azp");
  if ((n_aud > 1 || payload.contains("azp")) && azp != expect.client_id) {
    return Unauthenticated("ID token authorized party (azp) is not this client");
  }
  const double now = std::chrono::duration<double>(expect.now.time_since_epoch()).count();
  const double skew = static_cast<double>(expect.skew.count());
  auto exp = NumericClaim(payload, "exp");
  if (!exp) return Unauthenticated("ID token has no expiry");
  if (now > *exp + skew) return Unauthenticated("ID token expired");
  auto iat = NumericClaim(payload, "iat");
  if (!iat) return Unauthenticated("ID token has no issue time");
  if (*iat > now + skew) return Unauthenticated("ID token issued in the future");
  auto nbf = NumericClaim(payload, "nbf");
  if (payload.contains("nbf") && (!nbf || *nbf > now + skew)) return Unauthenticated("ID token not yet valid");
  std::string nonce = StringMember(payload, "nonce");
  if (expect.nonce.empty() || nonce.size() != expect.nonce.size() ||
      sodium_memcmp(nonce.data(), expect.nonce.data(), nonce.size()) != 0) {
    return Unauthenticated("ID token nonce does not match this login");
  }
  return Status::Ok();
}

Result<json> VerifyIdToken(std::string_view token, const JwkSet& keys, const IdTokenExpectations& expect) {
  auto parts = ParseJwt(token);
  if (!parts.ok()) return Unauthenticated(parts.status().message());
  std::string alg = StringMember(parts->header, "alg");
  if (alg != "RS256" && alg != "ES256") return Unauthenticated("ID token alg '" + alg.substr(0, 16) + "' not accepted");
  auto candidates = keys.Candidates(StringMember(parts->header, "kid"), alg);
  if (candidates.empty()) return Unauthenticated(std::string(kUnknownJwtKey));
  Status last;
  for (const Jwk* key : candidates) {
    last = VerifyJwtSignature(*parts, *key);
    if (last.ok()) break;
  }
  DA_RETURN_IF_ERROR(last);
  DA_RETURN_IF_ERROR(CheckIdTokenClaims(parts->payload, expect));
  return std::move(parts->payload);
}

}  // namespace da::auth
