#include "client/client_config.h"

#include <sys/stat.h>

#include <gtest/gtest.h>

#include "common/fs_util.h"
#include "support/scoped_env.h"
#include "support/status_macros.h"
#include "support/temp_dir.h"

namespace da::client {
namespace {

using testing::ScopedEnv;
using testing::TempDir;

TEST(ClientConfigTest, DirPrefersDaConfigDirThenXdgThenHome) {
  TempDir tmp;
  ScopedEnv home("HOME", (tmp.path() / "home").string());
  {
    ScopedEnv dir("DA_CONFIG_DIR", (tmp.path() / "cfg").string());
    ScopedEnv xdg("XDG_CONFIG_HOME", (tmp.path() / "xdg").string());
    auto d = ClientConfigDir();
    ASSERT_OK(d);
    EXPECT_EQ(*d, tmp.path() / "cfg");
  }
  {
    ScopedEnv dir("DA_CONFIG_DIR", std::nullopt);
    ScopedEnv xdg("XDG_CONFIG_HOME", (tmp.path() / "xdg").string());
    auto d = ClientConfigDir();
    ASSERT_OK(d);
    EXPECT_EQ(*d, tmp.path() / "xdg" / "da");
  }
  {
    ScopedEnv dir("DA_CONFIG_DIR", std::nullopt);
    ScopedEnv xdg("XDG_CONFIG_HOME", std::nullopt);
    auto p = ClientConfigPath();
    ASSERT_OK(p);
    EXPECT_EQ(*p, tmp.path() / "home" / ".config" / "da" / "config.json");
  }
}

TEST(ClientConfigTest, MissingFileGivesDefaults) {
  TempDir tmp;
  ScopedEnv dir("DA_CONFIG_DIR", tmp.path().string());
  ScopedEnv server("DA_SERVER", std::nullopt);
  ScopedEnv token("DA_TOKEN", std::nullopt);
  auto c = LoadClientConfig();
  ASSERT_OK(c);
  EXPECT_EQ(c->server, "http://127.0.0.1:8000");
  EXPECT_EQ(c->token, "");
}

TEST(ClientConfigTest, SaveWritesMode600AndRoundTrips) {
  TempDir tmp;
  ScopedEnv dir("DA_CONFIG_DIR", (tmp.path() / "new" / "da").string());
  ScopedEnv server("DA_SERVER", std::nullopt);
  ScopedEnv token("DA_TOKEN", std::nullopt);
  auto path = SaveClientConfig({"https://da.example.com/", "tok-123"});
  ASSERT_OK(path);
  EXPECT_EQ(*path, tmp.path() / "new" / "da" / "config.json");
  struct stat st {};
  ASSERT_EQ(::stat(path->c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  ASSERT_EQ(::stat((tmp.path() / "new" / "da").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0700u);
  // No temp file left next to it.
  int files = 0;
  for ([[maybe_unused]] const auto& e : std::filesystem::directory_iterator(tmp.path() / "new" / "da")) ++files;
  EXPECT_EQ(files, 1);

  auto c = LoadClientConfig();
  ASSERT_OK(c);
  EXPECT_EQ(c->server, "https://da.example.com");
  EXPECT_EQ(c->token, "tok-123");
}

TEST(ClientConfigTest, EnvironmentOverridesFile) {
  TempDir tmp;
  ScopedEnv dir("DA_CONFIG_DIR", tmp.path().string());
  ASSERT_OK(SaveClientConfig({"http://file-server:8000", "file-token"}));
  {
    ScopedEnv server("DA_SERVER", "http://env-server:9000/");
    ScopedEnv token("DA_TOKEN", std::nullopt);
    auto c = LoadClientConfig();
    ASSERT_OK(c);
    EXPECT_EQ(c->server, "http://env-server:9000");
    EXPECT_EQ(c->token, "file-token");
  }
  {
    ScopedEnv server("DA_SERVER", std::nullopt);
    ScopedEnv token("DA_TOKEN", "env-token");
    auto c = LoadClientConfig();
    ASSERT_OK(c);
    EXPECT_EQ(c->server, "http://file-server:8000");
    EXPECT_EQ(c->token, "env-token");
  }
  {
    // Empty variables do not override.
    ScopedEnv server("DA_SERVER", "");
    ScopedEnv token("DA_TOKEN", "");
    auto c = LoadClientConfig();
    ASSERT_OK(c);
    EXPECT_EQ(c->server, "http://file-server:8000");
    EXPECT_EQ(c->token, "file-token");
  }
}

TEST(ClientConfigTest, MalformedFileIsAnError) {
  TempDir tmp;
  ScopedEnv dir("DA_CONFIG_DIR", tmp.path().string());
  ASSERT_OK(WriteFileAtomic(tmp.path() / "config.json", "{not json"));
  auto c = LoadClientConfig();
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().code(), StatusCode::kMalformed);
  EXPECT_NE(c.status().message().find("config.json"), std::string::npos);

  ASSERT_OK(WriteFileAtomic(tmp.path() / "config.json", R"({"server": 5})"));
  c = LoadClientConfig();
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().code(), StatusCode::kMalformed);
}

}  // namespace
}  // namespace da::client
