#include "server/openapi.h"

#include <gtest/gtest.h>

#include <set>

#include "server/app.h"
#include "support/temp_dir.h"

namespace da::server {
namespace {

std::string Join(const std::vector<std::string>& v) {
  std::string out;
  for (const auto& s : v) out += "\n  " + s;
  return out;
}

TEST(OpenApi, NormalizeRoutePath) {
  EXPECT_EQ(NormalizeRoutePath("/api/data/([^/]+)/download"), "/api/data/{}/download");
  EXPECT_EQ(NormalizeRoutePath("/api/data/{id}/download"), "/api/data/{}/download");
  EXPECT_EQ(NormalizeRoutePath(R"(/api/x/((a|b)+)/y/(\d+))"), "/api/x/{}/y/{}");
  EXPECT_EQ(NormalizeRoutePath(R"(/openapi\.json)"), "/openapi.json");
  EXPECT_EQ(NormalizeRoutePath("/api/health"), "/api/health");
}

TEST(OpenApi, CompareWithRoutesFindsEveryKindOfDrift) {
  std::vector<EndpointDoc> docs = {
      {"GET", "/a/{id}", AccessLevel::kPublic, "T", "s", "", {}, nullptr, {}},
      {"GET", "/b", AccessLevel::kAdmin, "T", "s", "", {}, nullptr, {}},
      {"POST", "/gone", AccessLevel::kAdmin, "T", "s", "", {}, nullptr, {}},
      {"GET", "/b", AccessLevel::kAdmin, "T", "dup", "", {}, nullptr, {}},
  };
  std::vector<RouteInfo> routes = {{"GET", "/a/([^/]+)", AccessLevel::kPublic},
                                   {"GET", "/b", AccessLevel::kAuthenticated},
                                   {"DELETE", "/a/([^/]+)", AccessLevel::kAdmin}};
  DocDrift d = CompareWithRoutes(docs, routes);
  EXPECT_FALSE(d.ok());
  EXPECT_EQ(d.undocumented, (std::vector<std::string>{"DELETE /a/{}"}));
  EXPECT_EQ(d.not_registered, (std::vector<std::string>{"POST /gone"}));
  EXPECT_EQ(d.access_mismatch,
            (std::vector<std::string>{"GET /b (registered authenticated, documented admin)"}));
  EXPECT_EQ(d.duplicates, (std::vector<std::string>{"GET /b"}));
}

// The real server's routes (every Register*Routes of ServerApp) against the description table.
TEST(OpenApi, DescribesExactlyTheRegisteredRoutes) {
  da::testing::TempDir tmp;
  InstanceConfig config;
  config.data_dir = tmp.path() / "data";
  config.port = 0;
  config.scheduler_tick_sec = 0;
  auto app = ServerApp::Create(config);
  ASSERT_TRUE(app.ok()) << app.status().ToString();
  const auto& routes = (*app)->router().routes();
  ASSERT_GT(routes.size(), 20u);
  DocDrift d = CompareWithRoutes(ApiEndpoints(), routes);
  EXPECT_TRUE(d.undocumented.empty()) << "registered but not documented:" << Join(d.undocumented);
  EXPECT_TRUE(d.not_registered.empty()) << "documented but not registered:" << Join(d.not_registered);
  EXPECT_TRUE(d.access_mismatch.empty()) << Join(d.access_mismatch);
  EXPECT_TRUE(d.duplicates.empty()) << Join(d.duplicates);
  // Sanity: the endpoints this part adds are registered.
  std::set<std::string> keys;
  for (const auto& r : routes) keys.insert(r.method + " " + r.pattern);
  for (const char* k : {"GET /metrics", "GET /openapi.json", "GET /docs", "GET /api/health/detailed"}) {
    EXPECT_TRUE(keys.count(k)) << k;
  }
}

TEST(OpenApi, DocumentShape) {
  nlohmann::json doc = BuildOpenApi(ApiEndpoints(), "9.9.9");
  EXPECT_EQ(doc["openapi"], "3.0.3");
  EXPECT_EQ(doc["info"]["version"], "9.9.9");
  EXPECT_EQ(doc["components"]["securitySchemes"]["bearerAuth"]["scheme"], "bearer");
  size_t operations = 0;
  for (const auto& [path, item] : doc["paths"].items()) {
    for (const auto& [method, op] : item.items()) {
      ++operations;
      SCOPED_TRACE(method + " " + path);
      EXPECT_FALSE(op["summary"].get<std::string>().empty());
      EXPECT_FALSE(op["responses"].empty());
      // Every {param} in the path is declared as a required path parameter.
      std::set<std::string> declared;
      if (op.contains("parameters")) {
        for (const auto& p : op["parameters"]) {
          if (p["in"] == "path") {
            EXPECT_TRUE(p["required"].get<bool>());
            declared.insert(p["name"]);
          }
        }
      }
      std::set<std::string> in_path;
      for (size_t i = path.find('{'); i != std::string::npos; i = path.find('{', i + 1)) {
        in_path.insert(path.substr(i + 1, path.find('}', i) - i - 1));
      }
      EXPECT_EQ(declared, in_path);
      // Public operations opt out of the global bearer requirement; others carry 401.
      if (op["x-access"] == "public") {
        EXPECT_EQ(op["security"], nlohmann::json::array());
      } else {
        EXPECT_FALSE(op.contains("security"));
        EXPECT_TRUE(op["responses"].contains("401"));
      }
      // $refs resolve.
      std::string dumped = op.dump();
      for (size_t i = dumped.find("#/components/schemas/"); i != std::string::npos;
           i = dumped.find("#/components/schemas/", i + 1)) {
        size_t start = i + std::string("#/components/schemas/").size();
        std::string name = dumped.substr(start, dumped.find('"', start) - start);
        EXPECT_TRUE(doc["components"]["schemas"].contains(name)) << name;
      }
    }
  }
  EXPECT_EQ(operations, ApiEndpoints().size());
  // Spot checks of shapes others rely on.
  auto query = doc["paths"]["/api/query"]["post"];
  EXPECT_EQ(query["requestBody"]["content"]["application/json"]["schema"]["required"],
            nlohmann::json::array({"sql"}));
  auto qprops = query["responses"]["200"]["content"]["application/json"]["schema"]["properties"];
  for (const char* k : {"columns", "types", "rows", "row_count", "truncated"}) {
    EXPECT_TRUE(qprops.contains(k)) << k;
  }
  EXPECT_TRUE(doc["paths"]["/metrics"]["get"]["responses"]["200"]["content"].contains(
      "text/plain; version=0.0.4"));
}

TEST(OpenApi, DocsPageIsSelfContainedAndComplete) {
  std::string html = RenderDocsHtml(ApiEndpoints(), "1.2.3");
  EXPECT_EQ(html.rfind("<!doctype html>", 0), 0u);
  EXPECT_EQ(html.find("<script"), std::string::npos);
  EXPECT_EQ(html.find("src="), std::string::npos);
  EXPECT_EQ(html.find("http://"), std::string::npos);
  EXPECT_EQ(html.find("https://"), std::string::npos);
  EXPECT_EQ(html.find("<link"), std::string::npos);
  for (const auto& ep : ApiEndpoints()) {
    EXPECT_NE(html.find("<span class=\"path\">" + ep.path + "</span>"), std::string::npos)
        << ep.path;
  }
  // Schema text is escaped: the Error schema's braces are fine, quotes are entities.
  EXPECT_NE(html.find("&quot;request_id&quot;"), std::string::npos);
}

}  // namespace
}  // namespace da::server
