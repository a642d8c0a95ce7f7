#pragma once
/// A real OpenID Connect provider (tests/emulators/oidc/server.js, npm
/// oidc-provider) started by a test, and a browser stand-in that signs in through it.
///
///   auto idp = da::testing::OidcTestProvider::Start(
///       {da::testing::OidcTestClient{"da", "s3cret", "http://127.0.0.1:1/cb"}});
///   da::auth::OidcClient client({.issuer = (*idp)->issuer(), .client_id = "da", ...});
///   auto url = client.BeginLogin("/next");
///   auto callback = da::testing::BrowserSignIn(*url, "alice", "http://127.0.0.1:1/cb");
///   client.CompleteLogin(QueryParam(*callback, "code"), QueryParam(*callback, "state"));
///
/// Accounts: any login name (= `sub`); claims email "<login>@example.test", email_verified, name
/// "User <login>", groups ["analysts", "<login>-team"] (scope `groups`), replaced per login by
/// Options::accounts (e.g. email_verified false, another's email, an `hd` claim). The provider listens on
/// 127.0.0.1 (OS-chosen port) over plain http (or https with the TLS files); it stops when the
/// object is destroyed. Link the test with da_test_support_signin.
#include <curl/curl.h>

#include <map>
#include <regex>
#include <string>
#include <vector>

#include "auth/https_fetch.h"
#include "support/node_emulator.h"

#ifndef DA_SOURCE_DIR
#error "DA_SOURCE_DIR must be defined (link the test with da_test_support_signin)"
#endif

namespace da::testing {

struct OidcTestClient {
  std::string client_id;
  std::string client_secret;
  std::string redirect_uri;
  std::string auth_method = "client_secret_basic";  ///< or "client_secret_post"
  std::string id_token_alg = "RS256";               ///< or "ES256"
};


class OidcTestProvider {
 public:
  struct Options {
    std::string tls_cert_file;             ///< with the key (PEM): serve https; trust the CA via DA_CA_FILE
    std::string tls_key_file;
    bool claims_in_userinfo_only = false;  ///< email/profile/groups only at the userinfo endpoint
    /// Login name -> claims replacing the defaults for that login (null = claim left out), e.g.
    /// {{"mallory", {{"email", "alice@example.test"}, {"email_verified", false}}}}, {"gw", {{"hd", "corp.test"}}}.
    std::map<std::string, nlohmann::json> accounts;
  };
  /// `tls_cert_file`/`tls_key_file` (PEM): serve https; trust the CA through DA_CA_FILE.
  static Result<std::unique_ptr<OidcTestProvider>> Start(const std::vector<OidcTestClient>& clients,
                                                         const std::string& tls_cert_file = "",
                                                         const std::string& tls_key_file = "") {
    Options options;
    options.tls_cert_file = tls_cert_file;
    options.tls_key_file = tls_key_file;
    return Start(clients, options);
  }
  static Result<std::unique_ptr<OidcTestProvider>> Start(const std::vector<OidcTestClient>& clients,
                                                         const Options& options) {
    nlohmann::json list = nlohmann::json::array();
    for (const auto& c : clients) {
      list.push_back({{"client_id", c.client_id},
                      {"client_secret", c.client_secret},
                      {"redirect_uris", {c.redirect_uri}},
                      {"token_endpoint_auth_method", c.auth_method},
                      {"id_token_signed_response_alg", c.id_token_alg}});
    }
    std::vector<std::string> env = {"OIDC_CLIENTS=" + list.dump()};
    if (!options.tls_cert_file.empty()) {
      env.push_back("OIDC_TLS_CERT=" + options.tls_cert_file);
      env.push_back("OIDC_TLS_KEY=" + options.tls_key_file);
    }
    if (options.claims_in_userinfo_only) env.push_back("OIDC_CLAIMS_IN_USERINFO=1");
    if (!options.accounts.empty()) {
      nlohmann::json accounts = nlohmann::json::object();
      for (const auto& [login, claims] : options.accounts) accounts[login] = claims;
      env.push_back("OIDC_ACCOUNTS=" + accounts.dump());
    }
    std::unique_ptr<OidcTestProvider> p(new OidcTestProvider());
    DA_ASSIGN_OR_RETURN(p->emulator_, NodeEmulator::Start(DA_SOURCE_DIR "/tests/emulators/oidc/server.js", {}, env));
    p->issuer_ = p->emulator_->ready().value("issuer", "");
    return p;
  }
  /// e.g. "http://127.0.0.1:41234" (no trailing slash).
  const std::string& issuer() const { return issuer_; }
  std::string server_log() { return emulator_->stderr_text(); }

 private:
  OidcTestProvider() = default;
  std::unique_ptr<NodeEmulator> emulator_;
  std::string issuer_;
};

/// The decoded value of query parameter `name` in `url`, "" when absent.
inline std::string QueryParam(const std::string& url, const std::string& name) {
  size_t q = url.find('?');
  if (q == std::string::npos) return "";
  std::stringstream params(url.substr(q + 1));
  for (std::string kv; std::getline(params, kv, '&');) {
    size_t eq = kv.find('=');
    if (kv.substr(0, eq) != name) continue;
    std::string value = eq == std::string::npos ? "" : kv.substr(eq + 1);
    int len = 0;
    char* decoded = curl_easy_unescape(nullptr, value.c_str(), static_cast<int>(value.size()), &len);
    std::string out(decoded, static_cast<size_t>(len));
    curl_free(decoded);
    return out;
  }
  return "";
}

/// Drives the provider's sign-in as a browser would: follows redirects keeping cookies, submits
/// the login form (`login`, any password) and the consent form it finds in the HTML, and stops
/// at the redirect to `redirect_uri`, returning that full callback URL (with code and state, or
/// error). unavailable on transport errors, internal when a page has no form to submit.
inline Result<std::string> BrowserSignIn(const std::string& authorization_url, const std::string& login,
                                         const std::string& redirect_uri) {
  std::unique_ptr<CURL, decltype(&curl_easy_cleanup)> curl(curl_easy_init(), curl_easy_cleanup);
  CURL* c = curl.get();
  curl_easy_setopt(c, CURLOPT_COOKIEFILE, "");  // cookie engine on, in memory
  curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 20'000L);
  DA_RETURN_IF_ERROR(auth::ConfigureTlsTrust(c));
  std::string url = authorization_url, post_body;
  bool post = false;
  for (int step = 0; step < 20; ++step) {
    std::string body;
    curl_easy_setopt(c, CURLOPT_URL, url.c_str());
    curl_easy_setopt(c, CURLOPT_HTTPGET, 1L);
    if (post) curl_easy_setopt(c, CURLOPT_COPYPOSTFIELDS, post_body.c_str());
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, +[](char* d, size_t s, size_t n, void* u) {
      static_cast<std::string*>(u)->append(d, s * n);
      return s * n;
    });
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &body);
    CURLcode rc = curl_easy_perform(c);
    if (rc != CURLE_OK) return Unavailable(std::string("browser: ") + curl_easy_strerror(rc) + " at " + url);
    long status = 0;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    char* location = nullptr;
    curl_easy_getinfo(c, CURLINFO_REDIRECT_URL, &location);
    post = false;
    if (status >= 300 && status < 400 && location != nullptr) {
      url = location;
      if (url.rfind(redirect_uri, 0) == 0) return url;
      continue;
    }
    // A page with a form: the login prompt or the consent prompt.
    std::smatch action;
    if (status != 200 || !std::regex_search(body, action, std::regex(R"re(<form[^>]*action="([^"]+)")re"))) {
      return Internal("browser: no form at " + url + " (HTTP " + std::to_string(status) + "): " + body.substr(0, 300));
    }
    std::string target = action[1];
    char* effective = nullptr;
    curl_easy_getinfo(c, CURLINFO_EFFECTIVE_URL, &effective);
    std::string origin = effective;
    origin = origin.substr(0, origin.find('/', origin.find("//") + 2));
    url = target.rfind("http", 0) == 0 ? target : origin + target;
    post_body.clear();
    std::regex hidden(R"re(<input type="hidden" name="([^"]+)" value="([^"]*)")re");
    for (auto it = std::sregex_iterator(body.begin(), body.end(), hidden); it != std::sregex_iterator(); ++it) {
      post_body += (post_body.empty() ? "" : "&") + auth::FormEncode((*it)[1].str()) + "=" + auth::FormEncode((*it)[2].str());
    }
    if (body.find("name=\"login\"") != std::string::npos) {
      post_body += "&login=" + auth::FormEncode(login) + "&password=any";
    }
    post = true;
  }
  return Internal("browser: too many steps without reaching " + redirect_uri);
}

}  // namespace da::testing
