#include "scoring/engine.h"

#include <cmath>
#include <set>
#include <thread>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "google/protobuf/util/json_util.h"
#include "google/protobuf/util/message_differencer.h"
#include "google/protobuf/util/time_util.h"
#include "gtest/gtest.h"

#include "definitions/loader.h"
#include "tests/testing/status_matchers.h"

namespace accord::scoring {
namespace {

using google::protobuf::util::TimeUtil;

const absl::Time kAsOf = absl::FromUnixSeconds(1800000000);
constexpr int64_t kDay = 86400;

std::shared_ptr<const CompiledSet> Set(const std::string& yaml) {
  auto docs = definitions::ParseDefinitions(yaml, "test.yaml");
  EXPECT_TRUE(docs.ok()) << docs.status();
  std::vector<PublishedDefinition> defs;
  int64_t revision = 1;
  for (const auto& d : *docs) {
    defs.push_back({d.definition.name(), revision++, d.definition});
  }
  auto set = Compile("default", defs);
  EXPECT_TRUE(set.ok()) << set.status();
  return set.ok() ? *set : nullptr;
}

sv1::Lead Lead(const std::string& json) {
  sv1::Lead lead;
  auto status = google::protobuf::util::JsonStringToMessage(json, &lead);
  EXPECT_TRUE(status.ok()) << status.message();
  return lead;
}

void AddEvent(sv1::Lead& lead, const std::string& type, int64_t age_seconds,
              const std::string& path = "") {
  sv1::Event* e = lead.add_events();
  e->set_type(type);
  *e->mutable_time() = TimeUtil::SecondsToTimestamp(absl::ToUnixSeconds(kAsOf) - age_seconds);
  if (!path.empty()) {
    (*e->mutable_properties()->mutable_fields())["path"].set_string_value(path);
  }
}

sv1::LeadScore ScoreWith(const std::shared_ptr<const CompiledSet>& set, const sv1::Lead& lead,
                         const std::string& journey = "") {
  Evaluation e{set.get(), 0, -1};
  if (!journey.empty()) {
    e.journey = set->journey_index.at("namespaces/default/definitions/" + journey);
  }
  return Score(e, lead, kAsOf);
}

const sv1::Reason* Find(const sv1::LeadScore& s, const std::string& rule) {
  for (const auto& r : s.reasons()) {
    if (r.rule() == rule) {
      return &r;
    }
  }
  return nullptr;
}

constexpr char kDecayModel[] = R"yaml(
name: namespaces/default/definitions/m
qualification_model:
  engagement:
    - name: g
      rules:
        - {id: exp, event_type: demo, points: 40, decay: {kind: EXPONENTIAL, half_life: 30d}}
        - {id: lin, event_type: visit, points: 10, decay: {kind: LINEAR, period: 10d, fraction: 1}}
        - {id: win, event_type: webinar, points: 5, window: 7d}
        - {id: recent, event_type: click, points: 1, max_events: 2, decay: {kind: EXPONENTIAL, half_life: 1d}}
)yaml";

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

constexpr char kCapsModel[] = R"yaml(
name: namespaces/default/definitions/m
qualification_model:
  fit:
    - name: size
      max_points: 30
      rules:
        - {id: big, points: 25, condition: {attribute: {field: company.employees, op: GE, value: 1000}}}
        - {id: bigger, points: 20, condition: {attribute: {field: company.employees, op: GE, value: 5000}}}
    - name: penalties
      min_points: -10
      rules:
        - {id: free-mail, points: -8, condition: {attribute: {field: email, op: ENDS_WITH, value: "@gmail.com", ignore_case: true}}}
        - {id: no-phone, points: -7, condition: {attribute: {field: phone, op: NOT_EXISTS}}}
  engagement:
    - name: e
      max_points: 50
      rules:
        - {id: click, event_type: click, points: 4, max_points: 10}
        - {id: demo, event_type: demo, points: 45}
  disqualifiers:
    - {id: competitor, reason: Works for a competitor, condition: {attribute: {field: company.is_competitor, op: EQ, value: true}}}
  fit_grades: [{label: A, min: 20}, {label: B, min: 10}, {label: C, min: -100}]
  engagement_grades: [{label: "1", min: 40}, {label: "2", min: 0}]
  levels:
    - {name: LEAD}
    - {name: MQL, min_fit: 10, min_engagement: 20}
    - {name: SQL, min_fit: 20, min_total: 70}
)yaml";

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

// Issue 15, case 5: a misspelled attribute (company.employes) only lost the lead points.
TEST(EngineTest, FullResultsNameMissingAndUnreadAttributes) {
  auto set = Set(kCapsModel);
  sv1::Lead lead = Lead(
      R"({"attributes": {"company": {"employes": 6000, "name": "Acme"}, "email": "a@b.c",
          "tags": ["x"]}})");
  sv1::LeadScore s = ScoreWith(set, lead);
  EXPECT_THAT(s.missing_attributes(),
              ::testing::ElementsAre("company.employees", "company.is_competitor", "phone"));
  EXPECT_THAT(s.unread_attributes(),
              ::testing::ElementsAre("company.employes", "company.name", "tags"));
  // The BASIC view reports neither.
  Evaluation basic{set.get(), 0, -1};
  basic.reasons = false;
  sv1::LeadScore b = Score(basic, lead, kAsOf);
  EXPECT_EQ(b.missing_attributes_size(), 0);
  EXPECT_EQ(b.unread_attributes_size(), 0);
  // At most 20 unread paths.
  std::string many = R"({"attributes": {)";
  for (int i = 0; i < 30; ++i) {
    many += (i ? ", " : "") + std::string("\"a") + std::to_string(100 + i) + "\": 1";
  }
  many += "}}";
  EXPECT_EQ(ScoreWith(set, Lead(many)).unread_attributes_size(), 20);
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

// One fit rule per operator case; the lead below satisfies exactly the rules named `yes-*`.
constexpr char kOperators[] = R"yaml(
name: namespaces/default/definitions/m
qualification_model:
  fit:
    - name: g
      rules:
        - {id: yes-eq, points: 1, condition: {attribute: {field: company.industry, op: EQ, value: software}}}
        - {id: yes-eq-case, points: 1, condition: {attribute: {field: company.industry, op: EQ, value: SOFTWARE, ignore_case: true}}}
        - {id: no-eq-case, points: 1, condition: {attribute: {field: company.industry, op: EQ, value: SOFTWARE}}}
        - {id: yes-ne, points: 1, condition: {attribute: {field: company.industry, op: NE, value: retail}}}
        - {id: no-ne-missing, points: 1, condition: {attribute: {field: company.missing, op: NE, value: retail}}}
        - {id: yes-in, points: 1, condition: {attribute: {field: company.country, op: IN, values: [US, CA]}}}
        - {id: yes-not-in, points: 1, condition: {attribute: {field: company.country, op: NOT_IN, values: [FR]}}}
        - {id: no-not-in-missing, points: 1, condition: {attribute: {field: nope, op: NOT_IN, values: [FR]}}}
        - {id: yes-lt, points: 1, condition: {attribute: {field: company.employees, op: LT, value: 501}}}
        - {id: no-lt, points: 1, condition: {attribute: {field: company.employees, op: LT, value: 500}}}
        - {id: yes-le, points: 1, condition: {attribute: {field: company.employees, op: LE, value: 500}}}
        - {id: yes-gt, points: 1, condition: {attribute: {field: company.employees, op: GT, value: 499}}}
        - {id: yes-ge, points: 1, condition: {attribute: {field: company.employees, op: GE, value: 500}}}
        - {id: yes-between, points: 1, condition: {attribute: {field: company.employees, op: BETWEEN, values: [500, 600]}}}
        - {id: no-between, points: 1, condition: {attribute: {field: company.employees, op: BETWEEN, values: [501, 600]}}}
        - {id: yes-numeric-string, points: 1, condition: {attribute: {field: company.revenue, op: GE, value: 1000000}}}
        - {id: yes-contains, points: 1, condition: {attribute: {field: contact.title, op: CONTAINS, value: "of IT", ignore_case: false}}}
        - {id: yes-starts, points: 1, condition: {attribute: {field: contact.title, op: STARTS_WITH, value: "head", ignore_case: true}}}
        - {id: no-starts-case, points: 1, condition: {attribute: {field: contact.title, op: STARTS_WITH, value: "head"}}}
        - {id: yes-ends, points: 1, condition: {attribute: {field: contact.email, op: ENDS_WITH, value: "@acme.com"}}}
        - {id: yes-matches, points: 1, condition: {attribute: {field: contact.title, op: MATCHES, value: "^head of (it|infra)", ignore_case: true}}}
        - {id: no-matches-case, points: 1, condition: {attribute: {field: contact.title, op: MATCHES, value: "^head of"}}}
        - {id: yes-exists, points: 1, condition: {attribute: {field: contact.email, op: EXISTS}}}
        - {id: yes-not-exists, points: 1, condition: {attribute: {field: contact.phone, op: NOT_EXISTS}}}
        - {id: no-exists-null, points: 1, condition: {attribute: {field: contact.fax, op: EXISTS}}}
        - {id: yes-list-any, points: 1, condition: {attribute: {field: company.tech_stack, op: EQ, value: hubspot}}}
        - {id: yes-list-of-structs, points: 1, condition: {attribute: {field: offices.city, op: EQ, value: Lyon}}}
        - {id: yes-bool, points: 1, condition: {attribute: {field: company.public, op: EQ, value: false}}}
        - {id: no-type-mismatch, points: 1, condition: {attribute: {field: company.public, op: EQ, value: "false"}}}
        - {id: yes-all, points: 1, condition: {all: [{attribute: {field: company.country, op: EQ, value: US}}, {attribute: {field: company.employees, op: GT, value: 1}}]}}
        - {id: yes-any, points: 1, condition: {any: [{attribute: {field: nope, op: EXISTS}}, {attribute: {field: company.country, op: EQ, value: US}}]}}
        - {id: yes-not, points: 1, condition: {not: {attribute: {field: nope, op: EXISTS}}}}
        - {id: yes-event, points: 1, condition: {event: {type: page_view, min_count: 2, window: 2d, where: [{field: path, op: STARTS_WITH, value: /pricing}]}}}
        - {id: no-event, points: 1, condition: {event: {type: page_view, min_count: 4, where: [{field: path, op: STARTS_WITH, value: /pricing}]}}}
)yaml";

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

constexpr char kPersonas[] = R"yaml(
name: namespaces/default/definitions/it
buyer_persona:
  min_match: 0.6
  criteria:
    - {id: title, weight: 3, required: true, condition: {attribute: {field: title, op: CONTAINS, value: it, ignore_case: true}}}
    - {id: size, weight: 1, condition: {attribute: {field: employees, op: GE, value: 200}}}
---
name: namespaces/default/definitions/ops
buyer_persona:
  min_match: 0.5
  criteria:
    - {id: title, weight: 1, condition: {attribute: {field: title, op: CONTAINS, value: ops, ignore_case: true}}}
    - {id: size, weight: 1, condition: {attribute: {field: employees, op: GE, value: 200}}}
---
name: namespaces/default/definitions/m
qualification_model:
  personas: [it, ops]
  fit:
    - name: p
      rules:
        - {id: is-it, points: 10, condition: {persona: {persona: it}}}
        - {id: is-ops-strict, points: 5, condition: {persona: {persona: ops, min_match: 0.9}}}
)yaml";

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

TEST(EngineTest, CompileRejectsDanglingReferencesWholesale) {
  auto docs = definitions::ParseDefinitions(R"(
name: namespaces/default/definitions/m
qualification_model: {personas: [ghost]}
)",
                                            "t");
  std::vector<PublishedDefinition> defs{
      {docs->front().definition.name(), 1, docs->front().definition}};
  auto set = Compile("default", defs);
  ASSERT_FALSE(set.ok());
  EXPECT_EQ(set.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(set.status().message().find("personas[0]"), std::string::npos) << set.status();
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

constexpr char kJourneySla[] = R"yaml(
name: namespaces/default/definitions/m
qualification_model: {levels: [{name: LEAD}]}
---
name: namespaces/default/definitions/j
buyer_journey:
  model: m
  stages: [{id: new}, {id: mql, max_duration: 1d}, {id: sal}, {id: won}]
  reason_taxonomy: [{code: no-budget}, {code: bad-timing}]
  recycle:
    - {from: sal, to: mql, reasons: [no-budget]}
    - {from: won, to: new}
---
name: namespaces/default/definitions/s
service_level_agreement:
  journey: j
  model: m
  response:
    - {id: touch, stage: mql, team: sales, event_type: sales_touch, within: 4h, warn_fraction: 0.75}
)yaml";

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
namespace {

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
namespace {

// The serving path writes reasons as wire bytes; parsed, they are the Reason messages
// ScoreInto builds: caps, decay details, disqualifiers, persona and operator evidence included.
TEST(EngineTest, WireReasonsParseAsTheReasonMessages) {
  for (const char* yaml : {kCapsModel, kDecayModel, kOperators, kPersonas}) {
    auto set = Set(yaml);
    ASSERT_NE(set, nullptr);
    for (int i = 0; i < 30; ++i) {
      sv1::Lead lead = Lead(absl::StrCat(
          R"({"id": "lead-)", i, R"(", "attributes": {"company": {"employees": )", i * 300,
          R"(, "industry": "Software", "is_competitor": )", i % 7 == 0 ? "true" : "false",
          R"(, "tags": ["a", null, "b"]}, "title": "VP Sales", "email": "a@gmail.com"}})"));
      for (int k = 0; k < i % 9; ++k) {
        AddEvent(lead, k % 2 ? "click" : "demo", k * 7 * 3600, k % 3 ? "/pricing" : "");
      }
      LeadSet leads;
      leads.Add(lead);
      for (bool reasons : {true, false}) {
        const Evaluation e{set.get(), 0, -1, reasons};
        sv1::LeadScore expected;
        ScoreInto(e, leads, 0, kAsOf, &expected);
        sv1::LeadScore score;
        std::string wire;
        ScoreWire(e, leads, 0, kAsOf, &score, &wire);
        EXPECT_EQ(score.reasons_size(), 0);
        EXPECT_EQ(wire.empty(), expected.reasons_size() == 0);
        sv1::LeadScore parsed;
        ASSERT_TRUE(parsed.ParseFromString(score.SerializeAsString() + wire));
        EXPECT_EQ(parsed.SerializeAsString(), expected.SerializeAsString()) << i;
      }
    }
  }
}

}  // namespace
}  // namespace accord::scoring
