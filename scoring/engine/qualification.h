#pragma once

#include <string>
#include <utility>
#include <vector>

#include "absl/time/time.h"

#include "scoring/engine/compiled_set.h"
#include "scoring/engine/reasons.h"
#include "scoring/lead_set.h"

// Qualification: a lead's fit and engagement scores, grades, level, disqualification and best
// persona under a model (and its journey stage, when the evaluation names a journey). A pure
// function of (compiled set, lead, as_of): same inputs, same result, bit for bit.
namespace accord::scoring {

// Whether engagement rule `r` counts event `e` of a lead evaluated as of `as_of_ns`: the event is
// not after it, is inside the rule's window, and meets every `where` test. The one test
// EvaluateLead applies.
bool RuleCountsEvent(const EngagementRule& r, const LeadSet& leads, const LeadSet::Event& e,
                     int64_t as_of_ns);

// The events of lead `index` each engagement rule of `model` counts as of `as_of_ns`, as
// (rule index, event index in leads) pairs: a rule's most recent events first, at most its
// max_events, as EvaluateLead counts them.
std::vector<std::pair<int, int32_t>> CountedEvents(const Model& model, const LeadSet& leads,
                                                   size_t index, int64_t as_of_ns);

// Evaluates lead `index` of `leads` as of `as_of` into `out` (which must be empty and may live
// on an arena). Each reason goes to `reasons`; none are made when it is null (the BASIC view).
// Thread-safe: the set is read-only.
void EvaluateLead(const Evaluation& evaluation, const LeadSet& leads, size_t index,
                  absl::Time as_of, sv1::LeadScore* out, ReasonSink* reasons);

// EvaluateLead with the reasons as Reason messages of the result (when evaluation.reasons).
sv1::LeadScore Score(const Evaluation& evaluation, const sv1::Lead& lead, absl::Time as_of);
void ScoreInto(const Evaluation& evaluation, const sv1::Lead& lead, absl::Time as_of,
               sv1::LeadScore* out);
void ScoreInto(const Evaluation& evaluation, const LeadSet& leads, size_t index, absl::Time as_of,
               sv1::LeadScore* out);
// EvaluateLead with the reasons appended to `reasons_wire` as protobuf wire bytes (LeadScore
// field 14): `out`'s bytes followed by them parse as ScoreInto's result. The serving path,
// which so builds no Reason messages.
void ScoreWire(const Evaluation& evaluation, const LeadSet& leads, size_t index, absl::Time as_of,
               sv1::LeadScore* out, std::string* reasons_wire);

// The match of every persona of the set with `lead`, best first.
std::vector<sv1::PersonaMatch> MatchPersonas(const CompiledSet& set, const sv1::Lead& lead,
                                             absl::Time as_of);

inline void SetDefinitionRef(sv1::DefinitionRef* ref, const std::string& name, int64_t revision) {
  ref->set_name(name);
  ref->set_revision(revision);
}

}  // namespace accord::scoring
