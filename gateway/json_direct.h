#pragma once

#include <string>

#include "absl/strings/string_view.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/message.h"

// Proto3 JSON read and written directly between the text and the protobuf wire bytes, with no
// message in between, for the kinds of fields the API's hot methods carry: scalars (except
// bytes and float), enums, messages, repeated fields, oneofs, and the well-known Timestamp,
// Struct, Value and ListValue. What it does not take (maps other than Struct, bytes, Any,
// Duration, FieldMask, wrappers, numbers that are not finite or not exact, anything unusual in
// the text or the bytes) it declines, and the caller falls back to protobuf's json_util
// (json_codec.h does), so an input it takes converts exactly as json_util converts it and an
// input it declines gets json_util's answer, error text included. json_codec_test and
// json_codec_fuzz compare the two on every input they have.
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

// The message of `type` whose wire bytes are `wire`, as compact proto3 JSON (field names in
// lowerCamelCase, defaults left out, Struct keys sorted), written straight from the bytes, in
// field-number order whatever the bytes' order. It takes each singular field once, no default
// values, no unknown fields (as protobuf's serializer writes them); it declines other bytes,
// and malformed ones. `out` is replaced.
bool WireToJsonDirect(const google::protobuf::Descriptor* type, absl::string_view wire,
                      std::string& out);

// `d` (finite) as json_util writes a double (protobuf's SimpleDtoa: "%.15g" when that reads back
// as `d`, else "%.17g"), without printf for the common case (normal doubles of at most 15
// significant digits).
void AppendDouble(double d, std::string& out);

// `message` as WireToJsonDirect writes it (tests).
bool PrintJsonDirect(const google::protobuf::Message& message, std::string& out);

}  // namespace accord::gateway
