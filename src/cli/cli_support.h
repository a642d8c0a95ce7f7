#pragma once
/// Helpers shared by the `da` subcommands that talk to a server or print tables.
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "client/http_client.h"
#include "common/status.h"

namespace da::cli {

/// Prints "error: <message>" on stderr and stores ExitCodeFor(st.code()) in *exit_code.
void Fail(const Status& st, int* exit_code);

/// An HTTP client for the server and token saved by `da login` (or DA_SERVER / DA_TOKEN).
Result<client::HttpClient> MakeClient();

/// `method path` with an optional JSON body; the parsed 2xx body (null when empty), else
/// StatusFromHttpError (for methods HttpClient has no helper for, e.g. PATCH).
Result<nlohmann::json> CallJson(const client::HttpClient& http, const std::string& method,
                                const std::string& path, const nlohmann::json* body = nullptr);

/// Adds a `da login` hint to authentication failures; other statuses pass unchanged.
Status WithLoginHint(Status st);

/// `j[key]` as text: strings unquoted, null or missing → "", anything else as compact JSON.
std::string Str(const nlohmann::json& j, const char* key);

/// A byte count as "812 B", "108.2 KB", "13.8 MB" (powers of 1000); "" when `v` is no number.
std::string HumanBytes(const nlohmann::json& v);

/// Prints rows as left-aligned columns (two spaces apart, UTF-8 aware) under a header.
void PrintColumns(const std::vector<std::string>& header,
                  const std::vector<std::vector<std::string>>& rows);

}  // namespace da::cli
