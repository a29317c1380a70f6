import assert from "node:assert/strict";
import { test } from "node:test";
import type { Definition } from "../src/types";
import { definitionToYaml, fieldPathKeys, friendlyDuration, lineOf, protoDuration, yamlToDefinition } from "../src/yaml_edit";

const model: Definition = {
  name: "namespaces/default/definitions/m", etag: "e1", kind: "QUALIFICATION_MODEL",
  displayName: "M", labels: { segmentName: "ent" }, publishedRevision: "3",
  qualificationModel: {
    engagement: [{ name: "intent", rules: [{ id: "r", eventType: "page_view", points: 5,
      window: "2592000s", decay: { kind: "EXPONENTIAL", halfLife: "1209600s" },
      where: [{ field: "path", op: "STARTS_WITH", value: "/pricing" }] }] }],
    levels: [{ name: "LEAD" }, { name: "MQL", minFit: 40 }],
  },
};

test("the editor shows proto field names and friendly durations, and only editable fields", () => {
  const text = definitionToYaml(model);
  assert.match(text, /display_name: M/);
  assert.match(text, /event_type: page_view/);
  assert.match(text, /window: 30d/);
  assert.match(text, /half_life: 14d/);
  assert.match(text, /segmentName: ent/, "label keys are data, kept as they are");
  assert.doesNotMatch(text, /etag|published_revision|kind: QUALIFICATION/);
});

test("YAML back to the API's JSON: same content, durations in seconds", () => {
  const { definition, problems } = yamlToDefinition(definitionToYaml(model), model.name ?? "", "e1");
  assert.deepEqual(problems, []);
  // Proto field names: the gateway's JSON parser takes them as it takes lowerCamelCase.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  const d = definition as unknown as Record<string, any>;
  assert.equal(d.name, model.name);
  assert.equal(d.etag, "e1");
  assert.equal(d.qualification_model.engagement[0].rules[0].window, "2592000s");
  assert.equal(d.qualification_model.engagement[0].rules[0].decay.half_life, "1209600s");
  assert.equal(d.qualification_model.levels[1].min_fit, 40);
  assert.deepEqual(d.labels, { segmentName: "ent" });
});

test("durations both ways", () => {
  assert.equal(friendlyDuration("86400s"), "1d");
  assert.equal(friendlyDuration("5400s"), "90m");
  assert.equal(friendlyDuration("61s"), "61s");
  assert.equal(protoDuration("1.5h"), "5400s");
  assert.equal(protoDuration("30d"), "2592000s");
  assert.equal(protoDuration(90), "90s");
  assert.equal(protoDuration("soon"), null);
});

test("bad YAML and bad durations are reported with their line", () => {
  const syntax = yamlToDefinition("display_name: [unclosed\n", "n", "e");
  assert.equal(syntax.definition, undefined);
  assert.equal(syntax.problems.length > 0, true);
  const text = "qualification_model:\n  engagement:\n    - name: g\n      rules:\n        - id: r\n          window: soon\n";
  const bad = yamlToDefinition(text, "n", "e");
  assert.equal(bad.problems.length, 1);
  assert.match(bad.problems[0].message, /not a duration/);
  assert.equal(bad.problems[0].line, 6);
});

test("a field path the server names points at its line", () => {
  assert.deepEqual(fieldPathKeys("definition.qualification_model.levels[1].min_fit"),
    ["qualification_model", "levels", 1, "min_fit"]);
  assert.deepEqual(fieldPathKeys("definition.buyer_journey.stages[0].entry.all[2].attribute.field"),
    ["buyer_journey", "stages", 0, "entry", "all", 2, "attribute", "field"]);
  const text = definitionToYaml(model);
  const lines = text.split("\n");
  const line = lineOf(text, "definition.qualification_model.levels[1].min_fit");
  assert.match(lines[line - 1], /min_fit: 40/);
  // A missing field: its nearest ancestor present.
  const parent = lineOf(text, "definition.qualification_model.levels[1].min_total");
  assert.match(lines[parent - 1], /name: MQL/);
});
