#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "re2/re2.h"

#include "accord/registry/v1/definition.pb.h"
#include "common/status.h"
#include "definitions/approval_policy.h"
#include "definitions/resource_name.h"

// Validation of definitions (DESIGN.md 2.1-2.5): every problem is reported with the proto
// field path, all problems at once. Pure functions, thread-safe. The checks of each kind are in
// definitions/validation/, one file per kind.
namespace accord {

// Limits of the definition format.
inline constexpr int kMaxConditionDepth = 16;
inline constexpr size_t kMaxStringBytes = 4096;
inline constexpr int kMaxListSize = 1000;
inline constexpr int64_t kMaxRegexMemory = 1 << 20;

// What one definition may cost, checked by ValidateDefinition before and while the work is
// done: its encoded size, its MATCHES patterns, the RE2 instructions they compile to, and the
// time compiling them may take (one editor's definition once held the registry's cores for
// 42 s and took scoring past 512 MiB).
inline constexpr size_t kMaxDefinitionBytes = 256 << 10;
inline constexpr int kMaxPatterns = 256;
inline constexpr int64_t kMaxPatternProgram = 100000;
inline constexpr absl::Duration kMaxPatternCompileTime = absl::Seconds(1);

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

// Every definition name (normalized) that `definition` refers to.
std::vector<std::string> CollectReferences(const registry::v1::Definition& definition);

// The kind of the body that is set.
registry::v1::DefinitionKind KindOf(const registry::v1::Definition& definition);

// RE2 patterns compiled while validating, kept for whoever compiles the same definitions next
// (the scoring engine), so that each pattern is compiled once. Not thread-safe.
class CompiledPatterns {
 public:
  // The compiled pattern (ok() or not), or nullptr if it was not compiled here.
  std::shared_ptr<const RE2> Find(const std::string& pattern, bool ignore_case) const;
  // Compiles `pattern` once (RE2 options: kMaxRegexMemory, case as given), keeping the result.
  std::shared_ptr<const RE2> Compile(const std::string& pattern, bool ignore_case);

 private:
  std::map<std::pair<std::string, bool>, std::shared_ptr<const RE2>> compiled_;
};

struct ValidationOptions {
  // With a resolver, references are checked; without, they are not.
  const ReferenceResolver* resolver = nullptr;
  // Where compiled patterns are kept (and found); may be null.
  CompiledPatterns* patterns = nullptr;
};

// Checks the content of `definition` (metadata, approval policy, body, budget). Paths start
// with `prefix` ("definition"). With a null `resolver` references are not checked. Pattern
// compilation stops at the first pattern over the budget, and when the thread's CallScope
// reports its call ended (a violation says so; CallScope::Check() tells why).
std::vector<FieldViolation> ValidateDefinition(const registry::v1::Definition& definition,
                                               absl::string_view prefix,
                                               const ReferenceResolver* resolver);
std::vector<FieldViolation> ValidateDefinition(const registry::v1::Definition& definition,
                                               absl::string_view prefix,
                                               const ValidationOptions& options);

}  // namespace accord
