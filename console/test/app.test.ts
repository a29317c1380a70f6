import assert from "node:assert/strict";
import { test } from "node:test";
import { errorFromStatus } from "../src/api";
import { age, missingTeams, revisionHash, waitsFor } from "../src/app";

const revision = {
  name: "namespaces/default/definitions/m/revisions/4", state: "PROPOSED" as const,
  proposer: "mia", authors: ["mia", "tom"], requiredTeams: ["marketing", "sales"],
  reviews: [{ principal: "ann", team: "marketing", verdict: "APPROVE" as const }],
};

test("the inbox: a revision waits for the teams I approve for that have not approved", () => {
  assert.deepEqual(missingTeams(revision), ["sales"]);
  assert.deepEqual(waitsFor({ principal: "sam", approverTeams: ["sales"] }, revision), ["sales"]);
  assert.deepEqual(waitsFor({ principal: "bob", approverTeams: ["marketing"] }, revision), []);
  assert.deepEqual(waitsFor({ principal: "tom", approverTeams: ["sales"] }, revision), [], "an author");
  assert.deepEqual(waitsFor({ principal: "mia", approverTeams: ["sales"] }, revision), [], "the proposer");
  assert.deepEqual(waitsFor({ principal: "ann", approverTeams: ["marketing", "sales"] }, revision), [],
    "who reviewed already");
  assert.deepEqual(waitsFor({ principal: "sam", approverTeams: ["sales"] }, { ...revision, state: "APPROVED" }), []);
});

test("the server's reason comes through: code, ErrorInfo reason and field violations", () => {
  const e = errorFromStatus(403, { code: 7, message: "the proposer may not review",
    details: [{ "@type": "type.googleapis.com/google.rpc.ErrorInfo", reason: "SELF_APPROVAL" }] });
  assert.equal(e.describe(), "PERMISSION_DENIED SELF_APPROVAL: the proposer may not review");
  const v = errorFromStatus(400, { code: 3, message: "bad", details: [{
    "@type": "type.googleapis.com/google.rpc.BadRequest",
    fieldViolations: [{ field: "definition.display_name", description: "too long" }] }] });
  assert.deepEqual(v.violations, [{ field: "definition.display_name", description: "too long" }]);
  assert.equal(errorFromStatus(502, "<html>").code, "UNKNOWN");
});

test("ages and links", () => {
  const now = Date.parse("2026-12-06T12:00:00Z");
  assert.equal(age("2026-12-06T11:59:30Z", now), "just now");
  assert.equal(age("2026-12-06T11:00:00Z", now), "60 min ago");
  assert.equal(age("2026-12-06T06:00:00Z", now), "6 h ago");
  assert.equal(age("2026-12-01T12:00:00Z", now), "5 d ago");
  assert.equal(revisionHash("namespaces/x/definitions/m/revisions/4"), "#/review/x/m/4");
});
