#include "scoring/engine/sla.h"

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

sv1::ResponseStatus::Status SlaStatus(const CompiledSet& set, int64_t entered_ago,
                                      int64_t touched_after = -1) {
  sv1::Lead lead;
  sv1::StageEntry* e = lead.add_stage_history();
  e->set_stage("mql");
  *e->mutable_time() = TimeUtil::SecondsToTimestamp(absl::ToUnixSeconds(kAsOf) - entered_ago);
  if (touched_after >= 0) {
    AddEvent(lead, "sales_touch", entered_ago - touched_after);
  }
  return EvaluateSla(set.slas.at(0), lead, kAsOf).responses(0).status();
}

TEST(SlaTest, ResponseStatusAtItsBoundaries) {
  auto set = Set(kJourneySla);
  using S = sv1::ResponseStatus;
  const int64_t h = 3600;
  EXPECT_EQ(SlaStatus(*set, 1 * h), S::PENDING);
  EXPECT_EQ(SlaStatus(*set, 3 * h - 1), S::PENDING);
  EXPECT_EQ(SlaStatus(*set, 3 * h), S::AT_RISK);  // exactly 75 % of 4 h
  EXPECT_EQ(SlaStatus(*set, 4 * h), S::AT_RISK);  // at the deadline, not yet past it
  EXPECT_EQ(SlaStatus(*set, 4 * h + 1), S::BREACHED);
  EXPECT_EQ(SlaStatus(*set, 10 * h, 4 * h), S::MET);           // touched exactly at the deadline
  EXPECT_EQ(SlaStatus(*set, 10 * h, 4 * h + 1), S::BREACHED);  // touched late
  sv1::Lead never;
  EXPECT_EQ(EvaluateSla(set->slas.at(0), never, kAsOf).responses(0).status(), S::NOT_APPLICABLE);
}

TEST(SlaTest, VolumeAndQualityOverAPeriodsLeads) {
  auto set = Set(R"yaml(
name: namespaces/default/definitions/m
qualification_model:
  fit: [{name: g, rules: [{id: big, points: 50, condition: {attribute: {field: employees, op: GE, value: 1000}}}]}]
  levels: [{name: LEAD}, {name: MQL, min_fit: 40}]
---
name: namespaces/default/definitions/j
buyer_journey:
  model: m
  stages: [{id: new}, {id: sal, entry: {event: {type: accepted}}}]
---
name: namespaces/default/definitions/s
service_level_agreement:
  journey: j
  model: m
  volume: [{id: v, team: marketing, level: MQL, min_count: 3, period: MONTH}]
  quality: [{id: q, team: marketing, level: MQL, accepted_stage: sal, min_accepted_fraction: 0.5, period: MONTH}]
)yaml");
  SlaTally tally(*set, 0, kAsOf);
  for (int i = 0; i < 5; ++i) {
    sv1::Lead lead =
        Lead(absl::StrCat(R"({"attributes": {"employees": )", i < 3 ? 5000 : 10, "}}"));
    if (i == 0) {
      AddEvent(lead, "accepted", 60);
    }
    tally.Add(lead);
  }
  sv1::SlaReport report = tally.Report();
  EXPECT_EQ(report.leads(), 5);
  ASSERT_EQ(report.volume_size(), 1);
  EXPECT_EQ(report.volume(0).actual(), 3);
  EXPECT_TRUE(report.volume(0).met());  // exactly at the target
  ASSERT_EQ(report.quality_size(), 1);
  EXPECT_EQ(report.quality(0).qualified(), 3);
  EXPECT_EQ(report.quality(0).accepted(), 1);
  EXPECT_FALSE(report.quality(0).met());  // 1/3 < 0.5
}

}  // namespace
}  // namespace accord::scoring

namespace accord::scoring {
namespace {}  // namespace
}  // namespace accord::scoring
