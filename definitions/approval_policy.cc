#include "definitions/approval_policy.h"

#include <algorithm>

namespace accord {

const std::vector<std::string>& KnownTeams() {
  static const auto* teams = new std::vector<std::string>{"marketing", "sales"};
  return *teams;
}

const std::vector<std::string>& DefaultApprovalTeams() { return KnownTeams(); }

bool IsKnownTeam(absl::string_view team) {
  const auto& teams = KnownTeams();
  return std::find(teams.begin(), teams.end(), team) != teams.end();
}

std::set<std::string> PolicyTeams(const registry::v1::Definition& content) {
  if (content.approval_policy().required_teams_size() == 0) {
    return {DefaultApprovalTeams().begin(), DefaultApprovalTeams().end()};
  }
  return {content.approval_policy().required_teams().begin(),
          content.approval_policy().required_teams().end()};
}

}  // namespace accord
