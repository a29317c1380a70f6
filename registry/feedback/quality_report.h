#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "absl/types/span.h"

// The arithmetic of the quality report (issue 18): which leads sales accepted, counted by what
// Accord scored at hand-off, each rate with its 95 % Wilson interval and its sample size, and
// for each rule its lift (acceptance when it fired against when it did not). Plain data in,
// plain data out: the store that keeps verdicts and the API that serves the report are built
// on it. docs/feedback.md says how leads and verdicts are counted.
namespace accord::registry::feedback {

// A verdict's kind: sales' decision on a handed-over lead, then what became of it.
enum class Outcome { kAccepted, kRejected, kRecycled, kOpportunity, kWon, kLost };

// Accepted, or an outcome that follows acceptance (an opportunity, won or lost).
bool CountsAsAccepted(Outcome outcome);

// What Accord scored at hand-off, as it is kept with a verdict.
struct ScoredAtHandoff {
  std::string level;                      // "MQL", ...
  std::string grade;                      // "A", ...
  std::string persona;                    // the best persona's id; empty: none matched
  std::vector<std::string> rules_fired;   // the rules with points (reasons), each once
  std::vector<std::string> content_keys;  // "webinar_attended:asset=roi-guide", each once
};

// One verdict on one lead, in the order they were recorded.
struct Verdict {
  std::string lead_id;
  Outcome outcome = Outcome::kAccepted;
  std::string reason_code;  // rejected and recycled: from the journey's taxonomy
  ScoredAtHandoff scored;
};

// A share with its 95 % Wilson score interval: `accepted` of `total`.
struct Rate {
  int64_t accepted = 0;
  int64_t total = 0;
  double rate = 0;  // accepted / total; 0 when total is 0
  double low = 0;   // the interval; [0, 1] when total is 0
  double high = 1;
};

// `accepted` of `total` (0 <= accepted <= total) with Wilson's interval at z (1.96 for 95 %).
Rate WilsonRate(int64_t accepted, int64_t total, double z = 1.959963984540054);

struct RuleQuality {
  std::string rule;
  Rate fired;      // leads the rule fired for
  Rate not_fired;  // the other leads
  // fired.rate / not_fired.rate; absent when either side has no leads or not_fired.rate is 0.
  std::optional<double> lift;
};

struct QualityReport {
  Rate overall;
  std::map<std::string, Rate> by_level;
  std::map<std::string, Rate> by_grade;
  std::map<std::string, Rate> by_persona;      // "" : no persona
  std::map<std::string, Rate> by_content_key;  // leads whose engagement had the key
  std::vector<RuleQuality> by_rule;            // every rule that fired for some lead, by name
  // Of the leads not accepted: how many had each reason code.
  std::map<std::string, int64_t> not_accepted_by_reason;
};

// Leads, and accepted leads among them.
struct Count {
  int64_t total = 0;
  int64_t accepted = 0;
};

// What a report is made from: leads counted by what was scored at hand-off. Each lead counts
// once, with its last verdict: accepted when that verdict counts as accepted (an accepted lead
// later lost stays accepted), and by what was scored at that verdict's hand-off. A lead counts
// once per rule that fired and per content key, however often they were named.
struct QualityCounts {
  Count overall;
  std::map<std::string, Count> by_level;
  std::map<std::string, Count> by_grade;
  std::map<std::string, Count> by_persona;
  std::map<std::string, Count> by_content_key;
  std::map<std::string, Count> by_rule;
  std::map<std::string, int64_t> not_accepted_by_reason;
};

// The rates, intervals and lifts of `counts`: the one place they are computed, whoever counted
// (CountVerdicts below, or the counters a store keeps as verdicts arrive:
// VerdictStore::CountVerdicts).
QualityReport ReportFromCounts(const QualityCounts& counts);

// Counts `verdicts` (in the order they were recorded) in memory.
QualityCounts CountVerdicts(absl::Span<const Verdict> verdicts);

// ReportFromCounts(CountVerdicts(verdicts)).
QualityReport BuildQualityReport(absl::Span<const Verdict> verdicts);

// ACCEPTED, REJECTED, RECYCLED, OPPORTUNITY, WON, LOST: the outcome, or false for another name.
bool OutcomeFromName(absl::string_view name, Outcome* outcome);

}  // namespace accord::registry::feedback
