#pragma once

#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "google/rpc/status.pb.h"
#include "grpcpp/support/status.h"

// Status helpers shared by every part: propagation macros (named so they can be swapped for
// Abseil's later), errors that carry google.rpc details, and the one ToGrpcStatus /
// FromGrpcStatus pair.

#define ACCORD_STATUS_CONCAT_INNER_(a, b) a##b
#define ACCORD_STATUS_CONCAT_(a, b) ACCORD_STATUS_CONCAT_INNER_(a, b)

#define ACCORD_RETURN_IF_ERROR(expr)                                  \
  do {                                                                \
    if (absl::Status accord_status_ = (expr); !accord_status_.ok()) { \
      return accord_status_;                                          \
    }                                                                 \
  } while (false)

#define ACCORD_ASSIGN_OR_RETURN(lhs, rexpr) \
  ACCORD_ASSIGN_OR_RETURN_IMPL_(ACCORD_STATUS_CONCAT_(accord_statusor_, __LINE__), lhs, rexpr)

#define ACCORD_ASSIGN_OR_RETURN_IMPL_(statusor, lhs, rexpr) \
  auto statusor = (rexpr);                                  \
  if (!statusor.ok()) {                                     \
    return std::move(statusor).status();                    \
  }                                                         \
  lhs = std::move(statusor).value()

namespace accord {

// The google.rpc ErrorInfo domain of every error Accord returns.
inline constexpr absl::string_view kErrorDomain = "accord.dev";

// One problem with one field of a request; `field` is the proto field path
// ("definition.buyer_persona.criteria[0].weight").
struct FieldViolation {
  std::string field;
  std::string description;
};

// INVALID_ARGUMENT with a BadRequest detail listing every violation and an ErrorInfo whose
// reason is `reason`. The message names the first violation.
absl::Status InvalidArgument(std::vector<FieldViolation> violations,
                             absl::string_view reason = "INVALID_ARGUMENT");
absl::Status InvalidField(absl::string_view field, absl::string_view description);

// An error of `code` with an ErrorInfo{reason, domain, metadata}.
absl::Status ErrorWithReason(absl::StatusCode code, absl::string_view reason,
                             absl::string_view message,
                             std::vector<std::pair<std::string, std::string>> metadata = {});

// The ErrorInfo reason carried by `status`, or "" when there is none.
std::string ErrorReason(const absl::Status& status);
// The BadRequest field violations carried by `status`.
std::vector<FieldViolation> FieldViolations(const absl::Status& status);

// `status` with a google.rpc.RetryInfo detail: the caller may retry after `seconds`.
absl::Status WithRetryAfter(absl::Status status, int seconds);
// The RetryInfo delay of `status` in whole seconds (rounded up), or 0 when there is none.
int RetryAfterSeconds(const absl::Status& status);

// absl -> google.rpc.Status with every detail. INTERNAL and UNKNOWN texts are replaced by a
// generic message and their details dropped: their text never leaves the process.
google::rpc::Status ToRpcStatus(const absl::Status& status);

// absl -> gRPC, with the details as a serialized google.rpc.Status in the binary details
// (the grpc-status-details-bin trailer). INTERNAL and UNKNOWN texts are replaced by a
// generic message: their text never leaves the process.
grpc::Status ToGrpcStatus(const absl::Status& status);
// gRPC -> absl, keeping the details.
absl::Status FromGrpcStatus(const grpc::Status& status);

}  // namespace accord
