#pragma once
/// Request body validation against the API description (openapi.yaml): every operation with an
/// application/json requestBody schema gets it compiled once (valijson, JSON Schema draft 4, the
/// dialect OpenAPI 3.0 extends) and the router checks a routed request's parsed body against it
/// before the handler runs (Router::Wrap).
///
/// OpenAPI 3.0 → JSON Schema: `nullable: true` adds "null" to the type; local `$ref`s
/// (`#/components/schemas/X`) are inlined; `format`, `example` and `x-*` keys are dropped. A
/// null value of a property that is not required is taken as absent (as the handlers do).
///
/// Status codes follow the code base: a value of the wrong JSON type is malformed (HTTP 400,
/// as state/registry.h and the handlers answer it); a missing required field, a value outside
/// an enum or any other rule is invalid_argument (HTTP 422). Messages name the field.
///
/// What is checked, so handlers keep their own, more specific answers: an empty body (the
/// handler decides whether an absent body is allowed), a body that is not JSON (the handler
/// answers 400 malformed) and form or multipart bodies are passed through unchecked.
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/status.h"

namespace valijson {
class Schema;
}

namespace da::server {

/// The compiled body schema of one operation.
class BodySchema {
 public:
  BodySchema(std::string operation, nlohmann::json schema, std::unique_ptr<valijson::Schema> compiled);
  ~BodySchema();
  BodySchema(const BodySchema&) = delete;
  BodySchema& operator=(const BodySchema&) = delete;

  /// OK when `body` satisfies the schema; else malformed (wrong type) or invalid_argument
  /// naming the first offending field as a path from `body` with what was expected, e.g.
  /// "body.name: expected string", "body.tables[1]: expected string", "body.sql: required",
  /// "body.query_mode: expected one of local, materialized, remote".
  Status Validate(const nlohmann::json& body) const;

  /// Validate on a raw request: skips (OK) an empty body, a body that is not JSON, and
  /// `content_type`s application/x-www-form-urlencoded and multipart/*.
  Status ValidateRaw(const std::string& content_type, const std::string& body) const;

  /// "METHOD /openapi/path".
  const std::string& operation() const { return operation_; }
  /// The schema as compiled (OpenAPI specifics rewritten, refs inlined).
  const nlohmann::json& schema() const { return schema_; }

 private:
  std::string operation_;
  nlohmann::json schema_;
  std::unique_ptr<valijson::Schema> compiled_;
};

/// The body schemas of every operation in an OpenAPI document, looked up by route.
class BodyValidator {
 public:
  /// Compiles the application/json requestBody schema of every operation of `openapi_doc`.
  /// Errors: invalid_argument naming the operation whose schema does not compile or whose
  /// `$ref` does not resolve.
  static Result<std::unique_ptr<BodyValidator>> Create(const nlohmann::json& openapi_doc);

  /// The validator of the embedded description (openapi.h), compiled on first use and kept for
  /// the process (thread-safe). A schema that does not compile is a bug (openapi_test.cpp
  /// compiles them all): aborts.
  static const BodyValidator& Embedded();

  /// The body schema of the operation `method` + route pattern or path template (matched as
  /// RouteKey does), or nullptr when the operation takes no JSON body or is not described.
  const BodySchema* Find(const std::string& method, const std::string& pattern_or_path) const;

  /// Every compiled schema, in document order.
  const std::vector<std::unique_ptr<BodySchema>>& schemas() const { return schemas_; }

 private:
  std::vector<std::unique_ptr<BodySchema>> schemas_;
  std::vector<std::string> keys_;  ///< RouteKey of schemas_[i]
};

}  // namespace da::server
