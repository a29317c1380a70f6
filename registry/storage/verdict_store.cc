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

int64_t RecordedMicros(const records::StoredVerdict& verdict) {
  return google::protobuf::util::TimeUtil::TimestampToMicroseconds(verdict.recorded_at());
}

}  // namespace accord::registry
