// Fuzz target: definition parsing (YAML/JSON documents and binary protobuf) and validation
// must never crash, hang or leak, whatever the bytes.
#include <cstddef>
#include <cstdint>
#include <string>

#include "definitions/loader.h"
#include "definitions/validation.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > 64 * 1024) {
    return 0;
  }
  const std::string input(reinterpret_cast<const char*>(data), size);
  auto docs = accord::definitions::ParseDefinitions(input, "fuzz");
  if (docs.ok()) {
    for (const auto& d : *docs) {
      (void)accord::ValidateDefinition(d.definition, "definition", nullptr);
    }
  }
  accord::registry::v1::Definition binary;
  if (binary.ParseFromString(input)) {
    (void)accord::ValidateDefinition(binary, "definition", nullptr);
    (void)accord::CollectReferences(binary);
  }
  return 0;
}
