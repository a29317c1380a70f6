#include "registry/approval.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "google/protobuf/util/time_util.h"

#include "common/status.h"
#include "definitions/validation.h"

namespace accord::registry::approval {
namespace {

bool Contains(const std::vector<std::string>& list, const std::string& item) {
  return std::find(list.begin(), list.end(), item) != list.end();
}

}  // namespace

std::vector<std::string> RequiredTeams(const v1::Definition& content,
                                       const records::DefinitionState& state) {
  std::set<std::string> teams = PolicyTeams(content);
  if (state.definition().published_revision() > 0) {
    std::set<std::string> in_force = PolicyTeams(state.published().snapshot());
    teams.insert(in_force.begin(), in_force.end());
  }
  return {teams.begin(), teams.end()};
}

std::vector<std::string> ApprovedTeams(const v1::Revision& revision) {
  std::vector<std::string> teams;
  for (const v1::Review& review : revision.reviews()) {
    if (review.verdict() == v1::Review::APPROVE) {
      teams.push_back(review.team());
    }
  }
  return teams;
}

absl::StatusOr<std::string> ReviewTeam(const v1::Revision& revision, const Principal& caller,
                                       absl::string_view requested_team, bool approve) {
  if (revision.state() != v1::Revision::PROPOSED &&
      !(revision.state() == v1::Revision::APPROVED && !approve)) {
    return ErrorWithReason(
        absl::StatusCode::kFailedPrecondition, "REVISION_NOT_REVIEWABLE",
        absl::StrCat(revision.name(), " is ", v1::Revision::State_Name(revision.state()),
                     "; only a PROPOSED revision can be ", approve ? "approved" : "rejected"));
  }
  if (revision.proposer() == caller.name) {
    return ErrorWithReason(
        absl::StatusCode::kPermissionDenied, "SELF_APPROVAL",
        absl::StrCat(caller.name, " proposed ", revision.name(), " and cannot review it"));
  }
  if (std::find(revision.authors().begin(), revision.authors().end(), caller.name) !=
      revision.authors().end()) {
    return ErrorWithReason(absl::StatusCode::kPermissionDenied, "SELF_APPROVAL",
                           absl::StrCat(caller.name, " changed the content of ", revision.name(),
                                        " and cannot review it"));
  }
  for (const v1::Review& r : revision.reviews()) {
    if (r.principal() == caller.name) {
      return ErrorWithReason(
          absl::StatusCode::kFailedPrecondition, "ALREADY_REVIEWED",
          absl::StrCat(caller.name, " already reviewed ", revision.name(), " for ", r.team()));
    }
  }
  const std::vector<std::string> mine = caller.ApproverTeams();
  const std::vector<std::string> required(revision.required_teams().begin(),
                                          revision.required_teams().end());
  const std::vector<std::string> approved = ApprovedTeams(revision);
  std::string team(requested_team);
  if (!team.empty()) {
    if (!Contains(mine, team)) {
      return ErrorWithReason(absl::StatusCode::kPermissionDenied, "NOT_AN_APPROVER",
                             absl::StrCat(caller.name, " is not an approver for ", team));
    }
    if (!Contains(required, team)) {
      return InvalidField("team", absl::StrCat("'", team, "' is not required for ", revision.name(),
                                               " (", absl::StrJoin(required, ", "), ")"));
    }
  } else {
    std::vector<std::string> candidates;
    for (const std::string& t : mine) {
      if (Contains(required, t)) {
        candidates.push_back(t);
      }
    }
    if (candidates.empty()) {
      return ErrorWithReason(
          absl::StatusCode::kPermissionDenied, "NOT_AN_APPROVER",
          absl::StrCat(caller.name, " is not an approver for any team ", revision.name(),
                       " needs (", absl::StrJoin(required, ", "), ")"));
    }
    std::vector<std::string> open;
    for (const std::string& t : candidates) {
      if (!Contains(approved, t)) {
        open.push_back(t);
      }
    }
    if (open.size() > 1) {
      return InvalidField("team", absl::StrCat("you approve for ", absl::StrJoin(open, " and "),
                                               "; say which team you act for"));
    }
    team = open.empty() ? candidates.front() : open.front();
  }
  if (approve && Contains(approved, team)) {
    return ErrorWithReason(absl::StatusCode::kFailedPrecondition, "ALREADY_APPROVED",
                           absl::StrCat(team, " has already approved ", revision.name()));
  }
  return team;
}

void AddReview(v1::Revision& revision, const Principal& caller, const std::string& team,
               bool approve, const std::string& comment, absl::Time now) {
  v1::Review* review = revision.add_reviews();
  review->set_principal(caller.name);
  review->set_team(team);
  review->set_verdict(approve ? v1::Review::APPROVE : v1::Review::REJECT);
  review->set_comment(comment);
  *review->mutable_time() =
      google::protobuf::util::TimeUtil::NanosecondsToTimestamp(absl::ToUnixNanos(now));
  if (!approve) {
    revision.set_state(v1::Revision::REJECTED);
    return;
  }
  const std::vector<std::string> approved = ApprovedTeams(revision);
  if (std::all_of(revision.required_teams().begin(), revision.required_teams().end(),
                  [&](const std::string& t) { return Contains(approved, t); })) {
    revision.set_state(v1::Revision::APPROVED);
  }
}

absl::Status CheckPublishable(const v1::Revision& revision) {
  if (revision.state() == v1::Revision::PROPOSED) {
    const std::vector<std::string> approved = ApprovedTeams(revision);
    std::vector<std::string> missing;
    for (const std::string& t : revision.required_teams()) {
      if (!Contains(approved, t)) {
        missing.push_back(t);
      }
    }
    return ErrorWithReason(absl::StatusCode::kFailedPrecondition, "APPROVAL_REQUIRED",
                           absl::StrCat(revision.name(), " still needs the approval of ",
                                        absl::StrJoin(missing, " and ")),
                           {{"approved", absl::StrJoin(approved, ",")},
                            {"required", absl::StrJoin(revision.required_teams(), ",")}});
  }
  if (revision.state() != v1::Revision::APPROVED) {
    return ErrorWithReason(
        absl::StatusCode::kFailedPrecondition, "REVISION_NOT_PUBLISHABLE",
        absl::StrCat(revision.name(), " is ", v1::Revision::State_Name(revision.state()),
                     "; only an APPROVED revision can be published"));
  }
  return absl::OkStatus();
}

absl::Status CheckRollbackKeepsPolicy(const v1::Revision& restored,
                                      const records::DefinitionState& state) {
  if (state.definition().published_revision() == 0) {
    return absl::OkStatus();
  }
  const std::set<std::string> kept = PolicyTeams(restored.snapshot());
  std::vector<std::string> dropped;
  for (const std::string& team : PolicyTeams(state.published().snapshot())) {
    if (kept.count(team) == 0) {
      dropped.push_back(team);
    }
  }
  if (dropped.empty()) {
    return absl::OkStatus();
  }
  const std::string teams = absl::StrJoin(dropped, " and ");
  return ErrorWithReason(
      absl::StatusCode::kFailedPrecondition, "ROLLBACK_WEAKENS_POLICY",
      absl::StrCat(restored.name(), "'s approval policy leaves out ", teams,
                   ", which the published policy requires; propose that content for review "
                   "instead, so that ",
                   teams, " can approve it"),
      {{"dropped_teams", absl::StrJoin(dropped, ",")}});
}

}  // namespace accord::registry::approval
