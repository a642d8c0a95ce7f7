// Path templates: parsing, segment-wise matching, parameters, tails, precedence.
#include "http/route_table.h"

#include <gtest/gtest.h>

#include <stdexcept>

#include "http/url.h"

namespace da::http {
namespace {

std::vector<std::string> Segments(const std::string& target) {
  ParsedTarget t;
  EXPECT_TRUE(ParseTarget(target, t)) << target;
  return t.segments;
}

TEST(RouteTemplate, ParsesLiteralsParamsAndTail) {
  auto t = ParseTemplate("/api/data/{id}/files/{*rest}");
  ASSERT_TRUE(t.ok());
  ASSERT_EQ(t->size(), 5u);
  EXPECT_EQ((*t)[0].kind, TemplateSegment::Kind::kLiteral);
  EXPECT_EQ((*t)[2].kind, TemplateSegment::Kind::kParam);
  EXPECT_EQ((*t)[2].text, "id");
  EXPECT_EQ((*t)[4].kind, TemplateSegment::Kind::kTail);
  EXPECT_EQ((*t)[4].text, "rest");
  EXPECT_TRUE(ParseTemplate("/")->empty());
}

TEST(RouteTemplate, RejectsMalformedTemplates) {
  EXPECT_FALSE(ParseTemplate("api/x").ok());
  EXPECT_FALSE(ParseTemplate("/a/{id").ok());
  EXPECT_FALSE(ParseTemplate("/a/{}").ok());
  EXPECT_FALSE(ParseTemplate("/a/x{id}").ok());
  EXPECT_FALSE(ParseTemplate("/a/{id}/{id}").ok());
  EXPECT_FALSE(ParseTemplate("/a/{*rest}/b").ok());
  RouteTable table;
  EXPECT_THROW(table.Add("GET", "/a/([^/]+)"), std::logic_error);
}

TEST(RouteTable, MatchesParamsAndDecodesEachSegment) {
  RouteTable table;
  table.Add("GET", "/api/health");
  table.Add("GET", "/api/data/{id}/download");
  table.Add("GET", "/api/data/{id}/files/{name}");
  auto m = table.Find("GET", Segments("/api/data/air%20ports/download"));
  ASSERT_TRUE(m);
  EXPECT_EQ(m->index, 1u);
  ASSERT_EQ(m->params.size(), 1u);
  EXPECT_EQ(m->params[0].first, "id");
  EXPECT_EQ(m->params[0].second, "air ports");
  // %2F stays inside its segment: one id, not two segments.
  m = table.Find("GET", Segments("/api/data/..%2Fstate/download"));
  ASSERT_TRUE(m);
  EXPECT_EQ(m->params[0].second, "../state");
  m = table.Find("GET", Segments("/api/data/t/files/2024-01.parquet"));
  ASSERT_TRUE(m);
  EXPECT_EQ(m->index, 2u);
  EXPECT_EQ(m->params[1].second, "2024-01.parquet");
  // Literal segments decode too.
  EXPECT_TRUE(table.Find("GET", Segments("/api/heal%74h")));
}

TEST(RouteTable, NoMatchAndMethods) {
  RouteTable table;
  table.Add("GET", "/api/data/{id}/download");
  table.Add("POST", "/api/query");
  EXPECT_FALSE(table.Find("GET", Segments("/api/data//download")));   // empty parameter
  EXPECT_FALSE(table.Find("GET", Segments("/api/data/x/download/")));  // trailing slash
  EXPECT_FALSE(table.Find("GET", Segments("/api/data/x")));
  EXPECT_FALSE(table.Find("GET", Segments("/")));
  bool path_matched = false;
  EXPECT_FALSE(table.Find("GET", Segments("/api/query"), &path_matched));
  EXPECT_TRUE(path_matched);
  EXPECT_TRUE(table.Find("HEAD", Segments("/api/data/x/download")));  // HEAD uses GET routes
  EXPECT_FALSE(table.Find("HEAD", Segments("/api/query")));
}

TEST(RouteTable, TailTakesTheRestAndFirstRegisteredWins) {
  RouteTable table;
  table.Add("GET", "/ui/app.js");
  table.Add("GET", "/ui/{*path}");
  table.Add("GET", "/ui/{name}");  // never reached: the tail above wins for one segment too
  table.Add("GET", "/");
  auto m = table.Find("GET", Segments("/ui/app.js"));
  ASSERT_TRUE(m);
  EXPECT_EQ(m->index, 0u);
  m = table.Find("GET", Segments("/ui/css/site%20main.css"));
  ASSERT_TRUE(m);
  EXPECT_EQ(m->index, 1u);
  EXPECT_EQ(m->params[0].first, "path");
  EXPECT_EQ(m->params[0].second, "css/site main.css");
  m = table.Find("GET", Segments("/ui/x"));
  ASSERT_TRUE(m);
  EXPECT_EQ(m->index, 1u);
  EXPECT_FALSE(table.Find("GET", Segments("/ui")));  // a tail needs at least one segment
  EXPECT_FALSE(table.Find("GET", Segments("/ui/")));  // ... that is not empty
  m = table.Find("GET", Segments("/"));
  ASSERT_TRUE(m);
  EXPECT_EQ(m->index, 3u);
}

TEST(Url, ParsesTargetsAndForms) {
  ParsedTarget t;
  ASSERT_TRUE(ParseTarget("/a%20b/c?x=1&x=2&y=a+b%26&flag", t));
  EXPECT_EQ(t.path, "/a b/c");
  EXPECT_EQ(t.segments, (std::vector<std::string>{"a b", "c"}));
  EXPECT_EQ(t.query.count("x"), 2u);
  EXPECT_EQ(t.query.find("y")->second, "a b&");
  EXPECT_EQ(t.query.find("flag")->second, "");
  EXPECT_FALSE(ParseTarget("http://example.com/a", t));
  EXPECT_FALSE(ParseTarget("*", t));
  EXPECT_FALSE(ParseTarget("/bad%zz", t));
  auto form = ParseFormUrlEncoded("csrf_token=a%2Bb&x=1+2");
  EXPECT_EQ(form.find("csrf_token")->second, "a+b");
  EXPECT_EQ(form.find("x")->second, "1 2");
  EXPECT_TRUE(ParseFormUrlEncoded("%zz=1").empty());
}

}  // namespace
}  // namespace da::http
