#pragma once

#include <set>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"

#include "accord/registry/v1/definition.pb.h"

// The approval policy of a definition (DESIGN.md 2): which teams must approve a revision
// before it can be published. The registry's review rules (registry/approval.h) apply it.
namespace accord {

// The teams an approval policy may name, and the default policy.
const std::vector<std::string>& KnownTeams();
const std::vector<std::string>& DefaultApprovalTeams();
bool IsKnownTeam(absl::string_view team);

// The teams `content`'s own policy requires (the default policy when it names none).
std::set<std::string> PolicyTeams(const registry::v1::Definition& content);

}  // namespace accord
