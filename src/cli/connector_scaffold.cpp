#include "cli/connector_scaffold.h"

#include <algorithm>
#include <cctype>
#include <set>
#include <string_view>
#include <system_error>

#include "common/fs_util.h"
#include "common/identifiers.h"
#include "connectors/builtin.h"
#include "kit/manifest.h"

namespace da::cli {
namespace fs = std::filesystem;

namespace {

// Templates. `@NAME@` is the connector name, `@CLASS@` its PascalCase class name, `@CAPS@`
// the YAML capability list, `@CAPS_CPP@` the C++ capability expression, `@COMMAND@` the
// tap's absolute path.

constexpr std::string_view kSingerManifest = R"tpl(# Connector manifest (docs/connectors.md has the full reference).
# Scaffolded by `da connector new @NAME@ --lang singer`: a Singer tap run by da.
name: @NAME@
version: "0.1.0"
description: "@NAME@: a Singer tap scaffolded by da connector new (edit tap.js)"
capabilities: @CAPS@
# The tap, run without a shell: the program's absolute path, then one list item per argument.
command: ["@COMMAND@"]
# Time limit of one tap run (seconds); the tap's process group is killed when it is exceeded.
timeout_seconds: 600

# Credentials are named by environment variable, never written here, e.g.
#   auth: {type: token, env_vars: [{name: @NAME_UPPER@_TOKEN, required: true, config_key: token}]}
auth:
  type: none

# Per-source settings (instance.yaml `sources.@NAME@.<key>`), passed to the tap in config.json.
config:
  count:
    type: integer
    required: false
    default: 5
    description: "How many sample records the stream `items` holds"

table:
  source_table:
    description: "The Singer stream (tap_stream_id) to extract, e.g. items"
)tpl";

constexpr std::string_view kSingerTap = R"tpl(#!/usr/bin/env node
// @NAME@: a Singer tap (github.com/singer-io/getting-started, SPEC.md), scaffolded by
// `da connector new`. Replace the sample stream with calls to your source; keep the protocol:
//   tap.js --config config.json --discover
//       prints the catalog {"streams": [...]} on stdout
//   tap.js --config config.json [--catalog catalog.json] [--state state.json]
//       prints SCHEMA, then RECORD lines, then STATE on stdout, one JSON object per line
// Logs go to stderr (da keeps them in the run log); a non-zero exit code fails the sync.
'use strict';
const fs = require('fs');

// One entry per stream: its JSON Schema (da maps it to DuckDB types), key and bookmark column.
const STREAMS = {
  items: {
    schema: {
      type: 'object',
      properties: {
        id: { type: 'integer' },
        name: { type: ['null', 'string'] },
        amount: { type: ['null', 'number'] },
        active: { type: 'boolean' },
        updated_at: { type: 'string', format: 'date-time' },
      },
    },
    keyProperties: ['id'],
    bookmark: 'updated_at',
    // The records of the stream newer than `after` (a bookmark value, or null for all).
    * records(config, after) {
      const count = Number.isInteger(config.count) ? config.count : 5;
      const base = Date.UTC(2024, 0, 1);
      for (let id = 1; id <= count; id++) {
        const updatedAt = new Date(base + id * 3600 * 1000).toISOString();
        if (after && updatedAt <= after) continue;
        yield { id, name: `item ${id}`, amount: id * 2.5, active: id % 2 === 1, updated_at: updatedAt };
      }
    },
  },
};

function fail(message, code) {
  process.stderr.write(`@NAME@: ${message}\n`);
  process.exit(code);
}

function readJson(file, what) {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (e) {
    return fail(`cannot read the ${what} ${file}: ${e.message}`, 2);
  }
}

function parseArgs(argv) {
  const args = { discover: false, config: {}, catalog: null, state: {} };
  let configFile = null;
  for (let i = 2; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--discover') args.discover = true;
    else if (a === '--config') configFile = argv[++i];
    else if (a === '--catalog' || a === '--properties') args.catalog = readJson(argv[++i], 'catalog');
    else if (a === '--state') args.state = readJson(argv[++i], 'state');
    else fail(`unknown argument ${a}`, 2);
  }
  if (!configFile) fail('--config is required', 2);
  args.config = readJson(configFile, 'config');
  return args;
}

// A stream is extracted when there is no catalog or the catalog selects it.
function isSelected(catalog, id) {
  if (!catalog) return true;
  const entry = (catalog.streams || []).find((s) => s.tap_stream_id === id);
  if (!entry) return false;
  const top = (entry.metadata || []).find((m) => Array.isArray(m.breadcrumb) && m.breadcrumb.length === 0);
  return entry.selected === true || (top && top.metadata && top.metadata.selected === true);
}

function write(message) {
  process.stdout.write(JSON.stringify(message) + '\n');
}

function discover() {
  const streams = Object.entries(STREAMS).map(([id, s]) => ({
    tap_stream_id: id,
    stream: id,
    schema: s.schema,
    key_properties: s.keyProperties,
    metadata: [{ breadcrumb: [], metadata: {
      'table-key-properties': s.keyProperties,
      'valid-replication-keys': [s.bookmark],
      'forced-replication-method': 'INCREMENTAL',
    } }],
  }));
  write({ streams });
}

function sync(args) {
  const bookmarks = Object.assign({}, (args.state && args.state.bookmarks) || {});
  for (const [id, s] of Object.entries(STREAMS)) {
    if (!isSelected(args.catalog, id)) continue;
    write({ type: 'SCHEMA', stream: id, schema: s.schema, key_properties: s.keyProperties,
            bookmark_properties: [s.bookmark] });
    const after = bookmarks[id] ? bookmarks[id][s.bookmark] : null;
    let last = after;
    for (const record of s.records(args.config, after)) {
      write({ type: 'RECORD', stream: id, record, time_extracted: new Date().toISOString() });
      last = record[s.bookmark];
    }
    if (last) bookmarks[id] = { [s.bookmark]: last };
    write({ type: 'STATE', value: { bookmarks } });
  }
}

const args = parseArgs(process.argv);
if (args.discover) discover();
else sync(args);
)tpl";

constexpr std::string_view kCppManifest = R"tpl(# Connector manifest of the built-in `@NAME@` (docs/connectors.md has the full reference).
# Scaffolded by `da connector new @NAME@ --lang cpp`; belongs in connectors/@NAME@/connector.yaml.
name: @NAME@
version: "0.1.0"
description: "@NAME@: a C++ connector scaffolded by da connector new"
capabilities: @CAPS@
entrypoint: @NAME@

# Credentials are named by environment variable, never written here.
auth:
  type: none

# Per-source settings: instance.yaml `sources.@NAME@.<key>`.
config:
  count:
    type: integer
    required: false
    default: 5
    description: "How many sample rows the table `items` holds"

table:
  source_table:
    description: "The source object to extract, e.g. items"
)tpl";

constexpr std::string_view kCppHeader = R"tpl(#pragma once
/// The `@NAME@` connector, scaffolded by `da connector new`: one sample table `items`. Replace
/// the sample rows with calls to your source. See README.md for how it is compiled into `da`.
///
/// Config (instance.yaml `sources.@NAME@`):
///   count  how many rows the sample table holds (an integer >= 0, default 5)
#include <string>
#include <vector>

#include "common/status.h"
#include "kit/connector.h"

namespace da::connectors::@NAME@ {

inline constexpr const char* kConnectorName = "@NAME@";

class @CLASS@ : public kit::Connector {
 public:
  std::string name() const override { return kConnectorName; }
  kit::Capability capabilities() const override { return @CAPS_CPP@; }

  /// One TableInfo per source object (here the sample table `items`), with DuckDB column
  /// types; source_table is what a registered table names. invalid_argument for bad config.
  Result<std::vector<kit::TableInfo>> Discover(const kit::ConnectorConfig& config) override;

  /// Writes the rows of `options.table.source_table` through the sink's appender path.
  /// A connector that cannot filter by `options.watermark` may ignore it: the runtime
  /// re-applies the filter. Errors: not_found for an unknown source_table, invalid_argument
  /// for bad config.
  Status Read(const kit::ReadOptions& options, kit::ParquetSink& sink) override;
};

}  // namespace da::connectors::@NAME@
)tpl";

constexpr std::string_view kCppSource = R"tpl(#include "connectors/@NAME@/@NAME@_connector.h"

#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <ctime>

#include "common/identifiers.h"

namespace da::connectors::@NAME@ {
namespace {

constexpr const char* kSampleTable = "items";

const std::vector<kit::ColumnInfo>& SampleColumns() {
  static const std::vector<kit::ColumnInfo> kColumns = {{"id", "BIGINT"},
                                                        {"name", "VARCHAR"},
                                                        {"amount", "DOUBLE"},
                                                        {"active", "BOOLEAN"},
                                                        {"updated_at", "TIMESTAMP"}};
  return kColumns;
}

/// config `count`: the number of sample rows (default 5).
Result<int64_t> RowCount(const kit::ConnectorConfig& config) {
  auto it = config.find("count");
  if (it == config.end()) return int64_t{5};
  const std::string& s = it->second;
  char* end = nullptr;
  errno = 0;
  const long long n = std::strtoll(s.c_str(), &end, 10);
  if (s.empty() || end != s.c_str() + s.size() || errno != 0 || n < 0) {
    return InvalidArgument("sources.@NAME@.count must be an integer >= 0, got '" +
                           PrintableForMessage(s) + "'");
  }
  return static_cast<int64_t>(n);
}

/// "YYYY-MM-DD HH:MM:SS" (UTC), `hours` after 2024-01-01.
std::string SampleTimestamp(int64_t hours) {
  const std::time_t t = static_cast<std::time_t>(1704067200 + hours * 3600);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof(buf), "%Y-%m-%d %H:%M:%S", &tm);
  return buf;
}

}  // namespace

Result<std::vector<kit::TableInfo>> @CLASS@::Discover(const kit::ConnectorConfig& config) {
  DA_RETURN_IF_ERROR(RowCount(config).status());
  kit::TableInfo t;
  t.name = kSampleTable;
  t.columns = SampleColumns();
  t.primary_key = {"id"};
  t.description = "Sample table of the @NAME@ connector";
  t.source_table = kSampleTable;
  return std::vector<kit::TableInfo>{t};
}

Status @CLASS@::Read(const kit::ReadOptions& options, kit::ParquetSink& sink) {
  if (options.table.source_table != kSampleTable) {
    return NotFound("@NAME@: no source table '" + PrintableForMessage(options.table.source_table) +
                    "' (known: items)");
  }
  DA_ASSIGN_OR_RETURN(int64_t rows, RowCount(options.config));
  DA_RETURN_IF_ERROR(sink.BeginRows(SampleColumns()));
  for (int64_t id = 1; id <= rows; ++id) {
    DA_RETURN_IF_ERROR(sink.AppendRow({id, "item " + std::to_string(id),
                                       static_cast<double>(id) * 2.5, id % 2 == 1,
                                       SampleTimestamp(id)}));
  }
  return sink.FinishRows();
}

}  // namespace da::connectors::@NAME@
)tpl";

constexpr std::string_view kCppReadme = R"tpl(# @NAME@ connector (C++)

Scaffolded by `da connector new @NAME@ --lang cpp`: a `kit::Connector` with one sample table
`items`. docs/connectors.md explains the interface. To compile it into `da`:

1. Put the sources in `src/connectors/@NAME@/` (`@NAME@_connector.h`, `@NAME@_connector.cpp`)
   and the manifest in `connectors/@NAME@/connector.yaml`.
2. `src/connectors/CMakeLists.txt`: add `@NAME@/@NAME@_connector.cpp` to the `SOURCES` of
   `da_connectors`, and `@NAME@` to `DA_BUILTIN_CONNECTORS` (that embeds the manifest):

   ```cmake
   da_library(da_connectors
     SOURCES builtin.cpp files/files_connector.cpp @NAME@/@NAME@_connector.cpp
     DEPS da_kit da_db da_common)
   set(DA_BUILTIN_CONNECTORS files @NAME@)
   ```

3. `src/connectors/builtin.cpp`: include the header and register the connector next to `files`:

   ```cpp
   #include "connectors/@NAME@/@NAME@_connector.h"
   ...
   st = r.Register(@NAME@::kConnectorName, [] { return std::make_unique<@NAME@::@CLASS@>(); });
   if (!st.ok()) std::abort();
   ```

4. Rebuild (`make build`), then run the contract suite: `da connector test @NAME@`. In CI, add
   a `ContractParam` for it to `src/connectors/contract_test.cpp`
   (`DA_INSTANTIATE_CONNECTOR_CONTRACT`, kit/contract/contract_gtest.h).

Per-source settings come from `config/instance.yaml`:

```yaml
sources:
  @NAME@:
    count: 10
```
)tpl";

/// Keywords and alternative tokens of C++20: a connector name becomes a namespace.
bool IsCppKeyword(const std::string& s) {
  static const std::set<std::string> kKeywords = {
      "alignas", "alignof", "and", "and_eq", "asm", "auto", "bitand", "bitor", "bool", "break",
      "case", "catch", "char", "char8_t", "char16_t", "char32_t", "class", "compl", "concept",
      "const", "consteval", "constexpr", "constinit", "const_cast", "continue", "co_await",
      "co_return", "co_yield", "decltype", "default", "delete", "do", "double", "dynamic_cast",
      "else", "enum", "explicit", "export", "extern", "false", "float", "for", "friend", "goto",
      "if", "inline", "int", "long", "mutable", "namespace", "new", "noexcept", "not", "not_eq",
      "nullptr", "operator", "or", "or_eq", "private", "protected", "public", "register",
      "reinterpret_cast", "requires", "return", "short", "signed", "sizeof", "static",
      "static_assert", "static_cast", "struct", "switch", "template", "this", "thread_local",
      "throw", "true", "try", "typedef", "typeid", "typename", "union", "unsigned", "using",
      "virtual", "void", "volatile", "wchar_t", "while", "xor", "xor_eq",
      // Names of namespaces the generated code refers to unqualified inside da::connectors.
      "da", "kit", "std", "files", "singer"};
  return kKeywords.count(s) > 0;
}

/// "my_api" → "MyApiConnector".
std::string ClassName(const std::string& name) {
  std::string out;
  bool upper = true;
  for (char c : name) {
    if (c == '_') {
      upper = true;
      continue;
    }
    out += upper ? static_cast<char>(std::toupper(static_cast<unsigned char>(c))) : c;
    upper = false;
  }
  if (out.empty() || std::isdigit(static_cast<unsigned char>(out[0]))) out = "C" + out;
  return out + "Connector";
}

std::string Upper(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
  return s;
}

std::string YamlCaps(kit::Capability caps) {
  std::string out;
  for (const auto& n : kit::CapabilityNames(caps)) out += (out.empty() ? "" : ", ") + n;
  return "[" + out + "]";
}

std::string CppCaps(kit::Capability caps) {
  std::string out;
  for (kit::Capability c : kit::AllCapabilities()) {
    if (!kit::HasCapability(caps, c)) continue;
    std::string flag(kit::CapabilityName(c));
    flag[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(flag[0])));
    out += (out.empty() ? "" : " | ") + ("kit::Capability::k" + flag);
  }
  return out;
}

std::string Fill(std::string_view text, const std::vector<std::pair<std::string, std::string>>& vars) {
  std::string out(text);
  for (const auto& [key, value] : vars) {
    for (size_t at = out.find(key); at != std::string::npos; at = out.find(key, at + value.size())) {
      out.replace(at, key.size(), value);
    }
  }
  return out;
}

Status ValidateRequest(const ScaffoldRequest& r) {
  if (!IsStrictIdentifier(r.name)) {
    return InvalidArgument("connector name '" + PrintableForMessage(r.name) +
                           "' is not a strict identifier (^[a-zA-Z_][a-zA-Z0-9_]{0,63}$)");
  }
  if (connectors::BuiltinConnectors().IsKnown(r.name)) {
    return AlreadyExists("connector name '" + r.name + "' is taken by a built-in connector");
  }
  if (r.language == ScaffoldLanguage::kCpp && IsCppKeyword(r.name)) {
    return InvalidArgument("connector name '" + r.name +
                           "' is a C++ keyword or a namespace the code uses; choose another");
  }
  if (!kit::HasCapability(r.capabilities, kit::Capability::kRead)) {
    return InvalidArgument("--caps must include read (the scaffold implements read and discover)");
  }
  const kit::Capability supported = kit::Capability::kDiscover | kit::Capability::kRead;
  if ((r.capabilities & supported) != r.capabilities) {
    return InvalidArgument("--caps: the scaffold implements read and discover only; add stream, "
                           "remote or write by hand afterwards");
  }
  return Status::Ok();
}

/// Writes one file (0755 when `executable`); unavailable naming the file on failure.
Status WriteOne(const fs::path& file, std::string_view text, bool executable,
                std::vector<fs::path>& written) {
  DA_RETURN_IF_ERROR(WriteFileAtomic(file, text, executable ? 0755 : 0644));
  written.push_back(file);
  return Status::Ok();
}

Status WriteFiles(const ScaffoldRequest& r, const fs::path& dir, std::vector<fs::path>& written) {
  const std::vector<std::pair<std::string, std::string>> vars = {
      {"@NAME_UPPER@", Upper(r.name)},
      {"@NAME@", r.name},
      {"@CLASS@", ClassName(r.name)},
      {"@CAPS_CPP@", CppCaps(r.capabilities)},
      {"@CAPS@", YamlCaps(r.capabilities)},
      {"@COMMAND@", (dir / "tap.js").string()}};
  if (r.language == ScaffoldLanguage::kSinger) {
    const std::string manifest = Fill(kSingerManifest, vars);
    // Validate the shape before anything is written (e.g. a --dir with a space in it).
    DA_RETURN_IF_ERROR(
        kit::ParseManifest(manifest, (dir / "connector.yaml").string(), {.check_executables = false})
            .status());
    DA_RETURN_IF_ERROR(WriteOne(dir / "tap.js", Fill(kSingerTap, vars), true, written));
    DA_RETURN_IF_ERROR(WriteOne(dir / "connector.yaml", manifest, false, written));
    return kit::LoadManifest(dir / "connector.yaml").status();
  }
  const std::string manifest = Fill(kCppManifest, vars);
  DA_RETURN_IF_ERROR(kit::ParseManifest(manifest, (dir / "connector.yaml").string()).status());
  DA_RETURN_IF_ERROR(WriteOne(dir / (r.name + "_connector.h"), Fill(kCppHeader, vars), false, written));
  DA_RETURN_IF_ERROR(WriteOne(dir / (r.name + "_connector.cpp"), Fill(kCppSource, vars), false, written));
  DA_RETURN_IF_ERROR(WriteOne(dir / "connector.yaml", manifest, false, written));
  return WriteOne(dir / "README.md", Fill(kCppReadme, vars), false, written);
}

}  // namespace

Result<ScaffoldLanguage> ScaffoldLanguageFromName(const std::string& name) {
  if (name == "singer") return ScaffoldLanguage::kSinger;
  if (name == "cpp") return ScaffoldLanguage::kCpp;
  return InvalidArgument("--lang '" + PrintableForMessage(name) + "' is not singer or cpp");
}

Result<ScaffoldResult> WriteScaffold(const ScaffoldRequest& request) {
  DA_RETURN_IF_ERROR(ValidateRequest(request));
  std::error_code ec;
  const fs::path parent = fs::absolute(request.dir, ec).lexically_normal();
  if (ec) return Unavailable("cannot resolve --dir '" + request.dir.string() + "': " + ec.message());
  const fs::path dir = parent / request.name;
  if (fs::exists(dir, ec)) return AlreadyExists("'" + dir.string() + "' already exists");
  fs::create_directories(parent, ec);
  if (ec) return Unavailable("cannot create '" + parent.string() + "': " + ec.message());
  // create_directory reports false for an existing directory: the check above may have raced.
  if (!fs::create_directory(dir, ec) || ec) {
    return ec ? Unavailable("cannot create '" + dir.string() + "': " + ec.message())
              : AlreadyExists("'" + dir.string() + "' already exists");
  }
  ScaffoldResult result{dir, {}};
  if (Status st = WriteFiles(request, dir, result.files); !st.ok()) {
    (void)RemoveTreeIfExists(dir);
    return st;
  }
  return result;
}

}  // namespace da::cli
