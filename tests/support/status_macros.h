#pragma once
/// GoogleTest assertions on da's Status and Result<T> (src/common/status.h):
///
///   ASSERT_OK(conn.Execute("CREATE TABLE t (i INT)"));   // Status or Result<T>
///   EXPECT_OK(repo.Delete("a")) << "while deleting a";   // extra text streams as usual
///   ASSERT_OK_AND_ASSIGN(auto db, db::Database::Open(":memory:"));  // db is the value
///
/// A failure prints the expression and the Status ("<code>: <message>"). ASSERT_OK_AND_ASSIGN
/// returns from the enclosing function on failure, so use it where ASSERT_* may be used.
#include <gtest/gtest.h>

#include <utility>

#include "common/status.h"

namespace da::testing {

inline const Status& StatusOf(const Status& status) { return status; }
template <typename T>
const Status& StatusOf(const Result<T>& result) {
  return result.status();
}

/// Predicate formatter behind ASSERT_OK / EXPECT_OK.
template <typename T>
::testing::AssertionResult IsOk(const char* expression, const T& value) {
  const Status& status = StatusOf(value);
  if (status.ok()) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << expression << " is not ok: " << status.ToString();
}

}  // namespace da::testing

#define ASSERT_OK(expr) ASSERT_PRED_FORMAT1(::da::testing::IsOk, expr)
#define EXPECT_OK(expr) EXPECT_PRED_FORMAT1(::da::testing::IsOk, expr)

#define DA_ASSERT_OK_AND_ASSIGN_IMPL(tmp, lhs, expr) \
  auto tmp = (expr);                                 \
  ASSERT_OK(tmp);                                    \
  lhs = std::move(tmp).value()

/// `ASSERT_OK_AND_ASSIGN(auto x, F());` declares x from a Result, or fails the test and returns.
#define ASSERT_OK_AND_ASSIGN(lhs, expr) \
  DA_ASSERT_OK_AND_ASSIGN_IMPL(DA_CONCAT(da_test_result_, __LINE__), lhs, expr)
