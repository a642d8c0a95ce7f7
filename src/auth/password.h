#pragma once
/// Password hashing: argon2id through libsodium's crypto_pwhash_str (interactive limits:
/// 2 passes, 64 MiB), the password length policy, and a constant-work check for unknown users.
#include <string>

#include "common/status.h"

namespace da::auth {

inline constexpr size_t kMinPasswordBytes = 12;
inline constexpr size_t kMaxPasswordBytes = 1024;

/// invalid_argument unless 12 <= size <= 1024 bytes.
Status CheckPasswordPolicy(const std::string& password);
/// The encoded argon2id hash ("$argon2id$v=19$..."); internal when libsodium fails (out of memory).
Result<std::string> HashPassword(const std::string& password);
/// True when `password` matches `hash`. An empty `hash` (no password set, unknown user) still
/// does one verification against a fixed hash so the answer takes the same time, and is false.
bool VerifyPassword(const std::string& password, const std::string& hash);

}  // namespace da::auth
