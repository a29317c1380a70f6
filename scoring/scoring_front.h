#pragma once

#include <memory>
#include <vector>

#include "common/call_auth.h"
#include "common/h2_relay.h"
#include "scoring/scorer.h"

// The scoring front end's policy (common/h2_relay.h): ScoreLead, BatchScoreLeads and
// StreamScoreLeads are answered on the front end's event loops from the request's bytes, with
// the same authorization, errors and response bytes as the gRPC service; every other method
// (and health, reflection) goes to the gRPC server behind it. docs/scoring.md, "The scoring
// front end".
namespace accord::scoring {

class ScoringRoutes final : public RelayRoutes {
 public:
  ScoringRoutes(const Scorer& scorer, const CallAuthorizer& authorizer);
  ~ScoringRoutes() override;

  const RelayRoute* Find(absl::string_view path) const override;
  // Authorization only: the scoring server has no quotas of its own (the gateway's apply).
  absl::StatusOr<std::unique_ptr<RelayTicket>> Admit(const RelayRoute& route,
                                                     const CallerHeaders& caller) override;

 private:
  const CallAuthorizer& authorizer_;
  std::vector<std::unique_ptr<LocalMethod>> methods_;
  std::vector<RelayRoute> routes_;
};

}  // namespace accord::scoring
