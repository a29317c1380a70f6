#include "scoring/scoring_front.h"

#include "scoring/scoring_service.h"

namespace accord::scoring {
namespace {

// ScoreLead (`single`) and BatchScoreLeads: one request message, one response message.
class UnaryScoring final : public LocalMethod {
 public:
  UnaryScoring(const Scorer& scorer, bool single) : scorer_(scorer), single_(single) {}

  std::unique_ptr<LocalCall> Begin() override { return std::make_unique<Call>(*this); }

 private:
  class Call final : public LocalCall {
   public:
    explicit Call(const UnaryScoring& method) : method_(method) {}
    absl::Status OnMessage(absl::string_view message, std::string& out) override {
      absl::Status status;
      AppendMessage(out, [&](std::string& payload) {
        status = ScoreRequest(method_.scorer_, message, method_.single_, payload);
      });
      return status;
    }
    absl::Status OnHalfClose() override { return absl::OkStatus(); }

   private:
    const UnaryScoring& method_;
  };

  const Scorer& scorer_;
  bool single_;
};

// StreamScoreLeads: a response message per request message.
class StreamingScoring final : public LocalMethod {
 public:
  explicit StreamingScoring(const Scorer& scorer) : scorer_(scorer) {}

  std::unique_ptr<LocalCall> Begin() override { return std::make_unique<Call>(scorer_); }

 private:
  class Call final : public LocalCall {
   public:
    explicit Call(const Scorer& scorer) : scoring_(scorer) {}
    absl::Status OnMessage(absl::string_view message, std::string& out) override {
      absl::Status status;
      AppendMessage(out, [&](std::string& payload) { status = scoring_.Score(message, payload); });
      return status;
    }
    absl::Status OnHalfClose() override { return absl::OkStatus(); }

   private:
    StreamScoring scoring_;
  };

  const Scorer& scorer_;
};

}  // namespace

ScoringRoutes::ScoringRoutes(const Scorer& scorer, const CallAuthorizer& authorizer)
    : authorizer_(authorizer) {
  methods_.push_back(std::make_unique<UnaryScoring>(scorer, true));
  methods_.push_back(std::make_unique<UnaryScoring>(scorer, false));
  methods_.push_back(std::make_unique<StreamingScoring>(scorer));
  const char* paths[] = {"/accord.scoring.v1.Scoring/ScoreLead",
                         "/accord.scoring.v1.Scoring/BatchScoreLeads",
                         "/accord.scoring.v1.Scoring/StreamScoreLeads"};
  for (size_t i = 0; i < methods_.size(); ++i) {
    RelayRoute& route = routes_.emplace_back();
    route.path = paths[i];
    route.local = methods_[i].get();
    route.unary = i < 2;
  }
}

ScoringRoutes::~ScoringRoutes() = default;

const RelayRoute* ScoringRoutes::Find(absl::string_view path) const {
  for (const RelayRoute& route : routes_) {
    if (route.path == path) {
      return &route;
    }
  }
  return nullptr;
}

absl::StatusOr<std::unique_ptr<RelayTicket>> ScoringRoutes::Admit(const RelayRoute& route,
                                                                  const CallerHeaders& caller) {
  absl::StatusOr<Principal> principal =
      authorizer_.Authorize(caller.authorization, caller.roles, route.path);
  if (!principal.ok()) {
    return principal.status();
  }
  return nullptr;
}

}  // namespace accord::scoring
