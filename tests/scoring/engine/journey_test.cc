#include "scoring/engine/journey.h"

#include <cmath>
#include <set>
#include <thread>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "google/protobuf/util/json_util.h"
#include "google/protobuf/util/message_differencer.h"
#include "google/protobuf/util/time_util.h"
#include "gtest/gtest.h"

#include "tests/scoring/engine/engine_fixtures.h"
#include "tests/testing/status_matchers.h"

namespace accord::scoring {
namespace {

using google::protobuf::util::TimeUtil;
using namespace ::accord::scoring::engine_test;  // NOLINT(google-build-using-namespace)

constexpr char kJourney[] = R"yaml(
name: namespaces/default/definitions/m
qualification_model:
  fit:
    - name: g
      rules:
        - {id: big, points: 50, condition: {attribute: {field: employees, op: GE, value: 1000}}}
  levels: [{name: LEAD}, {name: MQL, min_fit: 40}]
---
name: namespaces/default/definitions/j
buyer_journey:
  model: m
  stages:
    - {id: awareness}
    - {id: mql, entry: {score: {metric: LEVEL, op: GE, level: MQL}}}
    - {id: sal, entry: {event: {type: sales_accepted}}}
)yaml";

TEST(EngineTest, JourneyStageIsTheFurthestWhoseEntryHolds) {
  auto set = Set(kJourney);
  EXPECT_EQ(ScoreWith(set, Lead(R"({"attributes": {"employees": 10}})"), "j").journey_stage(),
            "awareness");
  EXPECT_EQ(ScoreWith(set, Lead(R"({"attributes": {"employees": 5000}})"), "j").journey_stage(),
            "mql");
  sv1::Lead accepted = Lead(R"({"attributes": {"employees": 10}})");
  AddEvent(accepted, "sales_accepted", 60);
  sv1::LeadScore s = ScoreWith(set, accepted, "j");
  EXPECT_EQ(s.journey_stage(), "sal");  // furthest, even though mql does not hold
  ASSERT_EQ(s.definitions_size(), 2);
  EXPECT_EQ(s.definitions(1).name(), "namespaces/default/definitions/j");
  EXPECT_EQ(s.definitions(1).revision(), 2);
}

TEST(JourneyTest, ForwardMovesAllowedBackwardOnlyAlongRecycleEdgesWithAReason) {
  auto set = Set(kJourneySla);
  const Journey& j = set->journeys.at(0);
  EXPECT_TRUE(CheckTransition(j, "new", "won", "")->allowed());
  auto recycle = CheckTransition(j, "sal", "mql", "no-budget");
  ASSERT_TRUE(recycle.ok()) << recycle.status();
  EXPECT_TRUE(recycle->recycle());
  EXPECT_THAT(CheckTransition(j, "sal", "mql", ""), testing::HasViolation("reason"));
  EXPECT_THAT(CheckTransition(j, "sal", "mql", "bad-timing"), testing::HasViolation("reason"));
  // An edge without its own reasons takes any code of the taxonomy.
  EXPECT_TRUE(CheckTransition(j, "won", "new", "bad-timing").ok());
  auto refused = CheckTransition(j, "sal", "new", "no-budget");
  EXPECT_THAT(refused, testing::StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_THAT(refused, testing::HasReason("TRANSITION_NOT_ALLOWED"));
  EXPECT_NE(refused.status().message().find("won, mql (recycle: no-budget)"), std::string::npos)
      << refused.status();
  EXPECT_THAT(CheckTransition(j, "sal", "sal", ""), testing::HasReason("TRANSITION_NOT_ALLOWED"));
  EXPECT_THAT(CheckTransition(j, "nope", "sal", ""), testing::HasViolation("from"));
}

TEST(JourneyTest, EvaluationReportsStalledStagesAndAllowedMoves) {
  auto set = Set(R"yaml(
name: namespaces/default/definitions/m
qualification_model: {levels: [{name: LEAD}]}
---
name: namespaces/default/definitions/j
buyer_journey:
  model: m
  stages: [{id: new}, {id: mql, max_duration: 1d, entry: {event: {type: form}}}, {id: sal, entry: {event: {type: accepted}}}]
)yaml");
  sv1::Lead lead;
  AddEvent(lead, "form", 2 * kDay);
  sv1::StageEntry* e = lead.add_stage_history();
  e->set_stage("mql");
  *e->mutable_time() = TimeUtil::SecondsToTimestamp(absl::ToUnixSeconds(kAsOf) - 2 * kDay);
  sv1::JourneyEvaluation j = EvaluateJourney({set.get(), 0, 0}, lead, kAsOf);
  EXPECT_EQ(j.stage(), "mql");
  EXPECT_TRUE(j.stalled());
  EXPECT_THAT(j.allowed_moves(), ::testing::ElementsAre("sal"));
}

}  // namespace
}  // namespace accord::scoring

namespace accord::scoring {
namespace {}  // namespace
}  // namespace accord::scoring
