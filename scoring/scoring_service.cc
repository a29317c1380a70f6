#include "scoring/scoring_service.h"

#include "absl/strings/str_cat.h"

#include "common/call_scope.h"
#include "common/status.h"
#include "scoring/wire/score_encoder.h"

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

// What a scoring call (or a stream's message) reuses from the last one on its thread.
struct Scratch {
  LeadSet leads;

  // Gives back what one very large request grew.
  void Trim() {
    if (leads.MemoryBytes() > (8u << 20)) {
      leads = LeadSet();
    }
  }
};

Scratch& ThreadScratch() {
  thread_local std::unique_ptr<Scratch> scratch = std::make_unique<Scratch>();
  return *scratch;
}

}  // namespace

absl::Status ScoreRequest(const Scorer& scorer, absl::string_view request, bool single,
                          std::string& out) {
  Scratch& scratch = ThreadScratch();
  scratch.leads.Clear();
  LeadRequest decoded;
  absl::Status status =
      DecodeLeadRequest(request, single, single ? "lead" : "leads", scratch.leads, &decoded);
  if (status.ok()) {
    ScoreWriter writer(single, out);
    status = scorer.ScoreLeads(scratch.leads, decoded, single,
                               [&writer](const sv1::LeadScore& score, const std::string& reasons) {
                                 writer.Add(score, reasons);
                               });
  }
  scratch.Trim();
  return status;
}

absl::Status StreamScoring::Score(absl::string_view message, std::string& out) {
  const std::string field = absl::StrCat("messages[", index_, "].leads");
  // The thread's scratch, not the stream's: many open streams hold no decoded leads.
  Scratch& scratch = ThreadScratch();
  scratch.leads.Clear();
  absl::Status status = ScoreInto(scratch.leads, message, field, out);
  scratch.Trim();
  return status;
}

absl::Status StreamScoring::ScoreInto(LeadSet& leads, absl::string_view message,
                                      const std::string& field, std::string& out) {
  LeadRequest request;
  ACCORD_RETURN_IF_ERROR(DecodeLeadRequest(message, false, field, leads, &request));
  if (snapshot_ == nullptr || request.has_selector) {
    snapshot_ = scorer_.Current();
    if (snapshot_ == nullptr) {
      return absl::UnavailableError("no definitions loaded yet");
    }
    if (request.has_selector) {
      selector_ = request.selector;
    }
    ACCORD_ASSIGN_OR_RETURN(evaluation_, scorer_.Resolve(*snapshot_, selector_, "selector"));
  }
  if (leads.size() > static_cast<size_t>(Scorer::kMaxBatch)) {
    return InvalidField(field, absl::StrCat("at most ", Scorer::kMaxBatch, " leads per message"));
  }
  ACCORD_RETURN_IF_ERROR(scorer_.CheckLeads(leads, field, false));
  const absl::Time as_of = scorer_.AsOf(request.as_of);
  evaluation_.reasons = request.view != sv1::BASIC;
  ScoreWriter writer(false, out);
  Scorer::ScoreWith(evaluation_, leads, as_of,
                    [&writer](const sv1::LeadScore& score, const std::string& reasons) {
                      writer.Add(score, reasons);
                    });
  ++index_;
  return absl::OkStatus();
}

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
    Scratch& scratch = ThreadScratch();
    scratch.leads.Clear();
    LeadRequest decoded;
    status = DecodeAccountRequest(bytes, scratch.leads, &decoded);
    if (status.ok()) {
      absl::StatusOr<sv1::AccountScore> scored = scorer_.ScoreAccount(scratch.leads, decoded);
      status = scored.status();
      if (scored.ok()) {
        auto out = std::make_unique<std::string>();
        scored->SerializeToString(out.get());
        WriteTo(std::move(out), response);
      }
    }
    scratch.Trim();
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
