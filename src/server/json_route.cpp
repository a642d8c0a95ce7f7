#include "server/json_route.h"

#include <memory>

#include "service/errors.h"

namespace da::server {

RouteInput::RouteInput(const RequestContext& rc, const httplib::Request& req,
                       const std::vector<std::string>& path_names)
    : rc_(rc), req_(req), path_names_(path_names), caller_{rc.principal, rc.client_ip} {}

std::string RouteInput::Path(std::string_view name) const {
  for (size_t i = 0; i < path_names_.size(); ++i) {
    if (path_names_[i] == name && i + 1 < req_.matches.size()) return req_.matches[i + 1].str();
  }
  return "";
}

bool RouteInput::HasQuery(const std::string& name) const { return req_.has_param(name); }

std::string RouteInput::Query(const std::string& name) const { return req_.get_param_value(name); }

std::string RouteInput::Header(const std::string& name) const {
  return req_.get_header_value(name);
}

Result<nlohmann::json> RouteInput::Body() const { return ParseJsonBody(req_); }

std::multimap<std::string, std::string> RouteInput::Form() const { return FormFields(req_); }

std::string TemplateToPattern(const std::string& path_template, std::vector<std::string>* names) {
  std::string out;
  size_t pos = 0;
  while (pos < path_template.size()) {
    size_t open = path_template.find('{', pos);
    if (open == std::string::npos) {
      out += path_template.substr(pos);
      break;
    }
    size_t close = path_template.find('}', open);
    out += path_template.substr(pos, open - pos);
    names->push_back(path_template.substr(open + 1, close - open - 1));
    out += "([^/]+)";
    pos = close + 1;
  }
  return out;
}

void WriteJsonBody(httplib::Response& res, int status, const nlohmann::json& body) {
  res.status = status;
  res.set_content(body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace),
                  "application/json");
}

void WriteServiceError(httplib::Response& res, const Status& status,
                       const std::string& request_id) {
  if (auto wire = service::SplitWireError(status)) {
    const int http = wire->code == service::kSourceError ? 502 : 409;
    return WriteError(res, http, wire->code, wire->message, request_id);
  }
  WriteError(res, status, request_id);
}

void JsonRoutes::Raw(const std::string& method, const std::string& path_template,
                     AccessLevel access, RawHandler handler) {
  auto names = std::make_shared<std::vector<std::string>>();
  const std::string pattern = TemplateToPattern(path_template, names.get());
  Handler h = [handler = std::move(handler), names](const RequestContext& rc,
                                                    const httplib::Request& req,
                                                    httplib::Response& res) {
    handler(RouteInput(rc, req, *names), res);
  };
  if (method == "GET") return router_.Get(pattern, access, std::move(h));
  if (method == "POST") return router_.Post(pattern, access, std::move(h));
  if (method == "PUT") return router_.Put(pattern, access, std::move(h));
  if (method == "PATCH") return router_.Patch(pattern, access, std::move(h));
  router_.Delete(pattern, access, std::move(h));
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
