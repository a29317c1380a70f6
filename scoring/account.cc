#include "scoring/account.h"

#include <algorithm>
#include <map>
#include <numeric>
#include <tuple>
#include <vector>

#include "absl/strings/str_split.h"
#include "google/protobuf/util/time_util.h"

namespace accord::scoring {
namespace {

// The attribute at dotted `path` of lead `lead`, or null.
const LeadSet::Value* Lookup(const LeadSet& leads, size_t lead, const std::string& path) {
  int32_t node = leads.lead(lead).attributes;
  const LeadSet::Value* value = nullptr;
  for (absl::string_view key : absl::StrSplit(path, '.')) {
    if (node < 0 || leads.value(node).kind != LeadSet::Value::Kind::kStruct) {
      return nullptr;
    }
    node = leads.FieldIndex(node, key);
    if (node < 0) {
      return nullptr;
    }
    value = &leads.value(node);
  }
  return value;
}

bool SameValue(const LeadSet::Value& a, const google::protobuf::Value& b) {
  switch (a.kind) {
    case LeadSet::Value::Kind::kString:
      return b.kind_case() == google::protobuf::Value::kStringValue && a.text == b.string_value();
    case LeadSet::Value::Kind::kNumber:
      return b.kind_case() == google::protobuf::Value::kNumberValue && a.number == b.number_value();
    case LeadSet::Value::Kind::kBool:
      return b.kind_case() == google::protobuf::Value::kBoolValue && a.boolean == b.bool_value();
    default:
      return false;
  }
}

// Whether the attribute at `path` of lead `lead` is one of `values` (for a list: any element).
bool HasOneOf(const LeadSet& leads, size_t lead, const std::string& path,
              const std::vector<google::protobuf::Value>& values) {
  const LeadSet::Value* v = Lookup(leads, lead, path);
  if (v == nullptr) {
    return false;
  }
  auto matches = [&values](const LeadSet::Value& x) {
    return std::any_of(values.begin(), values.end(),
                       [&x](const google::protobuf::Value& y) { return SameValue(x, y); });
  };
  if (v->kind != LeadSet::Value::Kind::kList) {
    return matches(*v);
  }
  for (int32_t i = v->first; i >= 0; i = leads.value(i).next) {
    if (matches(leads.value(i))) {
      return true;
    }
  }
  return false;
}

double MetricOf(const sv1::LeadScore& s, rv1::ScoreMetric metric) {
  switch (metric) {
    case rv1::FIT:
      return s.fit();
    case rv1::TOTAL:
      return s.total();
    default:
      return s.engagement();
  }
}

// Each counted member's share of the combined engagement (the shares add up to it), and
// whether the method counted it. `values` are the eligible members' metric values.
void Combine(const rv1::MemberAggregation& how, const std::vector<double>& values,
             std::vector<double>* share, std::vector<bool>* counted) {
  const size_t n = values.size();
  share->assign(n, 0);
  counted->assign(n, false);
  if (n == 0) {
    return;
  }
  // Highest first; ties keep request order.
  std::vector<size_t> order(n);
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(),
                   [&values](size_t a, size_t b) { return values[a] > values[b]; });
  auto take = [&](size_t i, double weight) {
    (*share)[i] = values[i] * weight;
    (*counted)[i] = true;
  };
  switch (how.method()) {
    case rv1::MemberAggregation::AVERAGE:
      for (size_t i = 0; i < n; ++i) {
        take(i, 1.0 / static_cast<double>(n));
      }
      break;
    case rv1::MemberAggregation::MAX:
      take(order[0], 1);
      break;
    case rv1::MemberAggregation::TOP_N:
      for (size_t k = 0; k < n && k < static_cast<size_t>(how.top_n()); ++k) {
        take(order[k], 1);
      }
      break;
    case rv1::MemberAggregation::TRIMMED_MEAN: {
      const size_t cut = static_cast<size_t>(static_cast<double>(n) * how.trim_fraction());
      const size_t kept = n - 2 * cut;
      for (size_t k = cut; k < n - cut; ++k) {
        take(order[k], 1.0 / static_cast<double>(kept));
      }
      break;
    }
    default:  // SUM
      for (size_t i = 0; i < n; ++i) {
        take(i, 1);
      }
  }
}

}  // namespace

void AddReasonDeltas(const google::protobuf::RepeatedPtrField<sv1::Reason>& before,
                     const google::protobuf::RepeatedPtrField<sv1::Reason>& after,
                     google::protobuf::RepeatedPtrField<sv1::ReasonDelta>* out) {
  using Key = std::tuple<int, std::string, std::string>;
  std::map<Key, std::pair<double, double>> points;
  for (const sv1::Reason& r : before) {
    points[{r.kind(), r.group(), r.rule()}].first += r.points();
  }
  for (const sv1::Reason& r : after) {
    points[{r.kind(), r.group(), r.rule()}].second += r.points();
  }
  for (const auto& [key, p] : points) {
    if (p.first == p.second) {
      continue;
    }
    sv1::ReasonDelta* d = out->Add();
    d->set_kind(static_cast<sv1::Reason::Kind>(std::get<0>(key)));
    d->set_group(std::get<1>(key));
    d->set_rule(std::get<2>(key));
    d->set_points_before(p.first);
    d->set_points_after(p.second);
  }
}

sv1::AccountScore ScoreAccount(const CompiledSet& set, int account_model, const LeadSet& leads,
                               size_t account, size_t members, absl::Time as_of) {
  const AccountModelSpec& spec = set.accounts[account_model];
  const Model& members_model = set.models[spec.member_model];
  sv1::AccountScore out;
  out.set_account_id(std::string(leads.lead(account).id));
  out.set_namespace_(set.namespace_id);
  // The account's fit: its fit rules on its own attributes, scored as a lead without events.
  {
    Evaluation fit;
    fit.set = &set;
    fit.model = spec.fit_model;
    sv1::LeadScore scored;
    ScoreInto(fit, leads, account, as_of, &scored);
    out.set_fit(scored.fit());
    for (sv1::Reason& r : *scored.mutable_reasons()) {
      if (r.kind() == sv1::Reason::FIT || r.kind() == sv1::Reason::CAP) {
        *out.add_reasons() = std::move(r);
      }
    }
  }
  // The members: consent first, then scores (BASIC: no reasons), roles and the aggregation.
  Evaluation evaluation;
  evaluation.set = &set;
  evaluation.model = spec.member_model;
  evaluation.reasons = false;
  std::vector<double> values;
  std::vector<int> eligible;  // member index of each value
  std::vector<std::vector<std::string>> covered_by(spec.roles.size());
  sv1::LeadScore s;
  for (size_t i = 0; i < members; ++i) {
    const size_t lead = account + 1 + i;
    const std::string id(leads.lead(lead).id);
    sv1::MemberContribution* m = out.add_members();
    m->set_lead_id(id);
    if (spec.has_consent && !HasOneOf(leads, lead, spec.consent.attribute(), spec.allowed)) {
      m->set_excluded("consent");
      out.set_excluded_for_consent(out.excluded_for_consent() + 1);
      continue;
    }
    s.Clear();
    ScoreInto(evaluation, leads, lead, as_of, &s);
    m->set_level(s.level());
    m->set_grade(s.grade());
    if (s.has_persona()) {
      m->set_persona(s.persona().persona());
    }
    if (s.disqualified()) {
      m->set_excluded("disqualified");
      continue;
    }
    const int rank = LevelRank(members_model, s.level());
    for (size_t r = 0; r < spec.roles.size(); ++r) {
      const AccountModelSpec::Role& role = spec.roles[r];
      const bool plays = role.persona >= 0 ? s.has_persona() && s.persona().persona() ==
                                                                    set.personas[role.persona].name
                                           : HasOneOf(leads, lead, role.attribute, role.values);
      if (plays && rank >= role.min_level) {
        m->add_roles(role.id);
        covered_by[r].push_back(id);
      }
    }
    const double value = MetricOf(s, spec.aggregation.metric());
    m->set_value(value);
    if (spec.aggregation.drop_negative() && value < 0) {
      m->set_excluded("negative");
      continue;
    }
    values.push_back(value);
    eligible.push_back(static_cast<int>(i));
  }
  std::vector<double> share;
  std::vector<bool> counted;
  Combine(spec.aggregation, values, &share, &counted);
  for (size_t k = 0; k < eligible.size(); ++k) {
    sv1::MemberContribution* m = out.mutable_members(eligible[k]);
    m->set_contribution(share[k]);
    m->set_counted(counted[k]);
  }
  double engagement = 0;  // the sum of the shares, in member order: they add up to it exactly
  for (const sv1::MemberContribution& m : out.members()) {
    engagement += m.contribution();
  }
  out.set_engagement(engagement);
  // The buying group.
  double total_weight = 0, covered_weight = 0;
  for (size_t r = 0; r < spec.roles.size(); ++r) {
    sv1::RoleCoverage* c = out.add_roles();
    c->set_role(spec.roles[r].id);
    c->set_weight(spec.roles[r].weight);
    c->set_covered(!covered_by[r].empty());
    for (std::string& id : covered_by[r]) {
      c->add_covered_by(std::move(id));
    }
    total_weight += spec.roles[r].weight;
    covered_weight += c->covered() ? spec.roles[r].weight : 0;
  }
  out.set_coverage(total_weight > 0 ? covered_weight / total_weight : 1);
  out.set_total(out.fit() + out.engagement());
  for (const rv1::AccountLevel& l : spec.levels) {
    if ((!l.has_min_fit() || out.fit() >= l.min_fit()) &&
        (!l.has_min_engagement() || out.engagement() >= l.min_engagement()) &&
        (!l.has_min_coverage() || out.coverage() >= l.min_coverage())) {
      out.set_level(l.name());
    }
  }
  sv1::DefinitionRef* ref = out.add_definitions();
  ref->set_name(spec.name);
  ref->set_revision(spec.revision);
  ref = out.add_definitions();
  ref->set_name(members_model.name);
  ref->set_revision(members_model.revision);
  *out.mutable_as_of() =
      google::protobuf::util::TimeUtil::NanosecondsToTimestamp(absl::ToUnixNanos(as_of));
  return out;
}

sv1::AccountScore ScoreAccount(const CompiledSet& set, int account_model,
                               const sv1::Account& account, absl::Time as_of) {
  LeadSet leads;
  leads.Add(account);
  return ScoreAccount(set, account_model, leads, 0, account.members_size(), as_of);
}

}  // namespace accord::scoring
