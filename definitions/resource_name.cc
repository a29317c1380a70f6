#include "definitions/resource_name.h"

#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

#include "common/status.h"

namespace accord {

std::optional<std::string> NamespaceOfName(absl::string_view name) {
  if (!absl::ConsumePrefix(&name, "namespaces/")) {
    return std::nullopt;
  }
  absl::string_view ns = name.substr(0, name.find('/'));
  if (!IsValidId(ns)) {
    return std::nullopt;
  }
  return std::string(ns);
}

bool IsValidId(absl::string_view id) {
  if (id.empty() || id.size() > 63 || !(id[0] >= 'a' && id[0] <= 'z')) {
    return false;
  }
  return id.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789-") == absl::string_view::npos;
}

std::string ResolveReferenceName(absl::string_view namespace_id, absl::string_view ref) {
  if (absl::StartsWith(ref, "namespaces/")) {
    return std::string(ref);
  }
  return absl::StrCat("namespaces/", namespace_id, "/definitions/", ref);
}

absl::StatusOr<std::string> ParseParent(absl::string_view field, absl::string_view parent,
                                        bool allow_all) {
  absl::string_view rest = parent;
  if (!absl::ConsumePrefix(&rest, "namespaces/") ||
      !(IsValidId(rest) || (allow_all && rest == "-"))) {
    return InvalidField(field, absl::StrCat("'", parent, "' is not namespaces/{namespace}",
                                            allow_all ? " (or namespaces/-)" : ""));
  }
  return std::string(rest);
}

absl::StatusOr<DefinitionName> ParseDefinitionName(absl::string_view field,
                                                   absl::string_view name) {
  std::vector<absl::string_view> parts = absl::StrSplit(name, '/');
  if (parts.size() != 4 || parts[0] != "namespaces" || parts[2] != "definitions" ||
      !IsValidId(parts[1]) || !IsValidId(parts[3])) {
    return InvalidField(
        field, absl::StrCat("'", name, "' is not namespaces/{namespace}/definitions/{id}"));
  }
  return DefinitionName{std::string(parts[1]), std::string(parts[3]), std::string(name)};
}

absl::StatusOr<std::pair<DefinitionName, std::string>> ParseRevisionName(absl::string_view field,
                                                                         absl::string_view name) {
  size_t at = name.rfind("/revisions/");
  if (at == absl::string_view::npos) {
    return InvalidField(field,
                        absl::StrCat("'", name, "' is not a revision name (.../revisions/{n})"));
  }
  ACCORD_ASSIGN_OR_RETURN(DefinitionName def, ParseDefinitionName(field, name.substr(0, at)));
  std::string token(name.substr(at + 11));
  int64_t n = 0;
  if (token != "published" && token != "latest" && !(absl::SimpleAtoi(token, &n) && n > 0)) {
    return InvalidField(
        field, absl::StrCat("revision '", token, "' is not a number, 'published' or 'latest'"));
  }
  return std::make_pair(std::move(def), std::move(token));
}

}  // namespace accord
