#include "registry/feedback/quality_report.h"

#include <algorithm>
#include <cmath>
#include <set>
#include <unordered_map>

namespace accord::registry::feedback {
namespace {

// Counts toward a rate, turned into one at the end.
struct Tally {
  int64_t accepted = 0;
  int64_t total = 0;
  void Add(bool accepted_lead) {
    ++total;
    accepted += accepted_lead ? 1 : 0;
  }
  Rate ToRate() const { return WilsonRate(accepted, total); }
};

std::map<std::string, Rate> Rates(const std::map<std::string, Tally>& tallies) {
  std::map<std::string, Rate> out;
  for (const auto& [key, tally] : tallies) {
    out.emplace(key, tally.ToRate());
  }
  return out;
}

}  // namespace

bool CountsAsAccepted(Outcome outcome) {
  switch (outcome) {
    case Outcome::kAccepted:
    case Outcome::kOpportunity:
    case Outcome::kWon:
    case Outcome::kLost:
      return true;
    case Outcome::kRejected:
    case Outcome::kRecycled:
      return false;
  }
  return false;
}

Rate WilsonRate(int64_t accepted, int64_t total, double z) {
  Rate r;
  r.accepted = accepted;
  r.total = total;
  if (total <= 0) {
    return r;
  }
  const double n = static_cast<double>(total);
  const double p = static_cast<double>(accepted) / n;
  const double z2 = z * z;
  const double denominator = 1 + z2 / n;
  const double center = (p + z2 / (2 * n)) / denominator;
  const double half = z * std::sqrt(p * (1 - p) / n + z2 / (4 * n * n)) / denominator;
  r.rate = p;
  r.low = std::max(0.0, center - half);
  r.high = std::min(1.0, center + half);
  return r;
}

QualityReport BuildQualityReport(absl::Span<const Verdict> verdicts) {
  // The last verdict of each lead.
  std::unordered_map<std::string, const Verdict*> last;
  for (const Verdict& v : verdicts) {
    last[v.lead_id] = &v;
  }
  Tally overall;
  std::map<std::string, Tally> level, grade, persona, content;
  std::map<std::string, Tally> fired;  // per rule: the leads it fired for
  std::map<std::string, int64_t> reasons;
  for (const auto& [lead, v] : last) {
    const bool accepted = CountsAsAccepted(v->outcome);
    overall.Add(accepted);
    level[v->scored.level].Add(accepted);
    grade[v->scored.grade].Add(accepted);
    persona[v->scored.persona].Add(accepted);
    for (const std::string& key :
         std::set<std::string>(v->scored.content_keys.begin(), v->scored.content_keys.end())) {
      content[key].Add(accepted);
    }
    for (const std::string& rule :
         std::set<std::string>(v->scored.rules_fired.begin(), v->scored.rules_fired.end())) {
      fired[rule].Add(accepted);
    }
    if (!accepted) {
      ++reasons[v->reason_code];
    }
  }
  QualityReport report;
  report.overall = overall.ToRate();
  report.by_level = Rates(level);
  report.by_grade = Rates(grade);
  report.by_persona = Rates(persona);
  report.by_content_key = Rates(content);
  report.not_accepted_by_reason = std::move(reasons);
  for (const auto& [rule, with] : fired) {
    RuleQuality q;
    q.rule = rule;
    q.fired = with.ToRate();
    q.not_fired = WilsonRate(overall.accepted - with.accepted, overall.total - with.total);
    if (q.fired.total > 0 && q.not_fired.total > 0 && q.not_fired.rate > 0) {
      q.lift = q.fired.rate / q.not_fired.rate;
    }
    report.by_rule.push_back(std::move(q));
  }
  return report;
}

}  // namespace accord::registry::feedback
