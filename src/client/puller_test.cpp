#include "client/puller.h"

#include <atomic>
#include <map>
#include <mutex>
#include <thread>

#include <gtest/gtest.h>
#include <httplib.h>

#include "common/fs_util.h"
#include "common/hash.h"
#include "support/extract_reader.h"
#include "support/files.h"
#include "support/parquet_writer.h"
#include "support/status_macros.h"
#include "support/temp_dir.h"

namespace da::client {
namespace {

using testing::CountRows;
using testing::ReadBytes;
using testing::TempDir;
using testing::WriteParquet;

constexpr const char* kToken = "puller-test-token";

/// A da server stand-in on loopback: serves a manifest and Parquet bytes, counts downloads.
class FakeServer {
 public:
  struct Table {
    std::string id;
    std::string name;
    std::string bytes;             ///< what the download serves
    std::string manifest_md5;      ///< "" → MD5 of `bytes`
    std::string query_mode = "local";
    int drop_mid_body_times = 0;   ///< drop the connection halfway this many more times
  };
  /// A table served as several files (like a partitioned table of the real server).
  struct FileTable {
    std::string id;
    std::string name;
    std::map<std::string, std::string> files;         ///< file name → bytes
    std::map<std::string, std::string> md5_override;  ///< file name → MD5 the manifest claims
  };

  FakeServer() {
    svr_.set_tcp_nodelay(true);
    svr_.Get("/api/sync/manifest", [this](const httplib::Request& req, httplib::Response& res) {
      if (req.get_header_value("Authorization") != std::string("Bearer ") + kToken) {
        res.status = 401;
        res.set_content(R"({"error":{"code":"unauthenticated","message":"bad token","request_id":"r1"}})",
                        "application/json");
        return;
      }
      std::lock_guard<std::mutex> g(mu_);
      ++manifest_requests_;
      nlohmann::json tables = nlohmann::json::array();
      for (const auto& [id, t] : tables_) {
        tables.push_back({{"id", t.id},
                          {"name", t.name},
                          {"md5", t.manifest_md5.empty() ? Md5Hex(t.bytes) : t.manifest_md5},
                          {"size_bytes", t.bytes.size()},
                          {"rows", 0},
                          {"query_mode", t.query_mode},
                          {"updated", "2026-01-01T00:00:00Z"},
                          {"download_url", "/api/data/" + t.id + "/download"}});
      }
      for (const auto& [id, t] : file_tables_) {
        nlohmann::json files = nlohmann::json::array();
        std::string combined;
        for (const auto& [name, bytes] : t.files) {
          auto o = t.md5_override.find(name);
          std::string md5 = o != t.md5_override.end() ? o->second : Md5Hex(bytes);
          combined += name + " " + md5 + "\n";
          files.push_back({{"name", name},
                           {"md5", md5},
                           {"size_bytes", bytes.size()},
                           {"download_url", "/api/data/" + id + "/files/" + name}});
        }
        tables.push_back({{"id", t.id},
                          {"name", t.name},
                          {"md5", Md5Hex(combined)},
                          {"size_bytes", 0},
                          {"rows", 0},
                          {"query_mode", "local"},
                          {"updated", "2026-01-01T00:00:00Z"},
                          {"files", files}});
      }
      res.set_content(nlohmann::json({{"server_time", "now"}, {"tables", tables}}).dump(),
                      "application/json");
    });
    svr_.Get(R"(/api/data/([^/]+)/files/([^/]+))", [this](const httplib::Request& req,
                                                          httplib::Response& res) {
      std::lock_guard<std::mutex> g(mu_);
      ++downloads_[std::string(req.matches[1]) + "/" + std::string(req.matches[2])];
      auto t = file_tables_.find(req.matches[1]);
      if (t == file_tables_.end() || !t->second.files.contains(req.matches[2])) {
        res.status = 404;
        res.set_content(R"({"error":{"code":"not_found","message":"no such file","request_id":"r3"}})",
                        "application/json");
        return;
      }
      res.set_content(t->second.files.at(req.matches[2]), "application/octet-stream");
    });
    svr_.Get(R"(/api/data/([^/]+)/download)", [this](const httplib::Request& req,
                                                     httplib::Response& res) {
      std::string id = req.matches[1];
      std::lock_guard<std::mutex> g(mu_);
      ++downloads_[id];
      ranges_[id] = req.get_header_value("Range");
      auto it = tables_.find(id);
      if (it == tables_.end()) {
        res.status = 404;
        res.set_content(R"({"error":{"code":"not_found","message":"no such table","request_id":"r2"}})",
                        "application/json");
        return;
      }
      Table& t = it->second;
      res.set_header("Accept-Ranges", "bytes");
      res.set_header("ETag", "\"" + Md5Hex(t.bytes) + "\"");
      if (t.drop_mid_body_times > 0) {
        --t.drop_mid_body_times;
        auto data = std::make_shared<std::string>(t.bytes);
        res.set_content_provider(
            data->size(), "application/octet-stream",
            [data](size_t offset, size_t, httplib::DataSink& sink) {
              if (offset > 0) return false;  // drop the connection after the first half
              sink.write(data->data(), data->size() / 2);
              return true;
            });
        return;
      }
      res.set_content(t.bytes, "application/octet-stream");
    });
    port_ = svr_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { svr_.listen_after_bind(); });
    while (!svr_.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  ~FakeServer() {
    svr_.stop();
    thread_.join();
  }

  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  void Put(Table t) {
    std::lock_guard<std::mutex> g(mu_);
    tables_[t.id] = std::move(t);
  }
  void PutFiles(FileTable t) {
    std::lock_guard<std::mutex> g(mu_);
    file_tables_[t.id] = std::move(t);
  }
  void Remove(const std::string& id) {
    std::lock_guard<std::mutex> g(mu_);
    tables_.erase(id);
  }
  template <typename F>
  void Edit(const std::string& id, F f) {
    std::lock_guard<std::mutex> g(mu_);
    f(tables_.at(id));
  }
  int Downloads(const std::string& id) {
    std::lock_guard<std::mutex> g(mu_);
    return downloads_[id];
  }
  int TotalDownloads() {
    std::lock_guard<std::mutex> g(mu_);
    int n = 0;
    for (const auto& [id, c] : downloads_) n += c;
    return n;
  }
  std::string LastRange(const std::string& id) {
    std::lock_guard<std::mutex> g(mu_);
    return ranges_[id];
  }

 private:
  httplib::Server svr_;
  int port_ = 0;
  std::thread thread_;
  std::mutex mu_;
  std::map<std::string, Table> tables_;
  std::map<std::string, FileTable> file_tables_;
  std::map<std::string, int> downloads_;
  std::map<std::string, std::string> ranges_;
  int manifest_requests_ = 0;
};

const TableOutcome* Find(const PullReport& r, const std::string& id) {
  for (const auto& t : r.tables) {
    if (t.id == id) return &t;
  }
  return nullptr;
}

class PullerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ws_.root = tmp_.path() / "ws";
    fixtures_ = tmp_.path() / "fixtures";
    std::filesystem::create_directories(fixtures_);
    orders_v1_ = WriteParquet(fixtures_ / "orders_v1.parquet", 100);
    orders_v2_ = WriteParquet(fixtures_ / "orders_v2.parquet", 150, 7);
    flights_ = WriteParquet(fixtures_ / "flights.parquet", 250);
    server_.Put({"in.c-crm.orders", "orders", orders_v1_, "", "local", 0});
    server_.Put({"flights", "flights", flights_, "", "local", 0});
    server_.Put({"bq_events", "events", "", std::string(32, '0'), "remote", 0});
    options_.retry_backoff_ms = 1;
  }

  PullReport MustPull() {
    auto r = Pull(client_, ws_, options_);
    EXPECT_OK(r);
    return r.ok() ? std::move(r).value() : PullReport{};
  }

  TempDir tmp_;
  std::filesystem::path fixtures_;
  Workspace ws_;
  FakeServer server_;
  HttpClient client_{{server_.url(), kToken}};
  PullOptions options_;
  std::string orders_v1_, orders_v2_, flights_;
};

TEST_F(PullerTest, FirstSyncDownloadsAllAndViewsReturnTheRows) {
  std::atomic<int64_t> planned{0};
  std::atomic<int64_t> progressed{0};
  options_.on_plan = [&](int64_t total) { planned = total; };
  options_.progress = [&](int64_t n) { progressed += n; };
  PullReport r = MustPull();
  EXPECT_TRUE(r.ok());
  EXPECT_EQ(r.updated, 2);
  EXPECT_EQ(r.total, 2);
  EXPECT_EQ(r.failed, 0);
  ASSERT_NE(Find(r, "bq_events"), nullptr);
  EXPECT_EQ(Find(r, "bq_events")->action, TableAction::kRemote);
  EXPECT_EQ(Find(r, "flights")->action, TableAction::kDownloaded);
  EXPECT_EQ(server_.Downloads("in.c-crm.orders"), 1);
  EXPECT_EQ(server_.Downloads("flights"), 1);
  EXPECT_EQ(server_.Downloads("bq_events"), 0);
  int64_t expected_bytes = static_cast<int64_t>(orders_v1_.size() + flights_.size());
  EXPECT_EQ(planned.load(), expected_bytes);
  EXPECT_EQ(progressed.load(), expected_bytes);

  EXPECT_EQ(ReadBytes(ws_.ParquetPath("in.c-crm.orders")), orders_v1_);
  EXPECT_EQ(CountRows(ws_.DbPath(), "orders"), 100);
  EXPECT_EQ(CountRows(ws_.DbPath(), "flights"), 250);
  EXPECT_EQ(CountRows(ws_.DbPath(), "events"), -1);

  auto state = LoadSyncState(ws_);
  ASSERT_OK(state);
  ASSERT_EQ(state->tables.size(), 2u);
  EXPECT_EQ(state->tables.at("in.c-crm.orders").md5, Md5Hex(orders_v1_));
  EXPECT_EQ(state->tables.at("in.c-crm.orders").name, "orders");
  EXPECT_EQ(state->tables.at("flights").size_bytes, static_cast<int64_t>(flights_.size()));
  EXPECT_FALSE(state->last_sync.empty());

  auto j = r.ToJson();
  EXPECT_EQ(j["updated"], 2);
  EXPECT_EQ(j["total"], 2);
}

TEST_F(PullerTest, SecondSyncDownloadsNothing) {
  MustPull();
  PullReport r = MustPull();
  EXPECT_TRUE(r.ok());
  EXPECT_EQ(r.updated, 0);
  EXPECT_EQ(r.total, 2);
  EXPECT_EQ(server_.TotalDownloads(), 2);
  EXPECT_EQ(Find(r, "flights")->action, TableAction::kUpToDate);
  EXPECT_EQ(CountRows(ws_.DbPath(), "orders"), 100);
}

TEST_F(PullerTest, ChangedMd5DownloadsOnlyThatTable) {
  MustPull();
  server_.Edit("in.c-crm.orders", [&](FakeServer::Table& t) { t.bytes = orders_v2_; });
  PullReport r = MustPull();
  EXPECT_TRUE(r.ok());
  EXPECT_EQ(r.updated, 1);
  EXPECT_EQ(server_.Downloads("in.c-crm.orders"), 2);
  EXPECT_EQ(server_.Downloads("flights"), 1);
  EXPECT_EQ(CountRows(ws_.DbPath(), "orders"), 150);
  EXPECT_EQ(LoadSyncState(ws_)->tables.at("in.c-crm.orders").md5, Md5Hex(orders_v2_));
}

TEST_F(PullerTest, Md5MismatchKeepsTheOldFileAndReportsFailure) {
  MustPull();
  // The manifest announces v2 but the download serves other bytes.
  server_.Edit("in.c-crm.orders", [&](FakeServer::Table& t) {
    t.manifest_md5 = Md5Hex(orders_v2_);
    t.bytes = flights_;
  });
  PullReport r = MustPull();
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(r.failed, 1);
  const TableOutcome* o = Find(r, "in.c-crm.orders");
  ASSERT_NE(o, nullptr);
  EXPECT_EQ(o->action, TableAction::kFailed);
  EXPECT_NE(o->detail.find("hash mismatch: expected " + Md5Hex(orders_v2_).substr(0, 12)),
            std::string::npos)
      << o->detail;
  EXPECT_EQ(ReadBytes(ws_.ParquetPath("in.c-crm.orders")), orders_v1_);
  EXPECT_FALSE(std::filesystem::exists(ws_.PartPath("in.c-crm.orders")));
  EXPECT_EQ(CountRows(ws_.DbPath(), "orders"), 100);
  EXPECT_EQ(CountRows(ws_.DbPath(), "flights"), 250);
  EXPECT_EQ(LoadSyncState(ws_)->tables.at("in.c-crm.orders").md5, Md5Hex(orders_v1_));
}

// A multi-file table is replaced all at once: when one of its files fails verification, none of
// the files that did arrive replaces its old copy, so the view never mixes two syncs.
TEST_F(PullerTest, MultiFileTableIsSwappedWholeOrNotAtAll) {
  const std::string jan_v1 = WriteParquet(fixtures_ / "jan_v1.parquet", 10);
  const std::string feb_v1 = WriteParquet(fixtures_ / "feb_v1.parquet", 20);
  const std::string jan_v2 = WriteParquet(fixtures_ / "jan_v2.parquet", 30, 3);
  const std::string feb_v2 = WriteParquet(fixtures_ / "feb_v2.parquet", 40, 5);
  server_.PutFiles({"events", "events", {{"2026-01.parquet", jan_v1}, {"2026-02.parquet", feb_v1}}, {}});
  MustPull();
  const auto dir = ws_.PartitionDir("events");
  EXPECT_EQ(CountRows(ws_.DbPath(), "events"), 30);

  // Both files change, but the server's copy of February does not match its manifest MD5.
  server_.PutFiles({"events", "events", {{"2026-01.parquet", jan_v2}, {"2026-02.parquet", feb_v2}},
                    {{"2026-02.parquet", Md5Hex(feb_v1)}}});
  PullReport r = MustPull();
  const TableOutcome* o = Find(r, "events");
  ASSERT_NE(o, nullptr);
  EXPECT_EQ(o->action, TableAction::kFailed);
  EXPECT_NE(o->detail.find("2026-02.parquet: hash mismatch"), std::string::npos) << o->detail;
  EXPECT_EQ(ReadBytes(dir / "2026-01.parquet"), jan_v1);  // verified, yet not swapped in alone
  EXPECT_EQ(ReadBytes(dir / "2026-02.parquet"), feb_v1);
  EXPECT_EQ(CountRows(ws_.DbPath(), "events"), 30);
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    EXPECT_FALSE(e.path().filename().string().ends_with(".part")) << e.path();
  }

  // Once the server is consistent again, both files arrive together.
  server_.PutFiles({"events", "events", {{"2026-01.parquet", jan_v2}, {"2026-02.parquet", feb_v2}}, {}});
  r = MustPull();
  EXPECT_EQ(Find(r, "events")->action, TableAction::kDownloaded);
  EXPECT_EQ(ReadBytes(dir / "2026-01.parquet"), jan_v2);
  EXPECT_EQ(ReadBytes(dir / "2026-02.parquet"), feb_v2);
  EXPECT_EQ(CountRows(ws_.DbPath(), "events"), 70);
}

TEST_F(PullerTest, ConnectionDroppedMidBodyKeepsTheOldFile) {
  MustPull();
  server_.Edit("in.c-crm.orders", [&](FakeServer::Table& t) {
    t.bytes = orders_v2_;
    t.drop_mid_body_times = 100;
  });
  options_.max_attempts = 2;
  PullReport r = MustPull();
  EXPECT_FALSE(r.ok());
  const TableOutcome* o = Find(r, "in.c-crm.orders");
  ASSERT_NE(o, nullptr);
  EXPECT_EQ(o->action, TableAction::kFailed);
  EXPECT_NE(o->detail.find("dropped"), std::string::npos) << o->detail;
  EXPECT_EQ(server_.Downloads("in.c-crm.orders"), 1 + 2);
  EXPECT_EQ(ReadBytes(ws_.ParquetPath("in.c-crm.orders")), orders_v1_);
  EXPECT_FALSE(std::filesystem::exists(ws_.PartPath("in.c-crm.orders")));
  EXPECT_EQ(CountRows(ws_.DbPath(), "orders"), 100);
}

TEST_F(PullerTest, DroppedConnectionIsResumedWithRange) {
  server_.Edit("flights", [&](FakeServer::Table& t) { t.drop_mid_body_times = 1; });
  PullReport r = MustPull();
  EXPECT_TRUE(r.ok());
  EXPECT_EQ(server_.Downloads("flights"), 2);
  EXPECT_EQ(server_.LastRange("flights"), "bytes=" + std::to_string(flights_.size() / 2) + "-");
  EXPECT_EQ(ReadBytes(ws_.ParquetPath("flights")), flights_);
  EXPECT_EQ(CountRows(ws_.DbPath(), "flights"), 250);
}

TEST_F(PullerTest, TableRemovedFromManifestIsRemovedLocally) {
  MustPull();
  server_.Remove("flights");
  PullReport r = MustPull();
  EXPECT_TRUE(r.ok());
  EXPECT_EQ(r.removed, 1);
  EXPECT_EQ(r.total, 1);
  const TableOutcome* o = Find(r, "flights");
  ASSERT_NE(o, nullptr);
  EXPECT_EQ(o->action, TableAction::kRemoved);
  EXPECT_EQ(o->name, "flights");
  EXPECT_EQ(o->detail, "no longer available to you: access revoked or table unregistered");
  EXPECT_FALSE(std::filesystem::exists(ws_.ParquetPath("flights")));
  EXPECT_EQ(CountRows(ws_.DbPath(), "flights"), -1);
  EXPECT_EQ(CountRows(ws_.DbPath(), "orders"), 100);
  EXPECT_FALSE(LoadSyncState(ws_)->tables.contains("flights"));
}

TEST_F(PullerTest, TableTurnedRemoteIsRemovedLocally) {
  MustPull();
  server_.Edit("flights", [&](FakeServer::Table& t) { t.query_mode = "remote"; });
  PullReport r = MustPull();
  const TableOutcome* removed = nullptr;
  for (const auto& t : r.tables) {
    if (t.id == "flights" && t.action == TableAction::kRemoved) removed = &t;
  }
  ASSERT_NE(removed, nullptr);
  EXPECT_EQ(removed->detail, "now queried remotely");
  EXPECT_FALSE(std::filesystem::exists(ws_.ParquetPath("flights")));
}

TEST_F(PullerTest, MissingOrTruncatedLocalFileIsDownloadedAgain) {
  MustPull();
  std::filesystem::remove(ws_.ParquetPath("flights"));
  std::filesystem::resize_file(ws_.ParquetPath("in.c-crm.orders"), 10);
  PullReport r = MustPull();
  EXPECT_TRUE(r.ok());
  EXPECT_EQ(r.updated, 2);
  EXPECT_EQ(server_.TotalDownloads(), 4);
  EXPECT_EQ(CountRows(ws_.DbPath(), "orders"), 100);
  EXPECT_EQ(CountRows(ws_.DbPath(), "flights"), 250);
}

TEST_F(PullerTest, DryRunChangesNothing) {
  options_.dry_run = true;
  PullReport first = MustPull();
  EXPECT_TRUE(first.dry_run);
  EXPECT_EQ(first.updated, 2);
  EXPECT_EQ(Find(first, "flights")->action, TableAction::kWouldDownload);
  EXPECT_EQ(Find(first, "flights")->bytes, static_cast<int64_t>(flights_.size()));
  EXPECT_EQ(server_.TotalDownloads(), 0);
  EXPECT_FALSE(std::filesystem::exists(ws_.root));

  options_.dry_run = false;
  MustPull();
  auto state_before = ReadBytes(ws_.StatePath());
  auto db_time = std::filesystem::last_write_time(ws_.DbPath());
  server_.Edit("in.c-crm.orders", [&](FakeServer::Table& t) { t.bytes = orders_v2_; });
  server_.Remove("flights");

  options_.dry_run = true;
  PullReport r = MustPull();
  EXPECT_EQ(Find(r, "in.c-crm.orders")->action, TableAction::kWouldDownload);
  EXPECT_EQ(Find(r, "flights")->action, TableAction::kWouldRemove);
  EXPECT_EQ(r.updated, 1);
  EXPECT_EQ(r.removed, 1);
  EXPECT_EQ(r.total, 1);
  EXPECT_EQ(server_.TotalDownloads(), 2);
  EXPECT_EQ(ReadBytes(ws_.StatePath()), state_before);
  EXPECT_EQ(std::filesystem::last_write_time(ws_.DbPath()), db_time);
  EXPECT_EQ(ReadBytes(ws_.ParquetPath("in.c-crm.orders")), orders_v1_);
  EXPECT_TRUE(std::filesystem::exists(ws_.ParquetPath("flights")));
}

TEST_F(PullerTest, ManifestErrorsFailTheWholeSync) {
  HttpClient bad_token({server_.url(), "wrong"});
  auto r = Pull(bad_token, ws_, options_);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kUnauthenticated);
  EXPECT_NE(r.status().message().find("manifest"), std::string::npos);
  EXPECT_FALSE(std::filesystem::exists(ws_.DbPath()));
}

TEST_F(PullerTest, ConcurrentSyncInTheSameWorkspaceIsRefused) {
  auto lock = WorkspaceLock::Acquire(ws_);
  ASSERT_OK(lock);
  auto r = Pull(client_, ws_, options_);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(server_.TotalDownloads(), 0);
}

TEST_F(PullerTest, LeftoverPartFilesAndOrphansAreCleanedUp) {
  MustPull();
  ASSERT_OK(WriteFileAtomic(ws_.PartPath("flights"), "half a download"));
  ASSERT_OK(WriteFileAtomic(ws_.ParquetPath("stale"), "left by a crash"));
  PullReport r = MustPull();
  EXPECT_TRUE(r.ok());
  EXPECT_FALSE(std::filesystem::exists(ws_.PartPath("flights")));
  EXPECT_FALSE(std::filesystem::exists(ws_.ParquetPath("stale")));
  EXPECT_EQ(CountRows(ws_.DbPath(), "flights"), 250);
}

TEST(ParseManifestTest, RejectsWrongShapesAndDefaultsFields) {
  EXPECT_EQ(ParseManifest(nlohmann::json::array()).status().code(), StatusCode::kMalformed);
  EXPECT_EQ(ParseManifest({{"tables", "x"}}).status().code(), StatusCode::kMalformed);
  EXPECT_EQ(ParseManifest({{"tables", {{{"name", "no id"}}}}}).status().code(),
            StatusCode::kMalformed);
  auto m = ParseManifest({{"server_time", "t"}, {"tables", {{{"id", "a"}}}}});
  ASSERT_OK(m);
  ASSERT_EQ(m->tables.size(), 1u);
  EXPECT_EQ(m->tables[0].name, "a");
  EXPECT_EQ(m->tables[0].query_mode, "local");
  EXPECT_EQ(m->server_time, "t");
}

}  // namespace
}  // namespace da::client
