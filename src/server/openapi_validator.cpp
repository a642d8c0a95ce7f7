#include "server/openapi_validator.h"

#define VALIJSON_USE_EXCEPTIONS 1
#include <valijson/adapters/nlohmann_json_adapter.hpp>
#include <valijson/schema.hpp>
#include <valijson/schema_parser.hpp>
#include <valijson/validation_results.hpp>
#include <valijson/validator.hpp>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <exception>

#include "server/openapi.h"

namespace da::server {
namespace {

using J = nlohmann::json;

constexpr const char* kComponentPrefix = "#/components/schemas/";

/// `schema` as plain JSON Schema: refs inlined, `nullable` folded into `type`, OpenAPI-only and
/// annotation-only keys that valijson would misread dropped. `depth` guards a ref cycle.
Result<J> ToJsonSchema(const J& schema, const J& components, int depth = 0) {
  if (depth > 32) return InvalidArgument("schema nests too deep (a $ref cycle?)");
  if (schema.is_array()) {
    J out = J::array();
    for (const auto& item : schema) {
      auto converted = ToJsonSchema(item, components, depth + 1);
      if (!converted.ok()) return converted.status();
      out.push_back(std::move(converted).value());
    }
    return out;
  }
  if (!schema.is_object()) return schema;
  if (schema.contains("$ref")) {
    const std::string ref = schema["$ref"].get<std::string>();
    if (ref.rfind(kComponentPrefix, 0) != 0 ||
        !components.contains(ref.substr(std::string(kComponentPrefix).size()))) {
      return InvalidArgument("unresolved $ref '" + ref + "'");
    }
    return ToJsonSchema(components[ref.substr(std::string(kComponentPrefix).size())], components,
                        depth + 1);
  }
  J out = J::object();
  for (const auto& [key, value] : schema.items()) {
    if (key == "format" || key == "example" || key == "nullable" || key.rfind("x-", 0) == 0) {
      continue;
    }
    if (key == "properties") {
      J props = J::object();
      for (const auto& [name, sub] : value.items()) {
        auto converted = ToJsonSchema(sub, components, depth + 1);
        if (!converted.ok()) return converted.status();
        props[name] = std::move(converted).value();
      }
      out[key] = std::move(props);
    } else if (key == "items" || key == "additionalProperties" || key == "not" ||
               key == "allOf" || key == "anyOf" || key == "oneOf") {
      auto converted = ToJsonSchema(value, components, depth + 1);
      if (!converted.ok()) return converted.status();
      out[key] = std::move(converted).value();
    } else {
      out[key] = value;
    }
  }
  if (schema.value("nullable", false) && out.contains("type") && out["type"].is_string()) {
    out["type"] = J::array({out["type"], "null"});
    if (out.contains("enum")) out["enum"].push_back(nullptr);
  }
  // The handlers take a null optional field as absent: so does the schema.
  if (out.contains("properties")) {
    const J required = out.value("required", J::array());
    for (auto& [name, sub] : out["properties"].items()) {
      bool is_required = std::find(required.begin(), required.end(), name) != required.end();
      if (!is_required && sub.contains("type") && sub["type"].is_string()) {
        sub["type"] = J::array({sub["type"], "null"});
        if (sub.contains("enum")) sub["enum"].push_back(nullptr);
      }
    }
  }
  return out;
}

/// valijson's context element "[x]" → "x".
std::string Bare(const std::string& element) {
  if (element.size() >= 2 && element.front() == '[' && element.back() == ']') {
    return element.substr(1, element.size() - 2);
  }
  return element;
}

std::string Upper(std::string s) {
  for (char& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return s;
}

std::string JoinTypes(const J& type) {
  if (type.is_string()) return type.get<std::string>();
  std::string out;
  for (const auto& t : type) {
    if (!out.empty()) out += " or ";
    out += t.get<std::string>();
  }
  return out;
}

std::string JoinValues(const J& values) {
  std::string out;
  for (const auto& v : values) {
    if (v.is_null()) continue;
    if (!out.empty()) out += ", ";
    out += v.is_string() ? v.get<std::string>() : v.dump();
  }
  return out;
}

}  // namespace

BodySchema::BodySchema(std::string operation, J schema,
                       std::unique_ptr<valijson::Schema> compiled)
    : operation_(std::move(operation)), schema_(std::move(schema)), compiled_(std::move(compiled)) {}

BodySchema::~BodySchema() = default;

Status BodySchema::Validate(const J& body) const {
  valijson::Validator validator;
  valijson::ValidationResults results;
  valijson::adapters::NlohmannJsonAdapter target(body);
  if (validator.validate(*compiled_, target, &results)) return Status::Ok();
  valijson::ValidationResults::Error error;
  if (!results.popError(error)) return InvalidArgument("body: does not match the schema");
  // Walk the body and the schema along valijson's context to name the field.
  std::string path = "body";
  const J* value = &body;
  const J* schema = &schema_;
  static const J kNone;
  for (size_t i = 1; i < error.context.size(); ++i) {  // [0] is "<root>"
    const std::string key = Bare(error.context[i]);
    if (value->is_array()) {
      path += "[" + key + "]";
      size_t index = std::stoul(key);
      value = index < value->size() ? &(*value)[index] : &kNone;
      schema = schema->contains("items") ? &(*schema)["items"] : &kNone;
    } else {
      path += "." + key;
      value = value->is_object() && value->contains(key) ? &(*value)[key] : &kNone;
      schema = schema->contains("properties") && (*schema)["properties"].contains(key)
                   ? &(*schema)["properties"][key]
                   : &kNone;
    }
  }
  const std::string& what = error.description;
  const std::string kMissing = "Missing required property '";
  if (what.rfind(kMissing, 0) == 0) {
    std::string name = what.substr(kMissing.size());
    name = name.substr(0, name.find('\''));
    return InvalidArgument(path + "." + name + ": required");
  }
  if (what.rfind("Value type not permitted", 0) == 0 && schema->contains("type")) {
    // A wrong JSON type is malformed input throughout da (400), as the handlers answer it.
    return Malformed(path + ": expected " + JoinTypes((*schema)["type"]));
  }
  if (what.rfind("Failed to match against any enum values", 0) == 0 && schema->contains("enum")) {
    return InvalidArgument(path + ": expected one of " + JoinValues((*schema)["enum"]));
  }
  return InvalidArgument(path + ": " + what);
}

Status BodySchema::ValidateRaw(const std::string& content_type, const std::string& body) const {
  if (body.empty() || content_type.rfind("application/x-www-form-urlencoded", 0) == 0 ||
      content_type.rfind("multipart/", 0) == 0) {
    return Status::Ok();
  }
  J parsed = J::parse(body, nullptr, /*allow_exceptions=*/false);
  if (parsed.is_discarded()) return Status::Ok();  // the handler answers 400 malformed
  return Validate(parsed);
}

Result<std::unique_ptr<BodyValidator>> BodyValidator::Create(const J& openapi_doc) {
  auto validator = std::unique_ptr<BodyValidator>(new BodyValidator());
  const J empty = J::object();
  const J& components = openapi_doc.contains("components") &&
                                openapi_doc["components"].contains("schemas")
                            ? openapi_doc["components"]["schemas"]
                            : empty;
  if (!openapi_doc.contains("paths")) return validator;
  for (const auto& [path, item] : openapi_doc["paths"].items()) {
    for (const auto& [method, op] : item.items()) {
      if (!op.contains("requestBody")) continue;
      const J& content = op["requestBody"].value("content", empty);
      if (!content.contains("application/json")) continue;
      const J& media = content["application/json"];
      const std::string operation = RouteKey(method, path);
      auto schema = ToJsonSchema(media.value("schema", empty), components);
      if (!schema.ok()) {
        return InvalidArgument(operation + " requestBody: " + schema.status().message());
      }
      auto compiled = std::make_unique<valijson::Schema>();
      try {
        valijson::SchemaParser parser(valijson::SchemaParser::kDraft4);
        valijson::adapters::NlohmannJsonAdapter adapter(*schema);
        parser.populateSchema(adapter, *compiled);
      } catch (const std::exception& e) {
        return InvalidArgument(operation + " requestBody schema does not compile: " + e.what());
      }
      validator->keys_.push_back(operation);
      validator->schemas_.push_back(std::make_unique<BodySchema>(
          Upper(method) + " " + path, std::move(schema).value(), std::move(compiled)));
    }
  }
  return validator;
}

const BodyValidator& BodyValidator::Embedded() {
  static const std::unique_ptr<BodyValidator> kValidator = [] {
    auto v = Create(J(OpenApiDocument()));
    if (!v.ok()) {
      std::fprintf(stderr, "openapi.yaml: %s\n", v.status().ToString().c_str());
      std::abort();
    }
    return std::move(v).value();
  }();
  return *kValidator;
}

const BodySchema* BodyValidator::Find(const std::string& method,
                                      const std::string& pattern_or_path) const {
  const std::string key = RouteKey(method, pattern_or_path);
  for (size_t i = 0; i < keys_.size(); ++i) {
    if (keys_[i] == key) return schemas_[i].get();
  }
  return nullptr;
}

}  // namespace da::server
