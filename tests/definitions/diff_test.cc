#include "definitions/diff.h"

#include <string>
#include <vector>

#include "google/protobuf/text_format.h"
#include "gtest/gtest.h"

namespace accord::definitions {
namespace {

using Change = v1::DefinitionChange;

v1::Definition Parse(const std::string& text) {
  v1::Definition d;
  EXPECT_TRUE(google::protobuf::TextFormat::ParseFromString(text, &d)) << text;
  return d;
}

struct Case {
  const char* name;
  const char* before;  // text format of a Definition
  const char* after;
  const char* path;  // the one change expected
  Change::Kind kind;
  Change::Effect effect;
  const char* summary;
};

// Every kind of change in every kind of definition: one change each, with its path, effect and
// business-language summary.
const Case kCases[] = {
    // ---- metadata and policy
    {"display name", R"(display_name: "A" buyer_persona {})",
     R"(display_name: "B" buyer_persona {})", "display_name", Change::CHANGED, Change::NEUTRAL,
     R"(definition: name "A" -> "B")"},
    {"labels", R"(labels {key: "k" value: "1"} buyer_persona {})",
     R"(labels {key: "k" value: "2"} buyer_persona {})", "labels", Change::CHANGED, Change::NEUTRAL,
     R"(definition: labels "k=1" -> "k=2")"},
    {"team added to policy", "buyer_persona {}",
     R"(approval_policy {required_teams: ["marketing", "sales", "legal"]} buyer_persona {})",
     "approval_policy.required_teams[legal]", Change::ADDED, Change::TIGHTENS,
     "approval policy: legal must now approve"},
    {"team removed from policy", "buyer_persona {}",
     R"(approval_policy {required_teams: ["marketing"]} buyer_persona {})",
     "approval_policy.required_teams[sales]", Change::REMOVED, Change::LOOSENS,
     "approval policy: sales no longer approves"},
    // ---- persona
    {"persona summary", R"(buyer_persona {summary: "x"})", R"(buyer_persona {summary: "y"})",
     "buyer_persona.summary", Change::CHANGED, Change::NEUTRAL, R"(persona: summary "x" -> "y")"},
    {"persona goals", R"(buyer_persona {goals: "a"})", R"(buyer_persona {goals: ["a", "b"]})",
     "buyer_persona.goals", Change::CHANGED, Change::NEUTRAL, R"(persona: goals "a" -> "a, b")"},
    {"persona min match up", R"(buyer_persona {min_match: 0.6})",
     R"(buyer_persona {min_match: 0.7})", "buyer_persona.min_match", Change::CHANGED,
     Change::TIGHTENS, "persona: minimum match 0.6 -> 0.7"},
    {"persona min match default", R"(buyer_persona {})", R"(buyer_persona {min_match: 0.4})",
     "buyer_persona.min_match", Change::CHANGED, Change::LOOSENS,
     "persona: minimum match 0.5 -> 0.4"},
    {"required criterion added", R"(buyer_persona {})",
     R"(buyer_persona {criteria {id: "title" required: true weight: 2 condition {attribute {
        field: "contact.title" op: CONTAINS value {string_value: "IT"}}}}})",
     "buyer_persona.criteria[title]", Change::ADDED, Change::TIGHTENS,
     R"(new criterion title: required, weight 2: contact.title contains "IT")"},
    {"optional criterion removed",
     R"(buyer_persona {criteria {id: "c" condition {attribute {field: "x" op: EXISTS}}}})",
     R"(buyer_persona {})", "buyer_persona.criteria[c]", Change::REMOVED, Change::UNDECIDED,
     "criterion c removed (was: weight 1: x exists)"},
    {"criterion weight",
     R"(buyer_persona {criteria {id: "c" weight: 1 condition {attribute {field: "x" op: EXISTS}}}})",
     R"(buyer_persona {criteria {id: "c" weight: 3 condition {attribute {field: "x" op: EXISTS}}}})",
     "buyer_persona.criteria[c].weight", Change::CHANGED, Change::UNDECIDED,
     "criterion c: weight 1 -> 3"},
    {"criterion made required",
     R"(buyer_persona {criteria {id: "c" condition {attribute {field: "x" op: EXISTS}}}})",
     R"(buyer_persona {criteria {id: "c" required: true condition {attribute {field: "x" op: EXISTS}}}})",
     "buyer_persona.criteria[c].required", Change::CHANGED, Change::TIGHTENS,
     "criterion c: now required"},
    {"criterion condition",
     R"(buyer_persona {criteria {id: "c" condition {attribute {field: "e" op: GE value {number_value: 100}}}}})",
     R"(buyer_persona {criteria {id: "c" condition {any {attribute {field: "e" op: GE value {number_value: 500}}} any {attribute {field: "i" op: IN values {string_value: "saas"} values {string_value: "it"}}}}}})",
     "buyer_persona.criteria[c].condition", Change::CHANGED, Change::UNDECIDED,
     R"(criterion c: condition now "e >= 500 or i in ["saas", "it"]" (was "e >= 100"))"},
    {"negative persona", R"(buyer_persona {})", R"(buyer_persona {exclude: true})",
     "buyer_persona.exclude", Change::CHANGED, Change::UNDECIDED,
     "persona: now a negative persona (excludes the leads it matches)"},
    // ---- qualification model
    {"fit rule points up",
     R"(qualification_model {fit {name: "firmo" rules {id: "big" points: 10 condition {attribute {field: "e" op: EXISTS}}}}})",
     R"(qualification_model {fit {name: "firmo" rules {id: "big" points: 15 condition {attribute {field: "e" op: EXISTS}}}}})",
     "qualification_model.fit[firmo].rules[big].points", Change::CHANGED, Change::LOOSENS,
     "rule big: points 10 -> 15"},
    {"negative fit rule added", R"(qualification_model {fit {name: "firmo"}})",
     R"(qualification_model {fit {name: "firmo" rules {id: "free" points: -20 condition {attribute {field: "email" op: ENDS_WITH value {string_value: "@gmail.com"} ignore_case: true}}}}})",
     "qualification_model.fit[firmo].rules[free]", Change::ADDED, Change::TIGHTENS,
     R"(new rule free: -20 points when email ends with "@gmail.com" (any case))"},
    {"fit group added", R"(qualification_model {})",
     R"(qualification_model {fit {name: "g" rules {id: "a" points: 5 condition {attribute {field: "x" op: EXISTS}}}}})",
     "qualification_model.fit[g]", Change::ADDED, Change::LOOSENS, "new fit group g: 1 rule(s)"},
    {"group cap removed", R"(qualification_model {fit {name: "g" max_points: 30}})",
     R"(qualification_model {fit {name: "g"}})", "qualification_model.fit[g].max_points",
     Change::CHANGED, Change::LOOSENS, "fit group g: cap 30 -> no limit"},
    {"group floor raised", R"(qualification_model {engagement {name: "g" min_points: -20}})",
     R"(qualification_model {engagement {name: "g" min_points: -10}})",
     "qualification_model.engagement[g].min_points", Change::CHANGED, Change::LOOSENS,
     "engagement group g: floor -20 -> -10"},
    {"half-life shorter",
     R"(qualification_model {engagement {name: "intent" rules {id: "pricing" event_type: "page_view" points: 10 decay {kind: EXPONENTIAL half_life {seconds: 2592000}}}}})",
     R"(qualification_model {engagement {name: "intent" rules {id: "pricing" event_type: "page_view" points: 10 decay {kind: EXPONENTIAL half_life {seconds: 1209600}}}}})",
     "qualification_model.engagement[intent].rules[pricing].decay.half_life", Change::CHANGED,
     Change::TIGHTENS, "rule pricing: half-life 30 d -> 14 d"},
    {"decay added",
     R"(qualification_model {engagement {name: "i" rules {id: "r" event_type: "e" points: 1}}})",
     R"(qualification_model {engagement {name: "i" rules {id: "r" event_type: "e" points: 1 decay {kind: LINEAR period {seconds: 604800} fraction: 0.5}}}})",
     "qualification_model.engagement[i].rules[r].decay", Change::CHANGED, Change::TIGHTENS,
     "rule r: loses 50 % every 7 d (was no decay)"},
    {"window longer",
     R"(qualification_model {engagement {name: "i" rules {id: "r" event_type: "e" points: 1 window {seconds: 3600}}}})",
     R"(qualification_model {engagement {name: "i" rules {id: "r" event_type: "e" points: 1 window {seconds: 7200}}}})",
     "qualification_model.engagement[i].rules[r].window", Change::CHANGED, Change::LOOSENS,
     "rule r: window 1 h -> 2 h"},
    {"max events",
     R"(qualification_model {engagement {name: "i" rules {id: "r" event_type: "e" points: 1}}})",
     R"(qualification_model {engagement {name: "i" rules {id: "r" event_type: "e" points: 1 max_events: 3}}})",
     "qualification_model.engagement[i].rules[r].max_events", Change::CHANGED, Change::TIGHTENS,
     "rule r: events counted no limit -> 3"},
    {"event test",
     R"(qualification_model {engagement {name: "i" rules {id: "r" event_type: "page_view" points: 1}}})",
     R"(qualification_model {engagement {name: "i" rules {id: "r" event_type: "page_view" points: 1 where {field: "path" op: STARTS_WITH value {string_value: "/pricing"}}}}})",
     "qualification_model.engagement[i].rules[r].where", Change::CHANGED, Change::UNDECIDED,
     R"(rule r: event test "" -> " where path starts with "/pricing"")"},
    {"disqualifier added", R"(qualification_model {})",
     R"(qualification_model {disqualifiers {id: "comp" reason: "competitor" condition {attribute {field: "company.is_competitor" op: EQ value {bool_value: true}}}}})",
     "qualification_model.disqualifiers[comp]", Change::ADDED, Change::TIGHTENS,
     R"(new disqualifier comp: "competitor" when company.is_competitor = true)"},
    {"disqualifier removed",
     R"(qualification_model {disqualifiers {id: "d" reason: "r" condition {attribute {field: "x" op: NOT_EXISTS}}}})",
     R"(qualification_model {})", "qualification_model.disqualifiers[d]", Change::REMOVED,
     Change::LOOSENS, R"(disqualifier d removed (was: "r" when x does not exist))"},
    {"grade band raised", R"(qualification_model {fit_grades {label: "A" min: 60}})",
     R"(qualification_model {fit_grades {label: "A" min: 70}})",
     "qualification_model.fit_grades[A].min", Change::CHANGED, Change::TIGHTENS,
     "fit grade A: starts at 60 -> 70"},
    {"MQL threshold raised", R"(qualification_model {levels {name: "MQL" min_fit: 40}})",
     R"(qualification_model {levels {name: "MQL" min_fit: 45}})",
     "qualification_model.levels[MQL].min_fit", Change::CHANGED, Change::TIGHTENS,
     "MQL needs fit >= 45 (was 40)"},
    {"MQL threshold dropped", R"(qualification_model {levels {name: "MQL" min_engagement: 25}})",
     R"(qualification_model {levels {name: "MQL"}})",
     "qualification_model.levels[MQL].min_engagement", Change::CHANGED, Change::LOOSENS,
     "MQL no longer needs a minimum engagement (was 25)"},
    {"level added", R"(qualification_model {levels {name: "MQL"}})",
     R"(qualification_model {levels {name: "MQL"} levels {name: "SQL" min_total: 100}})",
     "qualification_model.levels[SQL]", Change::ADDED, Change::UNDECIDED,
     "new level SQL: needs total >= 100"},
    {"levels reordered", R"(qualification_model {levels {name: "A"} levels {name: "B"}})",
     R"(qualification_model {levels {name: "B"} levels {name: "A"}})", "qualification_model.levels",
     Change::CHANGED, Change::UNDECIDED, "level order: B, A (was A, B)"},
    {"personas considered", R"(qualification_model {personas: "a"})",
     R"(qualification_model {personas: ["a", "b"]})", "qualification_model.personas",
     Change::CHANGED, Change::UNDECIDED, R"(model: personas considered "a" -> "a, b")"},
    {"dictionary field", R"(qualification_model {})",
     R"(qualification_model {fields {path: "company.employees" type: NUMBER}})",
     "qualification_model.fields[company.employees]", Change::ADDED, Change::NEUTRAL,
     "new attribute company.employees: number"},
    // ---- journey
    {"stage added", R"(buyer_journey {stages {id: "new"}})",
     R"(buyer_journey {stages {id: "new"} stages {id: "mql" owner_team: "marketing" entry {score {metric: LEVEL op: GE level: "MQL"}}}})",
     "buyer_journey.stages[mql]", Change::ADDED, Change::UNDECIDED,
     "new stage mql: mql, owned by marketing, entered when level >= MQL"},
    {"stage max duration", R"(buyer_journey {stages {id: "s" max_duration {seconds: 172800}}})",
     R"(buyer_journey {stages {id: "s" max_duration {seconds: 86400}}})",
     "buyer_journey.stages[s].max_duration", Change::CHANGED, Change::TIGHTENS,
     "stage s: may stay 2 d -> 1 d"},
    {"stage entry",
     R"(buyer_journey {stages {id: "s" entry {event {type: "demo" min_count: 2 window {seconds: 604800}}}}})",
     R"(buyer_journey {stages {id: "s" entry {event {type: "demo"}}}})",
     "buyer_journey.stages[s].entry", Change::CHANGED, Change::UNDECIDED,
     R"t(stage s: condition now "at least 1 demo event(s)" (was "at least 2 demo event(s) within 7 d"))t"},
    {"recycle edge added", R"(buyer_journey {})",
     R"(buyer_journey {recycle {from: "sql" to: "mql" reasons: "no-budget"}})",
     "buyer_journey.recycle[sql->mql]", Change::ADDED, Change::LOOSENS,
     "new recycle edge sql->mql: reasons no-budget"},
    {"recycle reasons narrowed", R"(buyer_journey {recycle {from: "b" to: "a"}})",
     R"(buyer_journey {recycle {from: "b" to: "a" reasons: "x"}})",
     "buyer_journey.recycle[b->a].reasons", Change::CHANGED, Change::TIGHTENS,
     "recycle edge b->a: reasons x (was any)"},
    {"reason code added", R"(buyer_journey {})",
     R"(buyer_journey {reason_taxonomy {code: "no-budget" description: "No budget this year"}})",
     "buyer_journey.reason_taxonomy[no-budget]", Change::ADDED, Change::NEUTRAL,
     "new reason code no-budget: No budget this year"},
    {"journey model", R"(buyer_journey {model: "a"})", R"(buyer_journey {model: "b"})",
     "buyer_journey.model", Change::CHANGED, Change::UNDECIDED,
     R"(journey: qualification model "a" -> "b")"},
    // ---- SLA
    {"first touch faster",
     R"(service_level_agreement {response {id: "first-touch" stage: "mql" team: "sales" event_type: "sales_touch" within {seconds: 14400}}})",
     R"(service_level_agreement {response {id: "first-touch" stage: "mql" team: "sales" event_type: "sales_touch" within {seconds: 7200}}})",
     "service_level_agreement.response[first-touch].within", Change::CHANGED, Change::TIGHTENS,
     "response commitment first-touch: sales responds within 4 h -> 2 h"},
    {"response commitment added", R"(service_level_agreement {})",
     R"(service_level_agreement {response {id: "r" stage: "mql" team: "sales" event_type: "call" within {seconds: 3600}}})",
     "service_level_agreement.response[r]", Change::ADDED, Change::TIGHTENS,
     "new response commitment r: sales records call within 1 h of a lead entering mql"},
    {"volume raised",
     R"(service_level_agreement {volume {id: "v" team: "marketing" level: "MQL" min_count: 200 period: MONTH}})",
     R"(service_level_agreement {volume {id: "v" team: "marketing" level: "MQL" min_count: 250 period: MONTH}})",
     "service_level_agreement.volume[v].min_count", Change::CHANGED, Change::TIGHTENS,
     "volume commitment v: MQL per month 200 -> 250"},
    {"volume removed",
     R"(service_level_agreement {volume {id: "v" team: "marketing" level: "MQL" min_count: 200 period: MONTH}})",
     R"(service_level_agreement {})", "service_level_agreement.volume[v]", Change::REMOVED,
     Change::LOOSENS,
     "volume commitment v removed (was: marketing delivers at least 200 MQL per month)"},
    {"quality lowered",
     R"(service_level_agreement {quality {id: "q" level: "MQL" min_accepted_fraction: 0.6 period: QUARTER}})",
     R"(service_level_agreement {quality {id: "q" level: "MQL" min_accepted_fraction: 0.5 period: QUARTER}})",
     "service_level_agreement.quality[q].min_accepted_fraction", Change::CHANGED, Change::LOOSENS,
     "quality commitment q: accepted fraction 0.6 -> 0.5"},
    {"metric target", R"(service_level_agreement {metrics {name: "m" target: 1}})",
     R"(service_level_agreement {metrics {name: "m" target: 2}})",
     "service_level_agreement.metrics[m].target", Change::CHANGED, Change::NEUTRAL,
     "shared metric m: target 1 -> 2"},
    // ---- account model
    {"account fit rule",
     R"(account_model {model: "m" fit {name: "f" rules {id: "big" points: 30 condition {attribute {field: "employees" op: GE value {number_value: 1000}}}}}})",
     R"(account_model {model: "m" fit {name: "f" rules {id: "big" points: 40 condition {attribute {field: "employees" op: GE value {number_value: 1000}}}}}})",
     "account_model.fit[f].rules[big].points", Change::CHANGED, Change::LOOSENS,
     "rule big: points 30 -> 40"},
    {"aggregation method", R"(account_model {model: "m" engagement {method: SUM}})",
     R"(account_model {model: "m" engagement {method: TOP_N top_n: 3}})",
     "account_model.engagement", Change::CHANGED, Change::UNDECIDED,
     "account engagement: sum of the top 3 of the members' engagement (was sum of the members' "
     "engagement)"},
    {"top n", R"(account_model {model: "m" engagement {method: TOP_N top_n: 3}})",
     R"(account_model {model: "m" engagement {method: TOP_N top_n: 2}})",
     "account_model.engagement.top_n", Change::CHANGED, Change::TIGHTENS,
     "account engagement: members counted 3 -> 2"},
    {"buying role added", R"(account_model {model: "m"})",
     R"(account_model {model: "m" buying_group {id: "cfo" attribute: "contact.title" values {string_value: "CFO"} weight: 2}})",
     "account_model.buying_group[cfo]", Change::ADDED, Change::TIGHTENS,
     "new buying role cfo: contact.title one of \"CFO\", weight 2"},
    {"MQA coverage raised", R"(account_model {model: "m" levels {name: "MQA" min_coverage: 0.5}})",
     R"(account_model {model: "m" levels {name: "MQA" min_coverage: 0.75}})",
     "account_model.levels[MQA].min_coverage", Change::CHANGED, Change::TIGHTENS,
     "MQA needs coverage >= 0.75 (was 0.5)"},
    {"consent rule", R"(account_model {model: "m"})",
     R"(account_model {model: "m" consent {attribute: "consent.profiling" allowed {bool_value: true}}})",
     "account_model.consent", Change::CHANGED, Change::UNDECIDED,
     R"(account model: consent "no consent rule" -> "consent.profiling one of true")"},
    {"sla journey", R"(service_level_agreement {journey: "a"})",
     R"(service_level_agreement {journey: "b"})", "service_level_agreement.journey",
     Change::CHANGED, Change::UNDECIDED, R"(SLA: journey "a" -> "b")"},
};

class DefinitionDiffTest : public testing::TestWithParam<Case> {};

TEST_P(DefinitionDiffTest, FindsTheOneChangeWithItsEffectAndWords) {
  const Case& c = GetParam();
  v1::Definition before = Parse(c.before), after = Parse(c.after);
  std::vector<Change> changes = DiffDefinitions(&before, &after);
  ASSERT_EQ(changes.size(), 1u) << [&] {
    std::string all;
    for (const auto& ch : changes) {
      all += ch.path() + ": " + ch.summary() + "\n";
    }
    return all;
  }();
  EXPECT_EQ(changes[0].path(), c.path);
  EXPECT_EQ(changes[0].kind(), c.kind) << Change::Kind_Name(changes[0].kind());
  EXPECT_EQ(changes[0].effect(), c.effect) << Change::Effect_Name(changes[0].effect());
  EXPECT_EQ(changes[0].summary(), c.summary);
  // The reverse change has the opposite effect.
  std::vector<Change> back = DiffDefinitions(&after, &before);
  ASSERT_EQ(back.size(), 1u);
  EXPECT_EQ(back[0].path(), c.path);
  const Change::Effect opposite = c.effect == Change::TIGHTENS  ? Change::LOOSENS
                                  : c.effect == Change::LOOSENS ? Change::TIGHTENS
                                                                : c.effect;
  EXPECT_EQ(back[0].effect(), opposite) << back[0].summary();
}

INSTANTIATE_TEST_SUITE_P(EveryKind, DefinitionDiffTest, testing::ValuesIn(kCases),
                         [](const testing::TestParamInfo<Case>& info) {
                           std::string name;
                           for (const char* p = info.param.name; *p != '\0'; ++p) {
                             name += std::isalnum(static_cast<unsigned char>(*p)) ? *p : '_';
                           }
                           return name;
                         });

TEST(DefinitionDiff, IdenticalContentHasNoChanges) {
  v1::Definition d = Parse(R"(display_name: "x" qualification_model {levels {name: "MQL"}})");
  EXPECT_TRUE(DiffDefinitions(&d, &d).empty());
}

TEST(DefinitionDiff, OutputOnlyFieldsAreIgnored) {
  v1::Definition a = Parse(R"(buyer_persona {} etag: "1" published_revision: 3 sequence: 9)");
  v1::Definition b = Parse(R"(buyer_persona {} etag: "2" published_revision: 4 sequence: 12)");
  EXPECT_TRUE(DiffDefinitions(&a, &b).empty());
}

TEST(DefinitionDiff, ANewDefinitionListsEveryItemAsAdded) {
  v1::Definition d = Parse(R"(name: "namespaces/default/definitions/m" qualification_model {
      levels {name: "MQL" min_fit: 40} disqualifiers {id: "d" reason: "r"
      condition {attribute {field: "x" op: EXISTS}}}})");
  std::vector<Change> changes = DiffDefinitions(nullptr, &d);
  ASSERT_EQ(changes.size(), 3u);
  EXPECT_EQ(changes[0].kind(), Change::ADDED);
  EXPECT_EQ(changes[0].summary(), "new definition namespaces/default/definitions/m");
  EXPECT_EQ(changes[1].path(), "qualification_model.disqualifiers[d]");
  EXPECT_EQ(changes[2].path(), "qualification_model.levels[MQL]");
  std::vector<Change> removed = DiffDefinitions(&d, nullptr);
  ASSERT_EQ(removed.size(), 3u);
  EXPECT_EQ(removed[0].kind(), Change::REMOVED);
  EXPECT_EQ(removed[2].effect(), Change::UNDECIDED);
}

TEST(DefinitionDiff, SeveralChangesComeInDocumentOrder) {
  v1::Definition a = Parse(R"(display_name: "a" qualification_model {
      fit {name: "g" rules {id: "r" points: 1 condition {attribute {field: "x" op: EXISTS}}}}
      levels {name: "MQL" min_fit: 40}})");
  v1::Definition b = Parse(R"(display_name: "b" qualification_model {
      fit {name: "g" rules {id: "r" points: 2 condition {attribute {field: "x" op: EXISTS}}}}
      levels {name: "MQL" min_fit: 50}})");
  std::vector<Change> changes = DiffDefinitions(&a, &b);
  ASSERT_EQ(changes.size(), 3u);
  EXPECT_EQ(changes[0].path(), "display_name");
  EXPECT_EQ(changes[1].path(), "qualification_model.fit[g].rules[r].points");
  EXPECT_EQ(changes[2].path(), "qualification_model.levels[MQL].min_fit");
}

TEST(DefinitionDiff, ConditionsReadAsWords) {
  v1::Condition c;
  ASSERT_TRUE(google::protobuf::TextFormat::ParseFromString(
      R"(all {attribute {field: "company.employees" op: BETWEEN values {number_value: 50}
                         values {number_value: 500}}}
         all {not {persona {persona: "student" min_match: 0.8}}}
         all {any {score {metric: FIT op: GE value: 40}} any {attribute {field: "t" op: MATCHES
              value {string_value: "(?i)cto"}}}})",
      &c));
  EXPECT_EQ(DescribeCondition(c),
            R"(company.employees between 50 and 500 and not matches persona student (>= 0.8) )"
            R"(and (fit >= 40 or t matches "(?i)cto"))");
}

}  // namespace
}  // namespace accord::definitions
