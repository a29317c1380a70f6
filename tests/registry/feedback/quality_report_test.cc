// The quality report's arithmetic against counts and Wilson intervals worked out by hand (the
// intervals agree with published tables of the Wilson score interval at 95 %).
#include "registry/feedback/quality_report.h"

#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace accord::registry::feedback {
namespace {

void ExpectRate(const Rate& r, int64_t accepted, int64_t total, double low, double high) {
  EXPECT_EQ(r.accepted, accepted);
  EXPECT_EQ(r.total, total);
  EXPECT_NEAR(r.low, low, 5e-5) << accepted << "/" << total;
  EXPECT_NEAR(r.high, high, 5e-5) << accepted << "/" << total;
}

TEST(WilsonRateTest, MatchesTheIntervalsWorkedOutByHand) {
  // 8 of 10: p = 0.8, z^2/n = 0.38415, centre 0.99207 / 1.38415 = 0.71674, half-width
  // 1.96 * sqrt(0.016 + 0.0096037) / 1.38415 = 0.22658.
  Rate r = WilsonRate(8, 10);
  EXPECT_DOUBLE_EQ(r.rate, 0.8);
  ExpectRate(r, 8, 10, 0.4902, 0.9433);
  ExpectRate(WilsonRate(0, 5), 0, 5, 0.0, 0.4345);  // never below 0
  ExpectRate(WilsonRate(3, 3), 3, 3, 0.4385, 1.0);  // never above 1
  ExpectRate(WilsonRate(1, 3), 1, 3, 0.0615, 0.7923);
  Rate none = WilsonRate(0, 0);  // no sample: no information
  EXPECT_EQ(none.rate, 0);
  EXPECT_EQ(none.low, 0);
  EXPECT_EQ(none.high, 1);
}

Verdict V(const std::string& lead, Outcome outcome, const std::string& level,
          const std::string& grade, const std::string& persona, std::vector<std::string> rules,
          std::vector<std::string> keys, const std::string& reason = "") {
  return {lead, outcome, reason, {level, grade, persona, std::move(rules), std::move(keys)}};
}

TEST(QualityReportTest, CountsEachLeadOnceByItsLastVerdict) {
  const std::vector<Verdict> verdicts = {
      V("L1", Outcome::kAccepted, "MQL", "A", "it-director", {"title", "size"},
        {"webinar_attended:asset=roi"}),
      V("L2", Outcome::kRejected, "MQL", "B", "it-director", {"size"}, {}, "bad-fit"),
      V("L3", Outcome::kAccepted, "SQL", "A", "cfo", {"title"}, {"webinar_attended:asset=roi"}),
      V("L4", Outcome::kRejected, "MQL", "A", "", {"title"}, {}, "no-budget"),
      V("L5", Outcome::kRecycled, "MQL", "C", "cfo", {"size"}, {"download:asset=guide"}, "not-now"),
      // Later verdicts: L3 won (still accepted), L4 accepted after all (a rule named twice
      // counts once).
      V("L3", Outcome::kWon, "SQL", "A", "cfo", {"title"}, {"webinar_attended:asset=roi"}),
      V("L4", Outcome::kAccepted, "MQL", "A", "", {"title", "title"}, {"download:asset=guide"}),
  };
  const QualityReport report = BuildQualityReport(verdicts);
  ExpectRate(report.overall, 3, 5, 0.2307, 0.8824);
  ASSERT_EQ(report.by_level.size(), 2u);
  ExpectRate(report.by_level.at("MQL"), 2, 4, 0.1500, 0.8500);
  ExpectRate(report.by_level.at("SQL"), 1, 1, 0.2065, 1.0);
  ExpectRate(report.by_grade.at("A"), 3, 3, 0.4385, 1.0);
  ExpectRate(report.by_grade.at("B"), 0, 1, 0.0, 0.7935);
  ExpectRate(report.by_grade.at("C"), 0, 1, 0.0, 0.7935);
  ExpectRate(report.by_persona.at("it-director"), 1, 2, 0.0945, 0.9055);
  ExpectRate(report.by_persona.at("cfo"), 1, 2, 0.0945, 0.9055);
  ExpectRate(report.by_persona.at(""), 1, 1, 0.2065, 1.0);
  ExpectRate(report.by_content_key.at("webinar_attended:asset=roi"), 2, 2, 0.3424, 1.0);
  ExpectRate(report.by_content_key.at("download:asset=guide"), 1, 2, 0.0945, 0.9055);
  // "title" fired for L1, L3, L4 (all accepted), not for L2, L5 (neither): no lift against a
  // rate of 0. "size" fired for L1, L2, L5 (1 of 3), not for L3, L4 (2 of 2): lift 1/3.
  ASSERT_EQ(report.by_rule.size(), 2u);
  const RuleQuality& size = report.by_rule[0];
  const RuleQuality& title = report.by_rule[1];
  EXPECT_EQ(size.rule, "size");
  ExpectRate(size.fired, 1, 3, 0.0615, 0.7923);
  ExpectRate(size.not_fired, 2, 2, 0.3424, 1.0);
  ASSERT_TRUE(size.lift.has_value());
  EXPECT_NEAR(*size.lift, 1.0 / 3.0, 1e-12);
  EXPECT_EQ(title.rule, "title");
  ExpectRate(title.fired, 3, 3, 0.4385, 1.0);
  ExpectRate(title.not_fired, 0, 2, 0.0, 0.6576);
  EXPECT_FALSE(title.lift.has_value());
  // Reasons of the leads not accepted, by their last verdict (L4's rejection was overturned).
  EXPECT_EQ(report.not_accepted_by_reason,
            (std::map<std::string, int64_t>{{"bad-fit", 1}, {"not-now", 1}}));
}

TEST(QualityReportTest, AnEmptySetIsAnEmptyReport) {
  const QualityReport report = BuildQualityReport({});
  EXPECT_EQ(report.overall.total, 0);
  EXPECT_TRUE(report.by_rule.empty());
  EXPECT_TRUE(report.by_level.empty());
}

TEST(QualityReportTest, OutcomesAfterAcceptanceCountAsAccepted) {
  EXPECT_TRUE(CountsAsAccepted(Outcome::kAccepted));
  EXPECT_TRUE(CountsAsAccepted(Outcome::kOpportunity));
  EXPECT_TRUE(CountsAsAccepted(Outcome::kWon));
  EXPECT_TRUE(CountsAsAccepted(Outcome::kLost));
  EXPECT_FALSE(CountsAsAccepted(Outcome::kRejected));
  EXPECT_FALSE(CountsAsAccepted(Outcome::kRecycled));
}

}  // namespace
}  // namespace accord::registry::feedback
