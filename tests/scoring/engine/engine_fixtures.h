#pragma once

// What the engine's tests share: definitions compiled from YAML, leads from JSON, the
// evaluation of a lead, and the example sets that tests of several steps use.
#include <memory>
#include <string>

#include "absl/time/time.h"
#include "google/protobuf/util/json_util.h"
#include "google/protobuf/util/time_util.h"
#include "gtest/gtest.h"

#include "definitions/loader.h"
#include "scoring/engine.h"

namespace accord::scoring::engine_test {

using google::protobuf::util::TimeUtil;

inline const absl::Time kAsOf = absl::FromUnixSeconds(1800000000);
inline constexpr int64_t kDay = 86400;

inline std::shared_ptr<const CompiledSet> Set(const std::string& yaml) {
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

inline sv1::Lead Lead(const std::string& json) {
  sv1::Lead lead;
  auto status = google::protobuf::util::JsonStringToMessage(json, &lead);
  EXPECT_TRUE(status.ok()) << status.message();
  return lead;
}

inline void AddEvent(sv1::Lead& lead, const std::string& type, int64_t age_seconds,
                     const std::string& path = "") {
  sv1::Event* e = lead.add_events();
  e->set_type(type);
  *e->mutable_time() = TimeUtil::SecondsToTimestamp(absl::ToUnixSeconds(kAsOf) - age_seconds);
  if (!path.empty()) {
    (*e->mutable_properties()->mutable_fields())["path"].set_string_value(path);
  }
}

inline sv1::LeadScore ScoreWith(const std::shared_ptr<const CompiledSet>& set,
                                const sv1::Lead& lead, const std::string& journey = "") {
  Evaluation e{set.get(), 0, -1};
  if (!journey.empty()) {
    e.journey = set->journey_index.at("namespaces/default/definitions/" + journey);
  }
  return Score(e, lead, kAsOf);
}

inline const sv1::Reason* Find(const sv1::LeadScore& s, const std::string& rule) {
  for (const auto& r : s.reasons()) {
    if (r.rule() == rule) {
      return &r;
    }
  }
  return nullptr;
}

inline constexpr char kDecayModel[] = R"yaml(
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

inline constexpr char kCapsModel[] = R"yaml(
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

// One fit rule per operator case; the lead below satisfies exactly the rules named `yes-*`.
inline constexpr char kOperators[] = R"yaml(
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

inline constexpr char kPersonas[] = R"yaml(
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

inline constexpr char kJourneySla[] = R"yaml(
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

}  // namespace accord::scoring::engine_test
