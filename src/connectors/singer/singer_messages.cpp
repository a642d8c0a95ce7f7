#include "connectors/singer/singer_messages.h"

#include <algorithm>
#include <cctype>
#include <set>

#include "common/identifiers.h"
#include "common/text.h"

namespace da::connectors::singer {
namespace {

using ojson = nlohmann::ordered_json;

/// SAX handler that validates the whole line and keeps only the top-level facts.
class HeadSax : public nlohmann::json_sax<nlohmann::json> {
 public:
  MessageHead head;
  std::string error;
  bool top_is_object = false;

  bool null() override { return Scalar(); }
  bool boolean(bool) override { return Scalar(); }
  bool number_integer(number_integer_t) override { return Scalar(); }
  bool number_unsigned(number_unsigned_t) override { return Scalar(); }
  bool number_float(number_float_t, const string_t&) override { return Scalar(); }
  bool string(string_t& val) override {
    if (depth_ == 1) {
      if (key_ == "type") head.type = val;
      if (key_ == "stream") head.stream = val;
    }
    return Scalar();
  }
  bool binary(binary_t&) override { return Scalar(); }
  bool start_object(std::size_t) override {
    if (depth_ == 0) top_is_object = true;
    if (depth_ == 1 && key_ == "record") head.record_is_object = true;
    Value();
    ++depth_;
    return true;
  }
  bool key(string_t& val) override {
    if (depth_ == 1) {
      key_ = val;
      if (val == "value") head.has_value = true;
    }
    return true;
  }
  bool end_object() override {
    --depth_;
    return true;
  }
  bool start_array(std::size_t) override {
    Value();
    ++depth_;
    return true;
  }
  bool end_array() override {
    --depth_;
    return true;
  }
  bool parse_error(std::size_t, const std::string&, const nlohmann::detail::exception& ex) override {
    error = ex.what();
    return false;
  }

 private:
  bool Scalar() {
    Value();
    return true;
  }
  void Value() {
    if (depth_ == 1) key_.clear();
  }
  int depth_ = 0;
  std::string key_;
};

std::set<std::string> TypesOf(const ojson& s) {
  std::set<std::string> out;
  if (!s.is_object()) return out;
  if (auto t = s.find("type"); t != s.end()) {
    if (t->is_string()) out.insert(t->get<std::string>());
    if (t->is_array()) {
      for (const auto& x : *t) {
        if (x.is_string()) out.insert(x.get<std::string>());
      }
    }
  }
  out.erase("null");
  return out;
}

std::string ScalarType(const std::string& type, const ojson& s) {
  if (type == "integer") return "BIGINT";
  if (type == "number") return "DOUBLE";
  if (type == "boolean") return "BOOLEAN";
  if (type == "object") return "JSON";
  if (type == "string") {
    std::string format;
    if (auto f = s.find("format"); f != s.end() && f->is_string()) format = f->get<std::string>();
    if (format == "date-time") return "TIMESTAMP WITH TIME ZONE";
    if (format == "date") return "DATE";
    if (format == "time") return "TIME";
    return "VARCHAR";
  }
  if (type == "array") {
    if (auto items = s.find("items"); items != s.end() && items->is_object()) {
      std::string inner = JsonSchemaToDuckDbType(*items);
      if (inner != "JSON" && !inner.ends_with("]")) return inner + "[]";
    }
    return "JSON";
  }
  return "VARCHAR";
}

/// The type for a set of alternatives (already mapped to DuckDB types).
std::string Combine(const std::set<std::string>& types) {
  if (types.empty()) return "JSON";
  if (types.size() == 1) return *types.begin();
  if (types == std::set<std::string>{"BIGINT", "DOUBLE"}) return "DOUBLE";
  bool all_json = std::all_of(types.begin(), types.end(),
                              [](const std::string& t) { return t == "JSON"; });
  return all_json ? "JSON" : "VARCHAR";
}

}  // namespace

Result<MessageHead> PeekMessage(std::string_view line) {
  HeadSax sax;
  bool ok = false;
  try {
    ok = nlohmann::json::sax_parse(line.begin(), line.end(), &sax);
  } catch (const std::exception& e) {
    return Malformed(std::string("not valid JSON: ") + e.what());
  }
  if (!ok) return Malformed("not valid JSON: " + sax.error);
  if (!sax.top_is_object) return Malformed("not a JSON object");
  return std::move(sax.head);
}

std::string JsonSchemaToDuckDbType(const ojson& s) {
  if (!s.is_object()) return "JSON";
  for (const char* combinator : {"anyOf", "oneOf"}) {
    if (auto alt = s.find(combinator); alt != s.end() && alt->is_array()) {
      std::set<std::string> mapped;
      for (const auto& a : *alt) {
        if (TypesOf(a).empty() && a.is_object() && a.contains("type")) continue;  // {"type":"null"}
        mapped.insert(JsonSchemaToDuckDbType(a));
      }
      return Combine(mapped);
    }
  }
  const std::set<std::string> types = TypesOf(s);
  if (types.empty()) return s.contains("type") ? "VARCHAR" : "JSON";  // only "null" → VARCHAR
  if (types.size() == 1) return ScalarType(*types.begin(), s);
  std::set<std::string> mapped;
  for (const auto& t : types) {
    if (t == "object" || t == "array") {
      mapped.insert("JSON");
    } else {
      mapped.insert(ScalarType(t, s));
    }
  }
  if (mapped.count("JSON") && mapped.size() > 1) return "VARCHAR";
  return Combine(mapped);
}

Result<std::vector<kit::ColumnInfo>> ColumnsFromSchema(const ojson& schema) {
  if (!schema.is_object()) return InvalidArgument("the schema is not a JSON object");
  auto props = schema.find("properties");
  if (props == schema.end() || !props->is_object()) {
    return InvalidArgument("the schema has no \"properties\" object");
  }
  std::vector<kit::ColumnInfo> out;
  std::set<std::string> lower_names;
  for (const auto& [name, prop] : props->items()) {
    if (name.empty() || name.size() > 255 ||
        std::any_of(name.begin(), name.end(), [](char c) {
          auto u = static_cast<unsigned char>(c);
          return u < 0x20 || u == 0x7f;
        })) {
      return InvalidArgument("property name '" + PrintableForMessage(name) +
                             "' is empty, too long or has control characters");
    }
    if (name == kLineKey) return InvalidArgument("property name '" + name + "' is reserved");
    if (!lower_names.insert(AsciiLower(name)).second) {
      return InvalidArgument("properties '" + PrintableForMessage(name) +
                             "' and another differ only in case; DuckDB column names are "
                             "case-insensitive");
    }
    out.push_back({name, JsonSchemaToDuckDbType(prop)});
  }
  return out;
}

Status MergeColumns(std::vector<kit::ColumnInfo>& into, const std::vector<kit::ColumnInfo>& more) {
  for (const auto& c : more) {
    auto it = std::find_if(into.begin(), into.end(),
                           [&](const kit::ColumnInfo& x) { return x.name == c.name; });
    if (it == into.end()) {
      const std::string lower = AsciiLower(c.name);
      for (const auto& x : into) {
        if (AsciiLower(x.name) == lower) {
          return InvalidArgument("column '" + PrintableForMessage(c.name) + "' clashes with '" +
                                 PrintableForMessage(x.name) + "' (names differ only in case)");
        }
      }
      into.push_back(c);
    } else if (it->type != c.type) {
      const bool numeric = (it->type == "BIGINT" || it->type == "DOUBLE") &&
                           (c.type == "BIGINT" || c.type == "DOUBLE");
      it->type = numeric ? "DOUBLE" : "VARCHAR";
    }
  }
  return Status::Ok();
}

std::string TableNameForStream(std::string_view stream) {
  std::string out;
  bool pending_sep = false;
  for (char ch : stream) {
    auto c = static_cast<unsigned char>(ch);
    if (std::isalnum(c) || c == '_') {
      if (pending_sep && !out.empty()) out += '_';
      pending_sep = false;
      out += static_cast<char>(std::tolower(c));
    } else {
      pending_sep = true;
    }
  }
  if (out.empty()) out = "stream";
  if (std::isdigit(static_cast<unsigned char>(out[0]))) out = "t_" + out;
  if (out.size() > 64) out.resize(64);
  return out;
}

}  // namespace da::connectors::singer
