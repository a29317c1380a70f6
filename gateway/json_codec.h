#pragma once

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/message.h"

// Protobuf's own JSON conversion (google/protobuf/util/json_util.h), with the type descriptions
// it works from kept for the life of the process. json_util's MessageToJsonString and
// JsonStringToMessage describe every message type a conversion meets anew on each call (a
// google.protobuf.Type built from the descriptor, field by field) and go through a parsed
// message on the way; these convert the wire bytes directly, on descriptions made once. The
// JSON is the same, byte for byte, and so are the errors: json_util does exactly this with a
// resolver that forgets. Before either, the direct conversion (json_direct.h) is tried: it takes
// the messages the hot methods carry, several times faster, and declines the rest.
namespace accord::gateway {

// The message of `type` whose wire bytes are `bytes`, as proto3 JSON; INVALID_ARGUMENT when
// the bytes are not such a message.
absl::StatusOr<std::string> WireToJson(const google::protobuf::Descriptor* type,
                                       absl::string_view bytes);

// Merges the proto3 JSON `json` into `message`: unknown fields are errors. The error's message
// is json_util's.
absl::Status JsonToMessage(absl::string_view json, google::protobuf::Message& message);

}  // namespace accord::gateway
