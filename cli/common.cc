#include "cli/common.h"

#include <iostream>

#include "google/protobuf/util/time_util.h"

namespace accord::cli {

// Exit codes: 0 ok, 1 the server or the input said no, 2 usage.
int Fail(const absl::Status& status) {
  std::cerr << "error: " << absl::StatusCodeToString(status.code()) << ": " << status.message()
            << "\n";
  for (const auto& v : FieldViolations(status)) {
    std::cerr << "  " << v.field << ": " << v.description << "\n";
  }
  std::string reason = ErrorReason(status);
  if (!reason.empty()) {
    std::cerr << "  reason: " << reason << "\n";
  }
  return 1;
}

ScoringTarget ScoringTargetOf(const Globals& g) {
  return {g.scoring_server.empty() ? g.server : g.scoring_server, g.token, g.timeout_seconds};
}

std::unique_ptr<sv1::Scoring::Stub> ScoringStub(const ScoringTarget& t) {
  return sv1::Scoring::NewStub(grpc::CreateChannel(t.server, grpc::InsecureChannelCredentials()));
}

void AddAuth(grpc::ClientContext& ctx, const ScoringTarget& t) {
  if (!t.token.empty()) {
    ctx.AddMetadata("authorization", "Bearer " + t.token);
  }
}

void Prepare(grpc::ClientContext& ctx, const ScoringTarget& t) {
  AddAuth(ctx, t);
  ctx.set_deadline(std::chrono::system_clock::now() +
                   std::chrono::milliseconds(static_cast<int64_t>(t.timeout_seconds * 1000)));
}

absl::Status FillRequest(const ScoreOptions& o, sv1::Selector* selector,
                         google::protobuf::Timestamp* as_of) {
  selector->set_namespace_(o.ns);
  selector->set_model(o.model);
  if (!o.as_of.empty() && !google::protobuf::util::TimeUtil::FromString(o.as_of, as_of)) {
    return InvalidField("--as-of", "must be an RFC 3339 time such as 2026-11-01T12:00:00Z");
  }
  return absl::OkStatus();
}

std::string ShortName(const std::string& full) { return full.substr(full.rfind('/') + 1); }

}  // namespace accord::cli
