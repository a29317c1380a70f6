#pragma once

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

#include "scoring/scorer.h"

// Scoring from request bytes to response bytes, whatever the transport: the gRPC adapter
// (scoring_service.h) and the relay's local calls (scoring_front.h) both serve the scoring
// methods through these. Leads are decoded into a thread's LeadSet (scoring/wire/), never into
// Lead messages.
namespace accord::scoring {

// Scores a ScoreLeadRequest (`single`) or BatchScoreLeadsRequest from its bytes, appending the
// response's bytes (LeadScore, BatchScoreLeadsResponse) to `out`: ScoreLead and
// BatchScoreLeads on either front end (gRPC, or scoring/scoring_front.h).
absl::Status ScoreRequest(const Scorer& scorer, absl::string_view request, bool single,
                          std::string& out);

// One StreamScoreLeads call: each request message's scores as a StreamScoreLeadsResponse.
// The snapshot stays the same for the whole stream unless a message changes the selector, so
// one stream's scores come from one set of revisions.
class StreamScoring final {
 public:
  explicit StreamScoring(const Scorer& scorer) : scorer_(scorer) {}
  // Appends the response to `message` to `out`; errors name `messages[i].leads...`.
  absl::Status Score(absl::string_view message, std::string& out);

 private:
  // `served`, when not null, gets each lead's (level, grade) as answered (shadow scoring).
  absl::Status ScoreInto(LeadSet& leads, absl::string_view message, const std::string& field,
                         std::string& out,
                         std::vector<std::pair<std::string, std::string>>* served);

  const Scorer& scorer_;
  std::shared_ptr<const Snapshot> snapshot_;
  sv1::Selector selector_;
  Evaluation evaluation_;
  int64_t index_ = 0;
};

// Scores a ScoreAccountRequest from its bytes, appending the AccountScore's bytes to `out`.
absl::Status ScoreAccountRequest(const Scorer& scorer, absl::string_view request, std::string& out);

}  // namespace accord::scoring
