#include "db/value_json.h"

#include <charconv>
#include <cmath>
#include <cstdint>
#include <optional>
#include <string>

#include "db/duckdb_internal.h"

namespace da::db {

__extension__ using Int128 = __int128;
__extension__ using UInt128 = unsigned __int128;

/// The friend of QueryResult that reaches its handles.
struct CellReader {
  using Impl = QueryResult::Impl;
  static Impl& ImplOf(const QueryResult& result) { return *result.impl_; }
};

namespace {

/// A double holds any decimal of at most this many significant digits exactly (DBL_DIG).
constexpr size_t kExactDecimalDigits = 15;

std::string UnsignedText(UInt128 v) {
  if (v == 0) return "0";
  char buf[40];
  size_t i = sizeof(buf);
  while (v != 0) {
    buf[--i] = static_cast<char>('0' + static_cast<int>(v % 10));
    v /= 10;
  }
  return std::string(buf + i, sizeof(buf) - i);
}

std::string SignedText(Int128 v) {
  if (v >= 0) return UnsignedText(static_cast<UInt128>(v));
  return "-" + UnsignedText(static_cast<UInt128>(0) - static_cast<UInt128>(v));
}

Int128 FromHugeint(duckdb_hugeint h) {
  return static_cast<Int128>((static_cast<UInt128>(static_cast<uint64_t>(h.upper)) << 64) | h.lower);
}

UInt128 FromUhugeint(duckdb_uhugeint h) {
  return (static_cast<UInt128>(h.upper) << 64) | h.lower;
}

/// `unscaled` / 10^scale written out: DuckDB's text of a DECIMAL ("12.50", "-0.05").
std::string DecimalText(Int128 unscaled, uint8_t scale) {
  bool negative = unscaled < 0;
  std::string digits = UnsignedText(negative ? static_cast<UInt128>(0) - static_cast<UInt128>(unscaled)
                                             : static_cast<UInt128>(unscaled));
  if (scale > 0) {
    if (digits.size() <= scale) digits.insert(0, scale + 1 - digits.size(), '0');
    digits.insert(digits.size() - scale, 1, '.');
  }
  return negative ? "-" + digits : digits;
}

template <class Json>
Json IntegerText(std::string_view text) {
  const char* first = text.data();
  const char* last = text.data() + text.size();
  int64_t i = 0;
  if (auto r = std::from_chars(first, last, i); r.ec == std::errc() && r.ptr == last) return i;
  uint64_t u = 0;
  if (auto r = std::from_chars(first, last, u); r.ec == std::errc() && r.ptr == last) return u;
  return std::string(text);
}

template <class Json>
Json Double(double d) {
  if (std::isfinite(d)) return d;
  return nullptr;
}

template <class Json>
Json FloatingText(std::string_view text) {
  double d = 0;
  const char* last = text.data() + text.size();
  if (auto r = std::from_chars(text.data(), last, d); r.ec == std::errc() && r.ptr == last) {
    return Double<Json>(d);
  }
  return std::string(text);
}

template <class Json>
Json Float(float f) {
  if (!std::isfinite(f)) return nullptr;
  // The float's shortest decimal, read as a double: 1.1f encodes as 1.1, not 1.100000023841858.
  char buf[32];
  auto r = std::to_chars(buf, buf + sizeof(buf), f);
  double d = 0;
  std::from_chars(buf, r.ptr, d);
  return d;
}

/// A DECIMAL's text as a number when a double holds it exactly, else the text itself.
template <class Json>
Json DecimalJson(std::string_view text) {
  size_t significant = 0;
  size_t pending_zeros = 0;  // zeros after the last non-zero digit seen
  bool leading = true;
  for (char ch : text) {
    if (ch < '0' || ch > '9') {
      if (ch != '.' && ch != '-' && ch != '+') return std::string(text);
      continue;
    }
    if (ch == '0') {
      if (!leading) ++pending_zeros;
      continue;
    }
    leading = false;
    significant += pending_zeros + 1;
    pending_zeros = 0;
  }
  if (significant > kExactDecimalDigits) return std::string(text);
  double d = 0;
  const char* last = text.data() + text.size();
  if (auto r = std::from_chars(text.data(), last, d);
      r.ec == std::errc() && r.ptr == last && std::isfinite(d)) {
    return d;
  }
  return std::string(text);
}

/// Takes over `value` and returns DuckDB's VARCHAR text of it (nullopt when there is none).
std::optional<std::string> ValueText(duckdb_value value) {
  if (value == nullptr) return std::nullopt;
  char* text = duckdb_get_varchar(value);
  duckdb_destroy_value(&value);
  if (text == nullptr) return std::nullopt;
  std::string out(text);
  duckdb_free(text);
  return out;
}

std::string StringAt(const void* data, idx_t i) {
  duckdb_string_t s = static_cast<const duckdb_string_t*>(data)[i];
  const char* p = duckdb_string_t_data(&s);  // may point into `s` (short strings are inlined)
  return std::string(p, duckdb_string_t_length(s));
}

Int128 DecimalAt(const TypeNode& t, const void* data, idx_t i) {
  switch (t.storage) {
    case DUCKDB_TYPE_SMALLINT: return static_cast<const int16_t*>(data)[i];
    case DUCKDB_TYPE_INTEGER: return static_cast<const int32_t*>(data)[i];
    case DUCKDB_TYPE_BIGINT: return static_cast<const int64_t*>(data)[i];
    default: return FromHugeint(static_cast<const duckdb_hugeint*>(data)[i]);
  }
}

std::optional<std::string> EnumAt(const TypeNode& t, const void* data, idx_t i) {
  uint64_t index = 0;
  switch (t.storage) {
    case DUCKDB_TYPE_UTINYINT: index = static_cast<const uint8_t*>(data)[i]; break;
    case DUCKDB_TYPE_USMALLINT: index = static_cast<const uint16_t*>(data)[i]; break;
    default: index = static_cast<const uint32_t*>(data)[i]; break;
  }
  if (index >= t.names.size()) return std::nullopt;
  return t.names[index];
}

/// DuckDB's text of a scalar that JSON has no type for (dates, times, intervals, UUIDs, blobs,
/// bits); nullopt for other types.
std::optional<std::string> TextOnlyScalar(const TypeNode& t, const void* data, idx_t i) {
  switch (t.id) {
    case DUCKDB_TYPE_DATE:
      return ValueText(duckdb_create_date(static_cast<const duckdb_date*>(data)[i]));
    case DUCKDB_TYPE_TIME:
      return ValueText(duckdb_create_time(static_cast<const duckdb_time*>(data)[i]));
    case DUCKDB_TYPE_TIME_TZ:
      return ValueText(duckdb_create_time_tz_value(static_cast<const duckdb_time_tz*>(data)[i]));
    case DUCKDB_TYPE_TIMESTAMP:
      return ValueText(duckdb_create_timestamp(static_cast<const duckdb_timestamp*>(data)[i]));
    case DUCKDB_TYPE_TIMESTAMP_TZ:
      return ValueText(duckdb_create_timestamp_tz(static_cast<const duckdb_timestamp*>(data)[i]));
    case DUCKDB_TYPE_TIMESTAMP_S:
      return ValueText(duckdb_create_timestamp_s(static_cast<const duckdb_timestamp_s*>(data)[i]));
    case DUCKDB_TYPE_TIMESTAMP_MS:
      return ValueText(
          duckdb_create_timestamp_ms(static_cast<const duckdb_timestamp_ms*>(data)[i]));
    case DUCKDB_TYPE_TIMESTAMP_NS:
      return ValueText(
          duckdb_create_timestamp_ns(static_cast<const duckdb_timestamp_ns*>(data)[i]));
    case DUCKDB_TYPE_INTERVAL:
      return ValueText(duckdb_create_interval(static_cast<const duckdb_interval*>(data)[i]));
    case DUCKDB_TYPE_UUID: {
      // Vectors keep a UUID as a HUGEINT with the top bit flipped (so that it sorts);
      // duckdb_create_uuid takes the plain 128-bit number.
      duckdb_hugeint h = static_cast<const duckdb_hugeint*>(data)[i];
      duckdb_uhugeint u{h.lower, static_cast<uint64_t>(h.upper) ^ (uint64_t{1} << 63)};
      return ValueText(duckdb_create_uuid(u));
    }
    case DUCKDB_TYPE_BLOB: {
      std::string bytes = StringAt(data, i);
      return ValueText(
          duckdb_create_blob(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()));
    }
    case DUCKDB_TYPE_BIT: {
      std::string bytes = StringAt(data, i);
      duckdb_bit bit{reinterpret_cast<uint8_t*>(bytes.data()), bytes.size()};
      return ValueText(duckdb_create_bit(bit));
    }
    default:
      return std::nullopt;
  }
}

template <class Json>
Json Encode(const TypeNode& t, duckdb_vector vec, idx_t i);

template <class Json>
Json EncodeMapKey(const TypeNode& t, duckdb_vector vec, idx_t i, std::string& key) {
  Json k = Encode<Json>(t, vec, i);
  key = k.is_string() ? k.template get<std::string>() : k.dump();
  return k;
}

template <class Json>
Json Encode(const TypeNode& t, duckdb_vector vec, idx_t i) {
  if (vec == nullptr) return nullptr;
  uint64_t* validity = duckdb_vector_get_validity(vec);
  if (validity != nullptr && !duckdb_validity_row_is_valid(validity, i)) {
    return nullptr;
  }
  const void* data = duckdb_vector_get_data(vec);
  switch (t.id) {
    case DUCKDB_TYPE_BOOLEAN: return static_cast<const bool*>(data)[i];
    case DUCKDB_TYPE_TINYINT: return static_cast<int64_t>(static_cast<const int8_t*>(data)[i]);
    case DUCKDB_TYPE_SMALLINT: return static_cast<int64_t>(static_cast<const int16_t*>(data)[i]);
    case DUCKDB_TYPE_INTEGER: return static_cast<int64_t>(static_cast<const int32_t*>(data)[i]);
    case DUCKDB_TYPE_BIGINT: return static_cast<const int64_t*>(data)[i];
    case DUCKDB_TYPE_UTINYINT: return static_cast<uint64_t>(static_cast<const uint8_t*>(data)[i]);
    case DUCKDB_TYPE_USMALLINT:
      return static_cast<uint64_t>(static_cast<const uint16_t*>(data)[i]);
    case DUCKDB_TYPE_UINTEGER: return static_cast<uint64_t>(static_cast<const uint32_t*>(data)[i]);
    case DUCKDB_TYPE_UBIGINT: return static_cast<const uint64_t*>(data)[i];
    case DUCKDB_TYPE_HUGEINT:
      return IntegerText<Json>(SignedText(FromHugeint(static_cast<const duckdb_hugeint*>(data)[i])));
    case DUCKDB_TYPE_UHUGEINT:
      return IntegerText<Json>(
          UnsignedText(FromUhugeint(static_cast<const duckdb_uhugeint*>(data)[i])));
    case DUCKDB_TYPE_FLOAT: return Float<Json>(static_cast<const float*>(data)[i]);
    case DUCKDB_TYPE_DOUBLE: return Double<Json>(static_cast<const double*>(data)[i]);
    case DUCKDB_TYPE_DECIMAL:
      return DecimalJson<Json>(DecimalText(DecimalAt(t, data, i), t.decimal_scale));
    case DUCKDB_TYPE_VARCHAR: return StringAt(data, i);
    case DUCKDB_TYPE_ENUM: {
      auto name = EnumAt(t, data, i);
      if (!name) return nullptr;
      return *name;
    }
    case DUCKDB_TYPE_LIST: {
      duckdb_list_entry entry = static_cast<const duckdb_list_entry*>(data)[i];
      duckdb_vector child = duckdb_list_vector_get_child(vec);
      Json out = Json::array();
      for (idx_t k = entry.offset; k < entry.offset + entry.length; ++k) {
        out.push_back(Encode<Json>(t.children[0], child, k));
      }
      return out;
    }
    case DUCKDB_TYPE_ARRAY: {
      duckdb_vector child = duckdb_array_vector_get_child(vec);
      Json out = Json::array();
      for (idx_t k = i * t.array_size; k < (i + 1) * t.array_size; ++k) {
        out.push_back(Encode<Json>(t.children[0], child, k));
      }
      return out;
    }
    case DUCKDB_TYPE_MAP: {
      duckdb_list_entry entry = static_cast<const duckdb_list_entry*>(data)[i];
      duckdb_vector entries = duckdb_list_vector_get_child(vec);
      duckdb_vector keys = duckdb_struct_vector_get_child(entries, 0);
      duckdb_vector values = duckdb_struct_vector_get_child(entries, 1);
      Json out = Json::object();
      std::string key;
      for (idx_t k = entry.offset; k < entry.offset + entry.length; ++k) {
        EncodeMapKey<Json>(t.children[0], keys, k, key);
        out[key] = Encode<Json>(t.children[1], values, k);
      }
      return out;
    }
    case DUCKDB_TYPE_STRUCT: {
      Json out = Json::object();
      for (idx_t f = 0; f < t.children.size(); ++f) {
        out[t.names[f]] = Encode<Json>(t.children[f], duckdb_struct_vector_get_child(vec, f), i);
      }
      return out;
    }
    case DUCKDB_TYPE_UNION: {
      // A UNION vector is a STRUCT of (tag, member 0, member 1, ...).
      duckdb_vector tags = duckdb_struct_vector_get_child(vec, 0);
      if (tags == nullptr) return nullptr;
      uint8_t tag = static_cast<const uint8_t*>(duckdb_vector_get_data(tags))[i];
      if (tag >= t.children.size()) return nullptr;
      return Encode<Json>(t.children[tag], duckdb_struct_vector_get_child(vec, tag + 1), i);
    }
    default: {
      auto text = TextOnlyScalar(t, data, i);
      if (!text) return nullptr;
      return *text;
    }
  }
}

/// The vector holding cell (`col`, `row`) and the row's index in it, or a null vector.
std::pair<duckdb_vector, idx_t> Locate(CellReader::Impl& impl, size_t col, size_t row) {
  impl.UseChunks();
  if (col >= duckdb_column_count(&impl.result)) return {nullptr, 0};
  auto [chunk, index] = impl.Locate(row);
  if (chunk == nullptr) return {nullptr, 0};
  return {duckdb_data_chunk_get_vector(chunk, col), index};
}

}  // namespace

TypeNode ReadTypeNode(duckdb_logical_type type) {
  TypeNode node;
  node.id = duckdb_get_type_id(type);
  auto add_child = [&node](duckdb_logical_type child) {
    node.children.push_back(ReadTypeNode(child));
    duckdb_destroy_logical_type(&child);
  };
  auto add_name = [&node](char* name) {
    node.names.emplace_back(name ? name : "");
    if (name) duckdb_free(name);
  };
  switch (node.id) {
    case DUCKDB_TYPE_DECIMAL:
      node.decimal_scale = duckdb_decimal_scale(type);
      node.storage = duckdb_decimal_internal_type(type);
      break;
    case DUCKDB_TYPE_ENUM: {
      node.storage = duckdb_enum_internal_type(type);
      uint32_t size = duckdb_enum_dictionary_size(type);
      for (uint32_t i = 0; i < size; ++i) add_name(duckdb_enum_dictionary_value(type, i));
      break;
    }
    case DUCKDB_TYPE_LIST: add_child(duckdb_list_type_child_type(type)); break;
    case DUCKDB_TYPE_ARRAY:
      node.array_size = duckdb_array_type_array_size(type);
      add_child(duckdb_array_type_child_type(type));
      break;
    case DUCKDB_TYPE_MAP:
      add_child(duckdb_map_type_key_type(type));
      add_child(duckdb_map_type_value_type(type));
      break;
    case DUCKDB_TYPE_STRUCT: {
      idx_t n = duckdb_struct_type_child_count(type);
      for (idx_t i = 0; i < n; ++i) {
        add_name(duckdb_struct_type_child_name(type, i));
        add_child(duckdb_struct_type_child_type(type, i));
      }
      break;
    }
    case DUCKDB_TYPE_UNION: {
      idx_t n = duckdb_union_type_member_count(type);
      for (idx_t i = 0; i < n; ++i) {
        add_name(duckdb_union_type_member_name(type, i));
        add_child(duckdb_union_type_member_type(type, i));
      }
      break;
    }
    default:
      break;
  }
  return node;
}

template <class Json>
Json CellToJson(const QueryResult& result, size_t col, size_t row) {
  CellReader::Impl& impl = CellReader::ImplOf(result);
  auto [vec, index] = Locate(impl, col, row);
  if (vec == nullptr) return nullptr;
  return Encode<Json>(impl.ColumnType(col), vec, index);
}

template nlohmann::json CellToJson<nlohmann::json>(const QueryResult&, size_t, size_t);
template nlohmann::ordered_json CellToJson<nlohmann::ordered_json>(const QueryResult&, size_t,
                                                                   size_t);

std::string CellText(const QueryResult& result, size_t col, size_t row) {
  CellReader::Impl& impl = CellReader::ImplOf(result);
  auto [vec, i] = Locate(impl, col, row);
  if (vec == nullptr) return "";
  uint64_t* validity = duckdb_vector_get_validity(vec);
  if (validity != nullptr && !duckdb_validity_row_is_valid(validity, i)) {
    return "";
  }
  const TypeNode& t = impl.ColumnType(col);
  const void* data = duckdb_vector_get_data(vec);
  switch (t.id) {
    case DUCKDB_TYPE_BOOLEAN: return static_cast<const bool*>(data)[i] ? "true" : "false";
    case DUCKDB_TYPE_FLOAT:
      return ValueText(duckdb_create_float(static_cast<const float*>(data)[i])).value_or("");
    case DUCKDB_TYPE_DOUBLE:
      return ValueText(duckdb_create_double(static_cast<const double*>(data)[i])).value_or("");
    case DUCKDB_TYPE_DECIMAL: return DecimalText(DecimalAt(t, data, i), t.decimal_scale);
    case DUCKDB_TYPE_VARCHAR: return StringAt(data, i);
    case DUCKDB_TYPE_ENUM: return EnumAt(t, data, i).value_or("");
    case DUCKDB_TYPE_HUGEINT:
      return SignedText(FromHugeint(static_cast<const duckdb_hugeint*>(data)[i]));
    case DUCKDB_TYPE_UHUGEINT:
      return UnsignedText(FromUhugeint(static_cast<const duckdb_uhugeint*>(data)[i]));
    default:
      break;
  }
  if (auto text = TextOnlyScalar(t, data, i)) return *text;
  nlohmann::ordered_json j = Encode<nlohmann::ordered_json>(t, vec, i);
  if (j.is_null()) return "";
  if (j.is_string()) return j.get<std::string>();
  return j.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
}

nlohmann::json DoubleToJson(double value) { return Double<nlohmann::json>(value); }

nlohmann::json ScalarTextToJson(std::string_view type, std::string_view text) {
  using Json = nlohmann::json;
  if (type == "TINYINT" || type == "SMALLINT" || type == "INTEGER" || type == "BIGINT" ||
      type == "HUGEINT" || type == "UTINYINT" || type == "USMALLINT" || type == "UINTEGER" ||
      type == "UBIGINT" || type == "UHUGEINT") {
    return IntegerText<Json>(text);
  }
  if (type == "FLOAT" || type == "DOUBLE") return FloatingText<Json>(text);
  if (type.starts_with("DECIMAL")) return DecimalJson<Json>(text);
  if (type == "BOOLEAN") {
    if (text == "true") return true;
    if (text == "false") return false;
  }
  return std::string(text);
}

}  // namespace da::db
