#include "scoring/account.h"

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "google/protobuf/util/json_util.h"
#include "google/protobuf/util/time_util.h"
#include "gtest/gtest.h"

#include "definitions/loader.h"
#include "scoring/scorer.h"
#include "tests/testing/status_matchers.h"

// Account scores computed by hand, for every aggregation, coverage and consent case with their
// boundaries; ExplainScoreChange's parts adding up to the change for every combination of the
// three causes; and bad accounts refused with their field paths.
namespace accord::scoring {
namespace {

using accord::testing::HasViolation;
using accord::testing::StatusIs;

// INVALID_ARGUMENT with a violation at `field`.
auto Refused(const std::string& field) {
  return ::testing::AllOf(StatusIs(absl::StatusCode::kInvalidArgument), HasViolation(field));
}
using google::protobuf::util::TimeUtil;

const absl::Time kAsOf = absl::FromUnixSeconds(1800000000);

// Members score 10 engagement points per `touch` and -50 per `unsubscribe` (no decay), so a
// member's engagement is 10 x touches - 50 x unsubscribes. Levels: MQL at 20, SQL at 40.
constexpr char kBase[] = R"yaml(
name: namespaces/default/definitions/buyer
buyer_persona:
  criteria:
    - {id: title, condition: {attribute: {field: contact.title, op: CONTAINS, value: Director}}}
---
name: namespaces/default/definitions/m
qualification_model:
  personas: [buyer]
  fit:
    - name: firmo
      rules:
        - {id: big, points: 30, condition: {attribute: {field: company.employees, op: GE, value: 1000}}}
  engagement:
    - name: activity
      rules:
        - {id: touch, event_type: touch, points: 10}
        - {id: unsub, event_type: unsubscribe, points: -50}
  disqualifiers:
    - {id: competitor, reason: Works for a competitor, condition: {attribute: {field: competitor, op: EQ, value: true}}}
  levels:
    - {name: LEAD}
    - {name: MQL, min_engagement: 20}
    - {name: SQL, min_engagement: 40}
)yaml";

// The account model; METHOD is replaced per test.
constexpr char kAccountModel[] = R"yaml(
name: namespaces/default/definitions/acc
account_model:
  model: m
  fit:
    - name: firmo
      max_points: 50
      rules:
        - {id: enterprise, points: 40, condition: {attribute: {field: employees, op: GE, value: 1000}}}
        - {id: target, points: 20, condition: {attribute: {field: industry, op: EQ, value: software}}}
  engagement: METHOD
  buying_group:
    - {id: decider, persona: buyer, weight: 2, min_level: MQL}
    - {id: champion, attribute: contact.role, values: [champion]}
  levels:
    - {name: target, min_fit: 30}
    - {name: engaged, min_fit: 30, min_engagement: 50}
    - {name: MQA, min_fit: 30, min_engagement: 50, min_coverage: 1}
  consent: {attribute: consent.profiling, allowed: [true, granted]}
)yaml";

std::vector<PublishedDefinition> Definitions(const std::string& method) {
  const std::string yaml =
      absl::StrCat(kBase, "---\n", absl::StrReplaceAll(kAccountModel, {{"METHOD", method}}));
  auto docs = definitions::ParseDefinitions(yaml, "test.yaml");
  EXPECT_TRUE(docs.ok()) << docs.status();
  std::vector<PublishedDefinition> defs;
  for (const auto& d : *docs) {
    defs.push_back({d.definition.name(), 1, d.definition});
  }
  return defs;
}

std::shared_ptr<const CompiledSet> Set(const std::string& method) {
  auto set = Compile("default", Definitions(method));
  EXPECT_TRUE(set.ok()) << set.status();
  return set.ok() ? *set : nullptr;
}

sv1::Lead Member(const std::string& id, int touches, const std::string& extra = "",
                 int unsubscribes = 0, const std::string& consent = "true") {
  sv1::Lead lead;
  std::string json =
      absl::StrCat(R"({"id": ")", id, R"(", "attributes": {"consent": {"profiling": )", consent,
                   "}", extra.empty() ? "" : ", ", extra, "}}");
  auto status = google::protobuf::util::JsonStringToMessage(json, &lead);
  EXPECT_TRUE(status.ok()) << status.message() << json;
  for (int i = 0; i < touches + unsubscribes; ++i) {
    sv1::Event* e = lead.add_events();
    e->set_type(i < touches ? "touch" : "unsubscribe");
    *e->mutable_time() = TimeUtil::SecondsToTimestamp(absl::ToUnixSeconds(kAsOf) - 3600 * (i + 1));
  }
  return lead;
}

// a: a director at MQL (30) covering decider; b: a champion at LEAD (10); c: no consent;
// d: a competitor (disqualified); e: negative (-30).
sv1::Account Account() {
  sv1::Account account;
  account.set_id("acme");
  auto status = google::protobuf::util::JsonStringToMessage(
      R"({"employees": 5000, "industry": "software"})", account.mutable_attributes());
  EXPECT_TRUE(status.ok());
  *account.add_members() = Member("a", 3, R"("contact": {"title": "IT Director"})");
  *account.add_members() = Member("b", 1, R"("contact": {"role": "champion"})");
  *account.add_members() = Member("c", 9, R"("contact": {"title": "CIO Director"})", 0, "false");
  *account.add_members() = Member("d", 5, R"("competitor": true)");
  *account.add_members() = Member("e", 2, "", 1);
  return account;
}

sv1::AccountScore ScoreWith(const std::string& method, const sv1::Account& account) {
  auto set = Set(method);
  return ScoreAccount(*set, set->account_index.at("namespaces/default/definitions/acc"), account,
                      kAsOf);
}

double SumOfShares(const sv1::AccountScore& s) {
  double sum = 0;
  for (const auto& m : s.members()) {
    sum += m.contribution();
  }
  return sum;
}

TEST(AccountTest, FitFromTheAccountsOwnAttributesWithItsCap) {
  sv1::AccountScore s = ScoreWith("{method: SUM}", Account());
  EXPECT_DOUBLE_EQ(s.fit(), 50);  // 40 + 20, capped at 50
  ASSERT_EQ(s.reasons_size(), 3);
  EXPECT_EQ(s.reasons(0).rule(), "enterprise");
  EXPECT_EQ(s.reasons(1).rule(), "target");
  EXPECT_EQ(s.reasons(2).kind(), sv1::Reason::CAP);
  EXPECT_DOUBLE_EQ(s.total(), s.fit() + s.engagement());
  ASSERT_EQ(s.definitions_size(), 2);
  EXPECT_EQ(s.definitions(0).name(), "namespaces/default/definitions/acc");
  EXPECT_EQ(s.definitions(1).name(), "namespaces/default/definitions/m");
}

TEST(AccountTest, ConsentAndDisqualificationExcludeMembers) {
  sv1::AccountScore s = ScoreWith("{method: SUM}", Account());
  ASSERT_EQ(s.members_size(), 5);
  EXPECT_EQ(s.excluded_for_consent(), 1);
  EXPECT_EQ(s.members(2).excluded(), "consent");
  EXPECT_EQ(s.members(2).level(), "");        // never scored
  EXPECT_TRUE(s.members(2).roles().empty());  // a director, but not counted
  EXPECT_EQ(s.members(3).excluded(), "disqualified");
  EXPECT_EQ(s.members(3).level(), "DISQUALIFIED");
  EXPECT_DOUBLE_EQ(s.members(3).contribution(), 0);
  EXPECT_EQ(s.members(0).level(), "MQL");
  EXPECT_EQ(s.members(0).persona(), "namespaces/default/definitions/buyer");
  // Consent by another allowed value, or missing.
  sv1::Account account = Account();
  *account.mutable_members(2) =
      Member("c", 9, R"("contact": {"title": "CIO Director"})", 0, R"("granted")");
  EXPECT_EQ(ScoreWith("{method: SUM}", account).excluded_for_consent(), 0);
  account.mutable_members(2)->mutable_attributes()->mutable_fields()->erase("consent");
  EXPECT_EQ(ScoreWith("{method: SUM}", account).excluded_for_consent(), 1);
}

struct AggregationCase {
  const char* method;
  double engagement;
  std::vector<double> shares;  // a, b, e (c and d are excluded)
  std::vector<bool> counted;
};

TEST(AccountTest, EveryAggregationByHand) {
  // Values: a 30, b 10, e -30.
  const AggregationCase cases[] = {
      {"{method: SUM}", 10, {30, 10, -30}, {true, true, true}},
      {"{method: SUM, drop_negative: true}", 40, {30, 10, 0}, {true, true, false}},
      {"{method: AVERAGE}", 10.0 / 3, {10, 10.0 / 3, -10}, {true, true, true}},
      {"{method: AVERAGE, drop_negative: true}", 20, {15, 5, 0}, {true, true, false}},
      {"{method: MAX}", 30, {30, 0, 0}, {true, false, false}},
      {"{method: TOP_N, top_n: 2}", 40, {30, 10, 0}, {true, true, false}},
      {"{method: TOP_N, top_n: 5}", 10, {30, 10, -30}, {true, true, true}},
      // 3 members: 0.34 cuts one from each end (the median remains); 0.33 cuts none.
      {"{method: TRIMMED_MEAN, trim_fraction: 0.34}", 10, {0, 10, 0}, {false, true, false}},
      {"{method: TRIMMED_MEAN, trim_fraction: 0.33}",
       10.0 / 3,
       {10, 10.0 / 3, -10},
       {true, true, true}},
      {"{method: SUM, metric: FIT}", 0, {0, 0, 0}, {true, true, true}},
  };
  for (const AggregationCase& c : cases) {
    SCOPED_TRACE(c.method);
    sv1::AccountScore s = ScoreWith(c.method, Account());
    EXPECT_NEAR(s.engagement(), c.engagement, 1e-12);
    EXPECT_DOUBLE_EQ(s.engagement(), SumOfShares(s));  // the shares add up to it
    const int members[] = {0, 1, 4};
    for (int k = 0; k < 3; ++k) {
      EXPECT_NEAR(s.members(members[k]).contribution(), c.shares[k], 1e-12) << k;
      EXPECT_EQ(s.members(members[k]).counted(), c.counted[k]) << k;
    }
  }
  sv1::AccountScore dropped = ScoreWith("{method: SUM, drop_negative: true}", Account());
  EXPECT_EQ(dropped.members(4).excluded(), "negative");
  EXPECT_DOUBLE_EQ(dropped.members(4).value(), -30);
}

TEST(AccountTest, NoMemberLeftCombinesToZero) {
  sv1::Account account = Account();
  account.clear_members();
  for (const char* method : {"{method: SUM}", "{method: AVERAGE}", "{method: MAX}",
                             "{method: TOP_N, top_n: 3}", "{method: TRIMMED_MEAN}"}) {
    sv1::AccountScore s = ScoreWith(method, account);
    EXPECT_DOUBLE_EQ(s.engagement(), 0) << method;
    EXPECT_DOUBLE_EQ(s.coverage(), 0) << method;
  }
}

TEST(AccountTest, CoverageNeedsTheMinimumLevelExactly) {
  // a at 30 (MQL) covers decider (weight 2); b covers champion (weight 1): complete.
  sv1::AccountScore s = ScoreWith("{method: SUM}", Account());
  ASSERT_EQ(s.roles_size(), 2);
  EXPECT_TRUE(s.roles(0).covered());
  EXPECT_EQ(s.roles(0).covered_by(0), "a");
  EXPECT_EQ(s.roles(1).covered_by(0), "b");
  EXPECT_DOUBLE_EQ(s.coverage(), 1);
  EXPECT_EQ(s.members(0).roles(0), "decider");
  // a at exactly 20 engagement is MQL: still covers. At 10 (LEAD) it does not: 1/3.
  sv1::Account account = Account();
  *account.mutable_members(0) = Member("a", 2, R"("contact": {"title": "IT Director"})");
  EXPECT_DOUBLE_EQ(ScoreWith("{method: SUM}", account).coverage(), 1);
  *account.mutable_members(0) = Member("a", 1, R"("contact": {"title": "IT Director"})");
  sv1::AccountScore partial = ScoreWith("{method: SUM}", account);
  EXPECT_DOUBLE_EQ(partial.coverage(), 1.0 / 3);
  EXPECT_FALSE(partial.roles(0).covered());
  // A list-valued role attribute counts when any element matches.
  *account.mutable_members(1) = Member("b", 1, R"("contact": {"role": ["user", "champion"]})");
  EXPECT_TRUE(ScoreWith("{method: SUM}", account).roles(1).covered());
}

TEST(AccountTest, LevelsAtTheirBoundaries) {
  // SUM with negatives dropped: 40 < 50: target. Two more touches for b: 60 >= 50, complete
  // coverage: MQA. Exactly 50: MQA too. Without the champion: engaged.
  EXPECT_EQ(ScoreWith("{method: SUM, drop_negative: true}", Account()).level(), "target");
  sv1::Account account = Account();
  *account.mutable_members(1) = Member("b", 2, R"("contact": {"role": "champion"})");
  EXPECT_EQ(ScoreWith("{method: SUM, drop_negative: true}", account).level(), "MQA");
  EXPECT_DOUBLE_EQ(ScoreWith("{method: SUM, drop_negative: true}", account).engagement(), 50);
  *account.mutable_members(1) = Member("b", 2, R"("contact": {"role": "user"})");
  EXPECT_EQ(ScoreWith("{method: SUM, drop_negative: true}", account).level(), "engaged");
  // Fit below 30: no level at all.
  (*account.mutable_attributes()->mutable_fields())["employees"].set_number_value(10);
  (*account.mutable_attributes()->mutable_fields())["industry"].set_string_value("retail");
  EXPECT_EQ(ScoreWith("{method: SUM, drop_negative: true}", account).level(), "");
}

// ---------------------------------------------------------------- through the Scorer

class AccountScorerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // Revision 1 of the model and of the account model is published at sequence 1, revision 2
    // of both at sequence 2; revision 1 stays readable through the fetcher.
    Publish(1, Definitions("{method: SUM}"));
    std::vector<PublishedDefinition> v2 = Definitions("{method: SUM, drop_negative: true}");
    for (PublishedDefinition& d : v2) {
      d.revision = 2;
      if (d.name == "namespaces/default/definitions/m") {
        // Revision 2 of the member model counts a touch 15 points.
        auto* rule =
            d.content.mutable_qualification_model()->mutable_engagement(0)->mutable_rules(0);
        rule->set_points(15);
      }
    }
    Publish(2, v2);
    scorer_.SetRevisionFetcher(
        [this](const std::string& name, int64_t number) -> absl::StatusOr<rv1::Revision> {
          for (const auto& [revision, defs] : history_) {
            for (const PublishedDefinition& d : defs) {
              if (d.name == name && revision == number) {
                rv1::Revision r;
                r.set_revision_number(number);
                *r.mutable_snapshot() = d.content;
                return r;
              }
            }
          }
          return absl::NotFoundError("no such revision");
        });
  }

  void Publish(int64_t sequence, const std::vector<PublishedDefinition>& defs) {
    history_.emplace_back(sequence, defs);
    rv1::WatchDefinitionsResponse m;
    m.set_sequence(sequence);
    m.set_history_id("h");
    for (const PublishedDefinition& d : defs) {
      rv1::WatchEvent* e = m.mutable_changes()->add_events();
      e->set_type(rv1::WatchEvent::UPSERT);
      e->set_definition(d.name);
      e->mutable_revision()->set_revision_number(d.revision);
      *e->mutable_revision()->mutable_snapshot() = d.content;
    }
    std::vector<rv1::WatchDefinitionsResponse> messages;
    if (sequence == 1) {
      rv1::WatchDefinitionsResponse begin;
      begin.set_sequence(1);
      begin.set_history_id("h");
      begin.mutable_snapshot_begin();
      messages.push_back(begin);
    }
    messages.push_back(m);
    if (sequence == 1) {
      rv1::WatchDefinitionsResponse end;
      end.set_sequence(1);
      end.set_history_id("h");
      end.mutable_snapshot_end();
      messages.push_back(end);
    }
    ASSERT_TRUE(scorer_.Apply(messages).empty());
  }

  // Retries while a pinned revision loads (REVISION_LOADING).
  template <typename Fn>
  auto Retry(Fn fn) {
    auto result = fn();
    for (int i = 0;
         i < 100 && !result.ok() && result.status().code() == absl::StatusCode::kUnavailable; ++i) {
      absl::SleepFor(absl::Milliseconds(10));
      result = fn();
    }
    return result;
  }

  SystemClock clock_;
  Scorer scorer_{clock_};
  std::vector<std::pair<int64_t, std::vector<PublishedDefinition>>> history_;
};

TEST_F(AccountScorerTest, ScoreAccountWithThePublishedModels) {
  sv1::ScoreAccountRequest request;
  *request.mutable_account() = Account();
  *request.mutable_as_of() = TimeUtil::SecondsToTimestamp(absl::ToUnixSeconds(kAsOf));
  auto s = scorer_.ScoreAccount(request);
  ASSERT_TRUE(s.ok()) << s.status();
  // Revision 2: touches are 15 points, negatives dropped: a 45 + b 15 = 60.
  EXPECT_DOUBLE_EQ(s->engagement(), 60);
  EXPECT_EQ(s->definitions(0).revision(), 2);
}

TEST_F(AccountScorerTest, BadAccountsAreRefusedWithTheirFieldPaths) {
  sv1::ScoreAccountRequest request;
  *request.mutable_account() = Account();
  request.mutable_account()->mutable_members(3)->set_id("a");
  EXPECT_THAT(scorer_.ScoreAccount(request), Refused("account.members[3].id"));
  request.mutable_account()->mutable_members(3)->clear_id();
  EXPECT_THAT(scorer_.ScoreAccount(request), Refused("account.members[3].id"));
  request.mutable_account()->clear_members();
  for (int i = 0; i < 100000; ++i) {
    request.mutable_account()->add_members()->set_id(absl::StrCat("m", i));
  }
  EXPECT_THAT(scorer_.ScoreAccount(request), Refused("account.members"));
  sv1::BatchScoreAccountsRequest batch;
  for (int i = 0; i < 101; ++i) {
    batch.add_accounts()->set_id(absl::StrCat("a", i));
  }
  EXPECT_THAT(scorer_.BatchScoreAccounts(batch), Refused("accounts"));
  batch.clear_accounts();
  for (int i = 0; i < 11; ++i) {
    sv1::Account* a = batch.add_accounts();
    a->set_id(absl::StrCat("a", i));
    for (int m = 0; m < 1000; ++m) {
      a->add_members()->set_id(absl::StrCat("m", m));
    }
  }
  EXPECT_THAT(scorer_.BatchScoreAccounts(batch), Refused("accounts[10].members"));
}

// Every combination of the three causes, for a lead and for an account: the parts add up to
// the whole change, and a cause that did not happen contributes nothing.
TEST_F(AccountScorerTest, ExplainedPartsAddUpForEveryCombinationOfCauses) {
  const sv1::Lead before_lead = Member("a", 3, R"("contact": {"title": "IT Director"})");
  sv1::Lead after_lead = before_lead;
  sv1::Event* e = after_lead.add_events();
  e->set_type("touch");
  *e->mutable_time() = TimeUtil::SecondsToTimestamp(absl::ToUnixSeconds(kAsOf) - 60);
  sv1::Account after_account = Account();
  *after_account.mutable_members(1) = Member("b", 4, R"("contact": {"role": "champion"})");
  const int64_t t1 = absl::ToUnixSeconds(kAsOf);
  for (int combo = 0; combo < 8; ++combo) {
    const bool definition = combo & 1, data = combo & 2, time = combo & 4;
    SCOPED_TRACE(absl::StrCat("definition ", definition, " data ", data, " time ", time));
    for (bool account : {false, true}) {
      sv1::ExplainScoreChangeRequest request;
      request.set_revision_before(definition ? 1 : 2);
      request.set_revision_after(2);
      *request.mutable_as_of_before() = TimeUtil::SecondsToTimestamp(t1);
      // Time: 100 days later, past no window (the model has none): the same score, unless a
      // step depends on it. Accounts add a member event in the window either way.
      *request.mutable_as_of_after() = TimeUtil::SecondsToTimestamp(t1 + (time ? 100 * 86400 : 0));
      if (account) {
        *request.mutable_account_before() = Account();
        *request.mutable_account_after() = data ? after_account : Account();
      } else {
        *request.mutable_lead_before() = before_lead;
        *request.mutable_lead_after() = data ? after_lead : before_lead;
      }
      auto r = Retry([&] { return scorer_.ExplainScoreChange(request); });
      ASSERT_TRUE(r.ok()) << r.status();
      ASSERT_EQ(r->parts_size(), 3);
      double total = 0, fit = 0, engagement = 0;
      for (const auto& part : r->parts()) {
        total += part.total();
        fit += part.fit();
        engagement += part.engagement();
      }
      EXPECT_NEAR(total, r->total_change(), 1e-9);
      EXPECT_NEAR(fit, r->fit_change(), 1e-9);
      EXPECT_NEAR(engagement, r->engagement_change(), 1e-9);
      const double whole = account ? r->account_after().total() - r->account_before().total()
                                   : r->after().total() - r->before().total();
      EXPECT_DOUBLE_EQ(r->total_change(), whole);
      if (!definition) {
        EXPECT_EQ(r->parts(0).total(), 0);
        EXPECT_TRUE(r->parts(0).reasons().empty());
      }
      if (!data) {
        EXPECT_EQ(r->parts(1).total(), 0);
      }
      if (!time) {
        EXPECT_EQ(r->parts(2).total(), 0);
      }
      if (!account && definition) {
        // Revision 1 counts a touch 10 points, revision 2 15: 3 touches move 30 -> 45.
        EXPECT_DOUBLE_EQ(r->parts(0).engagement(), 15);
        ASSERT_EQ(r->parts(0).reasons_size(), 1);
        EXPECT_EQ(r->parts(0).reasons(0).rule(), "touch");
        EXPECT_EQ(r->before().definitions(0).revision(), 1);
      }
      if (!account && data) {
        EXPECT_DOUBLE_EQ(r->parts(1).engagement(), 15);  // one more touch at revision 2
        EXPECT_EQ(r->parts(1).level_after(), "SQL");
      }
    }
  }
}

TEST_F(AccountScorerTest, ExplainNeedsBothSidesAndBothTimes) {
  sv1::ExplainScoreChangeRequest request;
  EXPECT_THAT(scorer_.ExplainScoreChange(request), Refused("lead_before"));
  *request.mutable_lead_before() = Member("a", 1);
  *request.mutable_as_of_before() = TimeUtil::SecondsToTimestamp(1);
  EXPECT_THAT(scorer_.ExplainScoreChange(request), Refused("as_of_after"));
  *request.mutable_as_of_after() = TimeUtil::SecondsToTimestamp(2);
  EXPECT_THAT(scorer_.ExplainScoreChange(request), Refused("lead_after"));
  *request.mutable_lead_after() = Member("a", 2);
  request.set_revision_before(-1);
  EXPECT_THAT(scorer_.ExplainScoreChange(request), Refused("revision_before"));
  request.set_revision_before(0);
  *request.mutable_account_after() = Account();
  EXPECT_THAT(scorer_.ExplainScoreChange(request), Refused("lead_before"));  // both kinds
}

}  // namespace
}  // namespace accord::scoring
