// Partitioned tables end to end (decisions.md §4): the server extracts one Parquet file per
// month, the manifest lists them with their MD5s, `da sync` fetches only the changed files and
// the local view spans them all; schema changes are recorded and shown by the registry.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <fstream>
#include <map>

#include "common/hash.h"
#include "support/datasets.h"
#include "support/files.h"
#include "support/server_process.h"
#include "support/temp_dir.h"

namespace da::e2e {
namespace {
using namespace da::testing;  // the test support of tests/support

/// Writes `days` daily rows from 2024-01-01 (id, day, v[, extra]) as CSV through DuckDB.
void WriteEvents(const std::filesystem::path& csv, int days, bool with_extra_column = false) {
  std::string extra = with_extra_column ? ", 'x' || range AS note" : "";
  DuckDbRows("COPY (SELECT range AS id, DATE '2024-01-01' + CAST(range AS INTEGER) AS day, "
             "range * 1.5 AS v" + extra + " FROM range(" + std::to_string(days) + ")) TO '" +
             csv.string() + "' (HEADER)");
}

std::map<std::string, std::string> FileMd5s(const nlohmann::json& manifest, const std::string& id) {
  std::map<std::string, std::string> out;
  for (const auto& t : manifest["tables"]) {
    if (t["id"] != id) continue;
    for (const auto& f : t.value("files", nlohmann::json::array())) out[f["name"]] = f["md5"];
  }
  return out;
}

int64_t Inode(const std::filesystem::path& p) {
  struct stat sb {};
  return ::stat(p.c_str(), &sb) == 0 ? static_cast<int64_t>(sb.st_ino) : -1;
}

TEST(PartitionedSync, ManifestListsFilesAndDaSyncFetchesOnlyChangedOnes) {
  TempDir tmp;
  auto csv = tmp.path() / "events.csv";
  WriteEvents(csv, 75);  // January, February, 15 days of March
  ServerProcess server(tmp.path() / "data");
  ASSERT_GT(server.port(), 0);
  nlohmann::json reg = {{"id", "events"},
                        {"name", "events"},
                        {"source_type", "files"},
                        {"source_table", csv.string()},
                        {"sync_strategy", "partitioned"},
                        {"partition_by", "day"},
                        {"partition_granularity", "month"},
                        {"primary_key", {"id"}}};
  auto created = server.Post("/api/admin/register-table", reg.dump());
  ASSERT_TRUE(created);
  ASSERT_EQ(created->status, 201) << created->body;
  auto run = server.SyncAndWait({"events"});
  ASSERT_EQ(run["status"], "ok") << run.dump() << server.Output();

  auto m1 = nlohmann::json::parse(server.Get("/api/sync/manifest")->body);
  ASSERT_EQ(m1["tables"].size(), 1u) << m1.dump();
  const auto& entry = m1["tables"][0];
  EXPECT_EQ(entry["rows"], 75);
  EXPECT_FALSE(entry.contains("download_url"));
  EXPECT_EQ(entry["md5"].get<std::string>().size(), 32u);
  auto files1 = FileMd5s(m1, "events");
  ASSERT_EQ(files1.size(), 3u) << entry.dump();
  EXPECT_TRUE(files1.contains("2024-01.parquet") && files1.contains("2024-03.parquet"));
  int64_t total = 0;
  for (const auto& f : entry["files"]) {
    auto dl = server.Get(f["download_url"].get<std::string>());
    ASSERT_TRUE(dl);
    ASSERT_EQ(dl->status, 200);
    EXPECT_EQ(Md5Hex(dl->body), f["md5"]);
    EXPECT_EQ(static_cast<int64_t>(dl->body.size()), f["size_bytes"].get<int64_t>());
    EXPECT_EQ(dl->get_header_value("ETag"), "\"" + f["md5"].get<std::string>() + "\"");
    total += f["size_bytes"].get<int64_t>();
  }
  EXPECT_EQ(entry["size_bytes"], total);
  // The one-file download names the files instead; names that are not data files are refused.
  auto single = server.Get("/api/data/events/download");
  ASSERT_TRUE(single);
  EXPECT_EQ(single->status, 404);
  EXPECT_NE(single->body.find("several files"), std::string::npos) << single->body;
  for (const char* bad : {"/api/data/events/files/..%2F..%2Fstate%2Fda.duckdb",
                          "/api/data/events/files/.2024-01.parquet.tmp",
                          "/api/data/events/files/2024-09.parquet",
                          "/api/data/nosuch/files/2024-01.parquet"}) {
    auto r = server.Get(bad);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 404) << bad << " " << r->body;
  }

  // The analyst's copy: three files, one view over them.
  auto cfg = tmp.path() / "config";
  auto ws = tmp.path() / "ws";
  ASSERT_EQ(RunDa({"login", "--server", server.url(), "--token", server.admin_token()}, cfg).exit_code, 0);
  auto pull = RunDa({"sync", "--workspace", ws.string()}, cfg);
  ASSERT_EQ(pull.exit_code, 0) << pull.out << pull.err;
  for (const auto& [name, md5] : files1) {
    EXPECT_EQ(*Md5File(ws / "data" / "events" / name), md5) << name;
  }
  auto q = RunDa({"query", "--workspace", ws.string(), "--format", "csv",
                  "SELECT count(*), sum(v), min(day), max(day) FROM events"}, cfg);
  ASSERT_EQ(q.exit_code, 0) << q.err;
  EXPECT_EQ(Lines(q.out).back(), "75,4162.5,2024-01-01,2024-03-15") << q.out;
  const int64_t jan_inode = Inode(ws / "data" / "events" / "2024-01.parquet");

  // More days: March grows, April appears; unchanged files are not fetched again.
  WriteEvents(csv, 100, /*with_extra_column=*/true);
  run = server.SyncAndWait({"events"});
  ASSERT_EQ(run["status"], "ok") << run.dump() << server.Output();
  auto m2 = nlohmann::json::parse(server.Get("/api/sync/manifest")->body);
  auto files2 = FileMd5s(m2, "events");
  ASSERT_EQ(files2.size(), 4u);
  EXPECT_NE(files2["2024-03.parquet"], files1["2024-03.parquet"]);
  EXPECT_NE(m2["tables"][0]["md5"], m1["tables"][0]["md5"]);
  pull = RunDa({"sync", "--workspace", ws.string()}, cfg);
  ASSERT_EQ(pull.exit_code, 0) << pull.out << pull.err;
  for (const auto& [name, md5] : files2) {
    EXPECT_EQ(*Md5File(ws / "data" / "events" / name), md5) << name;
  }
  if (files2["2024-01.parquet"] == files1["2024-01.parquet"]) {
    EXPECT_EQ(Inode(ws / "data" / "events" / "2024-01.parquet"), jan_inode)
        << "an unchanged file was downloaded again";
  }
  q = RunDa({"query", "--workspace", ws.string(), "--format", "csv",
             "SELECT count(*), count(DISTINCT id), max(day) FROM events"}, cfg);
  ASSERT_EQ(q.exit_code, 0) << q.err;
  EXPECT_EQ(Lines(q.out).back(), "100,100,2024-04-09") << q.out;

  // The added column is recorded as the table's last schema change.
  auto item = nlohmann::json::parse(server.Get("/api/admin/registry/events")->body);
  ASSERT_TRUE(item["last_schema_change"].is_object()) << item.dump();
  ASSERT_EQ(item["last_schema_change"]["added"].size(), 1u) << item.dump();
  EXPECT_EQ(item["last_schema_change"]["added"][0]["name"], "note");
  EXPECT_EQ(item["last_schema_change"]["run_id"], run["run_id"]);

  // A third sync with nothing new downloads nothing.
  pull = RunDa({"sync", "--workspace", ws.string(), "--json"}, cfg);
  ASSERT_EQ(pull.exit_code, 0) << pull.err;
  auto report = nlohmann::json::parse(pull.out);
  EXPECT_EQ(report["updated"], 0) << pull.out;
}

}  // namespace
}  // namespace da::e2e
