#pragma once
/// Content hashes and random tokens (OpenSSL).
#include <filesystem>
#include <string>
#include <string_view>

#include "common/status.h"

namespace da {

/// Full 32-char lower-case hex MD5 of a file's bytes, read in 1 MiB chunks (constant memory).
/// This is the content hash of the distribution contract: manifest, ETag and client check.
Result<std::string> Md5File(const std::filesystem::path& path);
/// 32-char hex MD5 of a byte string.
std::string Md5Hex(std::string_view bytes);
/// 64-char hex SHA-256 of a byte string (token hashes).
std::string Sha256Hex(std::string_view bytes);
/// `n_bytes` of cryptographically secure randomness as lower-case hex (2*n_bytes chars).
std::string RandomHex(size_t n_bytes);

}  // namespace da
