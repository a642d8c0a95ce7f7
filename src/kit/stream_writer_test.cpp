#include "kit/stream_writer.h"

#include <gtest/gtest.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <thread>

#include "kit/extract_state.h"
#include "kit/runtime.h"
#include "kit/storage.h"
#include "support/extract_reader.h"
#include "support/files.h"
#include "support/status_macros.h"
#include "support/temp_dir.h"

extern char** environ;

namespace da::kit {
namespace {
namespace fs = std::filesystem;
using testing::Leftovers;
using testing::QueryInt;

/// A connector that only receives streamed events (like a webhook-fed source).
class HookConnector : public Connector {
 public:
  std::string name() const override { return "hook"; }
  Capability capabilities() const override { return Capability::kStream; }
};

class ReadOnlyConnector : public Connector {
 public:
  std::string name() const override { return "plain"; }
  Capability capabilities() const override { return Capability::kRead; }
};

model::TableSpec EventsTable() {
  model::TableSpec t;
  t.id = "jira.events";
  t.name = "events";
  t.source_type = "hook";
  t.sync_strategy = model::SyncStrategy::kPartitioned;
  t.partition_by = "created";
  t.partition_granularity = model::PartitionGranularity::kMonth;
  t.primary_key = {"id"};
  return t;
}

ConnectorRegistry& Connectors() {
  static ConnectorRegistry* r = [] {
    auto* reg = new ConnectorRegistry();
    (void)reg->Register("hook", [] { return std::make_unique<HookConnector>(); });
    (void)reg->Register("plain", [] { return std::make_unique<ReadOnlyConnector>(); });
    return reg;
  }();
  return *r;
}

ExtractRuntime MakeRuntime(const fs::path& extracts_dir) {
  RuntimeOptions o;
  o.extracts_dir = extracts_dir;
  o.memory_limit_bytes = 128LL << 20;
  return ExtractRuntime(o, Connectors());
}

/// The events of one batch of one writer: ids unique across writers and batches, spread over
/// three UTC months (the +02:00 offset moves some early-month events into the previous month).
std::vector<nlohmann::json> Batch(int writer, int batch, int per_batch) {
  std::vector<nlohmann::json> out;
  for (int k = 0; k < per_batch; ++k) {
    const int64_t id = int64_t{writer} * 1000000 + batch * 1000 + k;
    const int month = 1 + (k % 3);
    char created[64];
    std::snprintf(created, sizeof created, "2024-%02d-01T01:%02d:00+02:00", month, k % 60);
    out.push_back({{"id", id},
                   {"created", created},
                   {"kind", k % 2 ? "comment" : "update"},
                   {"payload", {{"writer", writer}, {"k", k}, {"tags", {"a", "b"}}}}});
  }
  return out;
}

constexpr int kBatches = 5;
constexpr int kPerBatch = 24;

/// Runs in a child process started by ConcurrentThreadsAndProcessesLoseNothing.
TEST(StreamChild, AppendsFromEnvironment) {
  const char* dir = std::getenv("DA_STREAM_CHILD_DIR");
  const char* writer = std::getenv("DA_STREAM_CHILD_WRITER");
  if (dir == nullptr || writer == nullptr) GTEST_SKIP() << "only run as a child process";
  auto rt = MakeRuntime(dir);
  for (int b = 0; b < kBatches; ++b) {
    Status st = rt.AppendEvents("hook", EventsTable(), Batch(std::atoi(writer), b, kPerBatch));
    ASSERT_OK(st);
  }
}

pid_t SpawnChild(const fs::path& dir, int writer) {
  std::vector<std::string> env_strings;
  for (char** e = environ; *e != nullptr; ++e) env_strings.emplace_back(*e);
  env_strings.push_back("DA_STREAM_CHILD_DIR=" + dir.string());
  env_strings.push_back("DA_STREAM_CHILD_WRITER=" + std::to_string(writer));
  std::vector<char*> envp;
  for (auto& s : env_strings) envp.push_back(s.data());
  envp.push_back(nullptr);
  std::string exe = fs::read_symlink("/proc/self/exe").string();
  std::string filter = "--gtest_filter=StreamChild.AppendsFromEnvironment";
  char* argv[] = {exe.data(), filter.data(), nullptr};
  pid_t pid = -1;
  if (posix_spawn(&pid, exe.c_str(), nullptr, nullptr, argv, envp.data()) != 0) return -1;
  return pid;
}

TEST(StreamWriter, ConcurrentThreadsAndProcessesLoseNothing) {
  testing::TempDir dir;
  const fs::path extracts = dir.path() / "extracts";
  constexpr int kThreads = 3;
  constexpr int kProcesses = 3;
  std::vector<pid_t> children;
  for (int p = 0; p < kProcesses; ++p) {
    pid_t pid = SpawnChild(extracts, 100 + p);
    ASSERT_GT(pid, 0);
    children.push_back(pid);
  }
  std::vector<std::thread> threads;
  for (int w = 0; w < kThreads; ++w) {
    threads.emplace_back([&, w] {
      auto rt = MakeRuntime(extracts);
      for (int b = 0; b < kBatches; ++b) {
        Status st = rt.AppendEvents("hook", EventsTable(), Batch(w, b, kPerBatch));
        EXPECT_OK(st);
      }
    });
  }
  for (auto& t : threads) t.join();
  for (pid_t pid : children) {
    int status = 0;
    ASSERT_EQ(::waitpid(pid, &status, 0), pid);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "child status " << status;
  }

  const int64_t total = int64_t{kThreads + kProcesses} * kBatches * kPerBatch;
  const fs::path db = extracts / "hook" / "extract.duckdb";
  EXPECT_EQ(*QueryInt(db, "SELECT count(*) FROM events"), total);
  EXPECT_EQ(*QueryInt(db, "SELECT count(DISTINCT id) FROM events"), total);
  // Every event of every writer is there exactly once.
  EXPECT_EQ(*QueryInt(db,
                      "SELECT count(*) FROM (SELECT id // 1000000 AS w, count(*) AS n FROM events "
                      "GROUP BY w) WHERE n = " +
                          std::to_string(kBatches * kPerBatch)),
            kThreads + kProcesses);
  // UTC months: 2024-01-01T01:xx+02:00 is still December 2023.
  auto files = PartitionFiles(extracts / "hook" / "data", "jira.events");
  ASSERT_OK(files);
  std::vector<std::string> names;
  for (const auto& f : *files) names.push_back(f.filename().string());
  EXPECT_EQ(names, (std::vector<std::string>{"2023-12.parquet", "2024-01.parquet",
                                             "2024-02.parquet"}));
  EXPECT_EQ(*QueryInt(db, "SELECT count(*) FROM events WHERE json_extract(payload, '$.k') "
                          "IS NOT NULL"),
            total);
  // _meta describes the latest state of the files, and state.json records them.
  EXPECT_EQ(*QueryInt(db, "SELECT rows FROM _meta WHERE table_name = 'events'"), total);
  auto st = LoadExtractState(extracts / "hook");
  ASSERT_OK(st);
  ASSERT_EQ(st->tables.count("jira.events"), 1u);
  EXPECT_EQ(st->tables.at("jira.events").files.size(), 3u);
  EXPECT_TRUE(Leftovers(extracts / "hook").empty());
  std::error_code ec;
  EXPECT_TRUE(fs::is_empty(extracts / "hook" / "stream", ec));
}

TEST(StreamWriter, UpsertsByKeyLaterEventWins) {
  testing::TempDir dir;
  auto rt = MakeRuntime(dir.path());
  auto ev = [](int id, const char* v, const char* created) {
    return nlohmann::json{{"id", id}, {"v", v}, {"created", created}};
  };
  ASSERT_TRUE(rt.AppendEvents("hook", EventsTable(),
                              {ev(1, "a", "2024-05-01T00:00:00Z"), ev(2, "x", "2024-05-02"),
                               ev(1, "b", "2024-05-03T00:00:00Z")})
                  .ok());
  const fs::path db = dir.path() / "hook" / "extract.duckdb";
  EXPECT_EQ(*QueryInt(db, "SELECT count(*) FROM events"), 2);
  EXPECT_EQ(*QueryInt(db, "SELECT count(*) FROM events WHERE id = 1 AND v = 'b'"), 1);
  ASSERT_OK(rt.AppendEvents("hook", EventsTable(), {ev(1, "c", "2024-05-09T00:00:00Z")}));
  EXPECT_EQ(*QueryInt(db, "SELECT count(*) FROM events"), 2);
  EXPECT_EQ(*QueryInt(db, "SELECT count(*) FROM events WHERE id = 1 AND v = 'c'"), 1);

  // Without a key, events are appended.
  auto log = EventsTable();
  log.id = "log";
  log.name = "log";
  log.primary_key.clear();
  ASSERT_TRUE(rt.AppendEvents("hook", log, {ev(1, "a", "2024-05-01"), ev(1, "a", "2024-05-01")})
                  .ok());
  ASSERT_OK(rt.AppendEvents("hook", log, {ev(1, "a", "2024-05-01")}));
  EXPECT_EQ(*QueryInt(db, "SELECT count(*) FROM log"), 3);
  EXPECT_EQ(*QueryInt(db, "SELECT count(*) FROM events"), 2);  // still published
}

TEST(StreamWriter, BadEventsWriteNothing) {
  testing::TempDir dir;
  auto rt = MakeRuntime(dir.path());
  const fs::path data = dir.path() / "hook" / "data";
  Status st = rt.AppendEvents(
      "hook", EventsTable(),
      {{{"id", 1}, {"created", "2024-05-01"}}, {{"id", 2}, {"created", "soon"}},
       {{"id", 3}}, {{"id", 4}, {"created", "later"}}});
  EXPECT_EQ(st.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(st.message().find("3 event(s)"), std::string::npos) << st.message();
  EXPECT_NE(st.message().find("event #2, 'soon'"), std::string::npos) << st.message();
  EXPECT_TRUE(PartitionFiles(data, "jira.events")->empty());

  st = rt.AppendEvents("hook", EventsTable(), {{{"id", 1}, {"created", "2024-05-01"}}, 42});
  EXPECT_EQ(st.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(st.message().find("event #2 is not a JSON object"), std::string::npos);
  st = rt.AppendEvents("hook", EventsTable(), {{{"created", "2024-05-01"}}});
  EXPECT_NE(st.message().find("primary_key field 'id'"), std::string::npos) << st.message();
  EXPECT_TRUE(PartitionFiles(data, "jira.events")->empty());

  auto not_partitioned = EventsTable();
  not_partitioned.sync_strategy = model::SyncStrategy::kFullRefresh;
  EXPECT_EQ(rt.AppendEvents("hook", not_partitioned, {}).code(),
            StatusCode::kFailedPrecondition);
  auto plain = EventsTable();
  plain.source_type = "plain";
  EXPECT_EQ(rt.AppendEvents("plain", plain, {}).code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(rt.AppendEvents("hook", plain, {}).code(), StatusCode::kInvalidArgument);
  auto hostile = EventsTable();
  hostile.id = "../../etc";
  EXPECT_EQ(rt.AppendEvents("hook", hostile, {}).code(), StatusCode::kInvalidArgument);
  EXPECT_OK(rt.AppendEvents("hook", EventsTable(), {}));  // nothing to do
}

TEST(StreamWriter, AppendsFromAJsonlFileNamingBadLines) {
  testing::TempDir dir;
  auto rt = MakeRuntime(dir.path());
  const fs::path good = dir.path() / "good.jsonl";
  testing::WriteText(good,
                     "{\"id\": 1, \"created\": \"2024-06-01T10:00:00Z\"}\n\n"
                     "{\"id\": 2, \"created\": \"2024-07-01T10:00:00Z\"}\n");
  ASSERT_OK(rt.AppendEventsFile("hook", EventsTable(), good));
  EXPECT_EQ(*QueryInt(dir.path() / "hook" / "extract.duckdb", "SELECT count(*) FROM events"), 2);

  const fs::path bad = dir.path() / "bad.jsonl";
  testing::WriteText(bad, "{\"id\": 3, \"created\": \"2024-06-02\"}\n\n{\"id\": 4,\n");
  Status st = rt.AppendEventsFile("hook", EventsTable(), bad);
  EXPECT_EQ(st.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(st.message().find("line 3 is not valid JSON"), std::string::npos) << st.message();
  EXPECT_NE(st.message().find("bad.jsonl"), std::string::npos) << st.message();
  EXPECT_EQ(*QueryInt(dir.path() / "hook" / "extract.duckdb", "SELECT count(*) FROM events"), 2);
  EXPECT_EQ(rt.AppendEventsFile("hook", EventsTable(), dir.path() / "none.jsonl").code(),
            StatusCode::kNotFound);
}

}  // namespace
}  // namespace da::kit
