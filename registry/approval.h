#pragma once

#include <set>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

#include "accord/registry/storage/v1/records.pb.h"
#include "accord/registry/v1/definition.pb.h"
#include "common/auth.h"
#include "definitions/approval_policy.h"

// Dual approval, the point of the product, as pure functions over a revision, a principal, a
// team and a verdict: who must approve, who may review and for which team, when a revision is
// approved or publishable, and what a rollback may not drop. No store, no clock: the registry
// plans its writes with these and they are tested without either.
//
// Errors carry the ErrorInfo reasons of docs/registry.md: PERMISSION_DENIED (SELF_APPROVAL,
// NOT_AN_APPROVER), FAILED_PRECONDITION (REVISION_NOT_REVIEWABLE, ALREADY_REVIEWED,
// ALREADY_APPROVED, APPROVAL_REQUIRED, REVISION_NOT_PUBLISHABLE, ROLLBACK_WEAKENS_POLICY),
// INVALID_ARGUMENT on `team`.
namespace accord::registry::approval {

namespace v1 = ::accord::registry::v1;
namespace records = ::accord::registry::storage::v1;

// The teams that must approve a new revision of `content`: its own policy plus the policy in
// force (the published revision's, if any), so that a team leaves a policy only by approving
// its removal. Sorted.
std::vector<std::string> RequiredTeams(const v1::Definition& content,
                                       const records::DefinitionState& state);

// The teams that approved `revision` so far, in review order.
std::vector<std::string> ApprovedTeams(const v1::Revision& revision);

// The team `caller`'s review of `revision` counts for: `requested_team` if given, else the one
// required team the caller approves for that has not approved yet. Refused: a revision not
// PROPOSED (an APPROVED one may still be rejected), any author (the proposer and whoever
// changed the content), a second review by the same principal, a team the caller is not an
// approver of or that the revision does not need, an ambiguous team, a team that approved
// already (approve only).
absl::StatusOr<std::string> ReviewTeam(const v1::Revision& revision, const Principal& caller,
                                       absl::string_view requested_team, bool approve);

// Adds `caller`'s review for `team` to `revision`; an approval by the last required team makes
// it APPROVED, a rejection makes it REJECTED. Call after ReviewTeam.
void AddReview(v1::Revision& revision, const Principal& caller, const std::string& team,
               bool approve, const std::string& comment, absl::Time now);

// OK for an APPROVED revision; APPROVAL_REQUIRED (naming the missing teams) for a PROPOSED one;
// REVISION_NOT_PUBLISHABLE otherwise.
absl::Status CheckPublishable(const v1::Revision& revision);

// OK unless restoring `restored` (a rollback, which publishes at once with its old approvals)
// would drop a team from the policy in force: ROLLBACK_WEAKENS_POLICY, metadata dropped_teams.
absl::Status CheckRollbackKeepsPolicy(const v1::Revision& restored,
                                      const records::DefinitionState& state);

}  // namespace accord::registry::approval
