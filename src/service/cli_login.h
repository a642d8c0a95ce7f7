#pragma once
/// `da login` through a browser (docs/security.md, "Signing the CLI in"): an authorization
/// code with a PKCE-style proof (RFC 7636, S256), as in OAuth's loopback flow for native apps
/// (RFC 8252 §7.3).
///
/// 1. The CLI makes a `state` and a code verifier, listens on 127.0.0.1:P and opens
///    /auth/cli/authorize?port=P&state=S&code_challenge=PkceS256(verifier)&code_challenge_method=S256.
/// 2. The signed-in browser approves (a POST from that page): Approve() returns a one-time code
///    bound to the user, the state and the challenge, and the browser is sent to
///    http://127.0.0.1:P/callback?state=S&code=C. The code alone grants nothing.
/// 3. The CLI POSTs {code, state, code_verifier} to /auth/cli/token: Exchange() burns the code
///    (whatever the outcome), checks that it is unexpired, that the state is the one it was
///    issued for and that PkceS256(code_verifier) is its challenge, and issues a personal access
///    token expiring after DA_CLI_TOKEN_TTL_DAYS (default 90).
/// Nothing that grants access is ever in a URL or the browser's history.
#include <chrono>
#include <cstdint>
#include <list>
#include <mutex>
#include <string>
#include <unordered_map>

#include "common/status.h"
#include "service/caller.h"
#include "service/context.h"
#include "state/users.h"

namespace da::service {

/// A code's lifetime: the time from approval in the browser to the CLI's exchange.
inline constexpr std::chrono::seconds kCliCodeLifetime{300};
/// Codes waiting to be exchanged; when full, the oldest is dropped (never the whole table).
inline constexpr size_t kMaxPendingCliCodes = 1000;

/// The CLI's `state` value: 1..128 of [A-Za-z0-9_-].
bool ValidCliState(const std::string& state);

/// Lifetime of the token `da login` receives: DA_CLI_TOKEN_TTL_DAYS (1..3650; default 90).
/// invalid_argument naming the variable otherwise.
Result<int64_t> CliTokenTtlSeconds();

struct CliApproval {
  std::string state;
  std::string code_challenge;         ///< base64url, 43 characters
  std::string code_challenge_method;  ///< must be "S256"
};

struct CliExchange {
  std::string code;
  std::string state;
  std::string code_verifier;
};

struct CliTokenAnswer {
  state::IssuedToken token;
  std::string name;  ///< "da CLI (<date>)"
};
/// `{token, id, name, prefix, expires_at}`
nlohmann::json ToJson(const CliTokenAnswer& a);

/// Thread-safe; the pending codes live in memory only (a restart asks the user to approve
/// again).
class CliLoginService {
 public:
  explicit CliLoginService(const ServiceContext& ctx) : ctx_(ctx) {}

  /// Checks an approval request before the page is shown: invalid_argument for a bad state,
  /// a missing challenge or a method other than S256.
  static Status CheckApproval(const CliApproval& approval);
  /// The signed-in user approves in the browser. Needs a browser or password session
  /// (permission_denied for a PAT or bootstrap token). Returns the one-time code.
  Result<std::string> Approve(const Caller& caller, const CliApproval& approval);
  /// Public: trades a code for a token. One attempt per code. Every failure is the same
  /// unauthenticated "invalid or expired code", audited as `cli_login_failed`.
  Result<CliTokenAnswer> Exchange(const Caller& caller, const CliExchange& exchange);

 private:
  struct Pending {
    std::string user_id;
    std::string state;
    std::string challenge;
    std::chrono::steady_clock::time_point expires;
    std::list<std::string>::iterator order;  ///< position in order_
  };
  ServiceContext ctx_;
  std::mutex mu_;
  std::unordered_map<std::string, Pending> pending_;  ///< sha256 hex of the code → approval
  std::list<std::string> order_;                      ///< keys, oldest first
};

}  // namespace da::service
