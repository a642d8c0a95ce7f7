// Bad input end to end: every case gets a clear error and loses nothing.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>

#include "common/hash.h"
#include "support/datasets.h"
#include "support/server_process.h"
#include "support/temp_dir.h"

namespace da::e2e {
namespace {
using namespace da::testing;  // the test support of tests/support

nlohmann::json Body(const httplib::Result& r) { return nlohmann::json::parse(r->body); }

void ExpectError(const httplib::Result& r, int status, const std::string& code) {
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, status) << r->body;
  auto j = Body(r);
  ASSERT_TRUE(j.contains("error")) << r->body;
  EXPECT_EQ(j["error"]["code"], code) << r->body;
  EXPECT_FALSE(j["error"]["message"].get<std::string>().empty());
  EXPECT_FALSE(j["error"]["request_id"].get<std::string>().empty());
}

std::string Register(ServerProcess& s, const std::string& name, const std::string& path) {
  return nlohmann::json{{"name", name}, {"source_type", "files"}, {"source_table", path}}.dump();
}

/// Sends `request` verbatim to 127.0.0.1:`port` and returns everything the server answers
/// until it closes the connection (the request should say `Connection: close`).
std::string RawExchange(int port, const std::string& request) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  EXPECT_GE(fd, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  std::string out;
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 &&
      ::send(fd, request.data(), request.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(request.size())) {
    char buf[4096];
    for (ssize_t n; (n = ::recv(fd, buf, sizeof buf, 0)) > 0;) out.append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  return out;
}

class BadInput : public ::testing::Test {
 protected:
  TempDir tmp_;
};

TEST_F(BadInput, MissingOrWrongTokenIs401AndPublicEndpointsStayOpen) {
  ServerProcess s(tmp_.path() / "data", {}, 0, da::testing::AdminToken::kBootstrap);
  std::string none;
  std::string wrong = "da_0000000000000000000000000000000000000000";
  ExpectError(s.Get("/api/catalog/tables", &none), 401, "unauthenticated");
  ExpectError(s.Get("/api/catalog/tables", &wrong), 401, "unauthenticated");
  ExpectError(s.Get("/api/sync/manifest", &wrong), 401, "unauthenticated");
  ExpectError(s.Post("/api/sync/trigger", "", &none), 401, "unauthenticated");
  ExpectError(s.Get("/api/data/x/download", &none), 401, "unauthenticated");
  auto health = s.Get("/api/health", &none);
  ASSERT_TRUE(health);
  EXPECT_EQ(health->status, 200);
  auto status = s.Get("/api/sync/status", &none);
  ASSERT_TRUE(status);
  EXPECT_EQ(Body(status), nlohmann::json({{"locked", false}}));
  // The bootstrap token file is private to its owner.
  struct stat sb {};
  ASSERT_EQ(::stat((tmp_.path() / "data" / "state" / "bootstrap-token").c_str(), &sb), 0);
  EXPECT_EQ(sb.st_mode & 0777, 0600u);
}

// `curl -X POST` sends neither Content-Length nor a body: that is an empty body (RFC 9112
// §6.3), so the trigger starts a run of every table at once instead of timing out with 400.
TEST_F(BadInput, PostWithoutContentLengthIsAnEmptyBody) {
  ServerProcess s(tmp_.path() / "data", {"DA_SCHEDULER_TICK_SEC=0"});
  auto reply = RawExchange(s.port(), "POST /api/sync/trigger HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                                     "Authorization: Bearer " + s.admin_token() +
                                     "\r\nConnection: close\r\n\r\n");
  EXPECT_EQ(reply.rfind("HTTP/1.1 202", 0), 0u) << reply;
  EXPECT_NE(reply.find("\"tables\":\"all\""), std::string::npos) << reply;
  s.WaitUnlocked();
}

TEST_F(BadInput, MalformedBodiesAndHostileIdentifiersChangeNothing) {
  ServerProcess s(tmp_.path() / "data");
  ExpectError(s.Post("/api/admin/register-table", "{not json"), 400, "malformed");
  ExpectError(s.Post("/api/admin/register-table", "[1,2]"), 400, "malformed");
  ExpectError(s.Post("/api/admin/register-table",
                     Register(s, "x\"; DROP TABLE table_registry; --", (tmp_.path() / "a.csv").string())),
              422, "invalid_argument");
  ExpectError(s.Post("/api/admin/register-table",
                     nlohmann::json{{"id", "a'b"}, {"name", "ab"}, {"source_type", "files"},
                                    {"source_table", (tmp_.path() / "a.csv").string()}}
                         .dump()),
              422, "invalid_argument");
  ExpectError(s.Post("/api/admin/register-table",
                     nlohmann::json{{"name", "ok_name"}, {"source_type", "nosuchconnector"},
                                    {"source_table", (tmp_.path() / "a.csv").string()}}
                         .dump()),
              422, "invalid_argument");
  ExpectError(s.Post("/api/admin/register-table",
                     nlohmann::json{{"name", "ok_name"}, {"source_type", "files"},
                                    {"query_mode", "everything"}}
                         .dump()),
              422, "invalid_argument");
  auto list = s.Get("/api/admin/registry");
  ASSERT_TRUE(list);
  EXPECT_TRUE(Body(list)["tables"].empty()) << list->body;

  // Trigger bodies of the wrong shape.
  ExpectError(s.Post("/api/sync/trigger", R"({"tables": "airports"})"), 422, "invalid_argument");
  ExpectError(s.Post("/api/sync/trigger", R"([1, 2])"), 422, "invalid_argument");
  ExpectError(s.Post("/api/sync/trigger", R"("airports")"), 422, "invalid_argument");
  ExpectError(s.Post("/api/sync/trigger", R"({"table": ["airports"]})"), 422, "invalid_argument");
  ExpectError(s.Post("/api/sync/trigger", R"({bad)"), 400, "malformed");

  // Unknown ids everywhere.
  ExpectError(s.Post("/api/sync/trigger", R"(["nope"])"), 404, "not_found");
  ExpectError(s.Get("/api/data/nope/download"), 404, "not_found");
  ExpectError(s.Get("/api/data/..%2Fstate%2Fsystem.duckdb/download"), 404, "not_found");
  ExpectError(s.Put("/api/admin/registry/nope", R"({"description":"x"})"), 404, "not_found");
  ExpectError(s.Delete("/api/admin/registry/nope"), 404, "not_found");
  ExpectError(s.Get("/api/no/such/route"), 404, "not_found");

  // Duplicate registration and optimistic locking.
  ASSERT_EQ(s.Post("/api/admin/register-table", Register(s, "airports", Dataset("airports.csv")))->status, 201);
  ExpectError(s.Post("/api/admin/register-table", Register(s, "airports", Dataset("airports.csv"))), 409,
              "already_exists");
  ExpectError(s.Post("/api/admin/register-table",
                     nlohmann::json{{"id", "other_id"}, {"name", "airports"}, {"source_type", "files"},
                                    {"source_table", (tmp_.path() / "x.csv").string()}}
                         .dump()),
              409, "already_exists");
  auto upd = s.Put("/api/admin/registry/airports", R"({"description": "US airports", "version": 1})");
  ASSERT_TRUE(upd);
  ASSERT_EQ(upd->status, 200) << upd->body;
  EXPECT_EQ(Body(upd)["version"], 2);
  EXPECT_EQ(Body(upd)["source_table"], Dataset("airports.csv").string());  // omitted field kept
  ExpectError(s.Put("/api/admin/registry/airports", R"({"description": "stale", "version": 1})"), 409,
              "conflict");
  EXPECT_EQ(Body(s.Get("/api/admin/registry/airports"))["description"], "US airports");
}

TEST_F(BadInput, BrokenSourceFileFailsOnlyThatTableAndOldDataKeepsServing) {
  auto src = tmp_.path() / "src";
  std::filesystem::create_directories(src);
  std::filesystem::copy_file(Dataset("seattle-weather.csv"), src / "weather.csv");
  ServerProcess s(tmp_.path() / "data");
  ASSERT_EQ(s.Post("/api/admin/register-table", Register(s, "weather", (src / "weather.csv").string()))->status, 201);
  ASSERT_EQ(s.Post("/api/admin/register-table", Register(s, "airports", Dataset("airports.csv")))->status, 201);
  ASSERT_EQ(s.Post("/api/admin/register-table", Register(s, "missing", (src / "missing.csv").string()))->status, 201);
  auto run = s.SyncAndWait();
  std::map<std::string, nlohmann::json> outcome;
  for (const auto& t : run["tables"]) outcome[t["table_id"]] = t;
  EXPECT_EQ(outcome["weather"]["status"], "synced") << run.dump();
  EXPECT_EQ(outcome["airports"]["status"], "synced");
  EXPECT_EQ(outcome["missing"]["status"], "error");
  EXPECT_NE(outcome["missing"]["reason"].get<std::string>().find("missing.csv"), std::string::npos);
  auto first = s.Get("/api/data/weather/download");
  ASSERT_EQ(first->status, 200);
  std::string good_md5 = Md5Hex(first->body);

  // Break the source: a line that is not UTF-8 — DuckDB refuses the file.
  {
    std::ofstream out(src / "weather.csv", std::ios::binary | std::ios::trunc);
    out << "date,precipitation\n2012-01-01,0.0\n\xff\xfe,3\n";
  }
  s.SyncAndWait({"weather"});
  auto entry = s.Get("/api/admin/registry/weather");
  auto state = Body(entry)["sync_state"];
  EXPECT_EQ(state["status"], "error") << entry->body;
  EXPECT_FALSE(state["error"].get<std::string>().empty());
  EXPECT_EQ(state["md5"], good_md5);  // the last good extraction is still what is served
  auto again = s.Get("/api/data/weather/download");
  ASSERT_EQ(again->status, 200);
  EXPECT_EQ(Md5Hex(again->body), good_md5);
}

TEST_F(BadInput, SecondTriggerDuringARunIs409AndTimeoutKillsTheExtraction) {
  auto src = tmp_.path() / "src";
  std::filesystem::create_directories(src);
  // A FIFO nobody writes to: reading it blocks, so the run stays in progress until the time limit.
  ASSERT_EQ(::mkfifo((src / "stuck.csv").c_str(), 0600), 0);
  ServerProcess s(tmp_.path() / "data", {"DA_EXTRACT_TIMEOUT_SEC=2"});
  ASSERT_EQ(s.Post("/api/admin/register-table", Register(s, "airports", Dataset("airports.csv")))->status, 201);
  s.SyncAndWait({"airports"});
  std::string md5 = Md5Hex(s.Get("/api/data/airports/download")->body);
  ASSERT_EQ(s.Post("/api/admin/register-table", Register(s, "stuck", (src / "stuck.csv").string()))->status, 201);

  auto first = s.Post("/api/sync/trigger", "");
  ASSERT_TRUE(first);
  ASSERT_EQ(first->status, 202);
  ExpectError(s.Post("/api/sync/trigger", ""), 409, "sync_already_in_progress");
  EXPECT_EQ(Body(s.Get("/api/sync/status"))["locked"], true);
  s.WaitUnlocked();
  auto run = Body(s.Get("/api/sync/runs/latest"));
  for (const auto& t : run["tables"]) {
    EXPECT_EQ(t["status"], "error") << run.dump();
    EXPECT_NE(t["reason"].get<std::string>().find("timed out"), std::string::npos) << run.dump();
  }
  // The previous data of the source keeps serving.
  auto dl = s.Get("/api/data/airports/download");
  ASSERT_EQ(dl->status, 200);
  EXPECT_EQ(Md5Hex(dl->body), md5);
  auto cat = Body(s.Get("/api/catalog/tables"));
  for (const auto& t : cat["tables"]) {
    if (t["id"] == "airports") EXPECT_TRUE(t["published"].get<bool>()) << cat.dump();
  }
}

TEST_F(BadInput, CorruptExtractIsSkippedAndOtherSourcesServe) {
  auto data = tmp_.path() / "data";
  std::filesystem::create_directories(data / "extracts" / "bogus");
  std::filesystem::create_directories(data / "extracts" / "empty");
  {
    std::ofstream out(data / "extracts" / "bogus" / "extract.duckdb", std::ios::binary);
    out << std::string(4096, '\x5a');
  }
  { std::ofstream out(data / "extracts" / "empty" / "extract.duckdb"); }
  ServerProcess s(data);
  ASSERT_GT(s.port(), 0);
  EXPECT_EQ(s.Get("/api/health")->status, 200);
  ASSERT_EQ(s.Post("/api/admin/register-table", Register(s, "airports", Dataset("airports.csv")))->status, 201);
  auto run = s.SyncAndWait();
  ASSERT_EQ(run["tables"].size(), 1u);
  EXPECT_EQ(run["tables"][0]["status"], "synced") << run.dump();
  auto cat = Body(s.Get("/api/catalog/tables"));
  ASSERT_EQ(cat["tables"].size(), 1u);
  EXPECT_TRUE(cat["tables"][0]["published"].get<bool>()) << cat.dump();
}

}  // namespace
}  // namespace da::e2e
