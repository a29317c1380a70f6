#include "scoring/scoring_front.h"

#include "scoring/serving.h"

namespace accord::scoring {
namespace {

// A call that answers each request message with `score(message, payload)`: one response
// message per request message.
template <typename Score>
class ScoringCall final : public LocalCall {
 public:
  explicit ScoringCall(Score score) : score_(std::move(score)) {}
  absl::Status OnMessage(absl::string_view message, std::string& out) override {
    absl::Status status;
    AppendMessage(out, [&](std::string& payload) { status = score_(message, payload); });
    return status;
  }
  absl::Status OnHalfClose() override { return absl::OkStatus(); }

 private:
  Score score_;
};

template <typename Score>
std::unique_ptr<LocalCall> NewCall(Score score) {
  return std::make_unique<ScoringCall<Score>>(std::move(score));
}

// ScoreLead (`single`) and BatchScoreLeads (the relay allows unary calls one message).
class UnaryScoring final : public LocalMethod {
 public:
  UnaryScoring(const Scorer& scorer, bool single) : scorer_(scorer), single_(single) {}
  std::unique_ptr<LocalCall> Begin() override {
    return NewCall([this](absl::string_view message, std::string& out) {
      return ScoreRequest(scorer_, message, single_, out);
    });
  }

 private:
  const Scorer& scorer_;
  bool single_;
};

// StreamScoreLeads: one StreamScoring (one set of revisions) per call.
class StreamingScoring final : public LocalMethod {
 public:
  explicit StreamingScoring(const Scorer& scorer) : scorer_(scorer) {}
  std::unique_ptr<LocalCall> Begin() override {
    return NewCall(
        [scoring = StreamScoring(scorer_)](absl::string_view message, std::string& out) mutable {
          return scoring.Score(message, out);
        });
  }

 private:
  const Scorer& scorer_;
};

}  // namespace

ScoringRoutes::ScoringRoutes(const Scorer& scorer, const CallAuthorizer& authorizer)
    : LocalRoutes(authorizer) {
  Add("/accord.scoring.v1.Scoring/ScoreLead", std::make_unique<UnaryScoring>(scorer, true), true);
  Add("/accord.scoring.v1.Scoring/BatchScoreLeads", std::make_unique<UnaryScoring>(scorer, false),
      true);
  Add("/accord.scoring.v1.Scoring/StreamScoreLeads", std::make_unique<StreamingScoring>(scorer),
      false);
}

}  // namespace accord::scoring
