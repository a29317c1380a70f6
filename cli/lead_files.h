#pragma once

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "google/protobuf/message.h"

#include "accord/scoring/v1/scoring.pb.h"

// Files of leads: JSON Lines (one Lead as JSON per line) or CSV (dotted column names make the
// attributes' paths); errors name the file and line.
namespace accord::cli {

absl::StatusOr<std::vector<scoring::v1::Lead>> ReadLeads(const std::string& file);

// A JSON file as `message` (a Lead, an Account); false after printing why not.
bool ReadJson(const std::string& file, google::protobuf::Message* message);

}  // namespace accord::cli
