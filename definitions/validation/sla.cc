#include "definitions/validation/checks.h"

namespace accord::validation {

void CheckSla(const registry::v1::ServiceLevelAgreement& sla, Checker& c,
              const ConditionContext& ctx) {
  std::optional<registry::v1::Definition> journey;
  std::optional<registry::v1::Definition> model;
  CheckReference(c, "journey", sla.journey(), registry::v1::BUYER_JOURNEY, ctx, &journey);
  CheckReference(c, "model", sla.model(), registry::v1::QUALIFICATION_MODEL, ctx, &model);
  std::set<std::string> stages;
  std::set<std::string> levels;
  if (journey.has_value()) {
    for (const auto& st : journey->buyer_journey().stages()) {
      stages.insert(st.id());
    }
  }
  if (model.has_value()) {
    for (const auto& l : model->qualification_model().levels()) {
      levels.insert(l.name());
    }
  }
  auto check_stage = [&](absl::string_view field, const std::string& stage) {
    if (journey.has_value() && stages.count(stage) == 0) {
      c.Add(field, absl::StrCat("'", stage, "' is not a stage of ", sla.journey()));
    }
  };
  auto check_level = [&](absl::string_view field, const std::string& level) {
    if (level.empty()) {
      c.Add(field, "is required");
    } else if (model.has_value() && levels.count(level) == 0) {
      c.Add(field, absl::StrCat("'", level, "' is not a level of ", sla.model()));
    }
  };
  auto check_team = [&](const std::string& team) {
    if (team.empty()) {
      c.Add("team", "is required");
    } else if (!IsKnownTeam(team)) {
      c.Add("team", absl::StrCat("unknown team '", team, "' (marketing or sales)"));
    }
  };
  std::set<std::string> ids;
  for (int i = 0; i < sla.response_size(); ++i) {
    Checker::Scope s(c, Index("response", i));
    const registry::v1::ResponseCommitment& r = sla.response(i);
    CheckUniqueId(c, ids, "id", r.id(), "commitment");
    if (r.stage().empty()) {
      c.Add("stage", "is required");
    } else {
      check_stage("stage", r.stage());
    }
    check_team(r.team());
    if (r.event_type().empty()) {
      c.Add("event_type", "is required");
    }
    if (!Positive(r.within())) {
      c.Add("within", "must be positive");
    }
    if (r.has_warn_fraction() && !(r.warn_fraction() > 0 && r.warn_fraction() < 1)) {
      c.Add("warn_fraction", "must be in (0, 1)");
    }
  }
  for (int i = 0; i < sla.volume_size(); ++i) {
    Checker::Scope s(c, Index("volume", i));
    const registry::v1::VolumeCommitment& v = sla.volume(i);
    CheckUniqueId(c, ids, "id", v.id(), "commitment");
    check_team(v.team());
    check_level("level", v.level());
    if (v.min_count() < 0) {
      c.Add("min_count", "must not be negative");
    }
    if (v.period() == registry::v1::PERIOD_UNSPECIFIED) {
      c.Add("period", "is required (DAY, WEEK, MONTH or QUARTER)");
    }
  }
  for (int i = 0; i < sla.quality_size(); ++i) {
    Checker::Scope s(c, Index("quality", i));
    const registry::v1::QualityCommitment& q = sla.quality(i);
    CheckUniqueId(c, ids, "id", q.id(), "commitment");
    check_team(q.team());
    check_level("level", q.level());
    if (q.accepted_event_type().empty() == q.accepted_stage().empty()) {
      c.Add("accepted_event_type", "set exactly one of accepted_event_type and accepted_stage");
    }
    if (!q.accepted_stage().empty()) {
      check_stage("accepted_stage", q.accepted_stage());
    }
    if (q.min_accepted_fraction() < 0 || q.min_accepted_fraction() > 1) {
      c.Add("min_accepted_fraction", "must be between 0 and 1");
    }
    if (q.period() == registry::v1::PERIOD_UNSPECIFIED) {
      c.Add("period", "is required (DAY, WEEK, MONTH or QUARTER)");
    }
  }
  std::set<std::string> metrics;
  for (int i = 0; i < sla.metrics_size(); ++i) {
    Checker::Scope s(c, Index("metrics", i));
    CheckUniqueId(c, metrics, "name", sla.metrics(i).name(), "metric");
    if (!sla.metrics(i).team().empty() && !IsKnownTeam(sla.metrics(i).team())) {
      c.Add("team", absl::StrCat("unknown team '", sla.metrics(i).team(), "'"));
    }
  }
}

}  // namespace accord::validation
