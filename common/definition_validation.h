#pragma once

#include <optional>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"

#include "accord/registry/v1/definition.pb.h"
#include "common/status.h"

// Validation of definitions (DESIGN.md 2.1-2.5): every problem is reported with the proto
// field path, all problems at once. Pure functions, thread-safe.
namespace accord {

// Limits of the definition format.
inline constexpr int kMaxConditionDepth = 16;
inline constexpr size_t kMaxStringBytes = 4096;
inline constexpr int kMaxListSize = 1000;
inline constexpr int64_t kMaxRegexMemory = 1 << 20;

// The teams an approval policy may name, and the default policy.
const std::vector<std::string>& KnownTeams();
const std::vector<std::string>& DefaultApprovalTeams();

// Finds the definitions that a definition refers to (personas, models, journeys).
class ReferenceResolver {
 public:
  virtual ~ReferenceResolver() = default;
  // The current content of the definition `ref` names ("it-director" relative to
  // `namespace_id`, or "namespaces/x/definitions/y"), or nullopt when there is no such
  // live definition.
  virtual std::optional<registry::v1::Definition> Resolve(absl::string_view namespace_id,
                                                          absl::string_view ref) const = 0;
};

// "namespaces/{ns}/definitions/{id}" for a reference, relative to `namespace_id`.
std::string ResolveReferenceName(absl::string_view namespace_id, absl::string_view ref);

// Every definition name (normalized) that `definition` refers to.
std::vector<std::string> CollectReferences(const registry::v1::Definition& definition);

// The kind of the body that is set.
registry::v1::DefinitionKind KindOf(const registry::v1::Definition& definition);

// Checks the content of `definition` (metadata, approval policy, body). Paths start with
// `prefix` ("definition"). With a null `resolver` references are not checked.
std::vector<FieldViolation> ValidateDefinition(const registry::v1::Definition& definition,
                                               absl::string_view prefix,
                                               const ReferenceResolver* resolver);

// True for a valid resource id: [a-z][a-z0-9-]{0,62}.
bool IsValidId(absl::string_view id);

}  // namespace accord
