#include "scoring/engine/qualification.h"

#include <algorithm>
#include <cmath>

#include "absl/container/inlined_vector.h"
#include "absl/strings/str_cat.h"

#include "scoring/engine/attributes.h"
#include "scoring/engine/conditions.h"
#include "scoring/wire/score_encoder.h"

namespace accord::scoring {

bool RuleCountsEvent(const EngagementRule& r, const LeadSet& leads, const LeadSet::Event& e,
                     int64_t as_of_ns) {
  const int64_t age = as_of_ns - e.time.ns();
  if (age < 0 || (r.window_ns > 0 && age > r.window_ns)) {
    return false;  // after as_of, or outside the window
  }
  return std::all_of(r.where.begin(), r.where.end(),
                     [&](const Condition& w) { return TestAttribute(w, leads, e.properties); });
}

std::vector<std::pair<int, int32_t>> CountedEvents(const Model& model, const LeadSet& leads,
                                                   size_t index, int64_t as_of_ns) {
  const LeadSet::Lead& lead = leads.lead(index);
  std::vector<std::pair<int, int32_t>> counted;
  for (size_t r = 0; r < model.engagement_rules.size(); ++r) {
    const EngagementRule& rule = model.engagement_rules[r];
    std::vector<std::pair<int64_t, int32_t>> hits;  // (age, event)
    for (int32_t k = 0; k < lead.events; ++k) {
      const LeadSet::Event& e = leads.event(lead.first_event + k);
      if (e.type == rule.event_type && RuleCountsEvent(rule, leads, e, as_of_ns)) {
        hits.emplace_back(as_of_ns - e.time.ns(), lead.first_event + k);
      }
    }
    std::stable_sort(hits.begin(), hits.end(),
                     [](const auto& a, const auto& b) { return a.first < b.first; });
    if (rule.max_events > 0 && hits.size() > static_cast<size_t>(rule.max_events)) {
      hits.resize(rule.max_events);
    }
    for (const auto& [age, event] : hits) {
      counted.emplace_back(static_cast<int>(r), event);
    }
  }
  return counted;
}

namespace {

// The evaluation of one lead under one model: the steps of EvaluateLead, in order.
class Qualifier {
 public:
  Qualifier(const Evaluation& evaluation, const LeadSet& leads, size_t index, absl::Time as_of,
            sv1::LeadScore& out, ReasonSink* reasons)
      : set_(*evaluation.set),
        m_(set_.models[evaluation.model]),
        leads_(leads),
        lead_(leads.lead(index)),
        as_of_ns_(absl::ToUnixNanos(as_of)),
        ev_(set_, leads, index, as_of_ns_),
        out_(out),
        reasons_(reasons) {}

  // Fit: each group's rules that hold, the group's sum clamped to its limits.
  double ScoreFit() {
    double fit = 0;
    for (size_t g = 0; g < m_.fit_groups.size(); ++g) {
      double sum = 0;
      for (const FitRule& r : m_.fit_rules[g]) {
        evidence_.clear();
        if (ev_.Holds(r.condition, explain() ? &evidence_ : nullptr)) {
          any_rule_ = true;
          sum += r.points;
          if (explain()) {
            reasons_->Add({.kind = sv1::Reason::FIT,
                           .group = m_.fit_groups[g].name,
                           .rule = r.id,
                           .description = r.description,
                           .points = r.points,
                           .evidence = evidence_,
                           .head = r.reason_head});
          }
        }
      }
      fit += ClampGroup(m_.fit_groups[g], sum);
    }
    return fit;
  }

  // Engagement: one pass over the events, rules looked up by event type; each rule's events
  // (the most recent max_events), decayed, capped by the rule and then by its group.
  double ScoreEngagement() {
    struct Hit {
      int rule;
      int64_t age;
    };
    absl::InlinedVector<Hit, 64> hits;
    hits.reserve(lead_.events);
    for (int32_t k = 0; k < lead_.events; ++k) {
      const LeadSet::Event& e = leads_.event(lead_.first_event + k);
      auto it = m_.rules_by_event.find(e.type);
      if (it == m_.rules_by_event.end()) {
        continue;
      }
      const int64_t age = as_of_ns_ - e.time.ns();
      for (int index : it->second) {
        if (RuleCountsEvent(m_.engagement_rules[index], leads_, e, as_of_ns_)) {
          hits.push_back({index, age});
        }
      }
    }
    // Hits with the same rule and age are interchangeable, so an unstable sort is deterministic.
    std::sort(hits.begin(), hits.end(), [](const Hit& a, const Hit& b) {
      return a.rule != b.rule ? a.rule < b.rule : a.age < b.age;
    });
    absl::InlinedVector<double, 8> group_sums(m_.engagement_groups.size(), 0.0);
    for (size_t i = 0; i < hits.size();) {
      const EngagementRule& r = m_.engagement_rules[hits[i].rule];
      size_t end = i;
      while (end < hits.size() && hits[end].rule == hits[i].rule) {
        ++end;
      }
      size_t counted = end - i;
      if (r.max_events > 0 && counted > static_cast<size_t>(r.max_events)) {
        counted = r.max_events;  // the most recent ones: smallest ages first
      }
      double sum = 0;
      bool decayed = false;
      for (size_t k = i; k < i + counted; ++k) {
        const double factor = DecayFactor(r, hits[k].age);
        decayed = decayed || factor != 1.0;
        sum += r.points * factor;
      }
      any_rule_ = true;
      if (explain()) {
        ExplainEngagement(r, end - i, counted, sum, decayed);
      }
      if (r.has_max_points && sum > r.max_points) {
        sum = r.max_points;
      }
      group_sums[r.group] += sum;
      i = end;
    }
    double engagement = 0;
    for (size_t g = 0; g < m_.engagement_groups.size(); ++g) {
      engagement += ClampGroup(m_.engagement_groups[g], group_sums[g]);
    }
    return engagement;
  }

  // Grades, the highest level the scores reach, and the first disqualifier that holds (which
  // takes the level away). Returns the level's rank, -1 for none.
  int Qualify(double fit, double engagement, double total) {
    out_.set_fit(fit);
    out_.set_engagement(engagement);
    out_.set_total(total);
    out_.set_no_rule_matched(!any_rule_);
    out_.set_fit_grade(GradeOf(m_.fit_grades, fit));
    out_.set_engagement_grade(GradeOf(m_.engagement_grades, engagement));
    std::string* grade = out_.mutable_grade();
    grade->assign(out_.fit_grade());
    grade->append(out_.engagement_grade());

    int level_rank = -1;
    for (size_t i = 0; i < m_.levels.size(); ++i) {
      const Level& l = m_.levels[i];
      if ((!l.has_fit || fit >= l.min_fit) &&
          (!l.has_engagement || engagement >= l.min_engagement) &&
          (!l.has_total || total >= l.min_total)) {
        level_rank = static_cast<int>(i);
      }
    }
    for (const Model::Disqualifier& d : m_.disqualifiers) {
      evidence_.clear();
      if (ev_.Holds(d.condition, explain() ? &evidence_ : nullptr)) {
        out_.set_disqualified(true);
        out_.set_disqualification_reason(d.reason);
        if (explain()) {
          reasons_->Add({.kind = sv1::Reason::DISQUALIFIER,
                         .rule = d.id,
                         .description = d.reason,
                         .evidence = evidence_,
                         .head = d.reason_head});
        }
        level_rank = -1;
        break;
      }
    }
    out_.set_level(out_.disqualified() ? "DISQUALIFIED"
                                       : (level_rank >= 0 ? m_.levels[level_rank].name : ""));
    return level_rank;
  }

  // The best match among the model's personas that reaches its minimum (ties: by name).
  void BestPersona() {
    int best = -1;
    double best_match = 0;
    for (int p : m_.personas) {
      if (p < 0) {
        continue;
      }
      const double match = ev_.PersonaMatch(p);
      const Persona& persona = set_.personas[p];
      if (match > 0 && match >= persona.min_match &&
          (best < 0 || match > best_match ||
           (match == best_match && persona.name < set_.personas[best].name))) {
        best = p;
        best_match = match;
      }
    }
    if (best < 0) {
      return;
    }
    sv1::PersonaMatch* pm = out_.mutable_persona();
    pm->set_persona(set_.personas[best].name);
    pm->set_revision(set_.personas[best].revision);
    pm->set_match(best_match);
    pm->set_exclude(set_.personas[best].exclude);
    if (explain()) {
      std::vector<std::string> met;
      ev_.PersonaMatch(best, &met);
      for (std::string& id : met) {
        pm->add_criteria_met(std::move(id));
      }
    }
    SetDefinitionRef(out_.add_definitions(), set_.personas[best].name,
                     set_.personas[best].revision);
  }

  // The journey's last stage whose entry condition holds (score conditions see the scores).
  void JourneyStage(const Journey& j, const Scores& scores) {
    ev_.SetScores(scores);
    std::string stage;
    for (const Journey::Stage& s : j.stages) {
      if (!s.has_entry || ev_.Holds(s.entry, nullptr)) {
        stage = s.id;
      }
    }
    out_.set_journey_stage(stage);
    SetDefinitionRef(out_.add_definitions(), j.name, j.revision);
  }

  bool explain() const { return reasons_ != nullptr; }

 private:
  // A group's sum within its limits; a CAP reason says by how much it was limited.
  double ClampGroup(const Group& g, double sum) {
    double clamped = sum;
    if (g.has_max && clamped > g.max_points) {
      clamped = g.max_points;
    }
    if (g.has_min && clamped < g.min_points) {
      clamped = g.min_points;
    }
    if (explain() && clamped != sum) {
      const std::string detail = absl::StrCat("group sum ", sum, " limited to ", clamped);
      reasons_->Add(
          {.kind = sv1::Reason::CAP, .group = g.name, .points = clamped - sum, .detail = detail});
    }
    return clamped;
  }

  // An engagement rule's reason; its own cap is a reason of its own, as a group's is: the
  // reasons add up to the score.
  void ExplainEngagement(const EngagementRule& r, size_t events, size_t counted, double sum,
                         bool decayed) {
    const std::string& group = m_.engagement_groups[r.group].name;
    evidence_.clear();
    absl::StrAppend(&evidence_, events, " ", r.event_type, " events, ", counted, " counted");
    reasons_->Add({.kind = sv1::Reason::ENGAGEMENT,
                   .group = group,
                   .rule = r.id,
                   .description = r.description,
                   .points = sum,
                   .events_counted = static_cast<int>(counted),
                   .evidence = evidence_,
                   .detail = decayed ? absl::string_view(r.decay_detail) : "",
                   .head = r.reason_head});
    if (r.has_max_points && sum > r.max_points) {
      reasons_->Add({.kind = sv1::Reason::CAP,
                     .group = group,
                     .rule = r.id,
                     .points = r.max_points - sum,
                     .detail = absl::StrCat("rule sum ", sum, " limited to ", r.max_points)});
    }
  }

  static const std::string& GradeOf(const std::vector<Band>& bands, double score) {
    static const std::string kNone;
    for (const Band& b : bands) {
      if (b.min <= score) {
        return b.label;
      }
    }
    return kNone;
  }

  static double DecayFactor(const EngagementRule& r, int64_t age_ns) {
    switch (r.decay) {
      case rv1::Decay::EXPONENTIAL:
        return std::pow(0.5, static_cast<double>(age_ns) / r.half_life_ns);
      case rv1::Decay::LINEAR:
        return std::max(0.0, 1.0 - r.fraction * static_cast<double>(age_ns) / r.period_ns);
      default:
        return 1.0;
    }
  }

  const CompiledSet& set_;
  const Model& m_;
  const LeadSet& leads_;
  const LeadSet::Lead& lead_;
  const int64_t as_of_ns_;
  Evaluator ev_;
  sv1::LeadScore& out_;
  ReasonSink* reasons_;
  bool any_rule_ = false;
  std::string evidence_;  // reused: assigned in place, rule after rule
};

}  // namespace

void EvaluateLead(const Evaluation& evaluation, const LeadSet& leads, size_t index,
                  absl::Time as_of, sv1::LeadScore* out, ReasonSink* reasons) {
  const CompiledSet& set = *evaluation.set;
  const Model& m = set.models[evaluation.model];
  const LeadSet::Lead& lead = leads.lead(index);
  const int64_t as_of_ns = absl::ToUnixNanos(as_of);
  out->mutable_lead_id()->assign(lead.id.data(), lead.id.size());
  out->set_namespace_(set.namespace_id);
  out->mutable_as_of()->set_seconds(absl::ToUnixSeconds(as_of));
  out->mutable_as_of()->set_nanos(
      static_cast<int32_t>(as_of_ns - absl::ToUnixSeconds(as_of) * 1000000000LL));
  SetDefinitionRef(out->add_definitions(), m.name, m.revision);

  Qualifier q(evaluation, leads, index, as_of, *out, reasons);
  const double fit = q.ScoreFit();
  const double engagement = q.ScoreEngagement();
  const double total = fit + engagement;
  const int level_rank = q.Qualify(fit, engagement, total);
  q.BestPersona();
  if (q.explain()) {
    ReportAttributes(set, m, leads, lead, *out);
  }
  if (evaluation.journey >= 0) {
    q.JourneyStage(set.journeys[evaluation.journey], {fit, engagement, total, level_rank});
  }
}

sv1::LeadScore Score(const Evaluation& evaluation, const sv1::Lead& lead, absl::Time as_of) {
  sv1::LeadScore out;
  ScoreInto(evaluation, lead, as_of, &out);
  return out;
}

void ScoreInto(const Evaluation& evaluation, const sv1::Lead& lead, absl::Time as_of,
               sv1::LeadScore* out) {
  LeadSet leads;
  leads.Add(lead);
  ScoreInto(evaluation, leads, 0, as_of, out);
}

void ScoreInto(const Evaluation& evaluation, const LeadSet& leads, size_t index, absl::Time as_of,
               sv1::LeadScore* out) {
  MessageReasons reasons(*out);
  EvaluateLead(evaluation, leads, index, as_of, out, evaluation.reasons ? &reasons : nullptr);
}

void ScoreWire(const Evaluation& evaluation, const LeadSet& leads, size_t index, absl::Time as_of,
               sv1::LeadScore* out, std::string* reasons_wire) {
  WireReasons reasons(*reasons_wire);
  EvaluateLead(evaluation, leads, index, as_of, out, evaluation.reasons ? &reasons : nullptr);
}

std::vector<sv1::PersonaMatch> MatchPersonas(const CompiledSet& set, const sv1::Lead& lead,
                                             absl::Time as_of) {
  LeadSet leads;
  leads.Add(lead);
  Evaluator ev(set, leads, 0, absl::ToUnixNanos(as_of));
  std::vector<sv1::PersonaMatch> out;
  for (size_t i = 0; i < set.personas.size(); ++i) {
    sv1::PersonaMatch m;
    std::vector<std::string> met;
    m.set_match(ev.PersonaMatch(static_cast<int>(i), &met));
    m.set_persona(set.personas[i].name);
    m.set_revision(set.personas[i].revision);
    m.set_exclude(set.personas[i].exclude);
    for (auto& id : met) {
      m.add_criteria_met(id);
    }
    out.push_back(std::move(m));
  }
  std::stable_sort(out.begin(), out.end(), [](const auto& a, const auto& b) {
    return a.match() != b.match() ? a.match() > b.match() : a.persona() < b.persona();
  });
  return out;
}

}  // namespace accord::scoring
