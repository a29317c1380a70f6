// The draft editor's YAML: a definition's editable fields as YAML in the same shape as the
// files `accordctl apply` reads (proto field names, durations such as "30d"), back to the
// API's JSON, and the line of each field path the server's validation names. Pure
// (test/yaml_edit.test.ts).
import { LineCounter, parseDocument, stringify } from "yaml";
import type { Definition } from "./types";

// Fields whose values are google.protobuf.Duration.
const DURATIONS = new Set(["window", "half_life", "period", "within", "max_duration"]);
// Fields whose keys are data, not field names: their contents are copied as they are.
const OPAQUE = new Set(["labels", "value", "values"]);
const BODIES = ["buyer_persona", "qualification_model", "buyer_journey", "service_level_agreement"];

const snake = (k: string) => k.replace(/[A-Z]/g, (c) => "_" + c.toLowerCase());

// "2592000s" -> "30d"; anything else unchanged.
export function friendlyDuration(v: string): string {
  const m = /^(\d+)s$/.exec(v);
  if (!m) return v;
  const s = Number(m[1]);
  for (const [size, unit] of [[86400, "d"], [3600, "h"], [60, "m"]] as const) {
    if (s >= size && s % size === 0) return `${s / size}${unit}`;
  }
  return v;
}

// "30d", "4h", "90m", "45s", "1.5h" -> "2592000s" (protobuf JSON); null if not a duration.
export function protoDuration(v: unknown): string | null {
  if (typeof v === "number") return `${v}s`;
  const m = /^\s*(\d+(?:\.\d+)?)\s*(d|h|m|s)\s*$/.exec(String(v));
  if (!m) return null;
  const size = { d: 86400, h: 3600, m: 60, s: 1 }[m[2] as "d" | "h" | "m" | "s"];
  return `${Math.round(Number(m[1]) * size * 1e9) / 1e9}s`;
}

function toEditable(v: unknown, key = ""): unknown {
  if (OPAQUE.has(key)) return v;
  if (DURATIONS.has(key) && typeof v === "string") return friendlyDuration(v);
  if (Array.isArray(v)) return v.map((x) => toEditable(x));
  if (v && typeof v === "object") {
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [snake(k), toEditable(x, snake(k))]));
  }
  return v;
}

// The YAML the editor shows for `d`: display name, description, labels, approval policy and
// the body, with proto field names and friendly durations.
export function definitionToYaml(d: Definition): string {
  const editable: Record<string, unknown> = {};
  const src = toEditable(d) as Record<string, unknown>;
  for (const k of ["display_name", "description", "labels", "approval_policy", ...BODIES]) {
    if (src[k] !== undefined) editable[k] = src[k];
  }
  return stringify(editable, { lineWidth: 100 });
}

export interface YamlProblem { line: number; message: string }

function fromEditable(v: unknown, key: string, path: string, problems: string[]): unknown {
  if (OPAQUE.has(key)) return v;
  if (DURATIONS.has(key)) {
    const d = protoDuration(v);
    if (d === null) problems.push(`${path}: "${String(v)}" is not a duration such as 30d, 4h, 90m`);
    return d ?? v;
  }
  if (Array.isArray(v)) return v.map((x, i) => fromEditable(x, "", `${path}[${i}]`, problems));
  if (v && typeof v === "object") {
    return Object.fromEntries(Object.entries(v).map(
      ([k, x]) => [k, fromEditable(x, k, path ? `${path}.${k}` : k, problems)]));
  }
  return v;
}

// The definition the YAML describes, named `name`, with `etag`; or the YAML's problems.
export function yamlToDefinition(text: string, name: string, etag: string):
    { definition?: Definition; problems: YamlProblem[] } {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false });
  if (doc.errors.length > 0) {
    return { problems: doc.errors.map((e) => ({
      line: e.linePos?.[0]?.line ?? 0, message: e.message.split("\n")[0] })) };
  }
  const value = doc.toJS() as unknown;
  if (!value || typeof value !== "object" || Array.isArray(value)) {
    return { problems: [{ line: 1, message: "the document must be a mapping of fields" }] };
  }
  const problems: string[] = [];
  const body = fromEditable(value, "", "", problems) as Record<string, unknown>;
  if (problems.length > 0) {
    return { problems: problems.map((p) => ({ line: lineOf(text, p.split(":")[0]), message: p })) };
  }
  return { definition: { ...body, name, etag } as Definition, problems: [] };
}

// "definition.qualification_model.levels[1].min_fit" -> ["qualification_model","levels",1,"min_fit"]
export function fieldPathKeys(field: string): (string | number)[] {
  const keys: (string | number)[] = [];
  for (const part of field.replace(/^definition\.?/, "").split(".")) {
    if (!part) continue;
    const m = /^([^[]*)((?:\[\d+\])*)$/.exec(part);
    if (!m) { keys.push(part); continue; }
    if (m[1]) keys.push(m[1]);
    for (const idx of m[2].matchAll(/\[(\d+)\]/g)) keys.push(Number(idx[1]));
  }
  return keys;
}

// The 1-based line of the YAML node a field path names (or of its nearest ancestor present).
export function lineOf(text: string, field: string): number {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines });
  const keys = fieldPathKeys(field);
  for (let n = keys.length; n > 0; --n) {
    const node = doc.getIn(keys.slice(0, n), true) as { range?: [number, number, number] } | undefined;
    if (node && node.range) return lines.linePos(node.range[0]).line;
    // A scalar's key: point at the pair when the value is missing.
  }
  return 1;
}
