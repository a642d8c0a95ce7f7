#include "state/oidc_identities.h"

#include "common/time_util.h"

namespace da::state {

Result<std::optional<std::string>> UserOfOidcIdentity(StateDb& db, const std::string& issuer,
                                                      const std::string& subject) {
  return db.Read([&](db::Connection& c) -> Result<std::optional<std::string>> {
    DA_ASSIGN_OR_RETURN(db::QueryResult r,
                        c.Query("SELECT user_id FROM oidc_identities WHERE issuer = $1 AND subject = $2",
                                {issuer, subject}));
    if (r.RowCount() == 0) return std::optional<std::string>();
    return std::optional<std::string>(r.GetString(0, 0));
  });
}

Result<std::optional<std::string>> OidcSubjectOf(StateDb& db, const std::string& user_id,
                                                 const std::string& issuer) {
  return db.Read([&](db::Connection& c) -> Result<std::optional<std::string>> {
    DA_ASSIGN_OR_RETURN(db::QueryResult r,
                        c.Query("SELECT subject FROM oidc_identities WHERE user_id = $1 AND issuer = $2",
                                {user_id, issuer}));
    if (r.RowCount() == 0) return std::optional<std::string>();
    return std::optional<std::string>(r.GetString(0, 0));
  });
}

Status BindOidcIdentity(StateDb& db, const std::string& user_id, const std::string& issuer,
                        const std::string& subject) {
  if (issuer.empty() || subject.empty()) return InvalidArgument("an OIDC identity needs an issuer and a subject");
  return db.Write([&](db::Connection& c) -> Status {
    DA_ASSIGN_OR_RETURN(
        db::QueryResult taken,
        c.Query("SELECT count(*) FROM oidc_identities WHERE issuer = $1 AND (subject = $2 OR user_id = $3)",
                {issuer, subject, user_id}));
    if (taken.GetInt64(0, 0) > 0) {
      return AlreadyExists("the OIDC identity or the user is already bound at this issuer");
    }
    return c.Execute(
        "INSERT INTO oidc_identities (issuer, subject, user_id, created_at) VALUES ($1, $2, $3, make_timestamp($4))",
        {issuer, subject, user_id, NowMicros()});
  });
}

}  // namespace da::state
