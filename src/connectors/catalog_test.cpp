#include "connectors/catalog.h"

#include <gtest/gtest.h>
#include <httplib.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <thread>

#include "connectors/builtin.h"
#include "connectors/health_check.h"
#include "support/singer_taps.h"
#include "support/status_macros.h"
#include "support/temp_dir.h"

namespace da::connectors {
namespace {
namespace fs = std::filesystem;
using testing::WriteTapManifest;

class CatalogTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ::unsetenv("DA_CONNECTORS_DIR");
    config_.data_dir = dir_.path() / "data";
  }
  fs::path Installed() const { return dir_.path() / "data" / "connectors"; }

  da::testing::TempDir dir_;
  InstanceConfig config_;
};

TEST_F(CatalogTest, BuiltinManifestsAreEmbeddedAndMatchTheConnectors) {
  const auto& manifests = BuiltinManifests();
  ASSERT_EQ(manifests.size(), BuiltinConnectors().Names().size());
  for (const auto& m : manifests) {
    auto c = BuiltinConnectors().Create(m.name);
    ASSERT_OK(c) << m.name;
    EXPECT_EQ((*c)->capabilities(), m.capabilities) << m.name;
    EXPECT_EQ(m.entrypoint, m.name);
  }
}

TEST_F(CatalogTest, ListsBuiltinsAndInstalledAndReportsBrokenManifests) {
  WriteTapManifest(Installed(), "crm", "tap_two_streams.js");
  fs::create_directories(Installed() / "broken");
  std::ofstream(Installed() / "broken" / "connector.yaml")
      << "name: broken\nversion: \"1.0.0\"\ndescription: d\ncapabilities: [read, fly]\n"
         "command: [\"/bin/true\"]\n";
  WriteTapManifest(Installed(), "files", "tap_two_streams.js");  // shadows a built-in
  WriteTapManifest(Installed(), "other_name", "tap_two_streams.js");
  fs::rename(Installed() / "other_name", Installed() / "renamed");  // name != directory

  auto listing = ListConnectors(config_);
  std::vector<std::string> names;
  for (const auto& e : listing.connectors) names.push_back(e.manifest.name + (e.is_builtin ? "*" : ""));
  EXPECT_EQ(names, (std::vector<std::string>{"files*", "keboola*", "crm"}));
  ASSERT_EQ(listing.problems.size(), 3u);
  std::string all;
  for (const auto& p : listing.problems) all += p.message() + "\n";
  EXPECT_NE(all.find("broken/connector.yaml: capabilities[1]: unknown capability 'fly'"), std::string::npos) << all;
  EXPECT_NE(all.find("is a built-in connector and cannot be redefined"), std::string::npos) << all;
  EXPECT_NE(all.find("differs from its directory 'renamed'"), std::string::npos) << all;

  EXPECT_TRUE(IsKnownConnector(config_, "files"));
  EXPECT_TRUE(IsKnownConnector(config_, "crm"));
  EXPECT_FALSE(IsKnownConnector(config_, "broken"));
  EXPECT_FALSE(IsKnownConnector(config_, "nothing"));
  EXPECT_FALSE(IsKnownConnector(config_, "../etc"));
  EXPECT_EQ(FindConnector(config_, "nothing").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(FindConnector(config_, "broken").status().code(), StatusCode::kInvalidArgument);
}

TEST_F(CatalogTest, TheConnectorsDirComesFromTheEnvironment) {
  const fs::path elsewhere = dir_.path() / "elsewhere";
  WriteTapManifest(elsewhere, "crm", "tap_two_streams.js");
  EXPECT_FALSE(IsKnownConnector(config_, "crm"));
  ::setenv("DA_CONNECTORS_DIR", elsewhere.c_str(), 1);
  EXPECT_EQ(InstalledConnectorsDir(config_), elsewhere);
  EXPECT_TRUE(IsKnownConnector(config_, "crm"));
  ::unsetenv("DA_CONNECTORS_DIR");
}

TEST_F(CatalogTest, TheRegistryCreatesInstalledConnectors) {
  WriteTapManifest(Installed(), "crm", "tap_two_streams.js");
  fs::create_directories(Installed() / "files_copy");
  std::ofstream(Installed() / "files_copy" / "connector.yaml")
      << "name: files_copy\nversion: \"1.0.0\"\ndescription: d\ncapabilities: [discover, read]\n"
         "entrypoint: files\n";
  kit::ConnectorRegistry registry = MakeConnectorRegistry(config_);
  EXPECT_EQ(registry.Names(), (std::vector<std::string>{"crm", "files", "files_copy", "keboola"}));
  auto crm = registry.Create("crm");
  ASSERT_OK(crm);
  EXPECT_EQ((*crm)->name(), "crm");
  auto tables = (*crm)->Discover({});
  ASSERT_OK(tables);
  EXPECT_EQ(tables->size(), 2u);
  auto copy = registry.Create("files_copy");
  ASSERT_OK(copy);
  EXPECT_EQ((*copy)->name(), "files");
}

TEST_F(CatalogTest, HttpHealthCheckOverTheSharedTransport) {
  httplib::Server server;
  server.Get("/v2/verify", [](const httplib::Request& req, httplib::Response& res) {
    if (req.get_header_value("Authorization") == "Bearer good-token-123456") return;
    res.status = 401;
    res.set_content("{\"error\":\"Invalid access token good-token-123456 wrong-token-123456\"}",
                    "application/json");
  });
  server.Get("/slow", [](const httplib::Request&, httplib::Response&) {
    std::this_thread::sleep_for(std::chrono::milliseconds(2500));
  });
  const int port = server.bind_to_any_port("127.0.0.1");
  std::thread thread([&] { server.listen_after_bind(); });
  while (!server.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  const std::string base = "http://127.0.0.1:" + std::to_string(port);

  WriteTapManifest(Installed(), "api", "tap_two_streams.js", "[discover, read]",
                   "health_check:\n  endpoint: \"${base}//v2/verify\"\n"
                   "  headers: {Authorization: \"Bearer ${token}\"}\n  timeout_seconds: 5\n");
  auto m = FindConnector(config_, "api");
  ASSERT_OK(m);
  EXPECT_OK(RunHealthCheck(m->manifest, {{"base", base}, {"token", "good-token-123456"}}));
  Status bad = RunHealthCheck(m->manifest, {{"base", base}, {"token", "wrong-token-123456"}});
  EXPECT_EQ(bad.code(), StatusCode::kUnavailable);
  EXPECT_NE(bad.message().find("answered HTTP 401, expected 200: Invalid access token"),
            std::string::npos) << bad.message();
  EXPECT_EQ(bad.message().find("wrong-token-123456"), std::string::npos) << bad.message();

  WriteTapManifest(Installed(), "slow", "tap_two_streams.js", "[discover, read]",
                   "health_check:\n  endpoint: \"${base}/slow\"\n  timeout_seconds: 1\n");
  auto slow = FindConnector(config_, "slow");
  ASSERT_OK(slow);
  Status late = RunHealthCheck(slow->manifest, {{"base", base}});
  EXPECT_EQ(late.code(), StatusCode::kDeadlineExceeded) << late.ToString();
  EXPECT_NE(late.message().find("took longer than 1 s"), std::string::npos) << late.message();

  Status refused = RunHealthCheck(m->manifest, {{"base", "http://127.0.0.1:1"}, {"token", "t"}});
  EXPECT_EQ(refused.code(), StatusCode::kUnavailable);
  EXPECT_NE(refused.message().find("failed: "), std::string::npos) << refused.message();
  Status ftp = RunHealthCheck(m->manifest, {{"base", "ftp://user:pw-123456@127.0.0.1"}, {"token", "t"}});
  EXPECT_EQ(ftp.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(ftp.message().find("pw-123456"), std::string::npos) << ftp.message();

  server.stop();
  thread.join();
}

TEST_F(CatalogTest, HealthCheckCommandsAndPlaceholders) {
  const fs::path file = WriteTapManifest(
      Installed(), "crm", "tap_two_streams.js", "[discover, read]",
      "health_check:\n  command: [\"/bin/sh\", \"-c\", \"echo checking; test -n \\\"$DA_HC_OK\\\" || "
      "{ echo 'no API key' >&2; exit 1; }\"]\n  timeout_seconds: 5\n");
  // `$` and `|` are refused in arguments: the check above must not load.
  EXPECT_FALSE(kit::LoadManifest(file).ok());

  const fs::path script = dir_.path() / "check.sh";
  std::ofstream(script) << "#!/bin/sh\n[ -n \"$DA_HC_OK\" ] && exit 0\necho 'no API key' >&2\nexit 1\n";
  fs::permissions(script, fs::perms::owner_all);
  // The check sees DA_HC_OK because the manifest declares it (an undeclared one stays away:
  // see the second manifest below).
  WriteTapManifest(Installed(), "crm", "tap_two_streams.js", "[discover, read]",
                   "auth:\n  type: token\n  env_vars: [{name: DA_HC_OK}]\n"
                   "health_check:\n  command: [\"" + script.string() + "\"]\n  timeout_seconds: 5\n");
  auto m = FindConnector(config_, "crm");
  ASSERT_OK(m);
  ::unsetenv("DA_HC_OK");
  Status st = RunHealthCheck(m->manifest, {});
  EXPECT_EQ(st.code(), StatusCode::kUnavailable);
  EXPECT_NE(st.message().find("no API key"), std::string::npos) << st.message();
  ::setenv("DA_HC_OK", "1", 1);
  EXPECT_OK(RunHealthCheck(m->manifest, {}));
  WriteTapManifest(Installed(), "crm_undeclared", "tap_two_streams.js", "[discover, read]",
                   "health_check:\n  command: [\"" + script.string() + "\"]\n  timeout_seconds: 5\n");
  auto undeclared = FindConnector(config_, "crm_undeclared");
  ASSERT_OK(undeclared);
  EXPECT_EQ(RunHealthCheck(undeclared->manifest, {}).code(), StatusCode::kUnavailable);
  ::unsetenv("DA_HC_OK");

  ::setenv("DA_HC_HOST", "example.org", 1);
  auto url = ExpandPlaceholders("https://${DA_HC_HOST}/v2/${bucket}", {{"bucket", "in.c-main"}});
  ASSERT_OK(url);
  EXPECT_EQ(*url, "https://example.org/v2/in.c-main");
  EXPECT_EQ(ExpandPlaceholders("${DA_HC_NOPE_UNSET}", {}).status().code(), StatusCode::kInvalidArgument);
  // A variable the manifest does not declare is not read: no server secret in a health check.
  const std::vector<std::string> declared = {"DA_HC_DECLARED"};
  EXPECT_EQ(ExpandPlaceholders("https://${DA_HC_HOST}/", {}, &declared).status().code(),
            StatusCode::kInvalidArgument);
  ::unsetenv("DA_HC_HOST");
}

}  // namespace
}  // namespace da::connectors
