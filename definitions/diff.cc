#include "definitions/diff.h"

#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>
#include <map>
#include <optional>
#include <set>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "google/protobuf/util/json_util.h"
#include "google/protobuf/util/message_differencer.h"

namespace accord::definitions {
namespace {

using Change = v1::DefinitionChange;
using google::protobuf::util::MessageDifferencer;

constexpr double kInf = std::numeric_limits<double>::infinity();

// What raising a number does to qualification.
enum class Raising { kTightens, kLoosens, kNeutral, kUndecided };

Change::Effect EffectOf(Raising raising, bool raised) {
  switch (raising) {
    case Raising::kTightens:
      return raised ? Change::TIGHTENS : Change::LOOSENS;
    case Raising::kLoosens:
      return raised ? Change::LOOSENS : Change::TIGHTENS;
    case Raising::kNeutral:
      return Change::NEUTRAL;
    case Raising::kUndecided:
      break;
  }
  return Change::UNDECIDED;
}

Change::Effect Opposite(Change::Effect effect) {
  if (effect == Change::TIGHTENS) {
    return Change::LOOSENS;
  }
  if (effect == Change::LOOSENS) {
    return Change::TIGHTENS;
  }
  return effect;
}

std::string Number(double value) {
  if (std::isinf(value)) {
    return value > 0 ? "no limit" : "none";
  }
  return absl::StrCat(value);
}

double Seconds(const google::protobuf::Duration& d) {
  return static_cast<double>(d.seconds()) + d.nanos() / 1e9;
}

// "30 d", "4 h", "90 min", "45 s": the largest unit that divides the duration.
std::string DurationWords(double seconds) {
  if (std::isinf(seconds)) {
    return "all time";
  }
  const struct {
    double size;
    const char* unit;
  } units[] = {{86400, " d"}, {3600, " h"}, {60, " min"}};
  for (const auto& u : units) {
    if (seconds >= u.size && std::fmod(seconds, u.size) == 0) {
      return absl::StrCat(seconds / u.size, u.unit);
    }
  }
  return absl::StrCat(seconds, " s");
}

std::string ValueWords(const google::protobuf::Value& value) {
  std::string out;
  (void)google::protobuf::util::MessageToJsonString(value, &out);
  return out;
}

std::string OperatorWords(v1::Operator op) {
  switch (op) {
    case v1::EQ:
      return "=";
    case v1::NE:
      return "!=";
    case v1::IN:
      return "in";
    case v1::NOT_IN:
      return "not in";
    case v1::LT:
      return "<";
    case v1::LE:
      return "<=";
    case v1::GT:
      return ">";
    case v1::GE:
      return ">=";
    case v1::BETWEEN:
      return "between";
    case v1::CONTAINS:
      return "contains";
    case v1::STARTS_WITH:
      return "starts with";
    case v1::ENDS_WITH:
      return "ends with";
    case v1::MATCHES:
      return "matches";
    case v1::EXISTS:
      return "exists";
    case v1::NOT_EXISTS:
      return "does not exist";
    default:
      return "?";
  }
}

std::string AttributeWords(const v1::AttributeCondition& a) {
  std::string out = absl::StrCat(a.field(), " ", OperatorWords(a.op()));
  if (a.op() == v1::BETWEEN && a.values_size() == 2) {
    absl::StrAppend(&out, " ", ValueWords(a.values(0)), " and ", ValueWords(a.values(1)));
  } else if (a.op() == v1::IN || a.op() == v1::NOT_IN) {
    std::vector<std::string> values;
    for (const auto& v : a.values()) {
      values.push_back(ValueWords(v));
    }
    absl::StrAppend(&out, " [", absl::StrJoin(values, ", "), "]");
  } else if (a.op() != v1::EXISTS && a.op() != v1::NOT_EXISTS) {
    absl::StrAppend(&out, " ", ValueWords(a.value()));
  }
  if (a.ignore_case()) {
    absl::StrAppend(&out, " (any case)");
  }
  return out;
}

std::string WhereWords(const google::protobuf::RepeatedPtrField<v1::AttributeCondition>& where) {
  std::vector<std::string> parts;
  for (const auto& w : where) {
    parts.push_back(AttributeWords(w));
  }
  return parts.empty() ? "" : absl::StrCat(" where ", absl::StrJoin(parts, " and "));
}

std::string MetricWords(v1::ScoreMetric metric) {
  switch (metric) {
    case v1::FIT:
      return "fit";
    case v1::ENGAGEMENT:
      return "engagement";
    case v1::TOTAL:
      return "total";
    case v1::LEVEL:
      return "level";
    default:
      return "?";
  }
}

std::string ConditionWords(const v1::Condition& c, bool nested) {
  auto list = [nested](const auto& items, absl::string_view joiner) {
    std::vector<std::string> parts;
    for (const v1::Condition& item : items) {
      parts.push_back(ConditionWords(item, true));
    }
    std::string joined = absl::StrJoin(parts, joiner);
    return nested && parts.size() > 1 ? absl::StrCat("(", joined, ")") : joined;
  };
  if (c.all_size() > 0) {
    return list(c.all(), " and ");
  }
  if (c.any_size() > 0) {
    return list(c.any(), " or ");
  }
  if (c.has_not_()) {
    return absl::StrCat("not ", ConditionWords(c.not_(), true));
  }
  if (c.has_attribute()) {
    return AttributeWords(c.attribute());
  }
  if (c.has_persona()) {
    const auto& p = c.persona();
    return absl::StrCat("matches persona ", p.persona(),
                        p.min_match() > 0 ? absl::StrCat(" (>= ", p.min_match(), ")") : "");
  }
  if (c.has_event()) {
    const auto& e = c.event();
    return absl::StrCat(
        "at least ", std::max(1, e.min_count()), " ", e.type(), " event(s)", WhereWords(e.where()),
        e.has_window() ? absl::StrCat(" within ", DurationWords(Seconds(e.window()))) : "");
  }
  if (c.has_score()) {
    const auto& s = c.score();
    return absl::StrCat(s.model().empty() ? "" : absl::StrCat(s.model(), " "),
                        MetricWords(s.metric()), " ", OperatorWords(s.op()), " ",
                        s.metric() == v1::LEVEL ? s.level() : Number(s.value()));
  }
  return "always";
}

std::string DecayWords(const v1::Decay& d) {
  switch (d.kind()) {
    case v1::Decay::EXPONENTIAL:
      return absl::StrCat("half-life ", DurationWords(Seconds(d.half_life())));
    case v1::Decay::LINEAR:
      return absl::StrCat("loses ", d.fraction() * 100, " % every ",
                          DurationWords(Seconds(d.period())));
    default:
      return "no decay";
  }
}

template <typename Message>
bool Same(const Message& a, const Message& b) {
  return MessageDifferencer::Equals(a, b);
}

// Collects the changes of one comparison, with the path of the item being compared.
class Differ {
 public:
  std::vector<Change> changes;

  void Add(const std::string& path, Change::Kind kind, std::string before, std::string after,
           Change::Effect effect, std::string summary) {
    Change& c = changes.emplace_back();
    c.set_path(path);
    c.set_kind(kind);
    c.set_before(std::move(before));
    c.set_after(std::move(after));
    c.set_effect(effect);
    c.set_summary(std::move(summary));
  }

  // A number; `absent` is what an unset optional means (+/-infinity for "no cap"/"no floor").
  void Num(const std::string& path, const std::string& subject, const std::string& what,
           double before, double after, Raising raising,
           const std::function<std::string(double)>& words = Number) {
    if (before == after) {
      return;
    }
    Add(path, Change::CHANGED, words(before), words(after), EffectOf(raising, after > before),
        absl::StrCat(subject, ": ", what, " ", words(before), " -> ", words(after)));
  }

  void Text(const std::string& path, const std::string& subject, const std::string& what,
            const std::string& before, const std::string& after, Change::Effect effect) {
    if (before == after) {
      return;
    }
    Add(path, Change::CHANGED, before, after, effect,
        absl::StrCat(subject, ": ", what, " \"", before, "\" -> \"", after, "\""));
  }

  void Condition(const std::string& path, const std::string& subject, const v1::Condition& before,
                 const v1::Condition& after) {
    if (Same(before, after)) {
      return;
    }
    std::string b = DescribeCondition(before), a = DescribeCondition(after);
    Add(path, Change::CHANGED, b, a, Change::UNDECIDED,
        absl::StrCat(subject, ": condition now \"", a, "\" (was \"", b, "\")"));
  }

  void Words(const std::string& path, const std::string& subject, const std::string& what,
             const google::protobuf::RepeatedPtrField<std::string>& before,
             const google::protobuf::RepeatedPtrField<std::string>& after, Change::Effect effect) {
    Text(path, subject, what, absl::StrJoin(before, ", "), absl::StrJoin(after, ", "), effect);
  }

  // Items of two lists matched by key: `describe` words an item, `added` is the effect of
  // adding one (removing has the opposite), `compare` diffs two versions of the same item.
  template <typename T>
  void Keyed(const std::string& path, const std::string& noun,
             const google::protobuf::RepeatedPtrField<T>& before,
             const google::protobuf::RepeatedPtrField<T>& after,
             const std::function<std::string(const T&)>& key,
             const std::function<std::string(const T&)>& describe,
             const std::function<Change::Effect(const T&)>& added,
             const std::function<void(const std::string&, const std::string&, const T&, const T&)>&
                 compare) {
    std::map<std::string, const T*> old_items;
    std::vector<std::string> old_order, new_order;
    for (const T& item : before) {
      old_items.emplace(key(item), &item);
      old_order.push_back(key(item));
    }
    std::set<std::string> new_keys;
    for (const T& item : after) {
      const std::string k = key(item);
      new_keys.insert(k);
      new_order.push_back(k);
      const std::string item_path = absl::StrCat(path, "[", k, "]");
      auto old = old_items.find(k);
      if (old == old_items.end()) {
        Add(item_path, Change::ADDED, "", describe(item), added(item),
            absl::StrCat("new ", noun, " ", k, ": ", describe(item)));
      } else if (!Same(*old->second, item)) {
        compare(item_path, absl::StrCat(noun, " ", k), *old->second, item);
      }
    }
    for (const T& item : before) {
      const std::string k = key(item);
      if (new_keys.count(k) == 0) {
        Add(absl::StrCat(path, "[", k, "]"), Change::REMOVED, describe(item), "",
            Opposite(added(item)),
            absl::StrCat(noun, " ", k, " removed (was: ", describe(item), ")"));
      }
    }
    // Order matters for ordered lists (levels, grade bands, stages): say when only it changed.
    std::vector<std::string> kept_old, kept_new;
    for (const auto& k : old_order) {
      if (new_keys.count(k) > 0) {
        kept_old.push_back(k);
      }
    }
    for (const auto& k : new_order) {
      if (old_items.count(k) > 0) {
        kept_new.push_back(k);
      }
    }
    if (kept_old != kept_new) {
      Add(path, Change::CHANGED, absl::StrJoin(kept_old, ", "), absl::StrJoin(kept_new, ", "),
          Change::UNDECIDED,
          absl::StrCat(noun, " order: ", absl::StrJoin(kept_new, ", "), " (was ",
                       absl::StrJoin(kept_old, ", "), ")"));
    }
  }
};

template <typename T>
std::function<std::string(const T&)> ById() {
  return [](const T& item) { return item.id(); };
}
template <typename T>
std::function<std::string(const T&)> ByName() {
  return [](const T& item) { return item.name(); };
}
template <typename T>
std::function<Change::Effect(const T&)> Always(Change::Effect effect) {
  return [effect](const T&) { return effect; };
}

Change::Effect EffectOfPoints(double points) {
  return points > 0 ? Change::LOOSENS : points < 0 ? Change::TIGHTENS : Change::NEUTRAL;
}

// Adding a group: loosens when every rule adds points, tightens when every rule takes some.
template <typename Group>
Change::Effect EffectOfGroup(const Group& group) {
  bool up = false, down = false;
  for (const auto& rule : group.rules()) {
    up |= rule.points() > 0;
    down |= rule.points() < 0;
  }
  return up && down ? Change::UNDECIDED
         : up       ? Change::LOOSENS
         : down     ? Change::TIGHTENS
                    : Change::NEUTRAL;
}

template <typename Group>
void DiffGroupLimits(Differ& d, const std::string& path, const std::string& subject, const Group& b,
                     const Group& a) {
  d.Num(path + ".max_points", subject, "cap", b.has_max_points() ? b.max_points() : kInf,
        a.has_max_points() ? a.max_points() : kInf, Raising::kLoosens);
  d.Num(path + ".min_points", subject, "floor", b.has_min_points() ? b.min_points() : -kInf,
        a.has_min_points() ? a.min_points() : -kInf, Raising::kLoosens);
}

void DiffFitRule(Differ& d, const std::string& path, const std::string& subject,
                 const v1::FitRule& b, const v1::FitRule& a) {
  d.Num(path + ".points", subject, "points", b.points(), a.points(), Raising::kLoosens);
  d.Condition(path + ".condition", subject, b.condition(), a.condition());
  d.Text(path + ".description", subject, "description", b.description(), a.description(),
         Change::NEUTRAL);
}

std::string FitRuleWords(const v1::FitRule& r) {
  return absl::StrCat(r.points(), " points when ", DescribeCondition(r.condition()));
}

std::string EngagementRuleWords(const v1::EngagementRule& r) {
  return absl::StrCat(
      r.points(), " points per ", r.event_type(), " event", WhereWords(r.where()),
      r.has_window() ? absl::StrCat(" within ", DurationWords(Seconds(r.window()))) : "",
      r.decay().kind() > v1::Decay::NONE ? absl::StrCat(", ", DecayWords(r.decay())) : "");
}

void DiffDecay(Differ& d, const std::string& path, const std::string& subject, const v1::Decay& b,
               const v1::Decay& a) {
  const bool b_none = b.kind() <= v1::Decay::NONE, a_none = a.kind() <= v1::Decay::NONE;
  if (b.kind() != a.kind() && !(b_none && a_none)) {
    Change::Effect effect = b_none   ? Change::TIGHTENS
                            : a_none ? Change::LOOSENS
                                     : Change::UNDECIDED;
    d.Add(path, Change::CHANGED, DecayWords(b), DecayWords(a), effect,
          absl::StrCat(subject, ": ", DecayWords(a), " (was ", DecayWords(b), ")"));
    return;
  }
  if (a.kind() == v1::Decay::EXPONENTIAL) {
    d.Num(path + ".half_life", subject, "half-life", Seconds(b.half_life()), Seconds(a.half_life()),
          Raising::kLoosens, DurationWords);
  } else if (a.kind() == v1::Decay::LINEAR) {
    d.Num(path + ".period", subject, "decay period", Seconds(b.period()), Seconds(a.period()),
          Raising::kLoosens, DurationWords);
    d.Num(path + ".fraction", subject, "decay fraction", b.fraction(), a.fraction(),
          Raising::kTightens);
  }
}

void DiffEngagementRule(Differ& d, const std::string& path, const std::string& subject,
                        const v1::EngagementRule& b, const v1::EngagementRule& a) {
  d.Num(path + ".points", subject, "points per event", b.points(), a.points(), Raising::kLoosens);
  d.Text(path + ".event_type", subject, "event type", b.event_type(), a.event_type(),
         Change::UNDECIDED);
  d.Text(path + ".where", subject, "event test", WhereWords(b.where()), WhereWords(a.where()),
         Change::UNDECIDED);
  d.Num(path + ".window", subject, "window", b.has_window() ? Seconds(b.window()) : kInf,
        a.has_window() ? Seconds(a.window()) : kInf, Raising::kLoosens, DurationWords);
  d.Num(path + ".max_events", subject, "events counted", b.max_events() > 0 ? b.max_events() : kInf,
        a.max_events() > 0 ? a.max_events() : kInf, Raising::kLoosens);
  d.Num(path + ".max_points", subject, "cap", b.has_max_points() ? b.max_points() : kInf,
        a.has_max_points() ? a.max_points() : kInf, Raising::kLoosens);
  DiffDecay(d, path + ".decay", subject, b.decay(), a.decay());
  d.Text(path + ".description", subject, "description", b.description(), a.description(),
         Change::NEUTRAL);
}

std::string ThresholdWords(const v1::QualificationLevel& l) {
  std::vector<std::string> parts;
  if (l.has_min_fit()) {
    parts.push_back(absl::StrCat("fit >= ", l.min_fit()));
  }
  if (l.has_min_engagement()) {
    parts.push_back(absl::StrCat("engagement >= ", l.min_engagement()));
  }
  if (l.has_min_total()) {
    parts.push_back(absl::StrCat("total >= ", l.min_total()));
  }
  return parts.empty() ? "no threshold" : absl::StrJoin(parts, " and ");
}

void DiffLevelThreshold(Differ& d, const std::string& path, const std::string& level,
                        const std::string& what, bool had, double before, bool has, double after) {
  if (had == has && (!has || before == after)) {
    return;
  }
  const double b = had ? before : -kInf, a = has ? after : -kInf;
  const std::string was = had ? absl::StrCat("was ", before) : "was no minimum";
  std::string summary =
      has ? absl::StrCat(level, " needs ", what, " >= ", after, " (", was, ")")
          : absl::StrCat(level, " no longer needs a minimum ", what, " (", was, ")");
  d.Add(path, Change::CHANGED, had ? absl::StrCat(before) : "", has ? absl::StrCat(after) : "",
        EffectOf(Raising::kTightens, a > b), std::move(summary));
}

void DiffFitGroups(Differ& d, const std::string& path,
                   const google::protobuf::RepeatedPtrField<v1::FitGroup>& b,
                   const google::protobuf::RepeatedPtrField<v1::FitGroup>& a) {
  d.Keyed<v1::FitGroup>(
      path, "fit group", b, a, ByName<v1::FitGroup>(),
      [](const v1::FitGroup& g) { return absl::StrCat(g.rules_size(), " rule(s)"); },
      EffectOfGroup<v1::FitGroup>,
      [&d](const std::string& path, const std::string& subject, const v1::FitGroup& gb,
           const v1::FitGroup& ga) {
        DiffGroupLimits(d, path, subject, gb, ga);
        d.Keyed<v1::FitRule>(
            path + ".rules", "rule", gb.rules(), ga.rules(), ById<v1::FitRule>(), FitRuleWords,
            [](const v1::FitRule& r) { return EffectOfPoints(r.points()); },
            [&d](const std::string& p, const std::string& s, const v1::FitRule& rb,
                 const v1::FitRule& ra) { DiffFitRule(d, p, s, rb, ra); });
      });
}

void DiffModel(Differ& d, const v1::QualificationModel& b, const v1::QualificationModel& a) {
  const std::string m = "qualification_model";
  DiffFitGroups(d, m + ".fit", b.fit(), a.fit());
  d.Keyed<v1::EngagementGroup>(
      m + ".engagement", "engagement group", b.engagement(), a.engagement(),
      ByName<v1::EngagementGroup>(),
      [](const v1::EngagementGroup& g) { return absl::StrCat(g.rules_size(), " rule(s)"); },
      EffectOfGroup<v1::EngagementGroup>,
      [&d](const std::string& path, const std::string& subject, const v1::EngagementGroup& gb,
           const v1::EngagementGroup& ga) {
        DiffGroupLimits(d, path, subject, gb, ga);
        d.Keyed<v1::EngagementRule>(
            path + ".rules", "rule", gb.rules(), ga.rules(), ById<v1::EngagementRule>(),
            EngagementRuleWords,
            [](const v1::EngagementRule& r) { return EffectOfPoints(r.points()); },
            [&d](const std::string& p, const std::string& s, const v1::EngagementRule& rb,
                 const v1::EngagementRule& ra) { DiffEngagementRule(d, p, s, rb, ra); });
      });
  d.Keyed<v1::Disqualifier>(
      m + ".disqualifiers", "disqualifier", b.disqualifiers(), a.disqualifiers(),
      ById<v1::Disqualifier>(),
      [](const v1::Disqualifier& q) {
        return absl::StrCat("\"", q.reason(), "\" when ", DescribeCondition(q.condition()));
      },
      Always<v1::Disqualifier>(Change::TIGHTENS),
      [&d](const std::string& path, const std::string& subject, const v1::Disqualifier& qb,
           const v1::Disqualifier& qa) {
        d.Condition(path + ".condition", subject, qb.condition(), qa.condition());
        d.Text(path + ".reason", subject, "reason", qb.reason(), qa.reason(), Change::NEUTRAL);
      });
  for (const auto& [field, name, before, after] :
       {std::tuple{".fit_grades", "fit grade", &b.fit_grades(), &a.fit_grades()},
        std::tuple{".engagement_grades", "engagement grade", &b.engagement_grades(),
                   &a.engagement_grades()}}) {
    const std::string noun = name;
    d.Keyed<v1::GradeBand>(
        m + field, noun, *before, *after, [](const v1::GradeBand& g) { return g.label(); },
        [](const v1::GradeBand& g) { return absl::StrCat("from ", g.min()); },
        Always<v1::GradeBand>(Change::UNDECIDED),
        [&d](const std::string& path, const std::string& subject, const v1::GradeBand& gb,
             const v1::GradeBand& ga) {
          d.Num(path + ".min", subject, "starts at", gb.min(), ga.min(), Raising::kTightens);
        });
  }
  d.Keyed<v1::QualificationLevel>(
      m + ".levels", "level", b.levels(), a.levels(), ByName<v1::QualificationLevel>(),
      [](const v1::QualificationLevel& l) { return absl::StrCat("needs ", ThresholdWords(l)); },
      Always<v1::QualificationLevel>(Change::UNDECIDED),
      [&d](const std::string& path, const std::string&, const v1::QualificationLevel& lb,
           const v1::QualificationLevel& la) {
        DiffLevelThreshold(d, path + ".min_fit", la.name(), "fit", lb.has_min_fit(), lb.min_fit(),
                           la.has_min_fit(), la.min_fit());
        DiffLevelThreshold(d, path + ".min_engagement", la.name(), "engagement",
                           lb.has_min_engagement(), lb.min_engagement(), la.has_min_engagement(),
                           la.min_engagement());
        DiffLevelThreshold(d, path + ".min_total", la.name(), "total", lb.has_min_total(),
                           lb.min_total(), la.has_min_total(), la.min_total());
      });
  d.Words(m + ".personas", "model", "personas considered", b.personas(), a.personas(),
          Change::UNDECIDED);
  d.Keyed<v1::AttributeField>(
      m + ".fields", "attribute", b.fields(), a.fields(),
      [](const v1::AttributeField& f) { return f.path(); },
      [](const v1::AttributeField& f) {
        return absl::AsciiStrToLower(v1::AttributeField::Type_Name(f.type()));
      },
      Always<v1::AttributeField>(Change::NEUTRAL),
      [&d](const std::string& path, const std::string& subject, const v1::AttributeField& fb,
           const v1::AttributeField& fa) {
        d.Text(path + ".type", subject, "type", v1::AttributeField::Type_Name(fb.type()),
               v1::AttributeField::Type_Name(fa.type()), Change::NEUTRAL);
        d.Text(path + ".description", subject, "description", fb.description(), fa.description(),
               Change::NEUTRAL);
      });
}

std::string CriterionWords(const v1::PersonaCriterion& c) {
  return absl::StrCat(c.required() ? "required, " : "", "weight ",
                      c.weight() > 0 ? c.weight() : 1.0, ": ", DescribeCondition(c.condition()));
}

void DiffPersona(Differ& d, const v1::BuyerPersona& b, const v1::BuyerPersona& a) {
  const std::string p = "buyer_persona";
  d.Text(p + ".summary", "persona", "summary", b.summary(), a.summary(), Change::NEUTRAL);
  d.Words(p + ".goals", "persona", "goals", b.goals(), a.goals(), Change::NEUTRAL);
  d.Words(p + ".pain_points", "persona", "pain points", b.pain_points(), a.pain_points(),
          Change::NEUTRAL);
  d.Words(p + ".objections", "persona", "objections", b.objections(), a.objections(),
          Change::NEUTRAL);
  d.Words(p + ".preferred_channels", "persona", "preferred channels", b.preferred_channels(),
          a.preferred_channels(), Change::NEUTRAL);
  d.Keyed<v1::PersonaCriterion>(
      p + ".criteria", "criterion", b.criteria(), a.criteria(), ById<v1::PersonaCriterion>(),
      CriterionWords,
      [](const v1::PersonaCriterion& c) {
        return c.required() ? Change::TIGHTENS : Change::UNDECIDED;
      },
      [&d](const std::string& path, const std::string& subject, const v1::PersonaCriterion& cb,
           const v1::PersonaCriterion& ca) {
        d.Condition(path + ".condition", subject, cb.condition(), ca.condition());
        d.Num(path + ".weight", subject, "weight", cb.weight() > 0 ? cb.weight() : 1.0,
              ca.weight() > 0 ? ca.weight() : 1.0, Raising::kUndecided);
        if (cb.required() != ca.required()) {
          d.Add(path + ".required", Change::CHANGED, cb.required() ? "required" : "optional",
                ca.required() ? "required" : "optional",
                ca.required() ? Change::TIGHTENS : Change::LOOSENS,
                absl::StrCat(subject, ": now ", ca.required() ? "required" : "optional"));
        }
        d.Text(path + ".description", subject, "description", cb.description(), ca.description(),
               Change::NEUTRAL);
      });
  d.Num(p + ".min_match", "persona", "minimum match", b.has_min_match() ? b.min_match() : 0.5,
        a.has_min_match() ? a.min_match() : 0.5, Raising::kTightens);
  if (b.exclude() != a.exclude()) {
    d.Add(p + ".exclude", Change::CHANGED, b.exclude() ? "negative persona" : "persona",
          a.exclude() ? "negative persona" : "persona", Change::UNDECIDED,
          a.exclude() ? "persona: now a negative persona (excludes the leads it matches)"
                      : "persona: no longer a negative persona");
  }
}

std::string StageWords(const v1::JourneyStage& s) {
  return absl::StrCat(
      s.display_name().empty() ? s.id() : s.display_name(),
      s.owner_team().empty() ? "" : absl::StrCat(", owned by ", s.owner_team()),
      s.has_entry() ? absl::StrCat(", entered when ", DescribeCondition(s.entry())) : "");
}

void DiffJourney(Differ& d, const v1::BuyerJourney& b, const v1::BuyerJourney& a) {
  const std::string j = "buyer_journey";
  d.Keyed<v1::JourneyStage>(j + ".stages", "stage", b.stages(), a.stages(),
                            ById<v1::JourneyStage>(), StageWords,
                            Always<v1::JourneyStage>(Change::UNDECIDED),
                            [&d](const std::string& path, const std::string& subject,
                                 const v1::JourneyStage& sb, const v1::JourneyStage& sa) {
                              d.Text(path + ".display_name", subject, "name", sb.display_name(),
                                     sa.display_name(), Change::NEUTRAL);
                              d.Text(path + ".owner_team", subject, "owner", sb.owner_team(),
                                     sa.owner_team(), Change::NEUTRAL);
                              d.Condition(path + ".entry", subject, sb.entry(), sa.entry());
                              d.Num(path + ".max_duration", subject, "may stay",
                                    sb.has_max_duration() ? Seconds(sb.max_duration()) : kInf,
                                    sa.has_max_duration() ? Seconds(sa.max_duration()) : kInf,
                                    Raising::kLoosens, DurationWords);
                            });
  d.Keyed<v1::RecycleEdge>(
      j + ".recycle", "recycle edge", b.recycle(), a.recycle(),
      [](const v1::RecycleEdge& e) { return absl::StrCat(e.from(), "->", e.to()); },
      [](const v1::RecycleEdge& e) {
        return e.reasons().empty() ? std::string("any reason")
                                   : absl::StrCat("reasons ", absl::StrJoin(e.reasons(), ", "));
      },
      Always<v1::RecycleEdge>(Change::LOOSENS),
      [&d](const std::string& path, const std::string& subject, const v1::RecycleEdge& eb,
           const v1::RecycleEdge& ea) {
        // An empty list allows any code: compare as sets with "any" as the largest.
        std::set<std::string> old_set(eb.reasons().begin(), eb.reasons().end());
        std::set<std::string> new_set(ea.reasons().begin(), ea.reasons().end());
        bool grew = ea.reasons().empty() ||
                    (!eb.reasons().empty() &&
                     std::includes(new_set.begin(), new_set.end(), old_set.begin(), old_set.end()));
        bool shrank = eb.reasons().empty() ||
                      (!ea.reasons().empty() && std::includes(old_set.begin(), old_set.end(),
                                                              new_set.begin(), new_set.end()));
        auto words = [](const v1::RecycleEdge& e) {
          return e.reasons().empty() ? std::string("any") : absl::StrJoin(e.reasons(), ", ");
        };
        d.Add(path + ".reasons", Change::CHANGED, words(eb), words(ea),
              grew && !shrank   ? Change::LOOSENS
              : shrank && !grew ? Change::TIGHTENS
                                : Change::UNDECIDED,
              absl::StrCat(subject, ": reasons ", words(ea), " (was ", words(eb), ")"));
      });
  d.Keyed<v1::ReasonCode>(
      j + ".reason_taxonomy", "reason code", b.reason_taxonomy(), a.reason_taxonomy(),
      [](const v1::ReasonCode& r) { return r.code(); },
      [](const v1::ReasonCode& r) { return r.description().empty() ? r.code() : r.description(); },
      Always<v1::ReasonCode>(Change::NEUTRAL),
      [&d](const std::string& path, const std::string& subject, const v1::ReasonCode& rb,
           const v1::ReasonCode& ra) {
        d.Text(path + ".description", subject, "description", rb.description(), ra.description(),
               Change::NEUTRAL);
      });
  d.Text(j + ".model", "journey", "qualification model", b.model(), a.model(), Change::UNDECIDED);
}

std::string PeriodWords(v1::Period period) {
  return absl::AsciiStrToLower(v1::Period_Name(period));
}

void DiffSla(Differ& d, const v1::ServiceLevelAgreement& b, const v1::ServiceLevelAgreement& a) {
  const std::string s = "service_level_agreement";
  d.Text(s + ".journey", "SLA", "journey", b.journey(), a.journey(), Change::UNDECIDED);
  d.Text(s + ".model", "SLA", "qualification model", b.model(), a.model(), Change::UNDECIDED);
  d.Keyed<v1::ResponseCommitment>(
      s + ".response", "response commitment", b.response(), a.response(),
      ById<v1::ResponseCommitment>(),
      [](const v1::ResponseCommitment& r) {
        return absl::StrCat(r.team(), " records ", r.event_type(), " within ",
                            DurationWords(Seconds(r.within())), " of a lead entering ", r.stage());
      },
      Always<v1::ResponseCommitment>(Change::TIGHTENS),
      [&d](const std::string& path, const std::string& subject, const v1::ResponseCommitment& rb,
           const v1::ResponseCommitment& ra) {
        d.Num(path + ".within", subject, absl::StrCat(ra.team(), " responds within"),
              Seconds(rb.within()), Seconds(ra.within()), Raising::kLoosens, DurationWords);
        d.Text(path + ".stage", subject, "stage", rb.stage(), ra.stage(), Change::UNDECIDED);
        d.Text(path + ".team", subject, "team", rb.team(), ra.team(), Change::UNDECIDED);
        d.Text(path + ".event_type", subject, "event", rb.event_type(), ra.event_type(),
               Change::UNDECIDED);
        d.Num(path + ".warn_fraction", subject, "at risk after",
              rb.has_warn_fraction() ? rb.warn_fraction() : 0.75,
              ra.has_warn_fraction() ? ra.warn_fraction() : 0.75, Raising::kNeutral);
      });
  d.Keyed<v1::VolumeCommitment>(
      s + ".volume", "volume commitment", b.volume(), a.volume(), ById<v1::VolumeCommitment>(),
      [](const v1::VolumeCommitment& v) {
        return absl::StrCat(v.team(), " delivers at least ", v.min_count(), " ", v.level(), " per ",
                            PeriodWords(v.period()));
      },
      Always<v1::VolumeCommitment>(Change::TIGHTENS),
      [&d](const std::string& path, const std::string& subject, const v1::VolumeCommitment& vb,
           const v1::VolumeCommitment& va) {
        d.Num(path + ".min_count", subject,
              absl::StrCat(va.level(), " per ", PeriodWords(va.period())),
              static_cast<double>(vb.min_count()), static_cast<double>(va.min_count()),
              Raising::kTightens);
        d.Text(path + ".level", subject, "level", vb.level(), va.level(), Change::UNDECIDED);
        d.Text(path + ".period", subject, "period", PeriodWords(vb.period()),
               PeriodWords(va.period()), Change::UNDECIDED);
        d.Text(path + ".team", subject, "team", vb.team(), va.team(), Change::UNDECIDED);
      });
  d.Keyed<v1::QualityCommitment>(
      s + ".quality", "quality commitment", b.quality(), a.quality(), ById<v1::QualityCommitment>(),
      [](const v1::QualityCommitment& q) {
        return absl::StrCat(q.min_accepted_fraction() * 100, " % of ", q.level(), " accepted per ",
                            PeriodWords(q.period()));
      },
      Always<v1::QualityCommitment>(Change::TIGHTENS),
      [&d](const std::string& path, const std::string& subject, const v1::QualityCommitment& qb,
           const v1::QualityCommitment& qa) {
        d.Num(path + ".min_accepted_fraction", subject, "accepted fraction",
              qb.min_accepted_fraction(), qa.min_accepted_fraction(), Raising::kTightens);
        d.Text(path + ".level", subject, "level", qb.level(), qa.level(), Change::UNDECIDED);
        d.Text(path + ".accepted_event_type", subject, "acceptance event", qb.accepted_event_type(),
               qa.accepted_event_type(), Change::UNDECIDED);
        d.Text(path + ".accepted_stage", subject, "acceptance stage", qb.accepted_stage(),
               qa.accepted_stage(), Change::UNDECIDED);
        d.Text(path + ".period", subject, "period", PeriodWords(qb.period()),
               PeriodWords(qa.period()), Change::UNDECIDED);
        d.Text(path + ".team", subject, "team", qb.team(), qa.team(), Change::UNDECIDED);
      });
  d.Keyed<v1::SharedMetric>(
      s + ".metrics", "shared metric", b.metrics(), a.metrics(), ByName<v1::SharedMetric>(),
      [](const v1::SharedMetric& m) {
        return absl::StrCat(m.team(), " targets ", m.target(), " ", m.unit());
      },
      Always<v1::SharedMetric>(Change::NEUTRAL),
      [&d](const std::string& path, const std::string& subject, const v1::SharedMetric& mb,
           const v1::SharedMetric& ma) {
        d.Num(path + ".target", subject, "target", mb.target(), ma.target(), Raising::kNeutral);
        d.Text(path + ".team", subject, "team", mb.team(), ma.team(), Change::NEUTRAL);
        d.Text(path + ".unit", subject, "unit", mb.unit(), ma.unit(), Change::NEUTRAL);
        d.Text(path + ".description", subject, "description", mb.description(), ma.description(),
               Change::NEUTRAL);
      });
}

std::string ValuesWords(const google::protobuf::RepeatedPtrField<google::protobuf::Value>& values) {
  std::vector<std::string> parts;
  for (const auto& v : values) {
    parts.push_back(ValueWords(v));
  }
  return absl::StrJoin(parts, ", ");
}

std::string AggregationWords(const v1::MemberAggregation& e) {
  std::string metric = e.metric() == v1::FIT     ? "fit"
                       : e.metric() == v1::TOTAL ? "total"
                                                 : "engagement";
  std::string how;
  switch (e.method()) {
    case v1::MemberAggregation::AVERAGE:
      how = "average";
      break;
    case v1::MemberAggregation::MAX:
      how = "highest";
      break;
    case v1::MemberAggregation::TOP_N:
      how = absl::StrCat("sum of the top ", e.top_n());
      break;
    case v1::MemberAggregation::TRIMMED_MEAN:
      how = absl::StrCat("mean trimmed by ", e.trim_fraction() * 100, " % each end");
      break;
    default:
      how = "sum";
  }
  return absl::StrCat(how, " of the members' ", metric,
                      e.drop_negative() ? ", negatives left out" : "");
}

std::string RoleWords(const v1::BuyingRole& r) {
  return absl::StrCat(r.persona().empty()
                          ? absl::StrCat(r.attribute(), " one of ", ValuesWords(r.values()))
                          : absl::StrCat("persona ", r.persona()),
                      ", weight ", r.weight() > 0 ? r.weight() : 1.0,
                      r.min_level().empty() ? "" : absl::StrCat(", from level ", r.min_level()));
}

std::string AccountLevelWords(const v1::AccountLevel& l) {
  std::vector<std::string> parts;
  if (l.has_min_fit()) {
    parts.push_back(absl::StrCat("fit >= ", l.min_fit()));
  }
  if (l.has_min_engagement()) {
    parts.push_back(absl::StrCat("engagement >= ", l.min_engagement()));
  }
  if (l.has_min_coverage()) {
    parts.push_back(absl::StrCat("coverage >= ", l.min_coverage()));
  }
  return parts.empty() ? "no threshold" : absl::StrJoin(parts, " and ");
}

void DiffAccountModel(Differ& d, const v1::AccountModel& b, const v1::AccountModel& a) {
  const std::string m = "account_model";
  d.Text(m + ".model", "account model", "member model", b.model(), a.model(), Change::UNDECIDED);
  DiffFitGroups(d, m + ".fit", b.fit(), a.fit());
  const v1::MemberAggregation& eb = b.engagement();
  const v1::MemberAggregation& ea = a.engagement();
  if (eb.method() != ea.method() || eb.metric() != ea.metric() ||
      eb.drop_negative() != ea.drop_negative()) {
    d.Add(m + ".engagement", Change::CHANGED, AggregationWords(eb), AggregationWords(ea),
          Change::UNDECIDED,
          absl::StrCat("account engagement: ", AggregationWords(ea), " (was ", AggregationWords(eb),
                       ")"));
  } else {
    d.Num(m + ".engagement.top_n", "account engagement", "members counted", eb.top_n(), ea.top_n(),
          Raising::kLoosens);
    d.Num(m + ".engagement.trim_fraction", "account engagement", "trimmed share",
          eb.trim_fraction(), ea.trim_fraction(), Raising::kUndecided);
  }
  d.Keyed<v1::BuyingRole>(
      m + ".buying_group", "buying role", b.buying_group(), a.buying_group(),
      ById<v1::BuyingRole>(), RoleWords, Always<v1::BuyingRole>(Change::TIGHTENS),
      [&d](const std::string& path, const std::string& subject, const v1::BuyingRole& rb,
           const v1::BuyingRole& ra) {
        d.Text(path, subject, "who plays it", RoleWords(rb), RoleWords(ra), Change::UNDECIDED);
      });
  d.Keyed<v1::AccountLevel>(
      m + ".levels", "account level", b.levels(), a.levels(), ByName<v1::AccountLevel>(),
      [](const v1::AccountLevel& l) { return absl::StrCat("needs ", AccountLevelWords(l)); },
      Always<v1::AccountLevel>(Change::UNDECIDED),
      [&d](const std::string& path, const std::string&, const v1::AccountLevel& lb,
           const v1::AccountLevel& la) {
        DiffLevelThreshold(d, path + ".min_fit", la.name(), "fit", lb.has_min_fit(), lb.min_fit(),
                           la.has_min_fit(), la.min_fit());
        DiffLevelThreshold(d, path + ".min_engagement", la.name(), "engagement",
                           lb.has_min_engagement(), lb.min_engagement(), la.has_min_engagement(),
                           la.min_engagement());
        DiffLevelThreshold(d, path + ".min_coverage", la.name(), "coverage", lb.has_min_coverage(),
                           lb.min_coverage(), la.has_min_coverage(), la.min_coverage());
      });
  auto consent = [](const v1::AccountModel& x) {
    return x.has_consent() ? absl::StrCat(x.consent().attribute(), " one of ",
                                          ValuesWords(x.consent().allowed()))
                           : std::string("no consent rule");
  };
  d.Text(m + ".consent", "account model", "consent", consent(b), consent(a), Change::UNDECIDED);
}

std::string LabelsWords(const google::protobuf::Map<std::string, std::string>& labels) {
  std::map<std::string, std::string> sorted(labels.begin(), labels.end());
  std::vector<std::string> parts;
  for (const auto& [k, v] : sorted) {
    parts.push_back(absl::StrCat(k, "=", v));
  }
  return absl::StrJoin(parts, ", ");
}

std::set<std::string> PolicyTeams(const v1::Definition& d) {
  std::set<std::string> teams(d.approval_policy().required_teams().begin(),
                              d.approval_policy().required_teams().end());
  if (teams.empty()) {
    teams = {"marketing", "sales"};
  }
  return teams;
}

}  // namespace

std::string DescribeCondition(const v1::Condition& condition) {
  return ConditionWords(condition, false);
}

std::vector<v1::DefinitionChange> DiffDefinitions(const v1::Definition* before,
                                                  const v1::Definition* after) {
  Differ d;
  static const v1::Definition kEmpty;
  if (before == nullptr || after == nullptr) {
    const v1::Definition& present = before != nullptr ? *before : *after;
    const bool added = after != nullptr;
    d.Add("", added ? Change::ADDED : Change::REMOVED, added ? "" : present.name(),
          added ? present.name() : "", Change::UNDECIDED,
          absl::StrCat(added ? "new definition " : "no longer ", present.name()));
    // Then its content item by item, against nothing.
    std::vector<Change> items =
        added ? DiffDefinitions(&kEmpty, after) : DiffDefinitions(before, &kEmpty);
    for (Change& c : items) {
      d.changes.push_back(std::move(c));
    }
    return std::move(d.changes);
  }
  const v1::Definition& b = *before;
  const v1::Definition& a = *after;
  d.Text("display_name", "definition", "name", b.display_name(), a.display_name(), Change::NEUTRAL);
  d.Text("description", "definition", "description", b.description(), a.description(),
         Change::NEUTRAL);
  d.Text("labels", "definition", "labels", LabelsWords(b.labels()), LabelsWords(a.labels()),
         Change::NEUTRAL);
  if (&b != &kEmpty && &a != &kEmpty) {
    std::set<std::string> old_teams = PolicyTeams(b), new_teams = PolicyTeams(a);
    for (const std::string& team : new_teams) {
      if (old_teams.count(team) == 0) {
        d.Add("approval_policy.required_teams[" + team + "]", Change::ADDED, "", team,
              Change::TIGHTENS, absl::StrCat("approval policy: ", team, " must now approve"));
      }
    }
    for (const std::string& team : old_teams) {
      if (new_teams.count(team) == 0) {
        d.Add("approval_policy.required_teams[" + team + "]", Change::REMOVED, team, "",
              Change::LOOSENS, absl::StrCat("approval policy: ", team, " no longer approves"));
      }
    }
  }
  const auto body_b = b.body_case(), body_a = a.body_case();
  if (body_b != body_a && body_b != v1::Definition::BODY_NOT_SET &&
      body_a != v1::Definition::BODY_NOT_SET) {
    d.Add("kind", Change::CHANGED, v1::DefinitionKind_Name(b.kind()),
          v1::DefinitionKind_Name(a.kind()), Change::UNDECIDED, "the kind of definition changed");
    return std::move(d.changes);
  }
  const auto body = body_a != v1::Definition::BODY_NOT_SET ? body_a : body_b;
  switch (body) {
    case v1::Definition::kBuyerPersona:
      DiffPersona(d, b.buyer_persona(), a.buyer_persona());
      break;
    case v1::Definition::kQualificationModel:
      DiffModel(d, b.qualification_model(), a.qualification_model());
      break;
    case v1::Definition::kBuyerJourney:
      DiffJourney(d, b.buyer_journey(), a.buyer_journey());
      break;
    case v1::Definition::kServiceLevelAgreement:
      DiffSla(d, b.service_level_agreement(), a.service_level_agreement());
      break;
    case v1::Definition::kAccountModel:
      DiffAccountModel(d, b.account_model(), a.account_model());
      break;
    default:
      break;
  }
  return std::move(d.changes);
}

}  // namespace accord::definitions
