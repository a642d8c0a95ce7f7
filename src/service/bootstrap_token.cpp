#include "service/bootstrap_token.h"

#include <cstdlib>
#include <system_error>

#include "auth/password.h"
#include "common/fs_util.h"
#include "common/log.h"

namespace da::service {
namespace {

constexpr int64_t kDefaultTtlHours = 24;
constexpr int64_t kMaxTtlHours = 24 * 365;

/// Removes the token file; a file already gone is not an error.
void RemoveTokenFile(const InstanceConfig& config) {
  std::error_code ec;
  if (std::filesystem::remove(BootstrapTokenPath(config), ec)) {
    spdlog::info("bootstrap token file removed: {}", BootstrapTokenPath(config).string());
  } else if (ec) {
    spdlog::warn("cannot remove the bootstrap token file {}: {}",
                 BootstrapTokenPath(config).string(), ec.message());
  }
}

/// Later starts: the file goes when its token no longer signs anyone in (expired, revoked).
void RemoveStaleTokenFile(const ServiceContext& ctx) {
  const auto path = BootstrapTokenPath(ctx.config);
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) return;
  auto text = ReadFile(path);
  std::string token = text.ok() ? *text : std::string();
  while (!token.empty() && (token.back() == '\n' || token.back() == '\r')) token.pop_back();
  auto who = ctx.users.Authenticate(token);
  if (!who.ok() || who->token_kind != state::kTokenKindBootstrap) RemoveTokenFile(ctx.config);
}

}  // namespace

std::filesystem::path BootstrapTokenPath(const InstanceConfig& config) {
  return config.StateDir() / "bootstrap-token";
}

Result<int64_t> BootstrapTokenTtlSeconds() {
  const char* v = std::getenv("DA_BOOTSTRAP_TOKEN_TTL_HOURS");
  if (v == nullptr || *v == '\0') return kDefaultTtlHours * 3600;
  char* end = nullptr;
  const long long hours = std::strtoll(v, &end, 10);
  if (end == v || *end != '\0' || hours < 1 || hours > kMaxTtlHours) {
    return InvalidArgument("DA_BOOTSTRAP_TOKEN_TTL_HOURS must be a whole number of hours, 1.." +
                           std::to_string(kMaxTtlHours));
  }
  return static_cast<int64_t>(hours) * 3600;
}

Result<BootstrapOutcome> EnsureBootstrapAdmin(const ServiceContext& ctx) {
  BootstrapOutcome out;
  DA_ASSIGN_OR_RETURN(int64_t n, ctx.users.CountUsers());
  if (n > 0) {
    RemoveStaleTokenFile(ctx);
    return out;
  }
  const char* email_env = std::getenv("DA_BOOTSTRAP_ADMIN_EMAIL");
  const char* password_env = std::getenv("DA_BOOTSTRAP_ADMIN_PASSWORD");
  const std::string email = email_env != nullptr && *email_env ? email_env : "admin@localhost";
  std::string password_hash;
  if (password_env != nullptr && *password_env) {
    DA_RETURN_IF_ERROR(
        auth::CheckPasswordPolicy(password_env).WithContext("DA_BOOTSTRAP_ADMIN_PASSWORD"));
    DA_ASSIGN_OR_RETURN(password_hash, auth::HashPassword(password_env));
  }
  DA_ASSIGN_OR_RETURN(int64_t ttl, BootstrapTokenTtlSeconds());
  DA_ASSIGN_OR_RETURN(state::User admin, ctx.users.CreateUser(email, "admin", true));
  out.admin_created = true;
  out.email = admin.email;
  state::Audit(ctx.db, admin.id, "bootstrap_admin_created", admin.id, "{}");
  if (!password_hash.empty()) {
    DA_RETURN_IF_ERROR(ctx.users.SetPasswordHash(admin.id, password_hash));
    RemoveTokenFile(ctx.config);  // a file left by an earlier data dir must not outlive it
    return out;
  }
  DA_ASSIGN_OR_RETURN(state::IssuedToken token,
                      ctx.users.CreateToken(admin.id, "bootstrap", ttl, state::kTokenKindBootstrap));
  out.token_path = BootstrapTokenPath(ctx.config);
  DA_RETURN_IF_ERROR(WriteFileAtomic(out.token_path, token.token + "\n", 0600));
  out.token_written = true;
  out.token_ttl_seconds = ttl;
  return out;
}

Status RetireBootstrapToken(const ServiceContext& ctx, const Caller& caller,
                            const std::string& user_id, const std::string& reason) {
  DA_ASSIGN_OR_RETURN(int64_t revoked,
                      ctx.users.RevokeTokensOf(user_id, {state::kTokenKindBootstrap}, ""));
  if (revoked == 0) return Status::Ok();
  AuditCall(ctx.db, caller, "bootstrap_token_revoked", user_id, {{"reason", reason}});
  RemoveTokenFile(ctx.config);
  return Status::Ok();
}

}  // namespace da::service
