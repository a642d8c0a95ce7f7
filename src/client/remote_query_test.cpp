#include "client/remote_query.h"
#include "support/status_macros.h"

#include <sstream>
#include <thread>

#include <gtest/gtest.h>
#include <httplib.h>

namespace da::client {
namespace {

using nlohmann::json;

/// What POST /api/query answers for kSql (the server's JSON shape and value rules).
json ServerAnswer() {
  return json{{"columns", {"n", "s", "d", "b", "day"}},
              {"types", {"INTEGER", "VARCHAR", "DOUBLE", "BOOLEAN", "DATE"}},
              {"rows",
               {{1, "a", 2.5, true, "2024-01-01"},
                {22, nullptr, nullptr, false, nullptr},
                {333, "say \"hi\", ok", -1.0, nullptr, "2024-12-31"}}},
              {"row_count", 3},
              {"truncated", false}};
}

const char* kSql =
    "SELECT * FROM (VALUES (1, 'a', 2.5::DOUBLE, true, DATE '2024-01-01'), "
    "(22, NULL, NULL, false, NULL), "
    "(333, 'say \"hi\", ok', -1.0::DOUBLE, NULL, DATE '2024-12-31')) t(n, s, d, b, day) ORDER BY n";

std::string RenderLocal(OutputFormat f) {
  auto database = db::Database::Open(":memory:");
  auto conn = database->Connect();
  auto r = conn->Query(kSql);
  EXPECT_OK(r);
  std::ostringstream out;
  WriteResult(*r, f, out);
  return out.str();
}

std::string RenderRemote(const json& answer, OutputFormat f) {
  auto remote = RemoteQueryResult::FromJson(answer);
  EXPECT_OK(remote);
  auto table = ToQueryResult(*remote);
  EXPECT_OK(table);
  std::ostringstream out;
  WriteResult(table->result, f, out);
  return out.str();
}

TEST(RemoteQueryTest, PrintsLikeTheLocalQuery) {
  for (OutputFormat f : {OutputFormat::kTable, OutputFormat::kJson, OutputFormat::kCsv}) {
    EXPECT_EQ(RenderRemote(ServerAnswer(), f), RenderLocal(f)) << static_cast<int>(f);
  }
}

TEST(RemoteQueryTest, KeepsNamesBigNumbersAndText) {
  json answer = {{"columns", {"a", "a", "big", "u64", "dec", "l"}},
                 {"types", {"BIGINT", "BIGINT", "HUGEINT", "UBIGINT", "DECIMAL(6,2)", "INTEGER[]"}},
                 {"rows", {{1, 2, "36893488147419103228", 18446744073709551615ull, 12.5, "[1, 2]"}}},
                 {"row_count", 1},
                 {"truncated", true}};
  std::string out = RenderRemote(answer, OutputFormat::kCsv);
  EXPECT_EQ(out,
            "a,a,big,u64,dec,l\r\n1,2,36893488147419103228,18446744073709551615,12.5,\"[1, 2]\"\r\n");
  std::string js = RenderRemote(answer, OutputFormat::kJson);
  EXPECT_NE(js.find("\"big\":\"36893488147419103228\""), std::string::npos) << js;  // > uint64
  EXPECT_NE(js.find("\"u64\":18446744073709551615"), std::string::npos) << js;
}

TEST(RemoteQueryTest, RejectsUnexpectedShapes) {
  EXPECT_FALSE(RemoteQueryResult::FromJson(json::array()).ok());
  EXPECT_FALSE(RemoteQueryResult::FromJson({{"columns", {"a"}}, {"types", {}}, {"rows", {}}}).ok());
  EXPECT_FALSE(
      RemoteQueryResult::FromJson({{"columns", {"a"}}, {"types", {"INTEGER"}}, {"rows", {{1, 2}}}})
          .ok());
}

TEST(RemoteQueryTest, PostsSqlAndLimitAndMapsErrors) {
  httplib::Server svr;
  json seen;
  svr.Post("/api/query", [&](const httplib::Request& req, httplib::Response& res) {
    seen = json::parse(req.body);
    if (seen["sql"] == "SELECT * FROM secret") {
      res.status = 403;
      res.set_content(R"({"error":{"code":"permission_denied","message":"table 'secret' is not a published view you may query","request_id":"r1"}})",
                      "application/json");
      return;
    }
    res.set_content(ServerAnswer().dump(), "application/json");
  });
  int port = svr.bind_to_any_port("127.0.0.1");
  ASSERT_GT(port, 0);
  std::thread t([&] { svr.listen_after_bind(); });
  HttpClient http({"http://127.0.0.1:" + std::to_string(port), "tok"});

  std::ostringstream out;
  bool truncated = true;
  Status st = PrintRemoteQuery(http, "SELECT 1", 7, OutputFormat::kCsv, out, &truncated);
  EXPECT_OK(st);
  EXPECT_EQ(seen, json({{"sql", "SELECT 1"}, {"limit", 7}}));
  EXPECT_FALSE(truncated);
  EXPECT_EQ(out.str(), RenderLocal(OutputFormat::kCsv));

  auto denied = RunRemoteQuery(http, "SELECT * FROM secret", 10);
  ASSERT_FALSE(denied.ok());
  EXPECT_EQ(denied.status().code(), StatusCode::kPermissionDenied);
  EXPECT_NE(denied.status().message().find("'secret'"), std::string::npos);
  svr.stop();
  t.join();
}

}  // namespace
}  // namespace da::client
