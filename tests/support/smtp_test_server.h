#pragma once
/// A real SMTP server (tests/emulators/smtp/server.js, npm smtp-server) started by
/// a test, and the mails it received. Used by the mailer tests and the magic-link tests.
///
///   #include "support/smtp_test_server.h"
///   // CMake: link the test with da_test_support_signin (adds DA_SOURCE_DIR and the deps).
///   da::testing::SmtpTestServer::Options options;   // or Start() for no AUTH
///   options.user = "mailer";
///   options.password = "pw";
///   auto smtp = da::testing::SmtpTestServer::Start(options);
///   ASSERT_OK(smtp);
///   da::auth::SmtpConfig config{(*smtp)->Url(), "da <da@example.test>"};   // or set DA_SMTP_URL
///   ... code under test sends a mail ...
///   auto mail = (*smtp)->WaitForMail(1);          // polls, bounded (default 10 s)
///   ASSERT_OK(mail);
///   EXPECT_EQ(mail->rcpt_to, std::vector<std::string>{"ann@example.test"});
///   EXPECT_EQ(mail->Header("Subject"), "Your sign-in link");
///   std::string body = mail->Body();               // CRLF line ends, as sent on the wire
///
/// The server listens on 127.0.0.1 (OS-chosen port); it stops when the object is destroyed.
/// Without TLS files it does not offer STARTTLS, so smtp:// sends in clear text (loopback only).
#include <algorithm>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "auth/https_fetch.h"
#include "support/node_emulator.h"
#include "support/temp_dir.h"

#ifndef DA_SOURCE_DIR
#error "DA_SOURCE_DIR must be defined (link the test with da_test_support_signin)"
#endif

namespace da::testing {

/// One message as the server received it.
struct ReceivedMail {
  std::string mail_from;             ///< envelope MAIL FROM address
  std::vector<std::string> rcpt_to;  ///< envelope RCPT TO addresses
  std::string auth_user;             ///< SMTP AUTH user, "" when none
  bool secure = false;               ///< the session used TLS (smtps or STARTTLS)
  std::string raw;                   ///< headers + CRLF CRLF + body, as received

  /// The first header `name` (case-insensitive), folded lines joined; "" when absent.
  std::string Header(const std::string& name) const {
    std::string head = raw.substr(0, raw.find("\r\n\r\n"));
    std::string lower_name = Lower(name) + ":";
    std::string value;
    bool in = false;
    std::stringstream lines(head);
    for (std::string line; std::getline(lines, line);) {
      if (!line.empty() && line.back() == '\r') line.pop_back();
      if (in && !line.empty() && (line[0] == ' ' || line[0] == '\t')) {
        value += line;
        continue;
      }
      if (in) break;
      if (Lower(line.substr(0, lower_name.size())) == lower_name) {
        in = true;
        value = line.substr(lower_name.size());
      }
    }
    size_t start = value.find_first_not_of(" \t");
    return start == std::string::npos ? "" : value.substr(start);
  }
  /// The body after the blank line (CRLF line ends).
  std::string Body() const {
    size_t at = raw.find("\r\n\r\n");
    return at == std::string::npos ? "" : raw.substr(at + 4);
  }

 private:
  static std::string Lower(std::string s) {
    std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return s;
  }
};

class SmtpTestServer {
 public:
  struct Options {
    std::string user;            ///< with password: AUTH required and checked
    std::string password;
    std::string tls_cert_file;   ///< PEM; with a key: STARTTLS offered (or implicit TLS)
    std::string tls_key_file;
    bool implicit_tls = false;   ///< smtps instead of STARTTLS
    std::string listen_host = "127.0.0.1";  ///< e.g. "0.0.0.0" to be reachable on other addresses
  };

  /// Starts a server without AUTH and without TLS.
  static Result<std::unique_ptr<SmtpTestServer>> Start() { return Start(Options()); }
  static Result<std::unique_ptr<SmtpTestServer>> Start(const Options& options) {
    std::unique_ptr<SmtpTestServer> s(new SmtpTestServer(options));
    std::vector<std::string> env = {"SMTP_HOST=" + options.listen_host};
    if (!options.user.empty()) {
      env.push_back("SMTP_USER=" + options.user);
      env.push_back("SMTP_PASS=" + options.password);
    }
    if (!options.tls_cert_file.empty()) {
      env.push_back("SMTP_TLS_CERT=" + options.tls_cert_file);
      env.push_back("SMTP_TLS_KEY=" + options.tls_key_file);
      if (options.implicit_tls) env.push_back("SMTP_SECURE=1");
    }
    DA_ASSIGN_OR_RETURN(s->emulator_, NodeEmulator::Start(DA_SOURCE_DIR "/tests/emulators/smtp/server.js",
                                                          {s->dir_.path().string()}, env));
    s->port_ = s->emulator_->ready().value("port", 0);
    return s;
  }

  int port() const { return port_; }
  /// smtp://[user:password@]127.0.0.1:<port> (smtps:// with implicit TLS); user and password
  /// percent-encoded. Pass `host` "localhost" when a certificate names localhost.
  std::string Url(const std::string& host = "127.0.0.1") const {
    std::string creds;
    if (!options_.user.empty()) creds = auth::FormEncode(options_.user) + ":" + auth::FormEncode(options_.password) + "@";
    return std::string(options_.implicit_tls ? "smtps" : "smtp") + "://" + creds + host + ":" + std::to_string(port_);
  }

  /// Every mail received so far, in arrival order.
  std::vector<ReceivedMail> Mails() const {
    std::vector<std::filesystem::path> files;
    for (const auto& e : std::filesystem::directory_iterator(dir_.path())) {
      if (e.path().extension() == ".json" && e.path().filename().string()[0] != '.') files.push_back(e.path());
    }
    std::sort(files.begin(), files.end());
    std::vector<ReceivedMail> mails;
    for (const auto& f : files) {
      std::ifstream in(f);
      auto j = nlohmann::json::parse(in, nullptr, false);
      if (!j.is_object()) continue;
      ReceivedMail m;
      m.mail_from = j.value("mail_from", "");
      m.rcpt_to = j.value("rcpt_to", std::vector<std::string>{});
      m.auth_user = j.value("auth_user", "");
      m.secure = j.value("secure", false);
      m.raw = j.value("raw", "");
      mails.push_back(std::move(m));
    }
    return mails;
  }

  /// The `count`-th mail (1-based), polling every 20 ms up to `timeout`; deadline_exceeded when
  /// fewer arrived.
  Result<ReceivedMail> WaitForMail(size_t count = 1, std::chrono::milliseconds timeout = std::chrono::seconds(10)) const {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
      auto mails = Mails();
      if (mails.size() >= count) return mails[count - 1];
      if (std::chrono::steady_clock::now() > deadline) {
        return DeadlineExceeded("SMTP test server received " + std::to_string(mails.size()) + " mail(s), expected " +
                                std::to_string(count));
      }
      ::poll(nullptr, 0, 20);
    }
  }

  /// The emulator's stderr (diagnostics for failed tests).
  std::string server_log() { return emulator_->stderr_text(); }

 private:
  explicit SmtpTestServer(Options options) : options_(std::move(options)), dir_("da-smtp-") {}
  Options options_;
  da::testing::TempDir dir_;
  std::unique_ptr<NodeEmulator> emulator_;
  int port_ = 0;
};

}  // namespace da::testing
