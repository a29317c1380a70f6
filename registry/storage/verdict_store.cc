#include "registry/storage/verdict_store.h"

#include <set>

#include "absl/strings/str_cat.h"
#include "google/protobuf/util/message_differencer.h"
#include "google/protobuf/util/time_util.h"

#include "common/status.h"

namespace accord::registry {

bool SameVerdict(const records::StoredVerdict& stored, const records::StoredVerdict& incoming) {
  records::StoredVerdict a = stored;
  records::StoredVerdict b = incoming;
  a.clear_recorded_at();
  b.clear_recorded_at();
  return google::protobuf::util::MessageDifferencer::Equals(a, b);
}

absl::Status CheckVerdictRetry(const records::StoredVerdict& stored,
                               const records::StoredVerdict& incoming) {
  if (SameVerdict(stored, incoming)) {
    return absl::OkStatus();
  }
  return ErrorWithReason(
      absl::StatusCode::kAlreadyExists, "VERDICT_ID_REUSED",
      absl::StrCat("verdict ", incoming.verdict_id(), " was recorded with other content"),
      {{"verdict_id", incoming.verdict_id()}});
}

feedback::Verdict ReportVerdict(const records::StoredVerdict& verdict) {
  feedback::Verdict out;
  out.lead_id = verdict.lead_id();
  if (!feedback::OutcomeFromName(verdict.outcome(), &out.outcome)) {
    out.outcome = feedback::Outcome::kRejected;  // an unknown outcome is not an acceptance
  }
  out.reason_code = verdict.reason_code();
  out.scored.level = verdict.level();
  out.scored.grade = verdict.grade();
  out.scored.persona = verdict.persona();
  out.scored.rules_fired.assign(verdict.rules_fired().begin(), verdict.rules_fired().end());
  out.scored.content_keys.assign(verdict.content_keys().begin(), verdict.content_keys().end());
  return out;
}

namespace {

constexpr int64_t kMicrosPerDay = 86'400'000'000;

// Dimensions: 0 every lead, 1 level, 2 grade, 3 persona, 4 reason of the leads not accepted,
// 5 rule fired, 6 content key.
std::vector<std::pair<int64_t, std::string>> Keys(const records::StoredVerdict& v, bool accepted) {
  std::vector<std::pair<int64_t, std::string>> keys = {
      {0, ""}, {1, v.level()}, {2, v.grade()}, {3, v.persona()}};
  if (!accepted) {
    keys.emplace_back(4, v.reason_code());
  }
  std::set<std::string> rules(v.rules_fired().begin(), v.rules_fired().end());
  for (const std::string& rule : rules) {
    keys.emplace_back(5, rule);
  }
  std::set<std::string> content(v.content_keys().begin(), v.content_keys().end());
  for (const std::string& key : content) {
    keys.emplace_back(6, key);
  }
  return keys;
}

}  // namespace

int64_t DayOfMicros(int64_t micros) {
  return micros / kMicrosPerDay - (micros % kMicrosPerDay < 0 ? 1 : 0);
}

void CounterPlan::Count(const std::string& namespace_id, const records::StoredVerdict& verdict,
                        int sign) {
  feedback::Outcome outcome;
  const bool accepted =
      feedback::OutcomeFromName(verdict.outcome(), &outcome) && feedback::CountsAsAccepted(outcome);
  const int64_t day = DayOfMicros(RecordedMicros(verdict));
  for (auto& [dimension, key] : Keys(verdict, accepted)) {
    auto& [total, accepted_count] = deltas_[{namespace_id, day, dimension, std::move(key)}];
    total += sign;
    accepted_count += accepted ? sign : 0;
  }
}

void CounterPlan::Add(int64_t row, const records::StoredVerdict& verdict) {
  const Lead lead{verdict.namespace_id(), verdict.lead_id()};
  const int64_t at = RecordedMicros(verdict);
  auto it = latest_.find(lead);
  if (it != latest_.end()) {
    if (std::make_pair(it->second.recorded_at, it->second.row) > std::make_pair(at, row)) {
      return;  // an older verdict: the lead stays counted under its latest
    }
    Count(lead.first, it->second.verdict, -1);
  }
  Count(lead.first, verdict, +1);
  latest_[lead] = Latest{row, at, verdict};
  changed_[lead] = true;
}

void CounterPlan::Remove(const Lead& lead) {
  auto it = latest_.find(lead);
  if (it == latest_.end()) {
    return;
  }
  Count(lead.first, it->second.verdict, -1);
  latest_.erase(it);
  changed_[lead] = false;
}

std::vector<std::tuple<std::string, std::string, int64_t, int64_t>> CounterPlan::LatestChanges()
    const {
  std::vector<std::tuple<std::string, std::string, int64_t, int64_t>> out;
  for (const auto& [lead, is_new] : changed_) {
    if (is_new) {
      const Latest& l = latest_.at(lead);
      out.emplace_back(lead.first, lead.second, l.row, l.recorded_at);
    }
  }
  return out;
}

std::vector<CounterPlan::Delta> CounterPlan::Deltas() const {
  std::vector<Delta> out;
  for (const auto& [key, delta] : deltas_) {
    if (delta.first != 0 || delta.second != 0) {
      const auto& [ns, day, dimension, name] = key;
      out.push_back({ns, day, dimension, name, delta.first, delta.second});
    }
  }
  return out;
}

const char* const kCountVerdictsSql =
    "SELECT CAST(dimension AS BIGINT), key, CAST(sum(total) AS BIGINT), "
    "CAST(sum(accepted) AS BIGINT) FROM verdict_counts "
    "WHERE namespace = $1 AND day >= $2 AND day < $3 "
    "GROUP BY dimension, key HAVING sum(total) > 0";

void AddCountRow(feedback::QualityCounts& counts, int64_t dimension, std::string key, int64_t total,
                 int64_t accepted) {
  const feedback::Count count{total, accepted};
  switch (dimension) {
    case 0:
      counts.overall = count;
      break;
    case 1:
      counts.by_level[std::move(key)] = count;
      break;
    case 2:
      counts.by_grade[std::move(key)] = count;
      break;
    case 3:
      counts.by_persona[std::move(key)] = count;
      break;
    case 4:
      counts.not_accepted_by_reason[std::move(key)] = total;
      break;
    case 5:
      counts.by_rule[std::move(key)] = count;
      break;
    case 6:
      counts.by_content_key[std::move(key)] = count;
      break;
  }
}

int64_t RecordedMicros(const records::StoredVerdict& verdict) {
  return google::protobuf::util::TimeUtil::TimestampToMicroseconds(verdict.recorded_at());
}

}  // namespace accord::registry
