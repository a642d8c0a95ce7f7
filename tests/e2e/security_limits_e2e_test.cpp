// Issue 13 item 13, the query sandbox under abuse, end to end against the real server: hostile
// queries that ask for gigabytes fail with a JSON error for that query alone (the server stays
// up and answers the next one), and an answer over the byte cap is refused.
#include <gtest/gtest.h>

#include <string>

#include "support/server_process.h"
#include "support/temp_dir.h"

namespace da::e2e {
namespace {
using namespace da::testing;  // the test support of tests/support
using nlohmann::json;

/// A server whose queries share 1 GiB in 2 slots (512 MiB each, which is also the largest
/// single allocation) and whose answers are capped at 1 MiB.
class SecurityLimitsE2E : public ::testing::Test {
 protected:
  SecurityLimitsE2E()
      : server_(tmp_.path() / "data",
                {"DA_QUERY_MEMORY_LIMIT=1GiB", "DA_QUERY_CONCURRENCY=2", "DA_QUERY_THREADS=2",
                 "DA_QUERY_TEMP_LIMIT=256MiB", "DA_QUERY_MAX_ANSWER_BYTES=1MiB"}) {}

  httplib::Result Query(const std::string& sql, int64_t limit = 1000, bool csv = false) {
    json body{{"sql", sql}, {"limit", limit}};
    if (!csv) return server_.Post("/api/query", body.dump());
    return server_.Send("POST", "/api/query", body.dump(),
                        {{"Authorization", "Bearer " + server_.admin_token()},
                         {"Accept", "text/csv"}});
  }

  /// The server is up and runs the next query.
  void ExpectStillServing() {
    auto health = server_.Get("/api/health", &kNoToken);
    ASSERT_TRUE(health);
    EXPECT_EQ(health->status, 200);
    auto next = Query("SELECT 41 + 1 AS n");
    ASSERT_TRUE(next);
    ASSERT_EQ(next->status, 200) << next->body;
    EXPECT_EQ(json::parse(next->body)["rows"], json::parse("[[42]]"));
  }

  static void ExpectResourceError(const httplib::Result& r, const std::string& what) {
    ASSERT_TRUE(r) << what << ": no answer (did the server die?)";
    EXPECT_EQ(r->status, 400) << what << ": " << r->body.substr(0, 300);
    json j = json::parse(r->body, nullptr, false);
    ASSERT_TRUE(j.is_object()) << r->body.substr(0, 300);
    EXPECT_EQ(j["error"]["code"], "resource_exhausted") << r->body.substr(0, 300);
    EXPECT_FALSE(j["error"]["message"].get<std::string>().empty());
    EXPECT_FALSE(j["error"]["request_id"].get<std::string>().empty());
  }

  static inline const std::string kNoToken;
  TempDir tmp_;
  ServerProcess server_;
};

// Attack: one analyst builds a 1 GB string to exhaust the server's memory.
TEST_F(SecurityLimitsE2E, AGigabyteStringFailsAndTheServerGoesOn) {
  ExpectResourceError(Query("SELECT repeat('x', 1000000000) AS s"), "repeat");
  ExpectStillServing();
}

// Attack: a 3-billion-element list (24 GB) that DuckDB's memory_limit does not count; without
// the allocation guard the kernel's OOM killer ends the server.
TEST_F(SecurityLimitsE2E, AThreeBillionElementListFailsAndTheServerGoesOn) {
  ExpectResourceError(Query("SELECT len(range(0, 3000000000)) AS n"), "range");
  ExpectStillServing();
}

// Attack: an answer of many megabytes (here 5 MB against a 1 MiB cap) occupies the server's
// memory and the client's; it is cut with a clear error, in JSON and in CSV.
TEST_F(SecurityLimitsE2E, AnAnswerOverTheByteCapIsRefused) {
  const std::string big = "SELECT 1 AS i, repeat('y', 5000000) AS s";
  auto r = Query(big, 5000);
  ExpectResourceError(r, "answer cap (JSON)");
  EXPECT_NE(r->body.find("DA_QUERY_MAX_ANSWER_BYTES"), std::string::npos) << r->body;
  ExpectResourceError(Query(big, 5000, /*csv=*/true), "answer cap (CSV)");
  auto small = Query("SELECT 1 AS i, repeat('y', 100000) AS s", 5000);
  ASSERT_TRUE(small);
  EXPECT_EQ(small->status, 200);
  EXPECT_EQ(json::parse(small->body)["row_count"], 1);
  ExpectStillServing();
}

}  // namespace
}  // namespace da::e2e
