#include "definitions/validation.h"

#include <cmath>
#include <limits>

#include "gtest/gtest.h"

#include "common/call_scope.h"
#include "definitions/loader.h"
#include "tests/testing/status_matchers.h"

namespace accord {
namespace {

namespace v1 = ::accord::registry::v1;

v1::Definition Parse(const std::string& yaml) {
  auto docs = definitions::ParseDefinitions(yaml, "test.yaml");
  EXPECT_TRUE(docs.ok()) << docs.status();
  return docs.ok() && !docs->empty() ? docs->front().definition : v1::Definition();
}

std::vector<std::string> Fields(const v1::Definition& d) {
  std::vector<std::string> out;
  for (const auto& v : ValidateDefinition(d, "definition", nullptr)) {
    out.push_back(v.field);
  }
  return out;
}

constexpr char kPersona[] = R"(
name: namespaces/default/definitions/p
buyer_persona:
  criteria:
    - id: a
      condition: {attribute: {field: company.size, op: GE, value: 10}}
)";

TEST(ValidationTest, ValidPersonaHasNoViolations) { EXPECT_TRUE(Fields(Parse(kPersona)).empty()); }

struct Case {
  const char* name;
  const char* yaml;
  const char* field;
};

class InvalidDefinitionTest : public ::testing::TestWithParam<Case> {};

TEST_P(InvalidDefinitionTest, ReportsFieldPath) {
  std::vector<std::string> fields = Fields(Parse(GetParam().yaml));
  EXPECT_THAT(fields, ::testing::Contains(std::string(GetParam().field)));
}

INSTANTIATE_TEST_SUITE_P(
    Table, InvalidDefinitionTest,
    ::testing::Values(
        Case{"no_body", "name: namespaces/default/definitions/x\n", "definition"},
        Case{"no_criteria", "buyer_persona: {summary: s}\n", "definition.buyer_persona.criteria"},
        Case{"empty_any", "buyer_persona: {criteria: [{id: a, condition: {any: []}}]}\n",
             "definition.buyer_persona.criteria[0].condition"},
        Case{"missing_op",
             "buyer_persona: {criteria: [{id: a, condition: {attribute: {field: x}}}]}\n",
             "definition.buyer_persona.criteria[0].condition.attribute.op"},
        Case{"bad_regex",
             "buyer_persona: {criteria: [{id: a, condition: {attribute: {field: x, op: MATCHES, "
             "value: '(unclosed'}}}]}\n",
             "definition.buyer_persona.criteria[0].condition.attribute.value"},
        Case{"between_needs_two",
             "buyer_persona: {criteria: [{id: a, condition: {attribute: {field: x, op: BETWEEN, "
             "values: [1]}}}]}\n",
             "definition.buyer_persona.criteria[0].condition.attribute.values"},
        Case{"in_needs_values",
             "buyer_persona: {criteria: [{id: a, condition: {attribute: {field: x, op: IN}}}]}\n",
             "definition.buyer_persona.criteria[0].condition.attribute.values"},
        Case{"bad_field_path",
             "buyer_persona: {criteria: [{id: a, condition: {attribute: {field: 'a..b', op: "
             "EXISTS}}}]}\n",
             "definition.buyer_persona.criteria[0].condition.attribute.field"},
        Case{"duplicate_criterion",
             "buyer_persona: {criteria: [{id: a, condition: {attribute: {field: x, op: EXISTS}}}, "
             "{id: a, condition: {attribute: {field: x, op: EXISTS}}}]}\n",
             "definition.buyer_persona.criteria[1].id"},
        Case{"min_match_range",
             "buyer_persona: {min_match: 1.5, criteria: [{id: a, condition: {attribute: {field: "
             "x, op: EXISTS}}}]}\n",
             "definition.buyer_persona.min_match"},
        Case{"score_in_persona",
             "buyer_persona: {criteria: [{id: a, condition: {score: {metric: FIT, op: GE, value: "
             "1}}}]}\n",
             "definition.buyer_persona.criteria[0].condition.score"},
        Case{"ignore_case_on_number",
             "buyer_persona: {criteria: [{id: a, condition: {attribute: {field: x, op: GE, value: "
             "1, ignore_case: true}}}]}\n",
             "definition.buyer_persona.criteria[0].condition.attribute.ignore_case"},
        Case{"decay_half_life",
             "qualification_model: {engagement: [{name: g, rules: [{id: r, event_type: e, decay: "
             "{kind: EXPONENTIAL}}]}]}\n",
             "definition.qualification_model.engagement[0].rules[0].decay.half_life"},
        Case{"linear_fraction",
             "qualification_model: {engagement: [{name: g, rules: [{id: r, event_type: e, decay: "
             "{kind: LINEAR, period: 1d, fraction: 2}}]}]}\n",
             "definition.qualification_model.engagement[0].rules[0].decay.fraction"},
        Case{"rule_without_event_type",
             "qualification_model: {engagement: [{name: g, rules: [{id: r}]}]}\n",
             "definition.qualification_model.engagement[0].rules[0].event_type"},
        Case{"caps_inverted",
             "qualification_model: {fit: [{name: g, max_points: 1, min_points: 5}]}\n",
             "definition.qualification_model.fit[0].min_points"},
        Case{"disqualifier_reason",
             "qualification_model: {disqualifiers: [{id: d, condition: {attribute: {field: x, op: "
             "EXISTS}}}]}\n",
             "definition.qualification_model.disqualifiers[0].reason"},
        Case{"duplicate_grade",
             "qualification_model: {fit_grades: [{label: A, min: 1}, {label: A, min: 0}]}\n",
             "definition.qualification_model.fit_grades[1].label"},
        Case{"journey_no_stages", "buyer_journey: {model: m}\n", "definition.buyer_journey.stages"},
        Case{"recycle_forward",
             "buyer_journey: {stages: [{id: a}, {id: b}], reason_taxonomy: [{code: r}], recycle: "
             "[{from: a, to: b}]}\n",
             "definition.buyer_journey.recycle[0].to"},
        Case{"recycle_unknown_reason",
             "buyer_journey: {stages: [{id: a}, {id: b}], reason_taxonomy: [{code: r}], recycle: "
             "[{from: b, to: a, reasons: [nope]}]}\n",
             "definition.buyer_journey.recycle[0].reasons[0]"},
        Case{
            "score_needs_model",
            "buyer_journey: {stages: [{id: a, entry: {score: {metric: FIT, op: GE, value: 1}}}]}\n",
            "definition.buyer_journey.stages[0].entry.score"},
        Case{"sla_within",
             "service_level_agreement: {journey: j, model: m, response: [{id: r, stage: s, team: "
             "sales, event_type: e}]}\n",
             "definition.service_level_agreement.response[0].within"},
        Case{"sla_team",
             "service_level_agreement: {journey: j, model: m, volume: [{id: v, team: finance, "
             "level: MQL, period: MONTH}]}\n",
             "definition.service_level_agreement.volume[0].team"},
        Case{"unknown_team",
             "approval_policy: {required_teams: [finance]}\nbuyer_persona: {criteria: [{id: a, "
             "condition: {attribute: {field: x, op: EXISTS}}}]}\n",
             "definition.approval_policy.required_teams[0]"}),
    [](const auto& info) { return std::string(info.param.name); });

TEST(ValidationTest, RejectsDepthOver16) {
  v1::Definition d = Parse(kPersona);
  v1::Condition* c = d.mutable_buyer_persona()->mutable_criteria(0)->mutable_condition();
  for (int i = 0; i < 20; ++i) {
    v1::Condition inner = *c;
    c->Clear();
    *c->mutable_not_() = inner;
  }
  std::vector<std::string> fields = Fields(d);
  ASSERT_FALSE(fields.empty());
  EXPECT_NE(fields.front().find("definition.buyer_persona.criteria[0].condition.not"),
            std::string::npos);
}

TEST(ValidationTest, RejectsNonFiniteNumbers) {
  v1::Definition d = Parse(kPersona);
  d.mutable_buyer_persona()->mutable_criteria(0)->set_weight(std::nan(""));
  d.mutable_buyer_persona()->set_min_match(std::numeric_limits<double>::infinity());
  EXPECT_THAT(Fields(d),
              ::testing::IsSupersetOf({std::string("definition.buyer_persona.criteria[0].weight"),
                                       std::string("definition.buyer_persona.min_match")}));
}

TEST(ValidationTest, RejectsLongStringsAndLists) {
  v1::Definition d = Parse(kPersona);
  d.set_display_name(std::string(5000, 'x'));
  for (int i = 0; i < 1001; ++i) {
    d.mutable_buyer_persona()->add_goals("g");
  }
  EXPECT_THAT(Fields(d), ::testing::IsSupersetOf({std::string("definition.display_name"),
                                                  std::string("definition.buyer_persona.goals")}));
}

TEST(ValidationTest, ReportsEveryProblemAtOnce) {
  v1::Definition d =
      Parse("buyer_persona: {min_match: 2, criteria: [{condition: {attribute: {field: x}}}]}\n");
  EXPECT_GE(Fields(d).size(), 3u);
}

class MapResolver final : public ReferenceResolver {
 public:
  std::map<std::string, v1::Definition> defs;
  std::optional<v1::Definition> Resolve(absl::string_view ns,
                                        absl::string_view ref) const override {
    auto it = defs.find(ResolveReferenceName(ns, ref));
    if (it == defs.end()) {
      return std::nullopt;
    }
    return it->second;
  }
};

TEST(ValidationTest, ChecksReferencesAndTheirKinds) {
  MapResolver resolver;
  resolver.defs["namespaces/default/definitions/p"] = Parse(kPersona);
  v1::Definition model = Parse(
      "name: namespaces/default/definitions/m\nqualification_model: {personas: [p, ghost], fit: "
      "[{name: g, rules: [{id: r, points: 1, condition: {persona: {persona: ghost}}}]}]}\n");
  std::vector<std::string> fields;
  for (const auto& v : ValidateDefinition(model, "definition", &resolver)) {
    fields.push_back(v.field);
  }
  EXPECT_THAT(fields,
              ::testing::UnorderedElementsAre(
                  "definition.qualification_model.personas[1]",
                  "definition.qualification_model.fit[0].rules[0].condition.persona.persona"));
  v1::Definition sla = Parse(
      "name: namespaces/default/definitions/s\nservice_level_agreement: {journey: p, model: m}\n");
  fields.clear();
  for (const auto& v : ValidateDefinition(sla, "definition", &resolver)) {
    fields.push_back(v.field);
  }
  EXPECT_THAT(fields, ::testing::UnorderedElementsAre("definition.service_level_agreement.journey",
                                                      "definition.service_level_agreement.model"));
}

TEST(ValidationTest, AnAccountModelIsCheckedFieldByField) {
  MapResolver resolver;
  resolver.defs["namespaces/default/definitions/p"] = Parse(kPersona);
  resolver.defs["namespaces/default/definitions/m"] = Parse(
      "name: namespaces/default/definitions/m\nqualification_model: {levels: [{name: MQL}]}\n");
  auto fields = [&resolver](const std::string& body) {
    std::vector<std::string> out;
    for (const auto& v : ValidateDefinition(
             Parse("name: namespaces/default/definitions/a\naccount_model: " + body + "\n"),
             "definition", &resolver)) {
      out.push_back(v.field);
    }
    return out;
  };
  EXPECT_TRUE(fields("{model: m, buying_group: [{id: r, persona: p, min_level: MQL}], "
                     "levels: [{name: MQA, min_coverage: 1}], "
                     "consent: {attribute: consent.ok, allowed: [true]}}")
                  .empty());
  EXPECT_THAT(fields("{model: ghost}"), ::testing::ElementsAre("definition.account_model.model"));
  EXPECT_THAT(fields("{model: p}"), ::testing::ElementsAre("definition.account_model.model"));
  EXPECT_THAT(fields("{model: m, buying_group: [{id: r, persona: ghost}]}"),
              ::testing::ElementsAre("definition.account_model.buying_group[0].persona"));
  EXPECT_THAT(fields("{model: m, buying_group: [{id: r, persona: p, min_level: SQL}]}"),
              ::testing::ElementsAre("definition.account_model.buying_group[0].min_level"));
  EXPECT_THAT(fields("{model: m, buying_group: [{id: r, persona: p, attribute: x, values: [1]}]}"),
              ::testing::ElementsAre("definition.account_model.buying_group[0]"));
  EXPECT_THAT(fields("{model: m, buying_group: [{id: r, attribute: x}]}"),
              ::testing::ElementsAre("definition.account_model.buying_group[0].values"));
  EXPECT_THAT(fields("{model: m, engagement: {method: TOP_N}}"),
              ::testing::ElementsAre("definition.account_model.engagement.top_n"));
  EXPECT_THAT(fields("{model: m, engagement: {method: TRIMMED_MEAN, trim_fraction: 0.5}}"),
              ::testing::ElementsAre("definition.account_model.engagement.trim_fraction"));
  EXPECT_THAT(fields("{model: m, engagement: {metric: LEVEL}}"),
              ::testing::ElementsAre("definition.account_model.engagement.metric"));
  EXPECT_THAT(fields("{model: m, levels: [{name: A, min_coverage: 1.5}]}"),
              ::testing::ElementsAre("definition.account_model.levels[0].min_coverage"));
  EXPECT_THAT(fields("{model: m, consent: {attribute: x}}"),
              ::testing::ElementsAre("definition.account_model.consent.allowed"));
  EXPECT_THAT(fields("{model: m, fit: [{name: g, rules: [{id: r, points: 1, "
                     "condition: {persona: {persona: p}}}]}]}"),
              ::testing::ElementsAre("definition.account_model.fit[0].rules[0].condition.persona"));
}

// A persona with `count` MATCHES criteria on `pattern` (issue 13, case 6: 1,000 patterns like
// \pL{50}q1x1, each about 57k RE2 instructions, took scoring to 535 MB and 36 CPU-seconds).
v1::Definition PatternPersona(int count, const std::string& pattern) {
  v1::Definition d;
  d.set_name("namespaces/default/definitions/p");
  for (int i = 0; i < count; ++i) {
    auto* c = d.mutable_buyer_persona()->add_criteria();
    c->set_id("c" + std::to_string(i));
    auto* a = c->mutable_condition()->mutable_attribute();
    a->set_field("title");
    a->set_op(v1::MATCHES);
    a->mutable_value()->set_string_value(pattern + std::to_string(i));
  }
  return d;
}

TEST(ValidationBudgetTest, StopsAtTheFirstPatternOverTheInstructionBudget) {
  CompiledPatterns compiled;
  ValidationOptions options;
  options.patterns = &compiled;
  auto violations =
      ValidateDefinition(PatternPersona(1000, R"(\pL{50}q1x)"), "definition", options);
  ASSERT_EQ(violations.size(), 1u);
  EXPECT_EQ(violations[0].field, "definition.buyer_persona.criteria[1].condition.attribute.value");
  EXPECT_NE(violations[0].description.find("over its budget of 100000"), std::string::npos)
      << violations[0].description;
  // The two patterns it took to cross the budget were compiled; none after them.
  EXPECT_NE(compiled.Find(R"(\pL{50}q1x1)", false), nullptr);
  EXPECT_EQ(compiled.Find(R"(\pL{50}q1x2)", false), nullptr);
}

TEST(ValidationBudgetTest, CountsPatternsAndBytes) {
  EXPECT_TRUE(ValidateDefinition(PatternPersona(256, "^vp"), "definition", nullptr).empty());
  auto many = ValidateDefinition(PatternPersona(257, "^vp"), "definition", nullptr);
  ASSERT_EQ(many.size(), 1u);
  EXPECT_EQ(many[0].field, "definition.buyer_persona.criteria[256].condition.attribute.value");
  v1::Definition big = PatternPersona(1, "^vp");
  for (int i = 0; i < 70; ++i) {
    (*big.mutable_labels())["k" + std::to_string(i)] = std::string(4000, 'x');
  }
  auto bytes = ValidateDefinition(big, "definition", nullptr);
  ASSERT_EQ(bytes.size(), 1u);
  EXPECT_EQ(bytes[0].field, "definition");
  EXPECT_NE(bytes[0].description.find("at most 262144"), std::string::npos);
}

TEST(ValidationBudgetTest, StopsWhenTheCallEnds) {
  CallScope scope(absl::Now() - absl::Seconds(1), nullptr);
  auto violations = ValidateDefinition(PatternPersona(3, "^vp"), "definition", nullptr);
  ASSERT_EQ(violations.size(), 1u);
  EXPECT_NE(violations[0].description.find("not checked"), std::string::npos);
  EXPECT_EQ(CallScope::Check().code(), absl::StatusCode::kDeadlineExceeded);
  bool cancelled = true;
  CallScope inner(absl::InfiniteFuture(), [&] { return cancelled; });
  EXPECT_EQ(CallScope::Check().code(), absl::StatusCode::kCancelled);
  cancelled = false;
  EXPECT_TRUE(CallScope::Check().ok());
}

// Issue 15, case 5: with a field dictionary, a rule reading a path the CRM does not send is
// refused at propose time, on its field path.
TEST(ValidationTest, AFieldDictionaryRefusesRulesOnUnknownPaths) {
  v1::Definition model = Parse(R"(
name: namespaces/default/definitions/m
qualification_model:
  fields:
    - {path: company.employees, type: NUMBER}
    - {path: contact, type: STRUCT}
    - {path: company.employees, type: NUMBER}
    - {path: "a..b"}
  fit:
    - name: size
      rules:
        - {id: big, points: 5, condition: {attribute: {field: company.employes, op: GE, value: 1000}}}
        - {id: ok, points: 5, condition: {all: [{attribute: {field: company.employees, op: GE, value: 1}},
                                                 {attribute: {field: contact.title, op: EXISTS}}]}}
  disqualifiers:
    - {id: d, reason: r, condition: {attribute: {field: source, op: EQ, value: x}}}
  levels: [{name: MQL}]
)");
  auto violations = ValidateDefinition(model, "definition", nullptr);
  std::vector<std::string> fields;
  for (const auto& v : violations) {
    fields.push_back(v.field);
  }
  EXPECT_THAT(fields,
              ::testing::UnorderedElementsAre(
                  "definition.qualification_model.fields[2].path",
                  "definition.qualification_model.fields[3].path",
                  "definition.qualification_model.fit[0].rules[0].condition.attribute.field",
                  "definition.qualification_model.disqualifiers[0].condition.attribute.field"));
  for (const auto& v : violations) {
    if (v.field == "definition.qualification_model.fit[0].rules[0].condition.attribute.field") {
      EXPECT_NE(v.description.find("did you mean 'company.employees'"), std::string::npos)
          << v.description;
    }
  }
  model.mutable_qualification_model()->clear_fields();
  EXPECT_TRUE(ValidateDefinition(model, "definition", nullptr).empty()) << "no dictionary";
}

// One parser of "the namespace of a name": stores, scoring, audit and validation agree, on
// malformed names too (they once gave three different answers).
TEST(YamlDocumentsTest, RejectsUnknownFieldsAndDuplicateKeysWithLines) {
  auto docs = definitions::ParseDefinitions(
      "name: namespaces/default/definitions/x\nbuyer_persona:\n  summary: a\n  summary: b\n"
      "  colour: red\n",
      "f.yaml");
  ASSERT_THAT(docs, testing::StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_NE(docs.status().message().find("f.yaml:4: duplicate key 'summary'"), std::string::npos)
      << docs.status();
  EXPECT_NE(docs.status().message().find("f.yaml:5: unknown field 'colour'"), std::string::npos)
      << docs.status();
}

TEST(YamlDocumentsTest, AcceptsFriendlyDurationsAndJson) {
  auto docs = definitions::ParseDefinitions(
      R"({"name": "namespaces/default/definitions/j", "buyer_journey": {"stages": [{"id": "a", "max_duration": "30d"}]}})",
      "f.json");
  ASSERT_TRUE(docs.ok()) << docs.status();
  EXPECT_EQ(docs->front().definition.buyer_journey().stages(0).max_duration().seconds(),
            30 * 86400);
}

TEST(YamlDocumentsTest, PrintsDurationsAsFilesWriteThemAndReadsThemBack) {
  auto docs = definitions::ParseDefinitions(
      "name: namespaces/default/definitions/j\n"
      "buyer_journey:\n  stages:\n    - {id: a, max_duration: 90d}\n"
      "    - {id: b, max_duration: 4h}\n    - {id: c, max_duration: 90s}\n"
      "    - {id: d, max_duration: 1.5s}\n",
      "f.yaml");
  ASSERT_TRUE(docs.ok()) << docs.status();
  std::string yaml = definitions::ToYaml(docs->front().definition);
  EXPECT_NE(yaml.find("max_duration: 90d\n"), std::string::npos) << yaml;
  EXPECT_NE(yaml.find("max_duration: 4h\n"), std::string::npos) << yaml;
  EXPECT_NE(yaml.find("max_duration: 90s\n"), std::string::npos) << yaml;
  EXPECT_NE(yaml.find("max_duration: 1.500s\n"), std::string::npos) << yaml;
  auto again = definitions::ParseDefinitions(yaml, "printed.yaml");
  ASSERT_TRUE(again.ok()) << again.status() << "\n" << yaml;
  EXPECT_EQ(again->front().definition.SerializeAsString(),
            docs->front().definition.SerializeAsString());
}

}  // namespace
}  // namespace accord
