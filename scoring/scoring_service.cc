#include "scoring/scoring_service.h"

#include "absl/strings/str_cat.h"

#include "common/status.h"

namespace accord::scoring {
namespace {

constexpr absl::string_view kPrefix = "/accord.scoring.v1.Scoring/";

// Reads a request, scores its leads, writes the scores, reads the next: one message in flight,
// so a slow reader slows the writer instead of growing a queue.
class ScoreStream final
    : public grpc::ServerBidiReactor<sv1::StreamScoreLeadsRequest, sv1::StreamScoreLeadsResponse> {
 public:
  ScoreStream(Scorer& scorer, absl::Status auth) : scorer_(scorer) {
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
    absl::Status status = Handle();
    if (!status.ok()) {
      Finish(ToGrpcStatus(status));
      return;
    }
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
  absl::Status Handle() {
    response_.Clear();
    if (snapshot_ == nullptr || request_.has_selector()) {
      snapshot_ = scorer_.Current();
      if (snapshot_ == nullptr) {
        return absl::UnavailableError("no definitions loaded yet");
      }
      if (request_.has_selector()) {
        selector_ = request_.selector();
      }
      ACCORD_ASSIGN_OR_RETURN(evaluation_, scorer_.Resolve(*snapshot_, selector_, "selector"));
    }
    if (request_.leads_size() > Scorer::kMaxBatch) {
      return InvalidField(absl::StrCat("messages[", index_, "].leads"),
                          absl::StrCat("at most ", Scorer::kMaxBatch, " leads per message"));
    }
    for (int i = 0; i < request_.leads_size(); ++i) {
      ACCORD_RETURN_IF_ERROR(scorer_.CheckLead(
          request_.leads(i), absl::StrCat("messages[", index_, "].leads[", i, "]")));
    }
    const absl::Time as_of = scorer_.AsOf(request_.as_of());
    evaluation_.reasons = request_.view() != sv1::BASIC;
    for (const sv1::Lead& lead : request_.leads()) {
      ScoreInto(evaluation_, lead, as_of, response_.add_scores());
    }
    ++index_;
    return absl::OkStatus();
  }

  Scorer& scorer_;
  sv1::StreamScoreLeadsRequest request_;
  sv1::StreamScoreLeadsResponse response_;
  // The snapshot stays the same for the whole stream unless a message changes the selector,
  // so one stream's scores come from one set of revisions.
  std::shared_ptr<const Snapshot> snapshot_;
  sv1::Selector selector_;
  Evaluation evaluation_;
  int64_t index_ = 0;
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
  absl::StatusOr<Response> result = principal.ok() ? fn(*request) : principal.status();
  if (result.ok()) {
    *response = *std::move(result);
  }
  reactor->Finish(ToGrpcStatus(result.status()));
  return reactor;
}

grpc::ServerUnaryReactor* ScoringServiceImpl::ScoreLead(grpc::CallbackServerContext* context,
                                                        const sv1::ScoreLeadRequest* request,
                                                        sv1::LeadScore* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  absl::StatusOr<Principal> principal =
      authorizer_.Authorize(*context, absl::StrCat(kPrefix, "ScoreLead"));
  reactor->Finish(ToGrpcStatus(principal.ok() ? scorer_.ScoreLeadInto(*request, response)
                                              : principal.status()));
  return reactor;
}

grpc::ServerUnaryReactor* ScoringServiceImpl::BatchScoreLeads(
    grpc::CallbackServerContext* context, const sv1::BatchScoreLeadsRequest* request,
    sv1::BatchScoreLeadsResponse* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  absl::StatusOr<Principal> principal =
      authorizer_.Authorize(*context, absl::StrCat(kPrefix, "BatchScoreLeads"));
  reactor->Finish(ToGrpcStatus(principal.ok() ? scorer_.BatchScoreLeadsInto(*request, response)
                                              : principal.status()));
  return reactor;
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

grpc::ServerBidiReactor<sv1::StreamScoreLeadsRequest, sv1::StreamScoreLeadsResponse>*
ScoringServiceImpl::StreamScoreLeads(grpc::CallbackServerContext* context) {
  absl::StatusOr<Principal> principal =
      authorizer_.Authorize(*context, absl::StrCat(kPrefix, "StreamScoreLeads"));
  return new ScoreStream(scorer_, principal.status());
}

}  // namespace accord::scoring
