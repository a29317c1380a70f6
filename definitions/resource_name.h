#pragma once

#include <optional>
#include <string>
#include <utility>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

// Resource names (DESIGN.md 3): "namespaces/{ns}", "namespaces/{ns}/definitions/{id}" and
// ".../revisions/{n|published|latest}". The one parser of them: the registry, its stores,
// scoring, the audit log and validation all read names through it.
namespace accord {

// True for a valid resource id: [a-z][a-z0-9-]{0,62}.
bool IsValidId(absl::string_view id);

// The namespace of a resource name, "namespaces/{ns}" or "namespaces/{ns}/..." with {ns} a
// valid id; nullopt for any other name.
std::optional<std::string> NamespaceOfName(absl::string_view name);

// "namespaces/{ns}/definitions/{id}" for a reference, relative to `namespace_id`.
std::string ResolveReferenceName(absl::string_view namespace_id, absl::string_view ref);

// A parsed definition name.
struct DefinitionName {
  std::string namespace_id;
  std::string id;
  std::string full;
};

// "namespaces/{ns}" (or "namespaces/-" when `allow_all`) -> the namespace. INVALID_ARGUMENT
// naming `field` otherwise.
absl::StatusOr<std::string> ParseParent(absl::string_view field, absl::string_view parent,
                                        bool allow_all);
// "namespaces/{ns}/definitions/{id}", both valid ids. INVALID_ARGUMENT naming `field` otherwise.
absl::StatusOr<DefinitionName> ParseDefinitionName(absl::string_view field, absl::string_view name);
// ".../revisions/{n|published|latest}" -> the definition's name and the revision token.
absl::StatusOr<std::pair<DefinitionName, std::string>> ParseRevisionName(absl::string_view field,
                                                                         absl::string_view name);

}  // namespace accord
