#include "db/value_json.h"

#include <gtest/gtest.h>

#include <optional>

#include "support/memory_db_test.h"
#include "support/status_macros.h"

namespace da::db {
namespace {

using nlohmann::json;

class ValueJsonTest : public testing::MemoryDbTest {
 protected:

  /// Row 0 of `sql` as {column: CellToJson}.
  json Row(const std::string& sql) {
    auto r = conn_->Query(sql);
    EXPECT_OK(r);
    if (!r.ok()) return nullptr;
    json out = json::object();
    for (size_t c = 0; c < r->ColumnCount(); ++c) out[r->ColumnName(c)] = CellToJson(*r, c, 0);
    return out;
  }
};

TEST_F(ValueJsonTest, NullAndBoolean) {
  EXPECT_EQ(Row("SELECT NULL AS n, NULL::INT AS ni, NULL::INT[] AS nl, true AS t, false AS f"),
            (json{{"n", nullptr}, {"ni", nullptr}, {"nl", nullptr}, {"t", true}, {"f", false}}));
}

TEST_F(ValueJsonTest, IntegersAreExactNumbersWhileTheyFit64Bits) {
  json row = Row(
      "SELECT -5::TINYINT AS ti, -300::SMALLINT AS si, -70000::INTEGER AS i, "
      "'-9223372036854775808'::BIGINT AS bi, 255::UTINYINT AS uti, 65535::USMALLINT AS usi, "
      "4294967295::UINTEGER AS ui, 18446744073709551615::UBIGINT AS ubi, "
      "42::HUGEINT AS h_small, -9223372036854775808::HUGEINT AS h_min64, "
      "18446744073709551615::HUGEINT AS h_u64, 18446744073709551616::HUGEINT AS h_big, "
      "'-170141183460469231731687303715884105728'::HUGEINT AS h_min, "
      "340282366920938463463374607431768211455::UHUGEINT AS uh_max, 7::UHUGEINT AS uh_small");
  EXPECT_EQ(row.dump(),
            "{\"bi\":-9223372036854775808,\"h_big\":\"18446744073709551616\","
            "\"h_min\":\"-170141183460469231731687303715884105728\","
            "\"h_min64\":-9223372036854775808,\"h_small\":42,\"h_u64\":18446744073709551615,"
            "\"i\":-70000,\"si\":-300,\"ti\":-5,\"ubi\":18446744073709551615,"
            "\"uh_max\":\"340282366920938463463374607431768211455\",\"uh_small\":7,"
            "\"ui\":4294967295,\"usi\":65535,\"uti\":255}");
}

TEST_F(ValueJsonTest, FloatingPointNonFiniteIsNull) {
  json row = Row(
      "SELECT 1.5::DOUBLE AS d, -0.1::DOUBLE AS neg, 1.1::FLOAT AS f, 1e300::DOUBLE AS big, "
      "'nan'::DOUBLE AS nan, 'inf'::DOUBLE AS inf, '-inf'::DOUBLE AS ninf, 'nan'::FLOAT AS fnan, "
      "'-inf'::FLOAT AS finf");
  EXPECT_EQ(row.dump(),
            "{\"big\":1e+300,\"d\":1.5,\"f\":1.1,\"finf\":null,\"fnan\":null,\"inf\":null,"
            "\"nan\":null,\"neg\":-0.1,\"ninf\":null}");
}

TEST_F(ValueJsonTest, DecimalsAreNumbersWhileADoubleHoldsThemExactly) {
  json row = Row(
      "SELECT 12.50::DECIMAL(6,2) AS d2, -0.05::DECIMAL(4,2) AS small, 7::DECIMAL(4,0) AS whole, "
      "123456789012.345::DECIMAL(18,3) AS d15, 1234567890123.456::DECIMAL(18,3) AS d16, "
      "1000000000000000000000.00::DECIMAL(38,2) AS round, "
      "-12345678901234567890.12345::DECIMAL(38,5) AS wide, 0::DECIMAL(10,3) AS zero");
  EXPECT_EQ(row.dump(),
            "{\"d15\":123456789012.345,\"d16\":\"1234567890123.456\",\"d2\":12.5,"
            "\"round\":1e+21,\"small\":-0.05,\"whole\":7.0,"
            "\"wide\":\"-12345678901234567890.12345\",\"zero\":0.0}");
}

TEST_F(ValueJsonTest, TextEnumAndBlob) {
  ASSERT_OK(conn_->Execute("CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy')"));
  json row = Row(
      "SELECT 'x,\"y\" ü' AS s, 'a much longer string than twelve bytes' AS long_s, "
      "'happy'::mood AS e, 'ab'::BLOB AS b, '\\xFF\\x00a'::BLOB AS bin");
  EXPECT_EQ(row, (json{{"s", "x,\"y\" ü"},
                       {"long_s", "a much longer string than twelve bytes"},
                       {"e", "happy"},
                       {"b", "ab"},
                       {"bin", "\\xFF\\x00a"}}));
}

TEST_F(ValueJsonTest, TemporalAndOtherScalarsAreDuckDbText) {
  json row = Row(
      "SELECT DATE '2024-02-29' AS d, TIME '10:11:12.5' AS t, "
      "TIMESTAMP '2024-02-29 10:11:12.123456' AS ts, TIMESTAMP_S '2024-02-29 10:11:12' AS ts_s, "
      "TIMESTAMP_MS '2024-02-29 10:11:12.123' AS ts_ms, "
      "TIMESTAMP_NS '2024-02-29 10:11:12.123456789' AS ts_ns, "
      "TIMESTAMPTZ '2024-02-29 10:11:12+00' AS tstz, TIMETZ '10:11:12+02' AS ttz, "
      "INTERVAL '1 year 2 days 3 seconds' AS iv, "
      "'00000000-0000-0000-0000-000000000001'::UUID AS u_low, "
      "'ffffffff-ffff-ffff-ffff-ffffffffffff'::UUID AS u_high, '10110'::BIT AS bits, "
      "'infinity'::DATE AS d_inf");
  EXPECT_EQ(row, (json{{"d", "2024-02-29"},
                       {"t", "10:11:12.5"},
                       {"ts", "2024-02-29 10:11:12.123456"},
                       {"ts_s", "2024-02-29 10:11:12"},
                       {"ts_ms", "2024-02-29 10:11:12.123"},
                       {"ts_ns", "2024-02-29 10:11:12.123456789"},
                       {"tstz", "2024-02-29 10:11:12+00"},
                       {"ttz", "10:11:12+02"},
                       {"iv", "1 year 2 days 00:00:03"},
                       {"u_low", "00000000-0000-0000-0000-000000000001"},
                       {"u_high", "ffffffff-ffff-ffff-ffff-ffffffffffff"},
                       {"bits", "10110"},
                       {"d_inf", "infinity"}}));
}

TEST_F(ValueJsonTest, NestedTypesAreArraysAndObjects) {
  json row = Row(
      "SELECT [1, NULL, 3] AS l, [] ::INT[] AS empty, [[1], [2, 3]] AS ll, "
      "['a', NULL] AS ls, [DATE '2024-01-02'] AS ld, [1.5::DECIMAL(4,2)] AS ldec, "
      "{'b': 1, 'a': 'x', 'n': NULL::INT} AS s, {'inner': {'v': [true]}} AS ss, "
      "MAP {'k1': 1, 'k2': NULL} AS m, MAP {1: 'one'} AS mi, "
      "[1, 2, 3]::INT[3] AS arr, union_value(num := 2)::UNION(num INT, str VARCHAR) AS un, "
      "[{'x': 'nan'::DOUBLE}] AS lsnan");
  EXPECT_EQ(row, (json{{"l", {1, nullptr, 3}},
                       {"empty", json::array()},
                       {"ll", {{1}, {2, 3}}},
                       {"ls", {"a", nullptr}},
                       {"ld", {"2024-01-02"}},
                       {"ldec", {1.5}},
                       {"s", {{"b", 1}, {"a", "x"}, {"n", nullptr}}},
                       {"ss", {{"inner", {{"v", {true}}}}}},
                       {"m", {{"k1", 1}, {"k2", nullptr}}},
                       {"mi", {{"1", "one"}}},
                       {"arr", {1, 2, 3}},
                       {"un", 2},
                       {"lsnan", {{{"x", nullptr}}}}}));
}

TEST_F(ValueJsonTest, OrderedJsonKeepsStructFieldOrder) {
  auto r = conn_->Query("SELECT {'b': 1, 'a': 2} AS s");
  ASSERT_OK(r);
  EXPECT_EQ(CellToJson<nlohmann::ordered_json>(*r, 0, 0).dump(), "{\"b\":1,\"a\":2}");
}

TEST_F(ValueJsonTest, ManyRowsAcrossChunks) {
  auto r = conn_->Query("SELECT i, i::VARCHAR AS s FROM range(5000) t(i)");
  ASSERT_OK(r);
  EXPECT_EQ(CellToJson(*r, 0, 0), 0);
  EXPECT_EQ(CellToJson(*r, 0, 2048), 2048);
  EXPECT_EQ(CellToJson(*r, 1, 4999), "4999");
  EXPECT_TRUE(CellToJson(*r, 0, 5000).is_null());  // out of range
  EXPECT_TRUE(CellToJson(*r, 2, 0).is_null());
}

TEST_F(ValueJsonTest, CellTextIsDuckDbsVarcharText) {
  auto r = conn_->Query(
      "SELECT NULL::INT AS n, true AS b, 12.50::DECIMAL(6,2) AS dec, 'inf'::DOUBLE AS inf, "
      "1.5::DOUBLE AS d, 18446744073709551616::HUGEINT AS h, DATE '2024-02-29' AS dt, "
      "'ab'::BLOB AS bl, 'x' AS s, [1, 2] AS l, -0.05::DECIMAL(4,2) AS neg");
  ASSERT_OK(r);
  std::vector<std::string> text;
  for (size_t c = 0; c < r->ColumnCount(); ++c) text.push_back(CellText(*r, c, 0));
  EXPECT_EQ(text, (std::vector<std::string>{"", "true", "12.50", "inf", "1.5",
                                            "18446744073709551616", "2024-02-29", "ab", "x",
                                            "[1,2]", "-0.05"}));
}

TEST(ScalarTextToJsonTest, FollowsTheCellRules) {
  EXPECT_EQ(ScalarTextToJson("BIGINT", "-42"), -42);
  EXPECT_EQ(ScalarTextToJson("UBIGINT", "18446744073709551615"), 18446744073709551615ull);
  EXPECT_EQ(ScalarTextToJson("HUGEINT", "18446744073709551616"), "18446744073709551616");
  EXPECT_EQ(ScalarTextToJson("DOUBLE", "1.5"), 1.5);
  EXPECT_TRUE(ScalarTextToJson("DOUBLE", "nan").is_null());
  EXPECT_TRUE(ScalarTextToJson("FLOAT", "-inf").is_null());
  EXPECT_EQ(ScalarTextToJson("DECIMAL(10,2)", "1.50"), 1.5);
  EXPECT_EQ(ScalarTextToJson("DECIMAL(38,2)", "12345678901234567.89"), "12345678901234567.89");
  EXPECT_EQ(ScalarTextToJson("BOOLEAN", "true"), true);
  EXPECT_EQ(ScalarTextToJson("DATE", "2024-02-29"), "2024-02-29");
  EXPECT_EQ(ScalarTextToJson("INTEGER", "x"), "x");
  EXPECT_TRUE(DoubleToJson(std::numeric_limits<double>::infinity()).is_null());
  EXPECT_EQ(DoubleToJson(2.5), 2.5);
}

}  // namespace
}  // namespace da::db
