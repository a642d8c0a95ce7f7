// ParseTarget against Boost.URL on its own: the plain-path shortcut must give exactly what
// Boost.URL's origin-form parse gives (acceptance, decoded path, segments, query).
#include "http/url.h"

#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

#include <boost/url.hpp>

namespace da::http {
namespace {

/// What Boost.URL alone answers for `target` (the parse ParseTarget made for every target).
bool BoostParse(std::string_view target, ParsedTarget& out) {
  auto parsed = boost::urls::parse_origin_form(target);
  if (!parsed) return false;
  out.path = parsed->path();
  out.segments.clear();
  for (auto seg : parsed->segments()) out.segments.push_back(seg);
  out.query.clear();
  if (parsed->has_query()) {
    for (auto p : parsed->params()) {
      if (p.key.empty() && p.value.empty()) continue;
      out.query.emplace(p.key, p.value);
    }
  }
  return true;
}

void ExpectSameAsBoost(const std::string& target) {
  ParsedTarget ours, boost;
  const bool ok = ParseTarget(target, ours);
  ASSERT_EQ(ok, BoostParse(target, boost)) << target;
  if (!ok) return;
  EXPECT_EQ(ours.path, boost.path) << target;
  EXPECT_EQ(ours.segments, boost.segments) << target;
  EXPECT_EQ(ours.query, boost.query) << target;
}

TEST(Url, PlainPathsParseAsBoostUrlDoes) {
  for (const char* t :
       {"/", "/api/health", "/api/catalog/tables", "/a/", "/a//b", "//", "//a", "/a/./b", "/../a",
        "/.", "/..", "/a+b", "/a:b@c", "/~user/x-y_z.json", "/!$&'()*+,;=", "/a/b/",
        "/ui/assets/app.js", "/a b", "/a\"b", "/a<b>", "/a\\b", "/a%2Fb/c", "/a?", "/a?x",
        "/a#frag", "", "a", "*", "/\x7f", "/\xc3\xa9"}) {
    ExpectSameAsBoost(t);
  }
}

TEST(Url, RandomTargetsParseAsBoostUrlDoes) {
  // Mostly plain characters, with the ones that leave the shortcut mixed in.
  const std::string alphabet = "abcXYZ019-._~!$&'()*+,;=:@////....%%2F20?=?=&&## \"<>\\^`{|}";
  std::mt19937 rng(1234);
  std::uniform_int_distribution<size_t> pick(0, alphabet.size() - 1);
  std::uniform_int_distribution<int> length(0, 24);
  for (int i = 0; i < 100000; ++i) {
    std::string target = "/";
    for (int n = length(rng); n > 0; --n) target += alphabet[pick(rng)];
    ExpectSameAsBoost(target);
    if (HasFailure()) return;
  }
}

}  // namespace
}  // namespace da::http
