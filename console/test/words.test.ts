import assert from "node:assert/strict";
import { test } from "node:test";
import type { Definition } from "../src/types";
import {
  actionWords, aggregationWords, conditionWords, kindInSentence, decayWords, durationWords, levelWords, referencedBy, referencesOf, slaSentences,
} from "../src/words";

test("durations read in their largest whole unit", () => {
  assert.equal(durationWords("2592000s"), "30 d");
  assert.equal(durationWords("14400s"), "4 h");
  assert.equal(durationWords("5400s"), "90 min");
  assert.equal(durationWords("45s"), "45 s");
  assert.equal(durationWords(undefined), "all time");
});

test("conditions read as words, nested groups in parentheses", () => {
  assert.equal(conditionWords({ all: [
    { attribute: { field: "company.employees", op: "BETWEEN", values: [50, 500] } },
    { any: [{ score: { metric: "FIT", op: "GE", value: 40 } },
      { attribute: { field: "contact.title", op: "MATCHES", value: "(?i)cto", ignoreCase: true } }] },
    { not: { persona: { persona: "student", minMatch: 0.8 } } },
    { event: { type: "webinar_attended", minCount: 2, window: "604800s" } },
  ] }), "company.employees is between 50 and 500 and (fit ≥ 40 or contact.title matches “(?i)cto” " +
    "(any case)) and not matches persona student (≥ 80 %) and at least 2 webinar_attended events " +
    "in the last 7 d");
  assert.equal(conditionWords({ event: { type: "email_open" } }), "an email_open event");
  assert.equal(conditionWords({ attribute: { field: "x", op: "NOT_EXISTS" } }), "x is unknown");
  assert.equal(conditionWords(undefined), "always");
});

test("levels, decay and SLA commitments are sentences", () => {
  assert.equal(levelWords({ name: "MQL", minFit: 40, minEngagement: 25 }), "fit ≥ 40 and engagement ≥ 25");
  assert.equal(levelWords({ name: "LEAD" }), "every lead that is not disqualified");
  assert.equal(decayWords({ kind: "EXPONENTIAL", halfLife: "2592000s" }), "half-life 30 d");
  assert.equal(decayWords({ kind: "LINEAR", period: "604800s", fraction: 0.5 }), "loses 50 % every 7 d");
  assert.equal(decayWords({ kind: "NONE" }), "");
  assert.deepEqual(slaSentences({
    response: [{ id: "r", stage: "mql", team: "sales", eventType: "sales_touch", within: "14400s" }],
    volume: [{ id: "v", team: "marketing", level: "MQL", minCount: "200", period: "MONTH" }],
    quality: [{ id: "q", team: "marketing", level: "MQL", acceptedStage: "sal", minAcceptedFraction: 0.6, period: "MONTH" }],
  }), [
    "Sales records a sales_touch within 4 h of a lead entering stage mql (at risk after 75 % of that).",
    "Marketing delivers at least 200 MQL leads per month.",
    "Of the MQL leads marketing delivers, at least 60 % reach stage sal each month.",
  ]);
});

test("references: what a definition refers to, and who refers to it", () => {
  const ns = "namespaces/default/definitions/";
  const model: Definition = { name: ns + "m", qualificationModel: { personas: ["p"],
    disqualifiers: [{ id: "s", condition: { persona: { persona: "student" } } }] } };
  const journey: Definition = { name: ns + "j", buyerJourney: { model: "m" } };
  const sla: Definition = { name: ns + "s", serviceLevelAgreement: { journey: "j", model: ns + "m" } };
  const deleted: Definition = { name: ns + "old", state: "DELETED", buyerJourney: { model: "m" } };
  assert.deepEqual(referencesOf(model).sort(), [ns + "p", ns + "student"]);
  assert.deepEqual(referencedBy(ns + "m", [model, journey, sla, deleted]).map((d) => d.name),
    [ns + "j", ns + "s"]);
});

test("account aggregations read as words", () => {
  assert.equal(aggregationWords({ method: "TOP_N", topN: 3, dropNegative: true }),
    "the sum of the 3 highest of the members' engagement scores, leaving out negative ones");
  assert.equal(aggregationWords({ method: "TRIMMED_MEAN", trimFraction: 0.1, metric: "TOTAL" }),
    "the mean without the top and bottom 10 % of the members' total scores");
  assert.equal(aggregationWords(undefined), "the sum of the members' engagement scores");
});

test("audit actions and kinds read as words", () => {
  assert.equal(actionWords("ApproveRevision"), "approved");
  assert.equal(actionWords("SomethingNew"), "SomethingNew");
  assert.equal(kindInSentence("BUYER_JOURNEY"), "buyer journey");
  assert.equal(kindInSentence("SERVICE_LEVEL_AGREEMENT"), "SLA");
});
