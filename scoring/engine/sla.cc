#include "scoring/engine/sla.h"

#include "google/protobuf/util/time_util.h"

#include "scoring/engine/journey.h"
#include "scoring/engine/qualification.h"

namespace accord::scoring {

using google::protobuf::util::TimeUtil;

SlaTally::SlaTally(const CompiledSet& set, int sla, absl::Time as_of)
    : set_(set),
      sla_(set.slas[sla]),
      evaluation_{&set, set.slas[sla].model, set.slas[sla].journey, true, nullptr},
      as_of_(as_of),
      volume_(sla_.spec.volume_size(), 0),
      qualified_(sla_.spec.quality_size(), 0),
      accepted_(sla_.spec.quality_size(), 0) {}

void SlaTally::Add(const sv1::Lead& lead) {
  ++leads_;
  if (evaluation_.model < 0) {
    return;
  }
  const Model& m = set_.models[evaluation_.model];
  sv1::LeadScore score = Score(evaluation_, lead, as_of_);
  const int rank = score.disqualified() ? -1 : LevelRank(m, score.level());
  for (int i = 0; i < sla_.spec.volume_size(); ++i) {
    int need = LevelRank(m, sla_.spec.volume(i).level());
    if (need >= 0 && rank >= need) {
      ++volume_[i];
    }
  }
  for (int i = 0; i < sla_.spec.quality_size(); ++i) {
    const rv1::QualityCommitment& q = sla_.spec.quality(i);
    int need = LevelRank(m, q.level());
    if (need < 0 || rank < need) {
      continue;
    }
    ++qualified_[i];
    bool accepted = false;
    if (!q.accepted_event_type().empty()) {
      for (const sv1::Event& e : lead.events()) {
        accepted = accepted || (e.type() == q.accepted_event_type() &&
                                absl::FromUnixNanos(TimeNs(e.time())) <= as_of_);
      }
    } else if (evaluation_.journey >= 0) {
      const Journey& j = set_.journeys[evaluation_.journey];
      const int target = StageIndex(j, q.accepted_stage());
      accepted = target >= 0 && StageIndex(j, score.journey_stage()) >= target;
      for (const sv1::StageEntry& entry : lead.stage_history()) {
        accepted = accepted || entry.stage() == q.accepted_stage();
      }
    }
    accepted_[i] += accepted ? 1 : 0;
  }
}

sv1::SlaReport SlaTally::Report() const {
  sv1::SlaReport report;
  report.mutable_sla()->set_name(sla_.name);
  report.mutable_sla()->set_revision(sla_.revision);
  report.set_leads(leads_);
  SetDefinitionRef(report.add_definitions(), sla_.name, sla_.revision);
  if (evaluation_.model >= 0) {
    const Model& m = set_.models[evaluation_.model];
    SetDefinitionRef(report.add_definitions(), m.name, m.revision);
  }
  for (int i = 0; i < sla_.spec.volume_size(); ++i) {
    const rv1::VolumeCommitment& v = sla_.spec.volume(i);
    sv1::VolumeResult* r = report.add_volume();
    r->set_commitment(v.id());
    r->set_team(v.team());
    r->set_level(v.level());
    r->set_target(v.min_count());
    r->set_actual(volume_[i]);
    r->set_met(volume_[i] >= v.min_count());
  }
  for (int i = 0; i < sla_.spec.quality_size(); ++i) {
    const rv1::QualityCommitment& q = sla_.spec.quality(i);
    sv1::QualityResult* r = report.add_quality();
    r->set_commitment(q.id());
    r->set_team(q.team());
    r->set_level(q.level());
    r->set_qualified(qualified_[i]);
    r->set_accepted(accepted_[i]);
    r->set_accepted_fraction(qualified_[i] > 0 ? static_cast<double>(accepted_[i]) / qualified_[i]
                                               : 0);
    r->set_target(q.min_accepted_fraction());
    r->set_met(qualified_[i] > 0 && r->accepted_fraction() >= q.min_accepted_fraction());
  }
  return report;
}

sv1::EvaluateSlaResponse EvaluateSla(const Sla& sla, const sv1::Lead& lead, absl::Time as_of) {
  const int64_t as_of_ns = absl::ToUnixNanos(as_of);
  sv1::EvaluateSlaResponse out;
  out.mutable_sla()->set_name(sla.name);
  out.mutable_sla()->set_revision(sla.revision);
  for (const rv1::ResponseCommitment& c : sla.spec.response()) {
    sv1::ResponseStatus* s = out.add_responses();
    s->set_commitment(c.id());
    s->set_team(c.team());
    s->set_stage(c.stage());
    s->set_event_type(c.event_type());
    const int64_t entered = EnteredNs(lead, c.stage(), as_of_ns);
    if (entered < 0) {
      s->set_status(sv1::ResponseStatus::NOT_APPLICABLE);
      continue;
    }
    const int64_t within = DurationNs(c.within());
    const int64_t deadline = entered + within;
    *s->mutable_entered() = TimeUtil::NanosecondsToTimestamp(entered);
    *s->mutable_deadline() = TimeUtil::NanosecondsToTimestamp(deadline);
    int64_t met = -1;
    for (const sv1::Event& e : lead.events()) {
      const int64_t t = TimeNs(e.time());
      if (e.type() == c.event_type() && t >= entered && t <= as_of_ns && (met < 0 || t < met)) {
        met = t;
      }
    }
    const double warn = c.has_warn_fraction() ? c.warn_fraction() : 0.75;
    if (met >= 0) {
      *s->mutable_met_at() = TimeUtil::NanosecondsToTimestamp(met);
      s->set_status(met <= deadline ? sv1::ResponseStatus::MET : sv1::ResponseStatus::BREACHED);
    } else if (as_of_ns > deadline) {
      s->set_status(sv1::ResponseStatus::BREACHED);
    } else if (static_cast<double>(as_of_ns - entered) >= warn * static_cast<double>(within)) {
      s->set_status(sv1::ResponseStatus::AT_RISK);
    } else {
      s->set_status(sv1::ResponseStatus::PENDING);
    }
  }
  return out;
}

}  // namespace accord::scoring
