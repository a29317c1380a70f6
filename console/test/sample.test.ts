import assert from "node:assert/strict";
import { test } from "node:test";
import type { VolumeCheck } from "../src/types";
import { chunkLeads, latestEvent, mergePreviews, parseLeads, projectVolume, sampleDays } from "../src/sample";

test("JSON lines: one lead a line, bad lines reported with their number", () => {
  const { leads, errors } = parseLeads('{"id":"a"}\n\n{"id":"b","attributes":{"x":1}}\nnot json\n[1]\n', "x.jsonl");
  assert.deepEqual(leads.map((l) => l.id), ["a", "b"]);
  assert.equal(errors.length, 2);
  assert.match(errors[0], /^line 4:/);
  assert.match(errors[1], /^line 5: not a JSON object/);
});

test("CSV: dotted columns nest, numbers and booleans are typed, quotes work", () => {
  const { leads, errors } = parseLeads(
    'id,company.industry,company.employees,vip,contact.title\n' +
    'c1,"Software, SaaS",1200,true,"The ""CTO"""\nc2,retail,,false,\nc3,short\n', "leads.csv");
  assert.deepEqual(leads[0], { id: "c1", attributes: { company: { industry: "Software, SaaS",
    employees: 1200 }, vip: true, contact: { title: 'The "CTO"' } } });
  assert.deepEqual(leads[1], { id: "c2", attributes: { company: { industry: "retail" }, vip: false } });
  assert.deepEqual(errors, ["line 4: 2 cells, the header has 5"]);
});

test("chunks stay under the byte and lead limits, in order, losing nothing", () => {
  const leads = Array.from({ length: 100 }, (_, i) => ({ id: `lead-${i}`, attributes: { pad: "x".repeat(i) } }));
  const parts = chunkLeads(leads, 1000, 30);
  assert.deepEqual(parts.flat(), leads);
  for (const p of parts) {
    assert.ok(p.length <= 30);
    assert.ok(p.length === 1 || p.reduce((n, l) => n + JSON.stringify(l).length + 1, 0) <= 1000);
  }
  const huge = [{ id: "big", attributes: { pad: "y".repeat(5000) } }, { id: "small" }];
  assert.deepEqual(chunkLeads(huge, 1000).map((p) => p.length), [1, 1]);
  assert.deepEqual(chunkLeads([], 1000), []);
});

test("previews of parts merge into the preview of the whole", () => {
  const merged = mergePreviews([
    { leadCount: "3", levelsBefore: { LEAD: "2", MQL: "1" }, levelsAfter: { MQL: "3" },
      gradesBefore: { A1: "3" }, gradesAfter: { A1: "3" }, changedCount: "2",
      changed: [{ leadId: "a" }, { leadId: "b" }],
      levelTransitions: [{ before: "LEAD", after: "MQL", count: "2" }, { before: "MQL", after: "MQL", count: "1" }],
      volumeChecks: [{ sla: "s", commitment: "v", minCount: "10", period: "MONTH", reachedBefore: "1", reachedAfter: "3" }] },
    { leadCount: "1", levelsBefore: { LEAD: "1" }, levelsAfter: { LEAD: "1" }, changedCount: "0",
      levelTransitions: [{ before: "LEAD", after: "LEAD", count: "1" }],
      volumeChecks: [{ sla: "s", commitment: "v", minCount: "10", period: "MONTH", reachedBefore: "0", reachedAfter: "0" }] },
  ]);
  assert.equal(merged.leadCount, 4);
  assert.deepEqual(merged.levelsBefore, { LEAD: 3, MQL: 1 });
  assert.deepEqual(merged.levelsAfter, { MQL: 3, LEAD: 1 });
  assert.equal(merged.changedCount, 2);
  assert.equal(merged.transitions.get("LEAD\u0000MQL"), 2);
  assert.equal(merged.transitions.get("LEAD\u0000LEAD"), 1);
  assert.equal(merged.volume.length, 1);
  assert.equal(Number(merged.volume[0].reachedAfter), 3);
});

test("the SLA volume check projects the sample onto the commitment's period", () => {
  const check: VolumeCheck = { sla: "s", commitment: "v", minCount: "200", period: "MONTH",
    reachedBefore: "140", reachedAfter: "100" };
  const p = projectVolume(check, 365.25 / 12 / 2);  // the sample covers half a month
  assert.equal(p.before, 280);
  assert.equal(p.after, 200);
  assert.ok(p.metBefore && p.metAfter);
  const q = projectVolume({ ...check, period: "WEEK" }, 14);
  assert.deepEqual([q.before, q.after, q.metBefore, q.metAfter], [70, 50, false, false]);
});

test("the sample's span and latest event", () => {
  const leads = [{ events: [{ type: "a", time: "2026-01-01T00:00:00Z" }] },
    { events: [{ type: "b", time: "2026-01-31T00:00:00Z" }, { type: "c", time: "bad" }] }, {}];
  assert.equal(sampleDays(leads), 30);
  assert.equal(latestEvent(leads), "2026-01-31T00:00:00.000Z");
  assert.equal(sampleDays([{}]), 1);
  assert.equal(latestEvent([{}]), "");
});
