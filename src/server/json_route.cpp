#include "server/json_route.h"

#include "service/errors.h"

namespace da::server {

RouteInput::RouteInput(const RequestContext& rc, const http::Request& req)
    : rc_(rc), req_(req), caller_{rc.principal, rc.client_ip} {}

Result<nlohmann::json> RouteInput::Body() const { return ParseJsonBody(req_); }

std::multimap<std::string, std::string> RouteInput::Form() const { return FormFields(req_); }

void WriteJsonBody(http::Response& res, int status, const nlohmann::json& body) {
  res.status = status;
  res.SetContent(body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace),
                 "application/json");
}

void WriteServiceError(http::Response& res, const Status& status,
                       const std::string& request_id) {
  if (auto wire = service::SplitWireError(status)) {
    const int http = wire->code == service::kSourceError ? 502 : 409;
    return WriteError(res, http, wire->code, wire->message, request_id);
  }
  WriteError(res, status, request_id);
}

void JsonRoutes::Raw(const std::string& method, const std::string& path_template,
                     AccessLevel access, Execution execution, RawHandler handler) {
  Handler h = [handler = std::move(handler)](const RequestContext& rc, const http::Request& req,
                                             http::Response& res) {
    handler(RouteInput(rc, req), res);
  };
  if (method == "GET") return router_.Get(path_template, access, execution, std::move(h));
  if (method == "POST") return router_.Post(path_template, access, execution, std::move(h));
  if (method == "PUT") return router_.Put(path_template, access, execution, std::move(h));
  if (method == "PATCH") return router_.Patch(path_template, access, execution, std::move(h));
  router_.Delete(path_template, access, execution, std::move(h));
}

Result<std::optional<std::string>> OptString(const nlohmann::json& body, const char* key) {
  if (!body.is_object()) return Malformed("request body must be a JSON object");
  auto it = body.find(key);
  if (it == body.end() || it->is_null()) return std::optional<std::string>();
  if (!it->is_string()) return Malformed(std::string("'") + key + "' must be a string");
  return std::optional<std::string>(it->get<std::string>());
}

Result<std::string> ReqString(const nlohmann::json& body, const char* key) {
  DA_ASSIGN_OR_RETURN(std::optional<std::string> v, OptString(body, key));
  if (!v || v->empty()) return InvalidArgument(std::string("'") + key + "' is required");
  return *v;
}

}  // namespace da::server
