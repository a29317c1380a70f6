#pragma once

#include <memory>
#include <vector>

#include "common/call_auth.h"
#include "frontdoor/local_routes.h"
#include "scoring/scorer.h"

// The scoring front end's policy (frontdoor/h2_relay.h): ScoreLead, BatchScoreLeads and
// StreamScoreLeads are answered on the front end's event loops from the request's bytes, with
// the same authorization, errors and response bytes as the gRPC service; every other method
// (and health, reflection) goes to the gRPC server behind it. docs/scoring.md, "The scoring
// front end".
namespace accord::scoring {

class ScoringRoutes final : public LocalRoutes {
 public:
  ScoringRoutes(const Scorer& scorer, const CallAuthorizer& authorizer);
};

}  // namespace accord::scoring
