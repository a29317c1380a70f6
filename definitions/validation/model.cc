#include "absl/strings/str_split.h"

#include "definitions/validation/checks.h"

namespace accord::validation {
namespace {

void CheckBands(Checker& c, absl::string_view field,
                const google::protobuf::RepeatedPtrField<registry::v1::GradeBand>& bands) {
  std::set<std::string> labels;
  for (int i = 0; i < bands.size(); ++i) {
    Checker::Scope s(c, Index(field, i));
    CheckUniqueId(c, labels, "label", bands[i].label(), "grade label");
  }
}

void CheckDecay(const registry::v1::Decay& d, Checker& c) {
  switch (d.kind()) {
    case registry::v1::Decay::KIND_UNSPECIFIED:
    case registry::v1::Decay::NONE:
      break;
    case registry::v1::Decay::EXPONENTIAL:
      if (!Positive(d.half_life())) {
        c.Add("half_life", "must be positive for EXPONENTIAL decay");
      }
      break;
    case registry::v1::Decay::LINEAR:
      if (!Positive(d.period())) {
        c.Add("period", "must be positive for LINEAR decay");
      }
      if (!(d.fraction() > 0 && d.fraction() <= 1)) {
        c.Add("fraction", "must be in (0, 1] for LINEAR decay");
      }
      break;
    default:
      c.Add("kind", "is not a known decay kind");
  }
}

}  // namespace

void CheckModel(const registry::v1::QualificationModel& m, Checker& c,
                const ConditionContext& model_ctx) {
  std::map<std::string, registry::v1::AttributeField::Type> dictionary;
  for (int i = 0; i < m.fields_size(); ++i) {
    Checker::Scope s(c, Index("fields", i));
    const registry::v1::AttributeField& f = m.fields(i);
    std::vector<absl::string_view> parts = absl::StrSplit(f.path(), '.');
    if (f.path().empty()) {
      c.Add("path", "is required");
    } else if (std::any_of(parts.begin(), parts.end(),
                           [](absl::string_view p) { return p.empty(); }) ||
               parts.size() > static_cast<size_t>(kMaxConditionDepth)) {
      c.Add("path",
            absl::StrCat("'", f.path(), "' is not a dotted path such as company.employees"));
    } else if (!dictionary.emplace(f.path(), f.type()).second) {
      c.Add("path", absl::StrCat("'", f.path(), "' is listed twice"));
    }
  }
  if (m.content_properties_size() > 8) {
    c.Add("content_properties", "holds more than 8 properties");
  }
  std::set<std::string> content;
  for (int i = 0; i < m.content_properties_size(); ++i) {
    const std::string& p = m.content_properties(i);
    if (p.empty() || p.size() > 64) {
      c.Add(Index("content_properties", i), "must be a property name of 1 to 64 bytes");
    } else if (!content.insert(p).second) {
      c.Add(Index("content_properties", i), absl::StrCat("'", p, "' is listed twice"));
    }
  }
  ConditionContext ctx = model_ctx;
  if (m.fields_size() > 0) {
    ctx.dictionary = &dictionary;
  }
  std::set<std::string> groups;
  std::set<std::string> rules;
  for (int i = 0; i < m.fit_size(); ++i) {
    Checker::Scope s(c, Index("fit", i));
    const registry::v1::FitGroup& g = m.fit(i);
    CheckUniqueId(c, groups, "name", g.name(), "group");
    CheckCaps(g, c);
    for (int j = 0; j < g.rules_size(); ++j) {
      Checker::Scope r(c, Index("rules", j));
      CheckUniqueId(c, rules, "id", g.rules(j).id(), "rule");
      CheckConditionField(c, "condition", g.rules(j).has_condition(), g.rules(j).condition(), ctx);
    }
  }
  for (int i = 0; i < m.engagement_size(); ++i) {
    Checker::Scope s(c, Index("engagement", i));
    const registry::v1::EngagementGroup& g = m.engagement(i);
    CheckUniqueId(c, groups, "name", g.name(), "group");
    CheckCaps(g, c);
    for (int j = 0; j < g.rules_size(); ++j) {
      Checker::Scope r(c, Index("rules", j));
      const registry::v1::EngagementRule& rule = g.rules(j);
      CheckUniqueId(c, rules, "id", rule.id(), "rule");
      if (rule.event_type().empty()) {
        c.Add("event_type", "is required");
      }
      for (int k = 0; k < rule.where_size(); ++k) {
        Checker::Scope w(c, Index("where", k));
        CheckAttribute(rule.where(k), c);
      }
      CheckDurationNotNegative(c, "window", rule.window());
      if (rule.max_events() < 0) {
        c.Add("max_events", "must not be negative");
      }
      Checker::Scope d(c, "decay");
      CheckDecay(rule.decay(), c);
    }
  }
  std::set<std::string> disqualifiers;
  for (int i = 0; i < m.disqualifiers_size(); ++i) {
    Checker::Scope s(c, Index("disqualifiers", i));
    const registry::v1::Disqualifier& d = m.disqualifiers(i);
    CheckUniqueId(c, disqualifiers, "id", d.id(), "disqualifier");
    if (d.reason().empty()) {
      c.Add("reason", "is required (sales sees it)");
    }
    CheckConditionField(c, "condition", d.has_condition(), d.condition(), ctx);
  }
  CheckBands(c, "fit_grades", m.fit_grades());
  CheckBands(c, "engagement_grades", m.engagement_grades());
  std::set<std::string> levels;
  for (int i = 0; i < m.levels_size(); ++i) {
    Checker::Scope s(c, Index("levels", i));
    CheckUniqueId(c, levels, "name", m.levels(i).name(), "level");
  }
  for (int i = 0; i < m.personas_size(); ++i) {
    CheckReference(c, Index("personas", i), m.personas(i), registry::v1::BUYER_PERSONA, ctx);
  }
}

}  // namespace accord::validation
