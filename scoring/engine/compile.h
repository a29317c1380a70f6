#pragma once

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

#include "scoring/engine/compiled_set.h"

// Compilation: published definitions, validated, into a CompiledSet.
namespace accord::scoring {

// Compiles the published definitions of one namespace. INVALID_ARGUMENT (with the definition
// name and field path) for a definition that does not validate or whose references are not in
// `definitions`; nothing is returned half-compiled.
absl::StatusOr<std::shared_ptr<const CompiledSet>> Compile(
    const std::string& namespace_id, const std::vector<PublishedDefinition>& definitions);

}  // namespace accord::scoring
