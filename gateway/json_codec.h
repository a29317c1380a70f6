#pragma once

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/message.h"

// JSON for the HTTP/JSON port: first the direct conversion (json_direct.h), which takes what
// the hot methods carry, straight between text and wire bytes; for what it declines,
// protobuf's own conversion (google/protobuf/util/json_util.h) with the type descriptions it
// works from kept for the life of the process (json_util's MessageToJsonString and
// JsonStringToMessage describe every message type a conversion meets anew on each call). The
// JSON is json_util's, byte for byte (Struct keys aside: sorted), and so are the errors.
namespace accord::gateway {

// The message of `type` whose wire bytes are `bytes`, as proto3 JSON; INVALID_ARGUMENT when
// the bytes are not such a message.
absl::StatusOr<std::string> WireToJson(const google::protobuf::Descriptor* type,
                                       absl::string_view bytes);

// Merges the proto3 JSON `json` into `message`: unknown fields are errors. The error's message
// is json_util's.
absl::Status JsonToMessage(absl::string_view json, google::protobuf::Message& message);
// JsonToMessage by json_util alone, for a caller that has already tried ParseJsonDirect.
absl::Status JsonUtilToMessage(absl::string_view json, google::protobuf::Message& message);

}  // namespace accord::gateway
