#include "scoring/scoring_service.h"

#include "absl/strings/str_cat.h"

#include "common/call_scope.h"
#include "common/status.h"
#include "scoring/serving.h"
#include "scoring/shadow.h"
#include "scoring/verdicts.h"

namespace accord::scoring {
namespace {

constexpr absl::string_view kPrefix = "/accord.scoring.v1.Scoring/";

// The bytes of a received message in one piece; `slice` keeps them alive.
absl::Status Contiguous(const grpc::ByteBuffer& buffer, grpc::Slice* slice,
                        absl::string_view* bytes) {
  if (!buffer.TrySingleSlice(slice).ok() && !buffer.DumpToSingleSlice(slice).ok()) {
    return absl::InternalError("the request could not be read");
  }
  *bytes = absl::string_view(reinterpret_cast<const char*>(slice->begin()), slice->size());
  return absl::OkStatus();
}

// Hands `bytes` to gRPC as they are, not copied.
void WriteTo(std::unique_ptr<std::string> bytes, grpc::ByteBuffer* buffer) {
  std::string* owned = bytes.release();
  grpc::Slice slice(
      owned->data(), owned->size(), [](void* p) { delete static_cast<std::string*>(p); }, owned);
  grpc::ByteBuffer message(&slice, 1);
  buffer->Swap(&message);
}

}  // namespace

namespace {

// Reads a request, scores its leads, writes the scores, reads the next: one message in flight,
// so a slow reader slows the writer instead of growing a queue.
class ScoreStream final : public grpc::ServerBidiReactor<grpc::ByteBuffer, grpc::ByteBuffer> {
 public:
  ScoreStream(Scorer& scorer, absl::Status auth) : scoring_(scorer) {
    if (!auth.ok()) {
      Finish(ToGrpcStatus(auth));
      return;
    }
    StartRead(&request_);
  }

  void OnReadDone(bool ok) override {
    if (!ok) {
      Finish(grpc::Status::OK);  // the client finished sending
      return;
    }
    grpc::Slice slice;
    absl::string_view bytes;
    absl::Status status = Contiguous(request_, &slice, &bytes);
    auto out = std::make_unique<std::string>();
    if (status.ok()) {
      status = scoring_.Score(bytes, *out);
    }
    if (!status.ok()) {
      Finish(ToGrpcStatus(status));
      return;
    }
    WriteTo(std::move(out), &response_);
    StartWrite(&response_);
  }
  void OnWriteDone(bool ok) override {
    if (!ok) {
      Finish(grpc::Status(grpc::StatusCode::CANCELLED, "the client went away"));
      return;
    }
    StartRead(&request_);
  }
  void OnDone() override { delete this; }

 private:
  StreamScoring scoring_;
  grpc::ByteBuffer request_;
  grpc::ByteBuffer response_;
};

// Reads a period's leads and answers with the SLA report when the client finishes sending.
class SlaReportStream final : public grpc::ServerReadReactor<sv1::ReportSlaRequest> {
 public:
  SlaReportStream(Scorer& scorer, sv1::SlaReport* response, absl::Status auth)
      : scorer_(scorer), response_(response) {
    if (!auth.ok()) {
      Finish(ToGrpcStatus(auth));
      return;
    }
    StartRead(&request_);
  }

  void OnReadDone(bool ok) override {
    if (!ok) {
      if (state_.tally == nullptr) {
        Finish(ToGrpcStatus(InvalidField("leads", "send at least one message")));
        return;
      }
      *response_ = state_.tally->Report();
      Finish(grpc::Status::OK);
      return;
    }
    if (state_.tally == nullptr) {
      absl::StatusOr<Scorer::SlaReportState> started = scorer_.StartSlaReport(request_);
      if (!started.ok()) {
        Finish(ToGrpcStatus(started.status()));
        return;
      }
      state_ = *std::move(started);
    }
    for (int i = 0; i < request_.leads_size(); ++i) {
      if (absl::Status s = scorer_.CheckLead(request_.leads(i),
                                             absl::StrCat("messages[", index_, "].leads[", i, "]"));
          !s.ok()) {
        Finish(ToGrpcStatus(s));
        return;
      }
      state_.tally->Add(request_.leads(i));
    }
    ++index_;
    StartRead(&request_);
  }
  void OnDone() override { delete this; }

 private:
  Scorer& scorer_;
  sv1::SlaReport* response_;
  sv1::ReportSlaRequest request_;
  Scorer::SlaReportState state_;
  int64_t index_ = 0;
};

}  // namespace

grpc::ServerReadReactor<sv1::ReportSlaRequest>* ScoringServiceImpl::ReportSla(
    grpc::CallbackServerContext* context, sv1::SlaReport* response) {
  absl::StatusOr<Principal> principal =
      authorizer_.Authorize(*context, absl::StrCat(kPrefix, "ReportSla"));
  return new SlaReportStream(scorer_, response, principal.status());
}

template <typename Request, typename Response, typename Fn>
grpc::ServerUnaryReactor* ScoringServiceImpl::Unary(grpc::CallbackServerContext* context,
                                                    absl::string_view method,
                                                    const Request* request, Response* response,
                                                    Fn fn) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  absl::StatusOr<Principal> principal =
      authorizer_.Authorize(*context, absl::StrCat(kPrefix, method));
  // Work deep inside the call (compiling a proposed definition) stops with the call.
  CallScope scope(absl::FromChrono(context->deadline()),
                  [context] { return context->IsCancelled(); });
  absl::StatusOr<Response> result = principal.ok() ? fn(*request) : principal.status();
  if (result.ok()) {
    *response = *std::move(result);
  }
  reactor->Finish(ToGrpcStatus(result.status()));
  return reactor;
}

grpc::ServerUnaryReactor* ScoringServiceImpl::ScoreUnary(grpc::CallbackServerContext* context,
                                                         absl::string_view method,
                                                         const grpc::ByteBuffer& request,
                                                         bool single, grpc::ByteBuffer* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  absl::Status status = authorizer_.Authorize(*context, absl::StrCat(kPrefix, method)).status();
  grpc::Slice slice;
  absl::string_view bytes;
  if (status.ok()) {
    status = Contiguous(request, &slice, &bytes);
  }
  if (status.ok()) {
    auto out = std::make_unique<std::string>();
    status = ScoreRequest(scorer_, bytes, single, *out);
    if (status.ok()) {
      WriteTo(std::move(out), response);
    }
  }
  reactor->Finish(ToGrpcStatus(status));
  return reactor;
}

grpc::ServerUnaryReactor* ScoringServiceImpl::ScoreLead(grpc::CallbackServerContext* context,
                                                        const grpc::ByteBuffer* request,
                                                        grpc::ByteBuffer* response) {
  return ScoreUnary(context, "ScoreLead", *request, true, response);
}

grpc::ServerUnaryReactor* ScoringServiceImpl::BatchScoreLeads(grpc::CallbackServerContext* context,
                                                              const grpc::ByteBuffer* request,
                                                              grpc::ByteBuffer* response) {
  return ScoreUnary(context, "BatchScoreLeads", *request, false, response);
}

grpc::ServerUnaryReactor* ScoringServiceImpl::MatchPersona(grpc::CallbackServerContext* context,
                                                           const sv1::MatchPersonaRequest* request,
                                                           sv1::MatchPersonaResponse* response) {
  return Unary(context, "MatchPersona", request, response,
               [this](const auto& r) { return scorer_.MatchPersona(r); });
}

grpc::ServerUnaryReactor* ScoringServiceImpl::EvaluateJourney(
    grpc::CallbackServerContext* context, const sv1::EvaluateJourneyRequest* request,
    sv1::JourneyEvaluation* response) {
  return Unary(context, "EvaluateJourney", request, response,
               [this](const auto& r) { return scorer_.EvaluateJourney(r); });
}

grpc::ServerUnaryReactor* ScoringServiceImpl::CheckTransition(
    grpc::CallbackServerContext* context, const sv1::CheckTransitionRequest* request,
    sv1::CheckTransitionResponse* response) {
  return Unary(context, "CheckTransition", request, response,
               [this](const auto& r) { return scorer_.CheckTransition(r); });
}

grpc::ServerUnaryReactor* ScoringServiceImpl::EvaluateSla(grpc::CallbackServerContext* context,
                                                          const sv1::EvaluateSlaRequest* request,
                                                          sv1::EvaluateSlaResponse* response) {
  return Unary(context, "EvaluateSla", request, response,
               [this](const auto& r) { return scorer_.EvaluateSla(r); });
}

grpc::ServerUnaryReactor* ScoringServiceImpl::PreviewDefinition(
    grpc::CallbackServerContext* context, const sv1::PreviewDefinitionRequest* request,
    sv1::PreviewDefinitionResponse* response) {
  return Unary(context, "PreviewDefinition", request, response,
               [this](const auto& r) { return scorer_.PreviewDefinition(r); });
}

grpc::ServerUnaryReactor* ScoringServiceImpl::ScoreAccount(grpc::CallbackServerContext* context,
                                                           const grpc::ByteBuffer* request,
                                                           grpc::ByteBuffer* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  absl::Status status =
      authorizer_.Authorize(*context, absl::StrCat(kPrefix, "ScoreAccount")).status();
  grpc::Slice slice;
  absl::string_view bytes;
  if (status.ok()) {
    status = Contiguous(*request, &slice, &bytes);
  }
  if (status.ok()) {
    auto out = std::make_unique<std::string>();
    status = ScoreAccountRequest(scorer_, bytes, *out);
    if (status.ok()) {
      WriteTo(std::move(out), response);
    }
  }
  reactor->Finish(ToGrpcStatus(status));
  return reactor;
}

grpc::ServerUnaryReactor* ScoringServiceImpl::BatchScoreAccounts(
    grpc::CallbackServerContext* context, const sv1::BatchScoreAccountsRequest* request,
    sv1::BatchScoreAccountsResponse* response) {
  return Unary(context, "BatchScoreAccounts", request, response,
               [this](const auto& r) { return scorer_.BatchScoreAccounts(r); });
}

grpc::ServerUnaryReactor* ScoringServiceImpl::ExplainScoreChange(
    grpc::CallbackServerContext* context, const sv1::ExplainScoreChangeRequest* request,
    sv1::ExplainScoreChangeResponse* response) {
  return Unary(context, "ExplainScoreChange", request, response,
               [this](const auto& r) { return scorer_.ExplainScoreChange(r); });
}

grpc::ServerBidiReactor<grpc::ByteBuffer, grpc::ByteBuffer>* ScoringServiceImpl::StreamScoreLeads(
    grpc::CallbackServerContext* context) {
  absl::StatusOr<Principal> principal =
      authorizer_.Authorize(*context, absl::StrCat(kPrefix, "StreamScoreLeads"));
  return new ScoreStream(scorer_, principal.status());
}

}  // namespace accord::scoring

namespace accord::scoring {

grpc::ServerUnaryReactor* ScoringServiceImpl::RecordVerdicts(
    grpc::CallbackServerContext* context, const sv1::RecordVerdictsRequest* request,
    sv1::RecordVerdictsResponse* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  absl::StatusOr<Principal> principal =
      authorizer_.Authorize(*context, absl::StrCat(kPrefix, "RecordVerdicts"));
  if (!principal.ok()) {
    reactor->Finish(ToGrpcStatus(principal.status()));
    return reactor;
  }
  if (!store_verdicts_) {
    reactor->Finish(ToGrpcStatus(ErrorWithReason(
        absl::StatusCode::kFailedPrecondition, "NO_VERDICT_STORE",
        "this scoring service stores no verdicts (it has no registry to store them in)")));
    return reactor;
  }
  const absl::Time deadline = absl::FromChrono(context->deadline());
  absl::StatusOr<rv1::StoreVerdictsRequest> derived;
  {
    CallScope scope(deadline, [context] { return context->IsCancelled(); });
    derived = DeriveVerdicts(scorer_, *request, principal->name);
  }
  if (!derived.ok()) {
    reactor->Finish(ToGrpcStatus(derived.status()));
    return reactor;
  }
  auto verdicts = std::make_shared<rv1::StoreVerdictsRequest>(*std::move(derived));
  store_verdicts_(*verdicts, deadline,
                  [reactor, response, verdicts](absl::StatusOr<rv1::StoreVerdictsResponse> stored) {
                    if (stored.ok()) {
                      for (int i = 0; i < verdicts->verdicts_size(); ++i) {
                        rv1::Verdict* v = response->add_verdicts();
                        *v = verdicts->verdicts(i);
                        *v->mutable_record_time() = stored->record_time();
                        response->add_recorded(i < stored->recorded_size() && stored->recorded(i));
                      }
                    }
                    reactor->Finish(ToGrpcStatus(stored.status()));
                  });
  return reactor;
}

grpc::ServerUnaryReactor* ScoringServiceImpl::GetShadowReport(
    grpc::CallbackServerContext* context, const sv1::GetShadowReportRequest* request,
    sv1::ShadowReport* response) {
  return Unary(context, "GetShadowReport", request, response,
               [this](const sv1::GetShadowReportRequest& r) -> absl::StatusOr<sv1::ShadowReport> {
                 const std::string ns = r.namespace_().empty() ? "default" : r.namespace_();
                 ShadowScorer* shadow = scorer_.shadow();
                 if (shadow == nullptr || !shadow->Shadows(ns)) {
                   return ErrorWithReason(absl::StatusCode::kFailedPrecondition, "SHADOW_OFF",
                                          absl::StrCat("shadow scoring is off for namespace ", ns,
                                                       " (accord-scoring --shadow_namespaces)"));
                 }
                 return shadow->Report(ns);
               });
}

}  // namespace accord::scoring
