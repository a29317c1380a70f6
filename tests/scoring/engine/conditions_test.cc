#include "scoring/engine/conditions.h"

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

TEST(EngineTest, EveryOperatorMissingAndListValuedAttributes) {
  auto set = Set(kOperators);
  sv1::Lead lead = Lead(R"({"attributes": {
      "company": {"industry": "software", "country": "US", "employees": 500,
                  "revenue": "2500000", "tech_stack": ["salesforce", "hubspot"], "public": false},
      "contact": {"title": "Head of IT", "email": "ann@acme.com", "fax": null},
      "offices": [{"city": "Paris"}, {"city": "Lyon"}]}})");
  AddEvent(lead, "page_view", kDay, "/pricing");
  AddEvent(lead, "page_view", kDay / 2, "/pricing/enterprise");
  AddEvent(lead, "page_view", 3 * kDay, "/pricing");  // outside the window
  AddEvent(lead, "page_view", 3600, "/blog");
  sv1::LeadScore s = ScoreWith(set, lead);
  std::set<std::string> matched;
  for (const auto& r : s.reasons()) {
    matched.insert(r.rule());
  }
  auto docs = definitions::ParseDefinitions(kOperators, "t");
  for (const auto& rule : docs->front().definition.qualification_model().fit(0).rules()) {
    bool expect = rule.id().rfind("yes-", 0) == 0;
    EXPECT_EQ(matched.count(rule.id()) > 0, expect) << rule.id();
  }
  EXPECT_EQ(Find(s, "yes-eq")->evidence(), "company.industry=software");
  // A compound condition shows what each of its parts saw; every reason shows its own
  // evidence, never the previous rule's.
  EXPECT_EQ(Find(s, "yes-all")->evidence(), "company.country=US; company.employees=500");
  EXPECT_EQ(Find(s, "yes-any")->evidence(), "company.country=US");
  EXPECT_EQ(Find(s, "yes-not")->evidence(), "");
  EXPECT_EQ(Find(s, "yes-exists")->evidence(), "contact.email=ann@acme.com");
  EXPECT_EQ(Find(s, "yes-not-exists")->evidence(), "");
  EXPECT_EQ(Find(s, "yes-list-any")->evidence(), "company.tech_stack=hubspot");
  EXPECT_EQ(Find(s, "yes-bool")->evidence(), "company.public=false");
  EXPECT_EQ(Find(s, "yes-event")->evidence(), "2 page_view events");
  EXPECT_EQ(Find(s, "yes-ge")->evidence(), "company.employees=500");
}

// The same test in several rules is evaluated once per lead, and every rule holding it is
// credited; tests that differ only in a constant or in case are different tests.
TEST(EngineTest, SharedTestsCountForEveryRule) {
  auto set = Set(R"yaml(
name: namespaces/default/definitions/m
qualification_model:
  fit:
    - name: a
      rules:
        - {id: us-1, points: 2, condition: {attribute: {field: country, op: EQ, value: US}}}
        - {id: us-big, points: 3, condition: {all: [{attribute: {field: country, op: EQ, value: US}}, {attribute: {field: size, op: GE, value: 10}}]}}
    - name: b
      rules:
        - {id: us-2, points: 5, condition: {attribute: {field: country, op: EQ, value: US}}}
        - {id: us-case, points: 7, condition: {attribute: {field: country, op: EQ, value: us}}}
        - {id: us-nocase, points: 11, condition: {attribute: {field: country, op: EQ, value: us, ignore_case: true}}}
        - {id: size-11, points: 13, condition: {attribute: {field: size, op: GE, value: 11}}}
)yaml");
  ASSERT_NE(set, nullptr);
  // country EQ US (twice shared), size GE 10, country EQ us, the same ignoring case, size GE 11.
  EXPECT_EQ(set->attribute_tests, 5);
  EXPECT_EQ(set->attribute_paths, 2);
  sv1::LeadScore s = ScoreWith(set, Lead(R"({"attributes": {"country": "US", "size": 10}})"));
  EXPECT_EQ(s.fit(), 2 + 3 + 5 + 11);
  EXPECT_EQ(Find(s, "us-1")->evidence(), "country=US");
  EXPECT_EQ(Find(s, "us-2")->evidence(), "country=US");
  EXPECT_EQ(Find(s, "us-big")->evidence(), "country=US; size=10");
  EXPECT_EQ(Find(s, "us-case"), nullptr);
  EXPECT_EQ(Find(s, "size-11"), nullptr);
  // Numbers in evidence are shown in full, as the lead sent them (not 2.5e+06).
  s = ScoreWith(set, Lead(R"({"attributes": {"country": "US", "size": 2500000.5}})"));
  EXPECT_EQ(Find(s, "us-big")->evidence(), "country=US; size=2500000.5");
  EXPECT_EQ(Find(s, "size-11")->evidence(), "size=2500000.5");
}

TEST(EngineTest, PersonaMatchWithRequiredCriteriaAndMinMatch) {
  auto set = Set(kPersonas);
  // Title matches IT (3 of 4 weight = 0.75 >= 0.6) and ops fails its title (0.5 >= 0.5).
  sv1::LeadScore s =
      ScoreWith(set, Lead(R"({"attributes": {"title": "IT lead", "employees": 100}})"));
  EXPECT_EQ(s.persona().persona(), "namespaces/default/definitions/it");
  EXPECT_DOUBLE_EQ(s.persona().match(), 0.75);
  EXPECT_DOUBLE_EQ(s.fit(), 10);
  // The required IT title fails: match 0 whatever else holds; ops at 0.5 wins.
  s = ScoreWith(set, Lead(R"({"attributes": {"title": "Sales", "employees": 300}})"));
  EXPECT_EQ(s.persona().persona(), "namespaces/default/definitions/ops");
  EXPECT_DOUBLE_EQ(s.persona().match(), 0.5);
  EXPECT_DOUBLE_EQ(s.fit(), 0);  // ops needs 0.9 in the rule
  // Nothing reaches min_match: no persona.
  s = ScoreWith(set, Lead(R"({"attributes": {"title": "Sales", "employees": 10}})"));
  EXPECT_FALSE(s.has_persona());
  std::vector<sv1::PersonaMatch> all =
      MatchPersonas(*set, Lead(R"({"attributes": {"title": "IT ops", "employees": 300}})"), kAsOf);
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[0].persona(), "namespaces/default/definitions/it");  // 1.0 vs 1.0: by name
  EXPECT_DOUBLE_EQ(all[0].match(), 1.0);
  EXPECT_DOUBLE_EQ(all[1].match(), 1.0);
}

}  // namespace
}  // namespace accord::scoring
