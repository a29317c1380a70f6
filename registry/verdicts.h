#pragma once

#include <string>

#include "absl/status/statusor.h"

#include "accord/registry/v1/registry.pb.h"
#include "common/auth.h"
#include "common/clock.h"
#include "registry/feedback/verdict_limits.h"
#include "registry/registry.h"
#include "registry/storage/verdict_store.h"

// The registry's side of sales' verdicts (docs/feedback.md): storing the verdicts the scoring
// service derived (it alone may: role scorer), listing them, the quality report, and a lead's
// erasure, audited. Blocking (store I/O): call from an executor. Thread-safe.
namespace accord::registry {

using feedback::kMaxVerdictsPerCall;

class Verdicts final {
 public:
  Verdicts(VerdictStore& store, Registry& registry, const Clock& clock)
      : store_(store), registry_(registry), clock_(clock) {}

  // INVALID_ARGUMENT with field paths (verdicts[i].lead_id...) for a malformed verdict;
  // ALREADY_EXISTS (VERDICT_ID_REUSED) for an id recorded with other content; all or none.
  absl::StatusOr<v1::StoreVerdictsResponse> StoreVerdicts(const v1::StoreVerdictsRequest& request);
  absl::StatusOr<v1::ListVerdictsResponse> ListVerdicts(const v1::ListVerdictsRequest& request);
  absl::StatusOr<v1::QualityReport> GetQualityReport(const v1::GetQualityReportRequest& request);
  // Erases the verdicts, then records the erasure in the audit log (the lead id as its SHA-256,
  // so the log does not keep what was erased).
  absl::StatusOr<v1::EraseLeadVerdictsResponse> EraseLeadVerdicts(
      const Principal& caller, const v1::EraseLeadVerdictsRequest& request);

 private:
  // The quality commitments of the namespace's published SLAs, counted from `counts`.
  absl::Status AddSlaQuality(const std::string& ns, const feedback::QualityCounts& counts,
                             v1::QualityReport& out);

  VerdictStore& store_;
  Registry& registry_;
  const Clock& clock_;
};

// A verdict as stored, from the API's, and back.
records::StoredVerdict StoredVerdictOf(const std::string& namespace_id, const v1::Verdict& verdict);
v1::Verdict VerdictOf(const records::StoredVerdict& stored);

}  // namespace accord::registry
