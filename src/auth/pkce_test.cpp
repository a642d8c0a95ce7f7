#include "auth/pkce.h"

#include <gtest/gtest.h>

namespace da::auth {
namespace {

// RFC 7636 Appendix B: the example verifier and its S256 challenge.
TEST(Pkce, S256MatchesTheRfcExample) {
  EXPECT_EQ(PkceS256("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"),
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM");
}

TEST(Pkce, NewVerifiersAreValidAndDistinct) {
  const std::string a = NewPkceVerifier(), b = NewPkceVerifier();
  EXPECT_EQ(a.size(), 43u);
  EXPECT_TRUE(ValidPkceVerifier(a));
  EXPECT_NE(a, b);
}

TEST(Pkce, VerifierCharactersAndLengthAreChecked) {
  EXPECT_FALSE(ValidPkceVerifier(std::string(42, 'a')));
  EXPECT_TRUE(ValidPkceVerifier(std::string(128, 'a')));
  EXPECT_FALSE(ValidPkceVerifier(std::string(129, 'a')));
  EXPECT_FALSE(ValidPkceVerifier(std::string(42, 'a') + "/"));
  EXPECT_TRUE(ValidPkceVerifier(std::string(40, 'a') + "-._~"));
}

}  // namespace
}  // namespace da::auth
