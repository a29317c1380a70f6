#pragma once

#include <functional>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

#include "accord/registry/v1/registry.pb.h"
#include "accord/scoring/v1/scoring.grpc.pb.h"
#include "common/call_auth.h"
#include "scoring/scorer.h"
#include "scoring/serving.h"

namespace accord::scoring {

// The scoring methods (and ScoreAccount) take their requests as bytes (decoded into a LeadSet,
// never into Lead messages) and write their response bytes themselves; the others are typed.
using ScoringBase = sv1::Scoring::WithRawCallbackMethod_ScoreLead<
    sv1::Scoring::WithRawCallbackMethod_BatchScoreLeads<
        sv1::Scoring::WithRawCallbackMethod_StreamScoreLeads<
            sv1::Scoring::WithCallbackMethod_MatchPersona<
                sv1::Scoring::WithCallbackMethod_EvaluateJourney<
                    sv1::Scoring::WithCallbackMethod_CheckTransition<
                        sv1::Scoring::WithCallbackMethod_EvaluateSla<
                            sv1::Scoring::WithCallbackMethod_ReportSla<
                                sv1::Scoring::WithCallbackMethod_PreviewDefinition<
                                    sv1::Scoring::WithRawCallbackMethod_ScoreAccount<
                                        sv1::Scoring::WithCallbackMethod_BatchScoreAccounts<
                                            sv1::Scoring::WithCallbackMethod_ExplainScoreChange<
                                                sv1::Scoring::WithCallbackMethod_RecordVerdicts<
                                                    sv1::Scoring::
                                                        WithCallbackMethod_GetShadowReport<
                                                            sv1::Scoring::Service>>>>>>>>>>>>>>;

// The gRPC adapter of scoring: authorizes each call and scores inline on the reactor (the work
// is bounded: at most 1000 leads per message, pure CPU, no I/O).
class ScoringServiceImpl final : public ScoringBase {
 public:
  ScoringServiceImpl(Scorer& scorer, const CallAuthorizer& authorizer)
      : scorer_(scorer), authorizer_(authorizer) {}

  // Stores derived verdicts in the registry without blocking: `done` is called once, from any
  // thread, with the registry's answer. `deadline` is the caller's.
  using StoreVerdictsFn =
      std::function<void(const rv1::StoreVerdictsRequest& request, absl::Time deadline,
                         std::function<void(absl::StatusOr<rv1::StoreVerdictsResponse>)> done)>;
  // Where RecordVerdicts stores; without it, RecordVerdicts is FAILED_PRECONDITION. Call before
  // serving.
  void SetVerdictStore(StoreVerdictsFn store) { store_verdicts_ = std::move(store); }

  // accord::scoring::v1::Scoring::CallbackService
  grpc::ServerUnaryReactor* ScoreLead(grpc::CallbackServerContext* context,
                                      const grpc::ByteBuffer* request,
                                      grpc::ByteBuffer* response) override;
  grpc::ServerUnaryReactor* BatchScoreLeads(grpc::CallbackServerContext* context,
                                            const grpc::ByteBuffer* request,
                                            grpc::ByteBuffer* response) override;
  grpc::ServerBidiReactor<grpc::ByteBuffer, grpc::ByteBuffer>* StreamScoreLeads(
      grpc::CallbackServerContext* context) override;
  grpc::ServerUnaryReactor* MatchPersona(grpc::CallbackServerContext* context,
                                         const sv1::MatchPersonaRequest* request,
                                         sv1::MatchPersonaResponse* response) override;
  grpc::ServerUnaryReactor* EvaluateJourney(grpc::CallbackServerContext* context,
                                            const sv1::EvaluateJourneyRequest* request,
                                            sv1::JourneyEvaluation* response) override;
  grpc::ServerUnaryReactor* CheckTransition(grpc::CallbackServerContext* context,
                                            const sv1::CheckTransitionRequest* request,
                                            sv1::CheckTransitionResponse* response) override;
  grpc::ServerUnaryReactor* EvaluateSla(grpc::CallbackServerContext* context,
                                        const sv1::EvaluateSlaRequest* request,
                                        sv1::EvaluateSlaResponse* response) override;
  grpc::ServerReadReactor<sv1::ReportSlaRequest>* ReportSla(grpc::CallbackServerContext* context,
                                                            sv1::SlaReport* response) override;
  grpc::ServerUnaryReactor* PreviewDefinition(grpc::CallbackServerContext* context,
                                              const sv1::PreviewDefinitionRequest* request,
                                              sv1::PreviewDefinitionResponse* response) override;
  // From request bytes, as ScoreLead: the members are decoded into a LeadSet, never into
  // Lead messages.
  grpc::ServerUnaryReactor* ScoreAccount(grpc::CallbackServerContext* context,
                                         const grpc::ByteBuffer* request,
                                         grpc::ByteBuffer* response) override;
  grpc::ServerUnaryReactor* BatchScoreAccounts(grpc::CallbackServerContext* context,
                                               const sv1::BatchScoreAccountsRequest* request,
                                               sv1::BatchScoreAccountsResponse* response) override;
  grpc::ServerUnaryReactor* ExplainScoreChange(grpc::CallbackServerContext* context,
                                               const sv1::ExplainScoreChangeRequest* request,
                                               sv1::ExplainScoreChangeResponse* response) override;
  // Re-scores each lead at its hand-off (scoring/verdicts.h), then stores the verdicts in the
  // registry, asynchronously: no serving thread waits for the registry.
  grpc::ServerUnaryReactor* RecordVerdicts(grpc::CallbackServerContext* context,
                                           const sv1::RecordVerdictsRequest* request,
                                           sv1::RecordVerdictsResponse* response) override;
  grpc::ServerUnaryReactor* GetShadowReport(grpc::CallbackServerContext* context,
                                            const sv1::GetShadowReportRequest* request,
                                            sv1::ShadowReport* response) override;

 private:
  // Authorizes `method`, runs `fn` inline and finishes the call.
  template <typename Request, typename Response, typename Fn>
  grpc::ServerUnaryReactor* Unary(grpc::CallbackServerContext* context, absl::string_view method,
                                  const Request* request, Response* response, Fn fn);

  // ScoreLead (`single`) or BatchScoreLeads from request bytes.
  grpc::ServerUnaryReactor* ScoreUnary(grpc::CallbackServerContext* context,
                                       absl::string_view method, const grpc::ByteBuffer& request,
                                       bool single, grpc::ByteBuffer* response);

  Scorer& scorer_;
  StoreVerdictsFn store_verdicts_;
  const CallAuthorizer& authorizer_;
};

}  // namespace accord::scoring
