#include "registry/feedback/quality_report.h"

#include <algorithm>
#include <cmath>
#include <set>
#include <unordered_map>

namespace accord::registry::feedback {
namespace {

void Add(Count& count, bool accepted) {
  ++count.total;
  count.accepted += accepted ? 1 : 0;
}

Rate ToRate(const Count& count) { return WilsonRate(count.accepted, count.total); }

std::map<std::string, Rate> Rates(const std::map<std::string, Count>& counts) {
  std::map<std::string, Rate> out;
  for (const auto& [key, count] : counts) {
    out.emplace(key, ToRate(count));
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

QualityCounts CountVerdicts(absl::Span<const Verdict> verdicts) {
  // The last verdict of each lead.
  std::unordered_map<std::string, const Verdict*> last;
  for (const Verdict& v : verdicts) {
    last[v.lead_id] = &v;
  }
  QualityCounts counts;
  for (const auto& [lead, v] : last) {
    const bool accepted = CountsAsAccepted(v->outcome);
    Add(counts.overall, accepted);
    Add(counts.by_level[v->scored.level], accepted);
    Add(counts.by_grade[v->scored.grade], accepted);
    Add(counts.by_persona[v->scored.persona], accepted);
    for (const std::string& key :
         std::set<std::string>(v->scored.content_keys.begin(), v->scored.content_keys.end())) {
      Add(counts.by_content_key[key], accepted);
    }
    for (const std::string& rule :
         std::set<std::string>(v->scored.rules_fired.begin(), v->scored.rules_fired.end())) {
      Add(counts.by_rule[rule], accepted);
    }
    if (!accepted) {
      ++counts.not_accepted_by_reason[v->reason_code];
    }
  }
  return counts;
}

QualityReport ReportFromCounts(const QualityCounts& counts) {
  QualityReport report;
  report.overall = ToRate(counts.overall);
  report.by_level = Rates(counts.by_level);
  report.by_grade = Rates(counts.by_grade);
  report.by_persona = Rates(counts.by_persona);
  report.by_content_key = Rates(counts.by_content_key);
  report.not_accepted_by_reason = counts.not_accepted_by_reason;
  for (const auto& [rule, with] : counts.by_rule) {
    RuleQuality q;
    q.rule = rule;
    q.fired = ToRate(with);
    q.not_fired =
        WilsonRate(counts.overall.accepted - with.accepted, counts.overall.total - with.total);
    if (q.fired.total > 0 && q.not_fired.total > 0 && q.not_fired.rate > 0) {
      q.lift = q.fired.rate / q.not_fired.rate;
    }
    report.by_rule.push_back(std::move(q));
  }
  return report;
}

QualityReport BuildQualityReport(absl::Span<const Verdict> verdicts) {
  return ReportFromCounts(CountVerdicts(verdicts));
}

bool OutcomeFromName(absl::string_view name, Outcome* outcome) {
  static const std::pair<absl::string_view, Outcome> kNames[] = {
      {"ACCEPTED", Outcome::kAccepted}, {"REJECTED", Outcome::kRejected},
      {"RECYCLED", Outcome::kRecycled}, {"OPPORTUNITY", Outcome::kOpportunity},
      {"WON", Outcome::kWon},           {"LOST", Outcome::kLost}};
  for (const auto& [n, o] : kNames) {
    if (n == name) {
      *outcome = o;
      return true;
    }
  }
  return false;
}

}  // namespace accord::registry::feedback
