#pragma once
/// Proof Key for Code Exchange (RFC 7636): the S256 challenge of a code verifier.
#include <string>
#include <string_view>

namespace da::auth {

/// A fresh code verifier: 43 characters of base64url (32 random bytes), RFC 7636 §4.1.
std::string NewPkceVerifier();
/// BASE64URL(SHA256(verifier)) without padding (RFC 7636 §4.2, method "S256").
std::string PkceS256(std::string_view verifier);
/// True when `verifier` is 43..128 characters of [A-Za-z0-9-._~] (RFC 7636 §4.1).
bool ValidPkceVerifier(std::string_view verifier);

}  // namespace da::auth
