#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

#include "accord/registry/storage/v1/records.pb.h"
#include "registry/feedback/quality_report.h"

// Sales' verdicts (issue 18), beside the definitions on the same database but in a table of
// their own: writing one takes no part in the definitions' sequence, so verdicts at lead rate
// never queue behind (or ahead of) reviews. Both stores implement it, and one conformance suite
// checks them (tests/registry/store_conformance.cc).
namespace accord::registry {

namespace records = ::accord::registry::storage::v1;

// Which of a range's verdicts ListVerdicts returns.
struct VerdictQuery {
  std::string lead_id;  // only this lead's; empty: every lead's
  int64_t offset = 0;   // skip this many
  int64_t limit = 0;    // at most this many; 0: no bound
};

// Implementations are thread-safe; UNAVAILABLE when the database cannot be reached, INTERNAL
// for corrupt rows.
class VerdictStore {
 public:
  virtual ~VerdictStore() = default;

  // Records `verdicts` in one transaction: all of them or none. A verdict whose (namespace_id,
  // verdict_id) is stored already with the same content (recorded_at aside) is a retry and is
  // not written again: recorded[i] is false for it. One stored with other content fails the
  // whole batch with ALREADY_EXISTS (reason VERDICT_ID_REUSED).
  virtual absl::StatusOr<std::vector<bool>> RecordVerdicts(
      const std::vector<records::StoredVerdict>& verdicts) = 0;
  // The namespace's verdicts recorded in [from, to), in the order they were recorded, as `query`
  // selects.
  virtual absl::StatusOr<std::vector<records::StoredVerdict>> ListVerdicts(
      const std::string& namespace_id, absl::Time from, absl::Time to,
      const VerdictQuery& query = {}) = 0;
  // Erases every verdict of `lead_id` in the namespace (a GDPR erasure): how many were.
  virtual absl::StatusOr<int64_t> EraseLeadVerdicts(const std::string& namespace_id,
                                                    const std::string& lead_id) = 0;
  // Deletes the verdicts recorded before `cutoff` rounded down to a whole day (UTC), with their
  // counts (retention): how many verdicts were deleted.
  virtual absl::StatusOr<int64_t> DeleteVerdictsBefore(absl::Time cutoff) = 0;
  // What the quality report is made of: the namespace's leads whose latest verdict was recorded
  // in [from, to), `from` rounded down and `to` up to whole days (UTC), each counted by that
  // verdict. Read from counters the store keeps as verdicts arrive (CounterPlan), so its cost
  // is the range's days, not its verdicts.
  virtual absl::StatusOr<feedback::QualityCounts> CountVerdicts(const std::string& namespace_id,
                                                                absl::Time from, absl::Time to) = 0;
};

// The counters' bookkeeping for one write (a batch of verdicts, or an erasure), the same for
// both stores. Each lead counts once, under its latest verdict (by recorded_at, then row), on
// that verdict's day: a verdict that becomes a lead's latest moves the lead's counts from the
// one before. Not thread-safe; the store serializes the writes of a namespace.
class CounterPlan {
 public:
  struct Latest {
    int64_t row = 0;
    int64_t recorded_at = 0;
    records::StoredVerdict verdict;
  };
  using Lead = std::pair<std::string, std::string>;  // namespace, lead id
  // `stored`: the latest verdict of each lead the write touches, as stored before it.
  explicit CounterPlan(std::map<Lead, Latest> stored) : latest_(std::move(stored)) {}

  // A verdict the write inserted as `row`.
  void Add(int64_t row, const records::StoredVerdict& verdict);
  // The lead's counts go (an erasure).
  void Remove(const Lead& lead);

  // Leads whose latest verdict changed: (namespace, lead id, row, recorded_at); removed leads
  // are not among them (the caller deletes their rows).
  std::vector<std::tuple<std::string, std::string, int64_t, int64_t>> LatestChanges() const;
  struct Delta {
    std::string namespace_id;
    int64_t day;
    int64_t dimension;
    std::string key;
    int64_t total;
    int64_t accepted;
  };
  // The counters to add to (non-zero deltas only).
  std::vector<Delta> Deltas() const;

 private:
  void Count(const std::string& namespace_id, const records::StoredVerdict& verdict, int sign);

  std::map<Lead, Latest> latest_;
  std::map<Lead, bool> changed_;  // true: a new latest; false: removed
  std::map<std::tuple<std::string, int64_t, int64_t, std::string>, std::pair<int64_t, int64_t>>
      deltas_;
};

// The day (UTC, days since the epoch) of a time in microseconds, rounded down.
int64_t DayOfMicros(int64_t micros);
// The counters' query both stores run ($1 namespace, $2 first day, $3 day after the last):
// rows of (dimension, key, total, accepted), given to AddCountRow.
extern const char* const kCountVerdictsSql;
void AddCountRow(feedback::QualityCounts& counts, int64_t dimension, std::string key, int64_t total,
                 int64_t accepted);

// Whether `stored` and `incoming` are the same verdict, recorded_at aside (a retry).
bool SameVerdict(const records::StoredVerdict& stored, const records::StoredVerdict& incoming);
// OK when `incoming` repeats `stored` (a retry); ALREADY_EXISTS (VERDICT_ID_REUSED, naming the
// verdict id) when the id was used for another verdict.
absl::Status CheckVerdictRetry(const records::StoredVerdict& stored,
                               const records::StoredVerdict& incoming);

// A stored verdict as the report's arithmetic takes it (feedback::CountVerdicts).
feedback::Verdict ReportVerdict(const records::StoredVerdict& verdict);

// recorded_at in microseconds since the epoch: the column verdicts are ordered and kept by.
int64_t RecordedMicros(const records::StoredVerdict& verdict);

}  // namespace accord::registry
