#include "state/magic_links.h"

#include "common/hash.h"
#include "common/time_util.h"

namespace da::state {

Result<std::string> CreateMagicLink(StateDb& db, const std::string& user_id, const std::string& next,
                                    int64_t ttl_seconds) {
  if (ttl_seconds <= 0) return InvalidArgument("magic link lifetime must be positive");
  std::string token = "ml_" + RandomHex(20);
  int64_t now = NowMicros();
  DA_RETURN_IF_ERROR(db.Write([&](db::Connection& c) {
    // Expired links are useless; drop them while here.
    Status cleaned = c.Execute("DELETE FROM magic_links WHERE expires_at < make_timestamp($1)", {now});
    if (!cleaned.ok()) return cleaned;
    return c.Execute(
        "INSERT INTO magic_links (token_hash, user_id, next, created_at, expires_at) "
        "VALUES ($1, $2, $3, make_timestamp($4), make_timestamp($5))",
        {Sha256Hex(token), user_id, next, now, now + ttl_seconds * 1000000});
  }));
  return token;
}

Result<MagicLinkGrant> ConsumeMagicLink(StateDb& db, const std::string& token) {
  const Status refused = Unauthenticated("this sign-in link is invalid, used or expired");
  if (token.size() != 43 || token.rfind("ml_", 0) != 0) return refused;
  int64_t now = NowMicros();
  return db.Write([&](db::Connection& c) -> Result<MagicLinkGrant> {
    DA_ASSIGN_OR_RETURN(
        db::QueryResult r,
        c.Query("UPDATE magic_links SET used_at = make_timestamp($2) WHERE token_hash = $1 "
                "AND used_at IS NULL AND expires_at > make_timestamp($2) "
                "RETURNING user_id, coalesce(next, '')",
                {Sha256Hex(token), now}));
    if (r.RowCount() == 0) return refused;
    return MagicLinkGrant{r.GetString(0, 0), r.GetString(1, 0)};
  });
}

}  // namespace da::state
