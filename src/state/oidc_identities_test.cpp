// Issue 13, sign-in item 1: one OIDC identity per user per issuer, one user per identity.
#include "state/oidc_identities.h"

#include <gtest/gtest.h>

#include "support/state_db_fixture.h"
#include "support/status_macros.h"

namespace da::state {
namespace {

using OidcIdentitiesTest = testing::StateDbFixture;

TEST_F(OidcIdentitiesTest, AnIdentityBindsOneUserAndAUserOneIdentityPerIssuer) {
  const std::string google = "https://accounts.google.com";
  auto none = UserOfOidcIdentity(*db_, google, "111");
  ASSERT_OK(none);
  EXPECT_FALSE(none->has_value());
  ASSERT_OK(BindOidcIdentity(*db_, "alice", google, "111"));
  EXPECT_EQ(**UserOfOidcIdentity(*db_, google, "111"), "alice");
  EXPECT_EQ(**OidcSubjectOf(*db_, "alice", google), "111");
  // The same sub for another user, or another sub for alice at this issuer: refused, not merged.
  EXPECT_EQ(BindOidcIdentity(*db_, "mallory", google, "111").code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(BindOidcIdentity(*db_, "alice", google, "222").code(), StatusCode::kAlreadyExists);
  EXPECT_FALSE(UserOfOidcIdentity(*db_, google, "222")->has_value());
  // Another issuer is another namespace of subjects.
  ASSERT_OK(BindOidcIdentity(*db_, "alice", "https://idp.example.test", "111"));
  EXPECT_EQ(**UserOfOidcIdentity(*db_, "https://idp.example.test", "111"), "alice");
  EXPECT_EQ(BindOidcIdentity(*db_, "bob", google, "").code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace da::state
