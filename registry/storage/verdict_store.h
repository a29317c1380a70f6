#pragma once

#include <cstdint>
#include <string>
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
  // The namespace's verdicts recorded in [from, to), in the order they were recorded.
  virtual absl::StatusOr<std::vector<records::StoredVerdict>> ListVerdicts(
      const std::string& namespace_id, absl::Time from, absl::Time to) = 0;
  // Erases every verdict of `lead_id` in the namespace (a GDPR erasure): how many were.
  virtual absl::StatusOr<int64_t> EraseLeadVerdicts(const std::string& namespace_id,
                                                    const std::string& lead_id) = 0;
  // Deletes the verdicts recorded before `cutoff` (retention): how many were.
  virtual absl::StatusOr<int64_t> DeleteVerdictsBefore(absl::Time cutoff) = 0;
};

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
