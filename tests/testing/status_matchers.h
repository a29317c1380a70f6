#pragma once

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "gmock/gmock.h"

#include "common/status.h"

// Status matchers named like Abseil's, so they can be swapped later.
namespace accord::testing {

inline const absl::Status& GetStatus(const absl::Status& s) { return s; }
template <typename T>
const absl::Status& GetStatus(const absl::StatusOr<T>& s) {
  return s.status();
}

MATCHER_P(StatusIs, code, "") {
  const absl::Status& s = GetStatus(arg);
  if (s.code() != code) {
    *result_listener << "status is " << s.ToString();
    return false;
  }
  return true;
}

// The status has a field violation at exactly `field`.
MATCHER_P(HasViolation, field, "") {
  for (const auto& v : FieldViolations(GetStatus(arg))) {
    if (v.field == field) {
      return true;
    }
  }
  *result_listener << "status is " << GetStatus(arg).ToString() << " with violations:";
  for (const auto& v : FieldViolations(GetStatus(arg))) {
    *result_listener << " [" << v.field << ": " << v.description << "]";
  }
  return false;
}

MATCHER_P(HasReason, reason, "") {
  std::string actual = ErrorReason(GetStatus(arg));
  if (actual != reason) {
    *result_listener << "reason is '" << actual << "', status " << GetStatus(arg).ToString();
    return false;
  }
  return true;
}

#define ACCORD_ASSERT_OK_AND_ASSIGN(lhs, rexpr)                             \
  auto ACCORD_STATUS_CONCAT_(accord_test_, __LINE__) = (rexpr);             \
  ASSERT_TRUE(ACCORD_STATUS_CONCAT_(accord_test_, __LINE__).ok())           \
      << ACCORD_STATUS_CONCAT_(accord_test_, __LINE__).status().ToString(); \
  lhs = *std::move(ACCORD_STATUS_CONCAT_(accord_test_, __LINE__))

}  // namespace accord::testing
