#include "kit/extract_state.h"

#include <gtest/gtest.h>

#include <thread>

#include "common/fs_util.h"
#include "support/extract_reader.h"
#include "support/files.h"
#include "support/status_macros.h"
#include "support/temp_dir.h"

namespace da::kit {
namespace {
namespace fs = std::filesystem;

TEST(ExtractState, MissingFileIsEmptyState) {
  testing::TempDir dir;
  auto st = LoadExtractState(dir.path() / "nope");
  ASSERT_OK(st);
  EXPECT_TRUE(st->tables.empty());
  EXPECT_FALSE(st->registered.has_value());
}

TEST(ExtractState, RoundTripsThroughTheFile) {
  testing::TempDir dir;
  TableState t;
  t.columns = {{"id", "BIGINT"}, {"updated", "TIMESTAMP"}};
  t.sync_strategy = "incremental";
  t.incremental_column = "updated";
  t.watermark = "2024-03-01 10:00:00";
  t.last_extracted_at = "2024-03-02T00:00:00Z";
  t.files = {{{"a.parquet", "0123456789abcdef0123456789abcdef", 100, 7}, 123456789}};
  t.last_schema_change = SchemaChange{{{"updated", "TIMESTAMP"}}, {}, {}};
  t.last_schema_change_at = "2024-03-02T00:00:00Z";
  model::TableSpec rec;
  rec.id = "in.c-crm.a";
  rec.name = "a";
  rec.source_type = "gen";
  rec.schema_policy = model::SchemaPolicy::kFreeze;
  ASSERT_TRUE(UpdateExtractState(dir.path(), [&](ExtractState& s) {
                s.tables["in.c-crm.a"] = t;
                s.registered = std::vector<model::TableSpec>{rec};
              }).ok());
  auto back = LoadExtractState(dir.path());
  ASSERT_OK(back);
  ASSERT_EQ(back->tables.count("in.c-crm.a"), 1u);
  EXPECT_EQ(back->tables.at("in.c-crm.a"), t);
  ASSERT_TRUE(back->registered.has_value());
  ASSERT_EQ(back->registered->size(), 1u);
  EXPECT_EQ((*back->registered)[0].schema_policy, model::SchemaPolicy::kFreeze);
  // Written as readable JSON keyed by table id.
  auto text = ReadFile(ExtractStatePath(dir.path()));
  ASSERT_OK(text);
  auto j = nlohmann::json::parse(*text);
  EXPECT_EQ(j["format"], 1);
  EXPECT_EQ(j["tables"]["in.c-crm.a"]["watermark"], "2024-03-01 10:00:00");
}

TEST(ExtractState, CorruptFileIsMalformedNamingIt) {
  testing::TempDir dir;
  testing::WriteText(ExtractStatePath(dir.path()), "{not json");
  auto st = LoadExtractState(dir.path());
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.status().code(), StatusCode::kMalformed);
  EXPECT_NE(st.status().message().find("state.json"), std::string::npos);
  testing::WriteText(ExtractStatePath(dir.path()), R"({"format": 99})");
  EXPECT_EQ(LoadExtractState(dir.path()).status().code(), StatusCode::kMalformed);
  testing::WriteText(ExtractStatePath(dir.path()),
                     R"({"format": 1, "tables": {"a": {"watermark": 5}}})");
  st = LoadExtractState(dir.path());
  EXPECT_EQ(st.status().code(), StatusCode::kMalformed);
  EXPECT_NE(st.status().message().find("'a'"), std::string::npos) << st.status().message();
  // A failed load writes nothing.
  EXPECT_FALSE(UpdateExtractState(dir.path(), [](ExtractState&) {}).ok());
  EXPECT_EQ(*ReadFile(ExtractStatePath(dir.path())),
            R"({"format": 1, "tables": {"a": {"watermark": 5}}})");
}

TEST(ExtractState, ConcurrentUpdatesAreNotLost) {
  testing::TempDir dir;
  std::vector<std::thread> threads;
  for (int i = 0; i < 8; ++i) {
    threads.emplace_back([&, i] {
      for (int k = 0; k < 10; ++k) {
        Status st = UpdateExtractState(dir.path(), [&](ExtractState& s) {
          s.tables["t" + std::to_string(i) + "_" + std::to_string(k)].sync_strategy = "x";
        });
        EXPECT_OK(st);
      }
    });
  }
  for (auto& t : threads) t.join();
  auto st = LoadExtractState(dir.path());
  ASSERT_OK(st);
  EXPECT_EQ(st->tables.size(), 80u);
  for (const auto& e : fs::directory_iterator(dir.path())) {
    EXPECT_FALSE(e.path().filename().string().starts_with("state.json.tmp")) << e.path();
  }
}

}  // namespace
}  // namespace da::kit
