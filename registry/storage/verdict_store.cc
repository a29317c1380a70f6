#include "registry/storage/verdict_store.h"

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

int64_t RecordedMicros(const records::StoredVerdict& verdict) {
  return google::protobuf::util::TimeUtil::TimestampToMicroseconds(verdict.recorded_at());
}

}  // namespace accord::registry
