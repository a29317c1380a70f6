#include "scoring/engine/qualification.h"

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

TEST(EngineTest, ExponentialDecayHalvesPerHalfLife) {
  auto set = Set(kDecayModel);
  for (auto [age_days, expected] : {std::pair{0, 40.0}, {30, 20.0}, {60, 10.0}, {90, 5.0}}) {
    sv1::Lead lead;
    AddEvent(lead, "demo", age_days * kDay);
    EXPECT_DOUBLE_EQ(ScoreWith(set, lead).engagement(), expected) << age_days;
  }
}

TEST(EngineTest, DecayAndCapsAreExplained) {
  auto set = Set(kDecayModel);
  sv1::Lead lead;
  AddEvent(lead, "demo", 30 * kDay);
  AddEvent(lead, "visit", 5 * kDay);
  AddEvent(lead, "webinar", kDay);
  sv1::LeadScore s = ScoreWith(set, lead);
  EXPECT_EQ(Find(s, "exp")->detail(), "exponential decay, half-life 30d");
  EXPECT_EQ(Find(s, "lin")->detail(), "linear decay over 10d");
  EXPECT_EQ(Find(s, "win")->detail(), "");
  EXPECT_EQ(Find(s, "exp")->evidence(), "1 demo events, 1 counted");
  sv1::Lead fresh;
  AddEvent(fresh, "demo", 0);  // no decay at age 0: nothing to explain
  EXPECT_EQ(Find(ScoreWith(set, fresh), "exp")->detail(), "");
}

TEST(EngineTest, LinearDecayReachesZeroAndStays) {
  auto set = Set(kDecayModel);
  for (auto [age_days, expected] : {std::pair{0, 10.0}, {5, 5.0}, {10, 0.0}, {15, 0.0}}) {
    sv1::Lead lead;
    AddEvent(lead, "visit", age_days * kDay);
    EXPECT_DOUBLE_EQ(ScoreWith(set, lead).engagement(), expected) << age_days;
  }
}

TEST(EngineTest, EventsAfterAsOfAndOutsideTheWindowAreIgnored) {
  auto set = Set(kDecayModel);
  sv1::Lead lead;
  AddEvent(lead, "webinar", -60);       // after as_of
  AddEvent(lead, "webinar", 8 * kDay);  // outside the 7d window
  AddEvent(lead, "webinar", 7 * kDay);  // exactly at the window edge: counted
  AddEvent(lead, "webinar", 1 * kDay);
  sv1::LeadScore s = ScoreWith(set, lead);
  EXPECT_DOUBLE_EQ(s.engagement(), 10.0);
  EXPECT_EQ(Find(s, "win")->events_counted(), 2);
}

TEST(EngineTest, MaxEventsKeepsTheMostRecent) {
  auto set = Set(kDecayModel);
  sv1::Lead lead;
  AddEvent(lead, "click", 2 * kDay);
  AddEvent(lead, "click", 0);
  AddEvent(lead, "click", 1 * kDay);
  // The two most recent: ages 0 and 1 day -> 1 + 0.5.
  EXPECT_DOUBLE_EQ(ScoreWith(set, lead).engagement(), 1.5);
}

TEST(EngineTest, RuleAndGroupCapsIncludingNegativeFloors) {
  auto set = Set(kCapsModel);
  sv1::Lead lead =
      Lead(R"({"attributes": {"company": {"employees": 6000}, "email": "X@GMAIL.COM"}})");
  for (int i = 0; i < 5; ++i) {
    AddEvent(lead, "click", i * 60);
  }
  AddEvent(lead, "demo", 60);
  sv1::LeadScore s = ScoreWith(set, lead);
  // size: 25 + 20 = 45, capped at 30; penalties: -8 - 7 = -15, floored at -10.
  EXPECT_DOUBLE_EQ(s.fit(), 20);
  // clicks: 5 x 4 = 20, rule cap 10; demo 45; group 55 capped at 50.
  EXPECT_DOUBLE_EQ(s.engagement(), 50);
  EXPECT_DOUBLE_EQ(s.total(), 70);
  // The rule's reason carries its own sum; its cap is a CAP reason of its own, as the groups'
  // caps are, so that the reasons add up to the score (docs/scoring.md).
  EXPECT_DOUBLE_EQ(Find(s, "click")->points(), 20);
  EXPECT_EQ(Find(s, "click")->detail(), "");
  int caps = 0;
  double sum = 0;
  for (const auto& r : s.reasons()) {
    caps += r.kind() == sv1::Reason::CAP;
    sum += r.points();
    if (r.kind() == sv1::Reason::CAP && r.rule() == "click") {
      EXPECT_DOUBLE_EQ(r.points(), -10);
      EXPECT_EQ(r.detail(), "rule sum 20 limited to 10");
    }
  }
  EXPECT_EQ(caps, 4);
  EXPECT_DOUBLE_EQ(sum, s.total());
  EXPECT_EQ(s.grade(), "A1");  // fit exactly at A's minimum
  EXPECT_EQ(s.level(), "SQL");
  EXPECT_FALSE(s.no_rule_matched());
}

TEST(EngineTest, DisqualifierOverridesTheLevelButKeepsScores) {
  auto set = Set(kCapsModel);
  sv1::Lead lead = Lead(
      R"({"attributes": {"company": {"employees": 6000, "is_competitor": true}, "phone": "1"}})");
  AddEvent(lead, "demo", 60);
  sv1::LeadScore s = ScoreWith(set, lead);
  EXPECT_TRUE(s.disqualified());
  EXPECT_EQ(s.level(), "DISQUALIFIED");
  EXPECT_EQ(s.disqualification_reason(), "Works for a competitor");
  EXPECT_DOUBLE_EQ(s.fit(), 30);
  EXPECT_DOUBLE_EQ(s.engagement(), 45);
}

TEST(EngineTest, GradeBandsAndLevelsAtTheirBoundaries) {
  auto set = Set(kCapsModel);
  // 1000 employees: big (25); no phone: -7 -> fit 18 (grade B); no events: engagement 0.
  sv1::Lead lead = Lead(R"({"attributes": {"company": {"employees": 1000}}})");
  sv1::LeadScore s = ScoreWith(set, lead);
  EXPECT_DOUBLE_EQ(s.fit(), 18);
  EXPECT_EQ(s.fit_grade(), "B");
  EXPECT_EQ(s.engagement_grade(), "2");  // 0 is exactly at band "2"'s minimum
  EXPECT_EQ(s.level(), "LEAD");          // MQL needs engagement 20
  for (int i = 0; i < 5; ++i) {
    AddEvent(lead, "click", 60);  // 20 points, capped at 10
  }
  AddEvent(lead, "click", 120);
  sv1::Lead more = lead;
  EXPECT_EQ(ScoreWith(set, more).level(), "LEAD");  // engagement 10 < 20
}

TEST(EngineTest, NoRuleMatchedIsDistinctFromZero) {
  auto set = Set(R"(
name: namespaces/default/definitions/m
qualification_model:
  fit:
    - name: g
      rules:
        - {id: plus, points: 5, condition: {attribute: {field: a, op: EQ, value: 1}}}
        - {id: minus, points: -5, condition: {attribute: {field: b, op: EQ, value: 1}}}
)");
  sv1::LeadScore none = ScoreWith(set, Lead(R"({"attributes": {"c": 1}})"));
  EXPECT_TRUE(none.no_rule_matched());
  EXPECT_DOUBLE_EQ(none.total(), 0);
  sv1::LeadScore zero = ScoreWith(set, Lead(R"({"attributes": {"a": 1, "b": 1}})"));
  EXPECT_FALSE(zero.no_rule_matched());
  EXPECT_DOUBLE_EQ(zero.total(), 0);
}

TEST(EngineTest, DeterministicAcrossRunsAndThreads) {
  auto set = Set(kCapsModel);
  std::vector<sv1::Lead> leads;
  for (int i = 0; i < 50; ++i) {
    sv1::Lead lead = Lead(absl::StrCat(
        R"({"id": "l)", i, R"(", "attributes": {"company": {"employees": )", i * 137, R"(}}})"));
    for (int k = 0; k < i % 7; ++k) {
      AddEvent(lead, k % 2 ? "click" : "demo", (i * 7919 + k * 104729) % (90 * kDay));
    }
    leads.push_back(lead);
  }
  std::vector<std::string> first;
  for (const auto& l : leads) {
    first.push_back(ScoreWith(set, l).SerializeAsString());
  }
  std::vector<std::string> second(leads.size());
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (size_t i = t; i < leads.size(); i += 4) {
        second[i] = ScoreWith(set, leads[i]).SerializeAsString();
      }
    });
  }
  for (auto& th : threads) {
    th.join();
  }
  EXPECT_EQ(first, second);
}

TEST(EngineTest, AddingAPositiveEventNeverLowersEngagement) {
  auto set = Set(kCapsModel);
  sv1::Lead lead;
  double previous = 0;
  for (int i = 0; i < 20; ++i) {
    AddEvent(lead, i % 3 ? "click" : "demo", i * 3600);
    double now = ScoreWith(set, lead).engagement();
    EXPECT_GE(now, previous);
    previous = now;
  }
}

}  // namespace
}  // namespace accord::scoring

namespace accord::scoring {
namespace {

TEST(EngineTest, BasicViewGivesTheSameScoresWithoutReasons) {
  auto set = Set(kCapsModel);
  for (int i = 0; i < 30; ++i) {
    sv1::Lead lead = Lead(absl::StrCat(R"({"attributes": {"company": {"employees": )", i * 300,
                                       R"(, "is_competitor": )", i % 7 == 0 ? "true" : "false",
                                       R"(}, "email": "a@gmail.com"}})"));
    for (int k = 0; k < i % 9; ++k) {
      AddEvent(lead, k % 2 ? "click" : "demo", k * 3600);
    }
    sv1::LeadScore full = Score({set.get(), 0, -1, true}, lead, kAsOf);
    sv1::LeadScore basic = Score({set.get(), 0, -1, false}, lead, kAsOf);
    EXPECT_EQ(basic.reasons_size(), 0);
    // What only the FULL view carries: reasons, the persona's criteria, attribute reports.
    full.clear_reasons();
    if (full.has_persona()) {
      full.mutable_persona()->clear_criteria_met();
    }
    full.clear_missing_attributes();
    full.clear_unread_attributes();
    EXPECT_EQ(full.SerializeAsString(), basic.SerializeAsString()) << i;
  }
}

}  // namespace
}  // namespace accord::scoring

namespace accord::scoring {
namespace {}  // namespace
}  // namespace accord::scoring
