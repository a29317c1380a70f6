#include "common/status.h"

#include "absl/strings/cord.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "google/protobuf/any.pb.h"
#include "google/rpc/error_details.pb.h"
#include "google/rpc/status.pb.h"

#include "common/utf8.h"

namespace accord {
namespace {

constexpr absl::string_view kTypePrefix = "type.googleapis.com/";

std::string TypeUrl(const google::protobuf::Message& message) {
  return absl::StrCat(kTypePrefix, message.GetDescriptor()->full_name());
}

void Attach(absl::Status& status, const google::protobuf::Message& detail) {
  status.SetPayload(TypeUrl(detail), absl::Cord(detail.SerializeAsString()));
}

template <typename T>
bool Extract(const absl::Status& status, T* out) {
  auto payload = status.GetPayload(TypeUrl(*out));
  return payload.has_value() && out->ParseFromString(std::string(*payload));
}

}  // namespace

absl::Status InvalidArgument(std::vector<FieldViolation> violations, absl::string_view reason) {
  google::rpc::BadRequest bad_request;
  for (const FieldViolation& v : violations) {
    auto* fv = bad_request.add_field_violations();
    fv->set_field(v.field);
    fv->set_description(v.description);
  }
  std::string message = violations.empty() ? "invalid argument"
                                           : absl::StrCat(violations.front().field, ": ",
                                                          violations.front().description);
  if (violations.size() > 1) {
    absl::StrAppend(&message, " (and ", violations.size() - 1, " more problems)");
  }
  absl::Status status = ErrorWithReason(absl::StatusCode::kInvalidArgument, reason, message);
  Attach(status, bad_request);
  return status;
}

absl::Status InvalidField(absl::string_view field, absl::string_view description) {
  return InvalidArgument({{std::string(field), std::string(description)}});
}

absl::Status ErrorWithReason(absl::StatusCode code, absl::string_view reason,
                             absl::string_view message,
                             std::vector<std::pair<std::string, std::string>> metadata) {
  absl::Status status(code, message);
  google::rpc::ErrorInfo info;
  info.set_reason(std::string(reason));
  info.set_domain(std::string(kErrorDomain));
  for (auto& [key, value] : metadata) {
    (*info.mutable_metadata())[key] = value;
  }
  Attach(status, info);
  return status;
}

std::string ErrorReason(const absl::Status& status) {
  google::rpc::ErrorInfo info;
  return Extract(status, &info) ? info.reason() : "";
}

std::vector<FieldViolation> FieldViolations(const absl::Status& status) {
  google::rpc::BadRequest bad_request;
  std::vector<FieldViolation> out;
  if (Extract(status, &bad_request)) {
    for (const auto& v : bad_request.field_violations()) {
      out.push_back({v.field(), v.description()});
    }
  }
  return out;
}

absl::Status WithRetryAfter(absl::Status status, int seconds) {
  google::rpc::RetryInfo retry;
  retry.mutable_retry_delay()->set_seconds(seconds);
  Attach(status, retry);
  return status;
}

int RetryAfterSeconds(const absl::Status& status) {
  google::rpc::RetryInfo retry;
  if (!Extract(status, &retry)) {
    return 0;
  }
  return static_cast<int>(retry.retry_delay().seconds()) + (retry.retry_delay().nanos() > 0);
}

google::rpc::Status ToRpcStatus(const absl::Status& status) {
  google::rpc::Status rpc_status;
  rpc_status.set_code(static_cast<int>(status.code()));
  if (status.code() == absl::StatusCode::kInternal || status.code() == absl::StatusCode::kUnknown) {
    rpc_status.set_message("internal error");
    return rpc_status;
  }
  // A message may quote what a client sent (a header's value): a string field must be UTF-8,
  // so anything else is escaped (\xff) rather than sent as bytes a client cannot parse.
  rpc_status.set_message(IsValidUtf8(status.message()) ? std::string(status.message())
                                                       : absl::CHexEscape(status.message()));
  status.ForEachPayload([&](absl::string_view type_url, const absl::Cord& payload) {
    google::protobuf::Any* any = rpc_status.add_details();
    any->set_type_url(std::string(type_url));
    any->set_value(std::string(payload));
  });
  return rpc_status;
}

grpc::Status ToGrpcStatus(const absl::Status& status) {
  if (status.ok()) {
    return grpc::Status::OK;
  }
  google::rpc::Status rpc_status = ToRpcStatus(status);
  return grpc::Status(static_cast<grpc::StatusCode>(status.code()), rpc_status.message(),
                      rpc_status.SerializeAsString());
}

absl::Status FromGrpcStatus(const grpc::Status& status) {
  if (status.ok()) {
    return absl::OkStatus();
  }
  absl::Status out(static_cast<absl::StatusCode>(status.error_code()), status.error_message());
  google::rpc::Status rpc_status;
  if (!status.error_details().empty() && rpc_status.ParseFromString(status.error_details())) {
    for (const auto& any : rpc_status.details()) {
      out.SetPayload(any.type_url(), absl::Cord(any.value()));
    }
  }
  return out;
}

}  // namespace accord
