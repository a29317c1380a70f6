#include "scoring/engine/journey.h"

#include <algorithm>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "google/protobuf/util/time_util.h"

#include "common/status.h"
#include "definitions/validation.h"
#include "scoring/engine/qualification.h"

namespace accord::scoring {

using google::protobuf::util::TimeUtil;

namespace {

// "sal" for a forward move, "engaged (recycle: no-budget|bad-timing)" for a backward one.
std::vector<std::string> AllowedMoves(const Journey& j, int from) {
  std::vector<std::string> moves;
  for (size_t i = from + 1; i < j.stages.size(); ++i) {
    moves.push_back(j.stages[i].id);
  }
  for (const Journey::Recycle& r : j.recycle) {
    if (r.from == from && r.to >= 0) {
      const auto& codes = r.reasons.empty() ? j.reason_codes : r.reasons;
      moves.push_back(
          absl::StrCat(j.stages[r.to].id, " (recycle: ", absl::StrJoin(codes, "|"), ")"));
    }
  }
  return moves;
}

}  // namespace

int StageIndex(const Journey& j, const std::string& id) {
  for (size_t i = 0; i < j.stages.size(); ++i) {
    if (j.stages[i].id == id) {
      return static_cast<int>(i);
    }
  }
  return -1;
}

int64_t EnteredNs(const sv1::Lead& lead, const std::string& stage, int64_t as_of_ns) {
  int64_t entered = -1;
  for (const sv1::StageEntry& e : lead.stage_history()) {
    int64_t t = TimeNs(e.time());
    if (e.stage() == stage && t <= as_of_ns && t > entered) {
      entered = t;
    }
  }
  return entered;
}

sv1::JourneyEvaluation EvaluateJourney(const Evaluation& evaluation, const sv1::Lead& lead,
                                       absl::Time as_of) {
  const Journey& j = evaluation.set->journeys[evaluation.journey];
  sv1::LeadScore score = Score(evaluation, lead, as_of);
  sv1::JourneyEvaluation out;
  out.mutable_journey()->set_name(j.name);
  out.mutable_journey()->set_revision(j.revision);
  *out.mutable_definitions() = score.definitions();
  out.set_stage(score.journey_stage());
  const int index = StageIndex(j, score.journey_stage());
  if (index < 0) {
    return out;
  }
  const Journey::Stage& stage = j.stages[index];
  out.set_owner_team(stage.owner_team);
  const int64_t as_of_ns = absl::ToUnixNanos(as_of);
  const int64_t entered = EnteredNs(lead, stage.id, as_of_ns);
  if (entered >= 0) {
    *out.mutable_entered() = TimeUtil::NanosecondsToTimestamp(entered);
    out.set_stalled(stage.max_duration_ns > 0 && as_of_ns - entered > stage.max_duration_ns);
  }
  for (std::string& move : AllowedMoves(j, index)) {
    out.add_allowed_moves(std::move(move));
  }
  return out;
}

absl::StatusOr<sv1::CheckTransitionResponse> CheckTransition(const Journey& j,
                                                             const std::string& from,
                                                             const std::string& to,
                                                             const std::string& reason) {
  std::vector<FieldViolation> violations;
  const int f = StageIndex(j, from);
  const int t = StageIndex(j, to);
  if (f < 0) {
    violations.push_back({"from", absl::StrCat("'", from, "' is not a stage of ", j.name)});
  }
  if (t < 0) {
    violations.push_back({"to", absl::StrCat("'", to, "' is not a stage of ", j.name)});
  }
  if (!violations.empty()) {
    return InvalidArgument(std::move(violations));
  }
  sv1::CheckTransitionResponse out;
  out.mutable_journey()->set_name(j.name);
  out.mutable_journey()->set_revision(j.revision);
  auto refuse = [&] {
    return ErrorWithReason(
        absl::StatusCode::kFailedPrecondition, "TRANSITION_NOT_ALLOWED",
        absl::StrCat(j.name, " does not allow ", from, " -> ", to, "; allowed from ", from, ": ",
                     absl::StrJoin(AllowedMoves(j, f), ", ")),
        {{"allowed", absl::StrJoin(AllowedMoves(j, f), ",")}});
  };
  if (t > f) {
    out.set_allowed(true);
    return out;
  }
  if (t == f) {
    return refuse();
  }
  for (const Journey::Recycle& r : j.recycle) {
    if (r.from != f || r.to != t) {
      continue;
    }
    const auto& codes = r.reasons.empty() ? j.reason_codes : r.reasons;
    if (reason.empty() || std::find(codes.begin(), codes.end(), reason) == codes.end()) {
      return InvalidField(
          "reason", absl::StrCat("a recycle move ", from, " -> ", to,
                                 " needs one of these reasons: ", absl::StrJoin(codes, ", ")));
    }
    out.set_allowed(true);
    out.set_recycle(true);
    return out;
  }
  return refuse();
}

}  // namespace accord::scoring
