#include "server/openapi.h"

#include <gtest/gtest.h>

#include <chrono>
#include <map>
#include <set>
#include <thread>

#include "server/app.h"
#include "http/testing/test_client.h"
#include "server/openapi_validator.h"
#include "support/temp_dir.h"

namespace da::server {
namespace {

using OJ = nlohmann::ordered_json;

std::string Join(const std::vector<std::string>& v) {
  std::string out;
  for (const auto& s : v) out += "\n  " + s;
  return out;
}

/// The routes of the real server (every Register*Routes of ServerApp).
std::vector<RouteInfo> ServerRoutes() {
  da::testing::TempDir tmp;
  InstanceConfig config;
  config.data_dir = tmp.path() / "data";
  config.port = 0;
  config.scheduler_tick_sec = 0;
  auto app = ServerApp::Create(config);
  EXPECT_TRUE(app.ok()) << app.status().ToString();
  if (!app.ok()) return {};
  return (*app)->router().routes();
}

TEST(OpenApi, NormalizeRoutePath) {
  EXPECT_EQ(NormalizeRoutePath("/api/data/([^/]+)/download"), "/api/data/{}/download");
  EXPECT_EQ(NormalizeRoutePath("/api/data/{id}/download"), "/api/data/{}/download");
  EXPECT_EQ(NormalizeRoutePath(R"(/api/x/((a|b)+)/y/(\d+))"), "/api/x/{}/y/{}");
  EXPECT_EQ(NormalizeRoutePath(R"(/openapi\.json)"), "/openapi.json");
  EXPECT_EQ(NormalizeRoutePath("/api/health"), "/api/health");
  EXPECT_EQ(RouteKey("get", "/api/data/{id}/download"), RouteKey("GET", "/api/data/([^/]+)/download"));
}

TEST(OpenApi, YamlScalarsFollowTheCoreSchema) {
  auto doc = ParseOpenApiYaml(
      "a: 3.0.3\nb: '200'\nc: 200\nd: true\ne: 'true'\nf: ~\ng: 0.25\nh: [x, 'y', 1]\n"
      "i: 'daily 06:00'\nz: {k: v}\n");
  ASSERT_TRUE(doc.ok()) << doc.status().ToString();
  EXPECT_EQ(doc->dump(),
            R"({"a":"3.0.3","b":"200","c":200,"d":true,"e":"true","f":null,"g":0.25,)"
            R"("h":["x","y",1],"i":"daily 06:00","z":{"k":"v"}})");
  auto bad = ParseOpenApiYaml("a: [1, 2\n");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(bad.status().message().find("openapi.yaml"), std::string::npos);
}

TEST(OpenApi, CompareWithRoutesFindsEveryKindOfDrift) {
  OJ doc = OJ::parse(R"({"paths": {
      "/a/{id}": {"get": {"x-access": "public"}},
      "/a/{name}": {"get": {"x-access": "public"}},
      "/b": {"get": {"x-access": "admin"}},
      "/gone": {"post": {"x-access": "admin"}}}})");
  std::vector<RouteInfo> routes = {{"GET", "/a/([^/]+)", AccessLevel::kPublic},
                                   {"GET", "/b", AccessLevel::kAuthenticated},
                                   {"DELETE", "/a/{id}", AccessLevel::kAdmin}};
  DocDrift d = CompareWithRoutes(doc, routes);
  EXPECT_FALSE(d.ok());
  EXPECT_EQ(d.undocumented, (std::vector<std::string>{"DELETE /a/{}"}));
  EXPECT_EQ(d.not_registered, (std::vector<std::string>{"POST /gone"}));
  EXPECT_EQ(d.access_mismatch,
            (std::vector<std::string>{"GET /b (registered authenticated, documented admin)"}));
  EXPECT_EQ(d.duplicates, (std::vector<std::string>{"GET /a/{}"}));
}

// Both ways: every registered route is described (method + path, same access level) and every
// described operation is served.
TEST(OpenApi, DescribesExactlyTheRegisteredRoutes) {
  const auto routes = ServerRoutes();
  ASSERT_GT(routes.size(), 20u);
  DocDrift d = CompareWithRoutes(OpenApiDocument(), routes);
  EXPECT_TRUE(d.undocumented.empty()) << "registered but not described:" << Join(d.undocumented);
  EXPECT_TRUE(d.not_registered.empty()) << "described but not registered:" << Join(d.not_registered);
  EXPECT_TRUE(d.access_mismatch.empty()) << Join(d.access_mismatch);
  EXPECT_TRUE(d.duplicates.empty()) << Join(d.duplicates);
  std::set<std::string> keys;
  for (const auto& r : routes) keys.insert(r.method + " " + r.pattern);
  for (const char* k : {"GET /openapi.json", "GET /docs", "GET /api/health/detailed"}) {
    EXPECT_TRUE(keys.count(k)) << k;
  }
  // Metrics label every table id: they are served only on the metrics listener
  // (DA_METRICS_LISTEN), never on the API's routes (docs/security.md).
  EXPECT_EQ(keys.count("GET /metrics"), 0u);
}

// Body shapes: every described requestBody schema compiles and its example validates, and every
// route that takes a JSON body has one. Operations that change state without a JSON body are
// listed here with the reason.
TEST(OpenApi, RequestBodiesCompileTheirExamplesValidateAndBodiedRoutesHaveOne) {
  const std::map<std::string, std::string> kNoJsonBody = {
      {"POST /api/sync/runs/{}/cancel", "the run id is in the path"},
      {"POST /auth/cli/authorize", "an HTML form (application/x-www-form-urlencoded)"},
      {"POST /auth/email/verify", "an HTML form (application/x-www-form-urlencoded)"},
      {"POST /auth/logout", "the session is in the cookie"},
  };
  auto validator = BodyValidator::Create(nlohmann::json(OpenApiDocument()));
  ASSERT_TRUE(validator.ok()) << validator.status().ToString();
  size_t with_body = 0;
  for (const auto& [path, item] : OpenApiDocument()["paths"].items()) {
    for (const auto& [method, op] : item.items()) {
      const std::string key = RouteKey(method, path);
      SCOPED_TRACE(key);
      if (!op.contains("requestBody")) {
        if (method == "post" || method == "put" || method == "patch") {
          EXPECT_TRUE(kNoJsonBody.count(key)) << "takes a body but describes none";
        }
        continue;
      }
      EXPECT_FALSE(kNoJsonBody.count(key)) << "listed as body-less but describes a body";
      const auto& media = op["requestBody"]["content"]["application/json"];
      const BodySchema* schema = (*validator)->Find(method, path);
      ASSERT_NE(schema, nullptr);
      ASSERT_TRUE(media.contains("example")) << "add an example to the requestBody";
      Status valid = schema->Validate(nlohmann::json(media["example"]));
      EXPECT_TRUE(valid.ok()) << valid.ToString();
      ++with_body;
    }
  }
  EXPECT_EQ(with_body, (*validator)->schemas().size());
  EXPECT_GE(with_body, 15u);
  // Every served route that takes a body is described with one (routes ↔ operations above).
  for (const auto& r : ServerRoutes()) {
    if (r.method == "POST" || r.method == "PUT" || r.method == "PATCH") {
      const std::string key = RouteKey(r.method, r.pattern);
      EXPECT_TRUE(kNoJsonBody.count(key) ||
                  BodyValidator::Embedded().Find(r.method, r.pattern) != nullptr)
          << key;
    }
  }
}

TEST(OpenApi, ValidationNamesTheField) {
  const OJ doc = OJ::parse(R"({
    "paths": {"/t/{id}": {"post": {"requestBody": {"content": {"application/json": {"schema": {
      "type": "object",
      "properties": {
        "name": {"type": "string"},
        "mode": {"type": "string", "enum": ["a", "b"]},
        "n": {"type": "integer", "format": "int64", "nullable": true},
        "tags": {"type": "array", "items": {"type": "string"}},
        "run": {"$ref": "#/components/schemas/Run"}},
      "required": ["name"]}}}}}}},
    "components": {"schemas": {"Run": {"type": "object", "properties": {"id": {"type": "string"}}}}}
  })");
  auto v = BodyValidator::Create(nlohmann::json(doc));
  ASSERT_TRUE(v.ok()) << v.status().ToString();
  const BodySchema* s = (*v)->Find("POST", "/t/([^/]+)");
  ASSERT_NE(s, nullptr);
  EXPECT_EQ(s->operation(), "POST /t/{id}");
  auto message = [&](const std::string& body) {
    Status st = s->Validate(nlohmann::json::parse(body));
    return st.ToString();
  };
  EXPECT_EQ(message(R"({"name": "x", "n": null, "tags": ["a"], "run": {"id": "r"}})"), "ok");
  // A null optional field is taken as absent.
  EXPECT_EQ(message(R"({"name": "x", "mode": null, "tags": null})"), "ok");
  EXPECT_EQ(message(R"({"name": 5})"), "malformed: body.name: expected string");
  EXPECT_EQ(message(R"({})"), "invalid_argument: body.name: required");
  EXPECT_EQ(message(R"([1])"), "malformed: body: expected object");
  EXPECT_EQ(message(R"({"name": "x", "mode": "c"})"),
            "invalid_argument: body.mode: expected one of a, b");
  EXPECT_EQ(message(R"({"name": "x", "n": "7"})"),
            "malformed: body.n: expected integer or null");
  EXPECT_EQ(message(R"({"name": "x", "tags": ["a", 2]})"),
            "malformed: body.tags[1]: expected string");
  EXPECT_EQ(message(R"({"name": "x", "run": {"id": 1}})"),
            "malformed: body.run.id: expected string or null");
  // Raw bodies: empty, non-JSON and form bodies are left to the handler.
  EXPECT_TRUE(s->ValidateRaw("application/json", "").ok());
  EXPECT_TRUE(s->ValidateRaw("application/json", "{not json").ok());
  EXPECT_TRUE(s->ValidateRaw("application/x-www-form-urlencoded", "name=5").ok());
  EXPECT_FALSE(s->ValidateRaw("application/json", R"({"name": 5})").ok());
  EXPECT_EQ((*v)->Find("GET", "/t/{id}"), nullptr);

  auto broken = BodyValidator::Create(nlohmann::json::parse(
      R"({"paths": {"/x": {"put": {"requestBody": {"content": {"application/json":
          {"schema": {"$ref": "#/components/schemas/Nope"}}}}}}}})"));
  ASSERT_FALSE(broken.ok());
  EXPECT_NE(broken.status().message().find("PUT /x"), std::string::npos);
}

// The router's hook: a described route's body is checked after authentication, before the
// handler, and a violation is the error body naming the field (a wrong type: 400 malformed).
TEST(OpenApi, RouterRejectsABodyThatBreaksTheSchema) {
  http::Server server;
  Router router(server, [](const std::string&, const std::string&) -> Result<state::Principal> {
    return Unauthenticated("no tokens here");
  });
  int handled = 0;
  router.Post("/api/users", AccessLevel::kPublic,
              [&handled](const RequestContext&, const http::Request&, http::Response& res) {
                ++handled;
                WriteJson(res, 201, {{"ok", true}});
              });
  router.Post("/api/query", AccessLevel::kAuthenticated,
              [&handled](const RequestContext&, const http::Request&, http::Response& res) {
                ++handled;
                WriteJson(res, 200, {{"ok", true}});
              });
  int port = server.BindToAnyPort("127.0.0.1");
  ASSERT_GT(port, 0);
  std::thread thread([&server] { server.ListenAfterBind(); });
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (!server.IsRunning() && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::yield();
  }
  http::testing::TestClient c(port);
  auto bad = c.Send("POST", "/api/users", {}, R"({"email": 42})", "application/json");
  ASSERT_TRUE(bad);
  EXPECT_EQ(bad->status, 400);
  auto err = nlohmann::json::parse(bad->body)["error"];
  EXPECT_EQ(err["code"], "malformed");
  EXPECT_EQ(err["message"], "body.email: expected string");
  EXPECT_EQ(err["request_id"], bad->Header("X-Request-ID"));
  EXPECT_EQ(handled, 0);
  auto missing = c.Send("POST", "/api/users", {}, R"({"name": "Ana"})", "application/json");
  ASSERT_TRUE(missing);
  EXPECT_EQ(missing->status, 422);
  EXPECT_EQ(nlohmann::json::parse(missing->body)["error"]["message"], "body.email: required");
  auto good = c.Send("POST", "/api/users", {}, R"({"email": "a@b.c"})", "application/json");
  ASSERT_TRUE(good);
  EXPECT_EQ(good->status, 201);
  auto malformed = c.Send("POST", "/api/users", {}, "{oops", "application/json");  // left to the handler
  ASSERT_TRUE(malformed);
  EXPECT_EQ(malformed->status, 201);
  // Authentication comes first: no token → 401 even with a bad body.
  auto anon = c.Send("POST", "/api/query", {}, R"({"sql": 1})", "application/json");
  ASSERT_TRUE(anon);
  EXPECT_EQ(anon->status, 401);
  EXPECT_EQ(handled, 2);
  server.Stop();
  thread.join();
}

TEST(OpenApi, DocumentShape) {
  const OJ& doc = OpenApiDocument();
  EXPECT_EQ(doc["openapi"], "3.0.3");
  EXPECT_FALSE(doc["info"]["version"].get<std::string>().empty());
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
            declared.insert(p["name"].get<std::string>());
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
        EXPECT_EQ(op["security"], OJ::array());
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
  EXPECT_EQ(operations, ServerRoutes().size());
  // Spot checks of shapes others rely on.
  const auto& query = doc["paths"]["/api/query"]["post"];
  EXPECT_EQ(query["requestBody"]["content"]["application/json"]["schema"]["required"],
            OJ::array({"sql"}));
  const auto& qprops = query["responses"]["200"]["content"]["application/json"]["schema"]["properties"];
  for (const char* k : {"columns", "types", "rows", "row_count", "truncated"}) {
    EXPECT_TRUE(qprops.contains(k)) << k;
  }
  EXPECT_FALSE(doc["paths"].contains("/metrics"));
}

TEST(OpenApi, DocsPageIsSelfContainedAndComplete) {
  OJ doc = OpenApiDocument();
  doc["info"]["version"] = "1.2.3";
  std::string html = RenderDocsHtml(doc);
  EXPECT_EQ(html.rfind("<!doctype html>", 0), 0u);
  EXPECT_NE(html.find("Version 1.2.3."), std::string::npos);
  EXPECT_EQ(html.find("<script"), std::string::npos);
  EXPECT_EQ(html.find("src="), std::string::npos);
  EXPECT_EQ(html.find("http://"), std::string::npos);
  EXPECT_EQ(html.find("https://"), std::string::npos);
  EXPECT_EQ(html.find("<link"), std::string::npos);
  for (const auto& [path, item] : doc["paths"].items()) {
    for (const auto& [method, op] : item.items()) {
      EXPECT_NE(html.find("id=\"" + op["operationId"].get<std::string>() + "\""), std::string::npos)
          << path;
    }
    EXPECT_NE(html.find("<span class=\"path\">" + HtmlEscape(path) + "</span>"), std::string::npos)
        << path;
  }
  // Schema text is escaped: the Error schema's braces are fine, quotes are entities.
  EXPECT_NE(html.find("&quot;request_id&quot;"), std::string::npos);
}

}  // namespace
}  // namespace da::server
