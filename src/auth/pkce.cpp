#include "auth/pkce.h"

#include <cctype>
#include <cstdlib>

#include <sodium.h>

#include "auth/jwt.h"

namespace da::auth {

std::string NewPkceVerifier() {
  if (sodium_init() < 0) std::abort();
  unsigned char bytes[32];
  randombytes_buf(bytes, sizeof bytes);
  return Base64UrlEncode(std::string_view(reinterpret_cast<char*>(bytes), sizeof bytes));
}

std::string PkceS256(std::string_view verifier) {
  unsigned char digest[crypto_hash_sha256_BYTES];
  crypto_hash_sha256(digest, reinterpret_cast<const unsigned char*>(verifier.data()),
                     verifier.size());
  return Base64UrlEncode(std::string_view(reinterpret_cast<char*>(digest), sizeof digest));
}

bool ValidPkceVerifier(std::string_view verifier) {
  if (verifier.size() < 43 || verifier.size() > 128) return false;
  for (char c : verifier) {
    const auto u = static_cast<unsigned char>(c);
    if (!(std::isalnum(u) || c == '-' || c == '.' || c == '_' || c == '~')) return false;
  }
  return true;
}

}  // namespace da::auth
