#pragma once

#include <string>

#include "absl/status/statusor.h"

#include "accord/registry/v1/registry.pb.h"
#include "accord/scoring/v1/scoring.pb.h"
#include "scoring/scorer.h"

// Sales' verdicts, as the scoring service records them (docs/feedback.md): each lead snapshot
// is re-scored at its hand-off time with the revisions it names (the model's pinned, the rest
// published), and what was scored is taken from that score, never from the caller. The
// registry stores the result (Registry.StoreVerdicts, role scorer).
namespace accord::scoring {

// At most this many content keys are kept per verdict.
inline constexpr int kMaxContentKeys = 20;

// The StoreVerdictsRequest for `request`, recorded by `actor`. INVALID_ARGUMENT with field
// paths (verdicts[i].reason_code: not in the journey's taxonomy; verdicts[i].lead.id...) for
// any bad verdict, and then none is stored; the selector's errors as ScoreLead gives them
// (UNAVAILABLE REVISION_LOADING while a pinned revision is read: retry).
absl::StatusOr<rv1::StoreVerdictsRequest> DeriveVerdicts(const Scorer& scorer,
                                                         const sv1::RecordVerdictsRequest& request,
                                                         const std::string& actor);

}  // namespace accord::scoring
