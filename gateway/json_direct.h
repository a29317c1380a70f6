#pragma once

#include <string>

#include "absl/strings/string_view.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/message.h"

// Proto3 JSON read and written directly between the text and the message, through reflection,
// for the kinds of fields the API's hot methods carry: scalars (except bytes), enums, messages,
// repeated fields, oneofs, and the well-known Timestamp, Struct, Value and ListValue. What it
// does not take (maps other than Struct, bytes, Any, Duration, FieldMask, wrappers, numbers
// that are not finite or not exact, anything unusual in the text) it declines, and the caller
// falls back to protobuf's json_util (json_codec.h does), so an input it accepts converts
// exactly as json_util converts it and an input it declines gets json_util's answer, error text
// included. json_codec_test and json_codec_fuzz compare the two on every input they have.
namespace accord::gateway {

// The protobuf wire bytes of the message of `type` that `json` describes, made straight from
// the text: no message is built (the gateway sends them on as the request). Fields come in the
// JSON's order and repeated scalars unpacked; parsed, they make the message json_util makes.
// False when it declines (as ParseJsonDirect).
bool JsonToWireDirect(absl::string_view json, const google::protobuf::Descriptor* type,
                      std::string& out);

// Merges the JSON object `json` into `message`, which must be empty (JsonToWireDirect, parsed).
// False when it declines (bad JSON among others, and objects and arrays nested more than 32 deep):
// `message` is then in no particular state and should be cleared.
bool ParseJsonDirect(absl::string_view json, google::protobuf::Message& message);

// Appends `message` as compact proto3 JSON to `out` (field names in lowerCamelCase, defaults
// left out, Struct keys sorted). False when it declines; `out` then holds a partial text.
bool PrintJsonDirect(const google::protobuf::Message& message, std::string& out);

}  // namespace accord::gateway
