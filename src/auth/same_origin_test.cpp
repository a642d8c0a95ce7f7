// Issue 13, sign-in items 5 and 8: the one rule for where a browser may go after sign-in, and
// the origin check of sign-in form posts.
#include "auth/same_origin.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace da::auth {
namespace {

// Open redirect after sign-in: every shape that a browser would resolve off-site falls back to "/".
TEST(SameOriginPathTest, OpenRedirectShapesFallBackToRoot) {
  EXPECT_EQ(SameOriginPath("/a/b?c=d#e"), "/a/b?c=d#e");
  EXPECT_EQ(SameOriginPath("/catalog/x%2Fy"), "/catalog/x%2Fy");
  EXPECT_EQ(SameOriginPath("/%2F%2Fevil.example"), "/%2F%2Fevil.example");  // stays a path here
  for (const std::string& bad : std::vector<std::string>{
       "//evil.example", "/\\evil.example", "\\\\evil.example", "/\t/evil.example", "/\n/evil.example",
        "/\r/evil.example", "\t//evil.example", "/a\\b", "https://evil.example", "http:evil.example",
        "javascript:alert(1)", " /x", "evil.example", "", "/a\r\nSet-Cookie: x", "/\x7f/evil",
        std::string("/\0/evil", 7)}) {
    EXPECT_EQ(SameOriginPath(bad), "/") << "accepted: " << bad;
  }
  EXPECT_EQ(SameOriginPath("/" + std::string(3000, 'a')), "/");
}

TEST(PublicUrlTest, ParsesOriginAndBase) {
  auto u = ParsePublicUrl("HTTPS://Da.Example.com:443/");
  ASSERT_TRUE(u.ok()) << u.status().ToString();
  EXPECT_EQ(u->origin, "https://da.example.com");
  EXPECT_EQ(u->base, "https://da.example.com");
  EXPECT_TRUE(u->is_https);
  auto with_path = ParsePublicUrl("http://127.0.0.1:8000/da/");
  ASSERT_TRUE(with_path.ok());
  EXPECT_EQ(with_path->origin, "http://127.0.0.1:8000");
  EXPECT_EQ(with_path->base, "http://127.0.0.1:8000/da");
  EXPECT_FALSE(with_path->is_https);
  for (const char* bad : {"da.example.com", "ftp://da.example.com", "https://", "https://u@da.example.com",
                          "https://da.example.com/?x=1", "https://da.example.com/#f"}) {
    EXPECT_EQ(ParsePublicUrl(bad).status().code(), StatusCode::kInvalidArgument) << bad;
  }
}

// Login CSRF: a sign-in form posted from another site is recognised by its Origin or Referer.
TEST(FromOwnOriginTest, ComparesOriginThenRefererWithThePublicUrl) {
  const std::string pub = "https://da.example.com";
  EXPECT_TRUE(FromOwnOrigin("https://da.example.com", "", pub, "anything", false));
  EXPECT_TRUE(FromOwnOrigin("https://DA.example.com:443", "", pub, "", false));
  EXPECT_FALSE(FromOwnOrigin("https://evil.example", "", pub, "da.example.com", false));
  EXPECT_FALSE(FromOwnOrigin("http://da.example.com", "", pub, "da.example.com", false));
  EXPECT_FALSE(FromOwnOrigin("null", "https://da.example.com/login", pub, "", true));
  EXPECT_TRUE(FromOwnOrigin("", "https://da.example.com/login?next=/", pub, "", false));
  EXPECT_FALSE(FromOwnOrigin("", "https://da.example.com.evil.example/login", pub, "", true));
  // Neither header: only where the caller allows it (a JSON body from a CLI).
  EXPECT_TRUE(FromOwnOrigin("", "", pub, "", true));
  EXPECT_FALSE(FromOwnOrigin("", "", pub, "", false));
  // Without a public URL the origin must name the Host the request was sent to.
  EXPECT_TRUE(FromOwnOrigin("http://127.0.0.1:8000", "", "", "127.0.0.1:8000", false));
  EXPECT_TRUE(FromOwnOrigin("https://da.example.com", "", "", "da.example.com:443", false));
  EXPECT_FALSE(FromOwnOrigin("http://127.0.0.1:9999", "", "", "127.0.0.1:8000", false));
  EXPECT_FALSE(FromOwnOrigin("http://evil.example", "", "", "", false));
}

}  // namespace
}  // namespace da::auth
