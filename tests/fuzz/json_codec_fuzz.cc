// The JSON of the HTTP/JSON port, differentially: the direct reader and printer
// (gateway/json_direct.h) and json_codec must agree with protobuf's json_util on any input,
// as DifferenceFromJsonUtil checks. The first byte picks the message type (the hot requests
// and responses, a bare Value, two registry types) and what the rest is: JSON to read (and write
// back), or wire bytes to write as JSON (WireDifferenceFromJsonUtil). Any disagreement aborts.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <iostream>
#include <string>

#include "google/protobuf/struct.pb.h"

#include "accord/registry/v1/definition.pb.h"
#include "accord/registry/v1/registry.pb.h"
#include "accord/scoring/v1/scoring.pb.h"
#include "tests/testing/json_reference.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0 || size > 4096) {
    return 0;
  }
  static const google::protobuf::Message* const kTypes[] = {
      &accord::scoring::v1::ScoreLeadRequest::default_instance(),
      &accord::scoring::v1::Lead::default_instance(),
      &accord::scoring::v1::LeadScore::default_instance(),
      &google::protobuf::Value::default_instance(),
  };
  // Bit 0x40: a registry type (a oneof, a map: what the direct conversion must decline).
  static const google::protobuf::Message* const kRegistryTypes[] = {
      &accord::registry::v1::Definition::default_instance(),
      &accord::registry::v1::ListDefinitionsRequest::default_instance(),
  };
  const google::protobuf::Message& prototype =
      (data[0] & 0x40) != 0 ? *kRegistryTypes[data[0] % 2] : *kTypes[data[0] % 4];
  const std::string rest(reinterpret_cast<const char*>(data) + 1, size - 1);
  const std::string difference = (data[0] & 0x80) != 0
                                     ? accord::testing::WireDifferenceFromJsonUtil(prototype, rest)
                                     : accord::testing::DifferenceFromJsonUtil(prototype, rest);
  if (!difference.empty()) {
    std::cerr << "json_codec_fuzz: " << prototype.GetTypeName() << ": " << difference << "\n"
              << rest << "\n";
    std::abort();
  }
  return 0;
}
