#pragma once

#include <string>
#include <vector>

#include "absl/status/statusor.h"

#include "accord/registry/v1/definition.pb.h"

// Definitions as code: YAML or JSON files (several documents per file) read into Definition
// messages, with every problem reported as file:line. Stricter than protobuf's JSON parser:
// duplicate keys and unknown fields are errors, and durations may be written "4h" or "30d".
namespace accord::definitions {

struct DefinitionDocument {
  std::string file;
  int line = 0;  // where the document starts
  accord::registry::v1::Definition definition;
};

// Reads every .yaml, .yml and .json file of `path` (a file or a directory, not recursive,
// in name order). INVALID_ARGUMENT listing each problem as "file:line: message".
absl::StatusOr<std::vector<DefinitionDocument>> ReadDefinitions(const std::string& path);

// Parses one YAML/JSON text (`file` names it in errors).
absl::StatusOr<std::vector<DefinitionDocument>> ParseDefinitions(const std::string& text,
                                                                 const std::string& file);

// A message as YAML (through its proto JSON form), durations as files write them ("90d").
std::string ToYaml(const google::protobuf::Message& message);

}  // namespace accord::definitions
