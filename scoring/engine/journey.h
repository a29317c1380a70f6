#pragma once

#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

#include "scoring/engine/compiled_set.h"

// Buyer journeys: a lead's stage, whether a move between stages is allowed, how long it has been
// in a stage.
namespace accord::scoring {

// The journey's stage for `lead` and what may happen next; needs evaluation.journey >= 0.
sv1::JourneyEvaluation EvaluateJourney(const Evaluation& evaluation, const sv1::Lead& lead,
                                       absl::Time as_of);

// Whether `journey` allows moving from `from` to `to` (with `reason` for a backward move).
// INVALID_ARGUMENT for unknown stages or a missing/unknown reason; FAILED_PRECONDITION
// (reason TRANSITION_NOT_ALLOWED) naming the allowed moves for a move the journey forbids.
absl::StatusOr<sv1::CheckTransitionResponse> CheckTransition(const Journey& journey,
                                                             const std::string& from,
                                                             const std::string& to,
                                                             const std::string& reason);

// The index of stage `id` in the journey, or -1.
int StageIndex(const Journey& journey, const std::string& id);

// The latest time the lead entered `stage` at or before as_of, or -1 (from its stage history).
int64_t EnteredNs(const sv1::Lead& lead, const std::string& stage, int64_t as_of_ns);

}  // namespace accord::scoring
