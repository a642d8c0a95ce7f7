#pragma once
/// The one adapter between HTTP and the services: a route handler decodes a typed request from
/// a RouteInput, calls one service and returns its Result; the adapter encodes the answer
/// (`ToJson(answer)`, found by argument-dependent lookup, or an already encoded EncodedJson)
/// or writes the error body for the Status.
///
///   routes.Post("/api/admin/groups", AccessLevel::kAdmin, [&s](const RouteInput& in)
///       -> Result<state::Group> {
///     DA_ASSIGN_OR_RETURN(auto body, in.Body());
///     DA_ASSIGN_OR_RETURN(auto name, ReqString(body, "name"));
///     return s.access.CreateGroup(in.caller(), {name, ""});
///   }, 201);
///
/// Routes are path templates (`/api/users/{id}`, src/http/route_table.h); `in.Path("id")` reads
/// a segment. A route that does long work (queries, password hashing, calls to other services)
/// passes `Execution::kWorker` and runs on the engine's worker pool.
/// HTTP types appear only here and in the genuinely HTTP routes (downloads, query output,
/// sign-in cookies and redirects, the UI).
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/status.h"
#include "http/message.h"
#include "server/router.h"
#include "service/caller.h"
#include "service/access_service.h"  // ToJson of the state types (User, Group, Grant)
#include "service/requests.h"

namespace da::server {

/// What a handler may read of its request: the caller, path segments by template name, query
/// parameters, headers and the JSON body.
class RouteInput {
 public:
  RouteInput(const RequestContext& rc, const http::Request& req);

  /// The caller (principal + client address) the services take.
  const service::Caller& caller() const { return caller_; }
  const RequestContext& context() const { return rc_; }
  /// The value of template segment `{name}`; "" when the template has none of that name.
  const std::string& Path(std::string_view name) const { return req_.PathParam(name); }
  /// True when query parameter `name` is present (even as `?name`).
  bool HasQuery(std::string_view name) const { return req_.HasQuery(name); }
  /// The first value of query parameter `name`; "" when absent.
  std::string Query(std::string_view name) const { return req_.Query(name); }
  /// The first value of header `name`; "" when absent.
  std::string Header(std::string_view name) const { return req_.Header(name); }
  /// The JSON body; `null` for an empty body; malformed for broken JSON.
  Result<nlohmann::json> Body() const;
  /// The fields of an application/x-www-form-urlencoded body (empty for other bodies).
  std::multimap<std::string, std::string> Form() const;
  /// The request itself, for the HTTP-specific routes.
  const http::Request& http() const { return req_; }

 private:
  const RequestContext& rc_;
  const http::Request& req_;
  service::Caller caller_;
};

/// Writes the error body of a service Status: the usual code → HTTP table, except the service
/// errors with their own wire code (service/errors.h: sync_already_in_progress 409,
/// source_error 502).
void WriteServiceError(http::Response& res, const Status& status, const std::string& request_id);

/// Writes `body` as JSON with `status`; invalid UTF-8 in data values is replaced, never a 500.
void WriteJsonBody(http::Response& res, int status, const nlohmann::json& body);

namespace internal {
inline void Encode(http::Response& res, int status, const service::EncodedJson& answer) {
  res.status = status;
  res.SetContent(*answer.text, "application/json");
}
template <class T>
void Encode(http::Response& res, int status, const T& answer) {
  using service::ToJson;  // answers that are state types (User, Group, Grant)
  WriteJsonBody(res, status, ToJson(answer));
}
}  // namespace internal

/// Registers JSON routes on a Router through the adapter.
class JsonRoutes {
 public:
  explicit JsonRoutes(Router& router) : router_(router) {}

  /// `handler(const RouteInput&) -> Result<T>`; `ok_status` answers a success.
  template <class F>
  void Get(const std::string& path_template, AccessLevel access, F handler, int ok_status = 200) {
    Add("GET", path_template, access, Execution::kInline, std::move(handler), ok_status);
  }
  template <class F>
  void Get(const std::string& path_template, AccessLevel access, Execution execution, F handler,
          int ok_status = 200) {
    Add("GET", path_template, access, execution, std::move(handler), ok_status);
  }
  template <class F>
  void Post(const std::string& path_template, AccessLevel access, F handler, int ok_status = 200) {
    Add("POST", path_template, access, Execution::kInline, std::move(handler), ok_status);
  }
  template <class F>
  void Post(const std::string& path_template, AccessLevel access, Execution execution, F handler,
          int ok_status = 200) {
    Add("POST", path_template, access, execution, std::move(handler), ok_status);
  }
  template <class F>
  void Put(const std::string& path_template, AccessLevel access, F handler, int ok_status = 200) {
    Add("PUT", path_template, access, Execution::kInline, std::move(handler), ok_status);
  }
  template <class F>
  void Put(const std::string& path_template, AccessLevel access, Execution execution, F handler,
          int ok_status = 200) {
    Add("PUT", path_template, access, execution, std::move(handler), ok_status);
  }
  template <class F>
  void Patch(const std::string& path_template, AccessLevel access, F handler, int ok_status = 200) {
    Add("PATCH", path_template, access, Execution::kInline, std::move(handler), ok_status);
  }
  template <class F>
  void Patch(const std::string& path_template, AccessLevel access, Execution execution, F handler,
          int ok_status = 200) {
    Add("PATCH", path_template, access, execution, std::move(handler), ok_status);
  }
  template <class F>
  void Delete(const std::string& path_template, AccessLevel access, F handler, int ok_status = 200) {
    Add("DELETE", path_template, access, Execution::kInline, std::move(handler), ok_status);
  }
  template <class F>
  void Delete(const std::string& path_template, AccessLevel access, Execution execution, F handler,
          int ok_status = 200) {
    Add("DELETE", path_template, access, execution, std::move(handler), ok_status);
  }

  /// An HTTP-specific route: `handler(const RouteInput&, http::Response&)` writes the
  /// response itself (downloads, query output, cookies, redirects).
  using RawHandler = std::function<void(const RouteInput&, http::Response&)>;
  void Raw(const std::string& method, const std::string& path_template, AccessLevel access,
           RawHandler handler) {
    Raw(method, path_template, access, Execution::kInline, std::move(handler));
  }
  void Raw(const std::string& method, const std::string& path_template, AccessLevel access,
           Execution execution, RawHandler handler);

 private:
  template <class F>
  void Add(const std::string& method, const std::string& path_template, AccessLevel access,
           Execution execution, F handler, int ok_status) {
    Raw(method, path_template, access, execution,
        [handler = std::move(handler), ok_status](const RouteInput& in, http::Response& res) {
          auto answer = handler(in);
          if (!answer.ok()) return WriteServiceError(res, answer.status(), in.context().request_id);
          internal::Encode(res, ok_status, *answer);
        });
  }

  Router& router_;
};

/// Body field decoders; the messages name the field.
/// `body[key]` as a string: nullopt when absent or null; malformed "'<key>' must be a string"
/// for another JSON type, "request body must be a JSON object" when the body is not one.
Result<std::optional<std::string>> OptString(const nlohmann::json& body, const char* key);
/// As OptString, and invalid_argument "'<key>' is required" when absent or empty.
Result<std::string> ReqString(const nlohmann::json& body, const char* key);

}  // namespace da::server
