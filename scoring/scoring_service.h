#pragma once

#include "accord/scoring/v1/scoring.grpc.pb.h"
#include "common/arena_allocator.h"
#include "common/call_auth.h"
#include "scoring/scorer.h"

namespace accord::scoring {

// The gRPC adapter of scoring: authorizes each call and scores inline on the reactor (the work
// is bounded: at most 1000 leads per message, pure CPU, no I/O).
class ScoringServiceImpl final : public sv1::Scoring::CallbackService {
 public:
  // Scoring calls use per-call arenas for their request and response.
  ScoringServiceImpl(Scorer& scorer, const CallAuthorizer& authorizer)
      : scorer_(scorer), authorizer_(authorizer) {
    SetMessageAllocatorFor_ScoreLead(&score_allocator_);
    SetMessageAllocatorFor_BatchScoreLeads(&batch_allocator_);
  }

  // accord::scoring::v1::Scoring::CallbackService
  grpc::ServerUnaryReactor* ScoreLead(grpc::CallbackServerContext* context,
                                      const sv1::ScoreLeadRequest* request,
                                      sv1::LeadScore* response) override;
  grpc::ServerUnaryReactor* BatchScoreLeads(grpc::CallbackServerContext* context,
                                            const sv1::BatchScoreLeadsRequest* request,
                                            sv1::BatchScoreLeadsResponse* response) override;
  grpc::ServerBidiReactor<sv1::StreamScoreLeadsRequest, sv1::StreamScoreLeadsResponse>*
  StreamScoreLeads(grpc::CallbackServerContext* context) override;
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

 private:
  // Authorizes `method`, runs `fn` inline and finishes the call.
  template <typename Request, typename Response, typename Fn>
  grpc::ServerUnaryReactor* Unary(grpc::CallbackServerContext* context, absl::string_view method,
                                  const Request* request, Response* response, Fn fn);

  Scorer& scorer_;
  const CallAuthorizer& authorizer_;
  ArenaMessageAllocator<sv1::ScoreLeadRequest, sv1::LeadScore> score_allocator_;
  ArenaMessageAllocator<sv1::BatchScoreLeadsRequest, sv1::BatchScoreLeadsResponse> batch_allocator_;
};

}  // namespace accord::scoring
