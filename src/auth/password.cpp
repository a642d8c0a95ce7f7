#include "auth/password.h"

#include <sodium.h>

#include <mutex>

namespace da::auth {
namespace {

bool SodiumReady() {
  static const bool ready = sodium_init() >= 0;
  return ready;
}

/// A hash of a random password, made once: unknown users are checked against it.
const std::string& DummyHash() {
  static const std::string hash = [] {
    char out[crypto_pwhash_STRBYTES];
    unsigned char pw[16];
    randombytes_buf(pw, sizeof pw);
    if (crypto_pwhash_str(out, reinterpret_cast<const char*>(pw), sizeof pw,
                          crypto_pwhash_OPSLIMIT_INTERACTIVE,
                          crypto_pwhash_MEMLIMIT_INTERACTIVE) != 0) {
      return std::string();
    }
    return std::string(out);
  }();
  return hash;
}

}  // namespace

Status CheckPasswordPolicy(const std::string& password) {
  if (password.size() < kMinPasswordBytes || password.size() > kMaxPasswordBytes) {
    return InvalidArgument("password must be " + std::to_string(kMinPasswordBytes) + " to " +
                           std::to_string(kMaxPasswordBytes) + " bytes long");
  }
  return Status::Ok();
}

Result<std::string> HashPassword(const std::string& password) {
  if (!SodiumReady()) return Internal("libsodium could not be initialised");
  char out[crypto_pwhash_STRBYTES];
  if (crypto_pwhash_str(out, password.data(), password.size(), crypto_pwhash_OPSLIMIT_INTERACTIVE,
                        crypto_pwhash_MEMLIMIT_INTERACTIVE) != 0) {
    return Internal("password hashing failed (out of memory)");
  }
  return std::string(out);
}

bool VerifyPassword(const std::string& password, const std::string& hash) {
  if (!SodiumReady()) return false;
  const std::string& against = hash.empty() ? DummyHash() : hash;
  if (against.empty()) return false;
  bool ok = crypto_pwhash_str_verify(against.c_str(), password.data(), password.size()) == 0;
  return ok && !hash.empty();
}

}  // namespace da::auth
