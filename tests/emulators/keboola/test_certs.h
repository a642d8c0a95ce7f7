#pragma once
/// Test-time TLS material: a throw-away CA and a server certificate for 127.0.0.1 /
/// localhost signed by it, made with the openssl CLI. Used by the HTTPS client tests and the
/// Keboola Storage API emulator. Never used outside tests.
#include <cstdlib>
#include <filesystem>
#include <string>

namespace da::testing {

/// Paths of the generated PEM files.
struct TestCerts {
  std::filesystem::path ca_pem;       ///< the CA certificate (trust this: DA_CA_FILE)
  std::filesystem::path server_pem;   ///< server certificate (CN/SAN 127.0.0.1, localhost)
  std::filesystem::path server_key;   ///< its private key
};

/// Creates (or reuses, when present) the files in `dir` (must exist). Returns false when the
/// openssl CLI fails.
inline bool MakeTestCerts(const std::filesystem::path& dir, TestCerts* out) {
  out->ca_pem = dir / "ca.pem";
  out->server_pem = dir / "server.pem";
  out->server_key = dir / "server.key";
  if (std::filesystem::exists(out->server_pem) && std::filesystem::exists(out->server_key)) return true;
  const std::string d = "'" + dir.string() + "'";
  const std::string cmd =
      "cd " + d + " && "
      "openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj '/CN=da test CA' "
      "-keyout ca.key -out ca.pem >/dev/null 2>&1 && "
      "openssl req -newkey rsa:2048 -nodes -subj '/CN=127.0.0.1' -keyout server.key "
      "-out server.csr >/dev/null 2>&1 && "
      "printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\\nbasicConstraints=CA:FALSE\\n' > san.ext && "
      "openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 "
      "-extfile san.ext -out server.pem >/dev/null 2>&1";
  return std::system(cmd.c_str()) == 0;
}

}  // namespace da::testing
