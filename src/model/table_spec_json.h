#pragma once
/// The JSON forms of a TableSpec: the full record (API answers, `registry.json` handed to
/// `da extract`, audit parameters), a registration body and an update patch.
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/status.h"
#include "model/table_spec.h"

namespace da::model {

/// JSON object with every TableSpec field (primary_key as an array, enums as wire names).
nlohmann::json TableSpecToJson(const TableSpec& t);

/// Parses a full record (as produced by TableSpecToJson); unknown keys are ignored.
/// malformed on wrong JSON types, invalid_argument on a bad enum value.
Result<TableSpec> TableSpecFromJson(const nlohmann::json& j);

/// A registration body: required `name`, `source_type`; optional `id` and every other field.
/// The server-managed fields (registered_by, registered_at, updated_at, version) are accepted
/// (a GET → edit → POST round trip carries them) and ignored. `primary_key` may also be a
/// comma-separated string. Errors: malformed (not an object, wrong JSON types),
/// invalid_argument (unknown fields, named; a bad enum value).
Result<TableSpec> DecodeRegistration(const nlohmann::json& body);

/// A partial update: the fields a PUT/PATCH body carries, typed.
struct TableSpecPatch {
  TableSpec values;                  ///< the given fields' values (others left default)
  std::set<std::string> fields;      ///< names of the fields given (never id or version)
  std::optional<std::string> id;     ///< `id` when given (it must equal the path's id)
  std::optional<int64_t> version;    ///< `version` when given: the expected stored version

  bool Has(const std::string& field) const { return fields.count(field) > 0; }
};

/// Parses an update body (same rules as DecodeRegistration; every field optional).
Result<TableSpecPatch> DecodePatch(const nlohmann::json& body);

/// Copies the patch's given fields onto `*t`.
void ApplyPatch(const TableSpecPatch& patch, TableSpec* t);

/// The given fields as a JSON object (with `version` when given), e.g. for the audit log.
nlohmann::json PatchToJson(const TableSpecPatch& patch);

}  // namespace da::model
