#pragma once

// The gateway's JSON conversion checked against protobuf's json_util, the reference, on one
// input: used by json_codec_test and json_codec_fuzz.
#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "google/protobuf/io/coded_stream.h"
#include "google/protobuf/io/zero_copy_stream_impl_lite.h"
#include "google/protobuf/struct.pb.h"
#include "google/protobuf/util/json_util.h"

#include "gateway/json_codec.h"
#include "gateway/json_direct.h"

namespace accord::testing {

// The message's bytes with map entries in key order, so equal messages have equal bytes (and
// 0.0 and -0.0 differ, as they do on the wire).
inline std::string CanonicalBytes(const google::protobuf::Message& message) {
  std::string out;
  google::protobuf::io::StringOutputStream stream(&out);
  google::protobuf::io::CodedOutputStream coded(&stream);
  coded.SetSerializationDeterministic(true);
  message.SerializeToCodedStream(&coded);
  coded.Trim();
  return out;
}

// Whether `message` holds a map (a Struct's included) with more than one key: json_util writes
// those in the map's order, which two equal messages need not share (and the direct printer
// sorts a Struct's keys), so such JSON is compared as messages.
inline bool HasUnorderedKeys(const google::protobuf::Message& message) {
  if (const auto* s = google::protobuf::DynamicCastToGenerated<google::protobuf::Struct>(&message);
      s != nullptr && s->fields_size() > 1) {
    return true;
  }
  std::vector<const google::protobuf::FieldDescriptor*> fields;
  message.GetReflection()->ListFields(message, &fields);
  for (const auto* field : fields) {
    if (field->cpp_type() != google::protobuf::FieldDescriptor::CPPTYPE_MESSAGE) {
      continue;
    }
    const auto* r = message.GetReflection();
    if (field->is_map() && r->FieldSize(message, field) > 1) {
      return true;
    }
    if (!field->is_repeated()) {
      if (HasUnorderedKeys(r->GetMessage(message, field))) {
        return true;
      }
      continue;
    }
    for (int i = 0; i < r->FieldSize(message, field); ++i) {
      if (HasUnorderedKeys(r->GetRepeatedMessage(message, field, i))) {
        return true;
      }
    }
  }
  return false;
}

// Whether the JSON texts `a` and `b` make the same `prototype` message when json_util reads
// them back (for JSON with Struct keys in another order).
inline bool SameWhenReadBack(const google::protobuf::Message& prototype, const std::string& a,
                             const std::string& b) {
  namespace util = google::protobuf::util;
  std::unique_ptr<google::protobuf::Message> a_back(prototype.New());
  std::unique_ptr<google::protobuf::Message> b_back(prototype.New());
  return util::JsonStringToMessage(a, a_back.get(), util::JsonParseOptions()).ok() &&
         util::JsonStringToMessage(b, b_back.get(), util::JsonParseOptions()).ok() &&
         CanonicalBytes(*a_back) == CanonicalBytes(*b_back);
}

// Empty when json_codec and json_direct agree with json_util on `json` read as a message of
// `prototype`'s type, and on that message written back as JSON; otherwise what differs.
// `*direct_took` says whether the direct reader took the input.
inline std::string DifferenceFromJsonUtil(const google::protobuf::Message& prototype,
                                          const std::string& json, bool* direct_took = nullptr) {
  namespace util = google::protobuf::util;
  std::unique_ptr<google::protobuf::Message> reference(prototype.New());
  const util::Status want =
      util::JsonStringToMessage(json, reference.get(), util::JsonParseOptions());
  std::unique_ptr<google::protobuf::Message> direct(prototype.New());
  const bool took = gateway::ParseJsonDirect(json, *direct);
  if (direct_took != nullptr) {
    *direct_took = took;
  }
  if (took && !want.ok()) {
    return absl::StrCat("the direct reader took JSON json_util refuses (", want.ToString(), ")");
  }
  if (took && CanonicalBytes(*direct) != CanonicalBytes(*reference)) {
    return absl::StrCat("the direct reader made another message: ", direct->ShortDebugString(),
                        " vs ", reference->ShortDebugString());
  }
  std::unique_ptr<google::protobuf::Message> ours(prototype.New());
  const absl::Status got = gateway::JsonToMessage(json, *ours);
  if (got.ok() != want.ok()) {
    return absl::StrCat("json_codec says ", got.ToString(), ", json_util ", want.ToString());
  }
  if (!want.ok()) {
    return std::string(got.message()) == want.message().ToString()
               ? ""
               : absl::StrCat("another error: ", got.message(), " vs ", want.message().ToString());
  }
  if (CanonicalBytes(*ours) != CanonicalBytes(*reference)) {
    return "json_codec made another message";
  }
  std::string printed;
  if (!util::MessageToJsonString(*reference, &printed).ok()) {
    return "";  // nothing json_util writes to compare with
  }
  absl::StatusOr<std::string> wire_json =
      gateway::WireToJson(prototype.GetDescriptor(), reference->SerializeAsString());
  if (!wire_json.ok()) {
    return absl::StrCat("json_codec cannot write what json_util writes: ",
                        wire_json.status().ToString());
  }
  if (!HasUnorderedKeys(*reference)) {
    return *wire_json == printed ? "" : absl::StrCat("another JSON: ", *wire_json, " vs ", printed);
  }
  // Both read back by json_util (which reads its own "-0" as 0, so not against `reference`).
  return SameWhenReadBack(prototype, *wire_json, printed)
             ? ""
             : absl::StrCat("another JSON: ", *wire_json, " vs ", printed);
}

// Empty when json_codec writes the wire bytes `wire` of a `prototype` message as json_util
// writes the message they parse to (an error when they do not parse); otherwise what differs.
// `*direct_took`: the direct printer wrote them.
inline std::string WireDifferenceFromJsonUtil(const google::protobuf::Message& prototype,
                                              const std::string& wire,
                                              bool* direct_took = nullptr) {
  namespace util = google::protobuf::util;
  std::string direct;
  const bool took = gateway::WireToJsonDirect(prototype.GetDescriptor(), wire, direct);
  if (direct_took != nullptr) {
    *direct_took = took;
  }
  std::unique_ptr<google::protobuf::Message> message(prototype.New());
  const bool parses = message->ParseFromString(wire);
  absl::StatusOr<std::string> ours = gateway::WireToJson(prototype.GetDescriptor(), wire);
  if (!parses) {
    if (took) {
      return "the direct printer wrote bytes protobuf does not parse";
    }
    return ours.ok() ? "json_codec wrote bytes protobuf does not parse" : "";
  }
  std::string want;
  if (!util::MessageToJsonString(*message, &want).ok()) {
    return "";  // nothing json_util writes to compare with
  }
  if (!ours.ok()) {
    return absl::StrCat("json_codec cannot write what json_util writes: ",
                        ours.status().ToString());
  }
  if (took && direct != *ours) {
    return "json_codec did not use what the direct printer wrote";
  }
  if (!HasUnorderedKeys(*message)) {
    return *ours == want ? "" : absl::StrCat("another JSON: ", *ours, " vs ", want);
  }
  return SameWhenReadBack(prototype, *ours, want)
             ? ""
             : absl::StrCat("another JSON: ", *ours, " vs ", want);
}

}  // namespace accord::testing
