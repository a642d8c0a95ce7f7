#pragma once
/// A throw-away certificate authority and a server certificate it signed for
/// 127.0.0.1 / localhost, written as PEM files, so emulators can serve https / STARTTLS / smtps
/// and da's client verifies them for real (trusting the CA through DA_CA_FILE).
///
///   da::testing::TempDir dir;
///   auto tls = da::testing::MakeTestTls(dir.path());
///   ASSERT_OK(tls);
///   ::setenv("DA_CA_FILE", tls->ca_file.c_str(), 1);   // server: tls->cert_file + tls->key_file
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <cstdio>
#include <filesystem>
#include <string>

#include "common/status.h"

namespace da::testing {

struct TestTls {
  std::string ca_file;    ///< PEM CA certificate (trust anchor)
  std::string cert_file;  ///< PEM server certificate (SAN IP:127.0.0.1, DNS:localhost)
  std::string key_file;   ///< PEM server private key
};

namespace detail {

inline bool AddExt(X509* cert, X509* issuer, int nid, const char* value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value);
  bool ok = ext != nullptr && X509_add_ext(cert, ext, -1) == 1;
  X509_EXTENSION_free(ext);
  return ok;
}

// A certificate for `key` named `cn`, signed by `signer_key` (issuer `issuer`, or self when null).
inline X509* MakeCert(EVP_PKEY* key, const char* cn, long serial, X509* issuer, EVP_PKEY* signer_key, bool ca) {
  X509* cert = X509_new();
  X509_set_version(cert, 2);
  ASN1_INTEGER_set(X509_get_serialNumber(cert), serial);
  X509_gmtime_adj(X509_getm_notBefore(cert), -3600);
  X509_gmtime_adj(X509_getm_notAfter(cert), 86400);
  X509_set_pubkey(cert, key);
  X509_NAME* name = X509_get_subject_name(cert);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>(cn), -1, -1, 0);
  X509_set_issuer_name(cert, issuer ? X509_get_subject_name(issuer) : name);
  X509* iss = issuer ? issuer : cert;
  bool ok = ca ? AddExt(cert, iss, NID_basic_constraints, "critical,CA:TRUE") &&
                     AddExt(cert, iss, NID_key_usage, "critical,keyCertSign,cRLSign") &&
                     AddExt(cert, iss, NID_subject_key_identifier, "hash")
               : AddExt(cert, iss, NID_basic_constraints, "critical,CA:FALSE") &&
                     AddExt(cert, iss, NID_key_usage, "critical,digitalSignature,keyEncipherment") &&
                     AddExt(cert, iss, NID_ext_key_usage, "serverAuth") &&
                     AddExt(cert, iss, NID_subject_alt_name, "IP:127.0.0.1,DNS:localhost") &&
                     AddExt(cert, iss, NID_authority_key_identifier, "keyid");
  if (!ok || X509_sign(cert, signer_key, EVP_sha256()) <= 0) {
    X509_free(cert);
    return nullptr;
  }
  return cert;
}

inline bool WritePem(const std::filesystem::path& path, X509* cert, EVP_PKEY* key) {
  FILE* f = std::fopen(path.c_str(), "w");
  if (f == nullptr) return false;
  bool ok = cert ? PEM_write_X509(f, cert) == 1 : PEM_write_PrivateKey(f, key, nullptr, nullptr, 0, nullptr, nullptr) == 1;
  return std::fclose(f) == 0 && ok;
}

}  // namespace detail

/// Generates the CA (EC P-256) and the server key and certificate (valid for a day) into `dir`:
/// ca.pem, server.pem, server-key.pem. internal when OpenSSL or the file writes fail.
inline Result<TestTls> MakeTestTls(const std::filesystem::path& dir) {
  EVP_PKEY* ca_key = EVP_EC_gen("P-256");
  EVP_PKEY* key = EVP_EC_gen("P-256");
  X509* ca = ca_key ? detail::MakeCert(ca_key, "da test CA", 1, nullptr, ca_key, true) : nullptr;
  X509* cert = ca && key ? detail::MakeCert(key, "127.0.0.1", 2, ca, ca_key, false) : nullptr;
  TestTls tls{(dir / "ca.pem").string(), (dir / "server.pem").string(), (dir / "server-key.pem").string()};
  bool ok = cert != nullptr && detail::WritePem(tls.ca_file, ca, nullptr) &&
            detail::WritePem(tls.cert_file, cert, nullptr) && detail::WritePem(tls.key_file, nullptr, key);
  X509_free(cert);
  X509_free(ca);
  EVP_PKEY_free(key);
  EVP_PKEY_free(ca_key);
  if (!ok) return Internal("cannot create the test certificates in " + dir.string());
  return tls;
}

}  // namespace da::testing
