#include "service/cli_login.h"

#include <cctype>
#include <cstdlib>

#include <openssl/crypto.h>

#include "auth/pkce.h"
#include "common/hash.h"
#include "common/time_util.h"
#include "service/bootstrap_token.h"
#include "service/errors.h"

namespace da::service {

using nlohmann::json;

bool ValidCliState(const std::string& state) {
  if (state.empty() || state.size() > 128) return false;
  for (char c : state) {
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_')) return false;
  }
  return true;
}

Result<int64_t> CliTokenTtlSeconds() {
  const char* v = std::getenv("DA_CLI_TOKEN_TTL_DAYS");
  if (v == nullptr || *v == '\0') return int64_t{90} * 86400;
  char* end = nullptr;
  const long long days = std::strtoll(v, &end, 10);
  if (end == v || *end != '\0' || days < 1 || days > 3650) {
    return InvalidArgument("DA_CLI_TOKEN_TTL_DAYS must be a whole number of days, 1..3650");
  }
  return static_cast<int64_t>(days) * 86400;
}

json ToJson(const CliTokenAnswer& a) {
  return {{"token", a.token.token},
          {"id", a.token.id},
          {"name", a.name},
          {"prefix", a.token.prefix},
          {"expires_at", a.token.expires_at.empty() ? json() : json(a.token.expires_at)}};
}

Status CliLoginService::CheckApproval(const CliApproval& approval) {
  if (!ValidCliState(approval.state)) {
    return InvalidArgument("state must be 1..128 characters of [A-Za-z0-9_-]");
  }
  if (approval.code_challenge_method != "S256" || approval.code_challenge.size() != 43) {
    return InvalidArgument(
        "code_challenge (43 characters, S256) and code_challenge_method=S256 are required; "
        "update the da CLI if it sent neither");
  }
  for (char c : approval.code_challenge) {
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_')) {
      return InvalidArgument("code_challenge must be base64url");
    }
  }
  return Status::Ok();
}

Result<std::string> CliLoginService::Approve(const Caller& caller, const CliApproval& approval) {
  DA_RETURN_IF_ERROR(CheckApproval(approval));
  if (caller.principal.token_kind != state::kTokenKindSession) {
    return PermissionDenied("approve `da login` in a signed-in browser");
  }
  const std::string code = RandomHex(32);
  const std::string key = Sha256Hex(code);
  const auto now = std::chrono::steady_clock::now();
  {
    std::lock_guard<std::mutex> lock(mu_);
    while (!order_.empty() && (pending_.size() >= kMaxPendingCliCodes ||
                               pending_.at(order_.front()).expires <= now)) {
      pending_.erase(order_.front());
      order_.pop_front();
    }
    order_.push_back(key);
    pending_[key] = Pending{caller.principal.user_id, approval.state, approval.code_challenge,
                            now + kCliCodeLifetime, std::prev(order_.end())};
  }
  AuditCall(ctx_.db, caller, "cli_login_approved", caller.principal.user_id);
  return code;
}

Result<CliTokenAnswer> CliLoginService::Exchange(const Caller& caller, const CliExchange& exchange) {
  auto refuse = [&](const char* reason) -> Status {
    AuditCall(ctx_.db, caller, "cli_login_failed", "", {{"reason", reason}}, "refused");
    return Unauthenticated("invalid or expired code");
  };
  if (exchange.code.empty() || exchange.code.size() > 256) return refuse("bad code");
  Pending found;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = pending_.find(Sha256Hex(exchange.code));
    if (it == pending_.end()) return refuse("unknown or used code");
    found = it->second;  // one attempt per code, whatever its outcome
    order_.erase(it->second.order);
    pending_.erase(it);
  }
  if (found.expires <= std::chrono::steady_clock::now()) return refuse("code expired");
  if (exchange.state != found.state) return refuse("state does not match");
  if (!auth::ValidPkceVerifier(exchange.code_verifier)) return refuse("bad code_verifier");
  const std::string challenge = auth::PkceS256(exchange.code_verifier);
  if (challenge.size() != found.challenge.size() ||
      CRYPTO_memcmp(challenge.data(), found.challenge.data(), challenge.size()) != 0) {
    return refuse("code_verifier does not match the challenge");
  }
  DA_ASSIGN_OR_RETURN(auto user, ctx_.users.FindById(found.user_id));
  if (!user || !user->active) return refuse("user inactive");
  DA_ASSIGN_OR_RETURN(int64_t ttl, CliTokenTtlSeconds());
  const std::string name = "da CLI (" + NowIso().substr(0, 10) + ")";
  DA_ASSIGN_OR_RETURN(state::IssuedToken t,
                      ctx_.users.CreateToken(found.user_id, name, ttl, state::kTokenKindPat));
  Caller as_user = caller;
  as_user.principal.user_id = found.user_id;
  AuditCall(ctx_.db, as_user, "token_created", t.id,
            {{"name", name}, {"via", "cli_login"}, {"prefix", t.prefix}});
  DA_RETURN_IF_ERROR(RetireBootstrapToken(ctx_, as_user, found.user_id, "token_created"));
  return CliTokenAnswer{std::move(t), name};
}

}  // namespace da::service
