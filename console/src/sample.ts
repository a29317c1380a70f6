// Lead samples for the impact preview and "test a lead": parsing a JSONL or CSV file chosen in
// the browser, splitting it into requests under the gateway's body limit, merging the answers,
// and projecting SLA volumes onto a commitment's period. Pure (test/sample.test.ts).
import type { Lead, LevelChange, PreviewResponse, VolumeCheck } from "./types";
import { PERIOD_DAYS } from "./words";

export interface ParsedSample { leads: Lead[]; errors: string[] }

// One lead per line (JSON), or CSV whose header names dotted attribute paths ("company.size")
// and an optional `id` column; numbers and true/false are typed, as `accordctl score` does.
export function parseLeads(text: string, fileName = ""): ParsedSample {
  const errors: string[] = [];
  const leads: Lead[] = [];
  const csv = fileName.toLowerCase().endsWith(".csv") ||
    (!fileName && !text.trimStart().startsWith("{"));
  if (csv) return parseCsv(text);
  text.split("\n").forEach((line, i) => {
    if (!line.trim()) return;
    try {
      const lead = JSON.parse(line) as Lead;
      if (typeof lead !== "object" || lead === null || Array.isArray(lead)) {
        throw new Error("not a JSON object");
      }
      leads.push(lead);
    } catch (e) {
      errors.push(`line ${i + 1}: ${(e as Error).message}`);
    }
  });
  return { leads, errors };
}

function csvRow(line: string): string[] {
  const out: string[] = [];
  let cell = "", quoted = false;
  for (let i = 0; i < line.length; ++i) {
    const ch = line[i];
    if (quoted) {
      if (ch === '"' && line[i + 1] === '"') { cell += '"'; ++i; } else if (ch === '"') quoted = false;
      else cell += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ",") { out.push(cell); cell = ""; } else cell += ch;
  }
  out.push(cell);
  return out.map((c) => c.replace(/\r$/, ""));
}

function typed(cell: string): unknown {
  if (cell === "true" || cell === "false") return cell === "true";
  if (cell !== "" && /^-?\d+(\.\d+)?$/.test(cell)) return Number(cell);
  return cell;
}

function parseCsv(text: string): ParsedSample {
  const lines = text.split("\n").filter((l) => l.trim());
  if (lines.length === 0) return { leads: [], errors: ["the file is empty"] };
  const header = csvRow(lines[0]);
  const leads: Lead[] = [];
  const errors: string[] = [];
  lines.slice(1).forEach((line, i) => {
    const cells = csvRow(line);
    if (cells.length !== header.length) {
      errors.push(`line ${i + 2}: ${cells.length} cells, the header has ${header.length}`);
      return;
    }
    const lead: Lead = { attributes: {} };
    header.forEach((column, c) => {
      if (cells[c] === "") return;
      if (column === "id") { lead.id = cells[c]; return; }
      let node = lead.attributes as Record<string, unknown>;
      const keys = column.split(".");
      keys.slice(0, -1).forEach((k) => {
        node[k] = (node[k] as Record<string, unknown>) ?? {};
        node = node[k] as Record<string, unknown>;
      });
      node[keys[keys.length - 1]] = typed(cells[c]);
    });
    leads.push(lead);
  });
  return { leads, errors };
}

// The sample split into parts of at most `maxBytes` of JSON and `maxLeads` leads each, so that
// each PreviewDefinition request stays under the gateway's body limit (1 MiB) and the
// service's 10,000 leads. A single lead larger than maxBytes is its own part (the server then
// refuses it with its own reason).
export function chunkLeads(leads: Lead[], maxBytes: number, maxLeads = 10000): Lead[][] {
  const parts: Lead[][] = [];
  let part: Lead[] = [], bytes = 0;
  for (const lead of leads) {
    const size = JSON.stringify(lead).length + 1;
    if (part.length > 0 && (bytes + size > maxBytes || part.length >= maxLeads)) {
      parts.push(part);
      part = [];
      bytes = 0;
    }
    part.push(lead);
    bytes += size;
  }
  if (part.length > 0) parts.push(part);
  return parts;
}

export interface Preview {
  leadCount: number;
  levelsBefore: Record<string, number>;
  levelsAfter: Record<string, number>;
  gradesBefore: Record<string, number>;
  gradesAfter: Record<string, number>;
  transitions: Map<string, number>;  // "before\u0000after" -> count
  changed: LevelChange[];
  changedCount: number;
  volume: VolumeCheck[];
}

const num = (v: string | number | undefined) => Number(v ?? 0);

function addCounts(into: Record<string, number>, from: Record<string, string | number> | undefined) {
  for (const [k, v] of Object.entries(from ?? {})) into[k] = (into[k] ?? 0) + num(v);
}

// The answers for every part as one: counts add up, the changed leads are concatenated (up to
// 1000 listed), volume checks add up per (SLA, commitment).
export function mergePreviews(parts: PreviewResponse[]): Preview {
  const p: Preview = { leadCount: 0, levelsBefore: {}, levelsAfter: {}, gradesBefore: {},
    gradesAfter: {}, transitions: new Map(), changed: [], changedCount: 0, volume: [] };
  const volume = new Map<string, VolumeCheck>();
  for (const r of parts) {
    p.leadCount += num(r.leadCount);
    addCounts(p.levelsBefore, r.levelsBefore);
    addCounts(p.levelsAfter, r.levelsAfter);
    addCounts(p.gradesBefore, r.gradesBefore);
    addCounts(p.gradesAfter, r.gradesAfter);
    for (const t of r.levelTransitions ?? []) {
      const key = `${t.before ?? ""}\u0000${t.after ?? ""}`;
      p.transitions.set(key, (p.transitions.get(key) ?? 0) + num(t.count));
    }
    p.changedCount += num(r.changedCount);
    for (const c of r.changed ?? []) if (p.changed.length < 1000) p.changed.push(c);
    for (const v of r.volumeChecks ?? []) {
      const key = `${v.sla}\u0000${v.commitment}`;
      const seen = volume.get(key);
      if (seen) {
        seen.reachedBefore = String(num(seen.reachedBefore) + num(v.reachedBefore));
        seen.reachedAfter = String(num(seen.reachedAfter) + num(v.reachedAfter));
      } else {
        volume.set(key, { ...v });
      }
    }
  }
  p.volume = [...volume.values()];
  return p;
}

// The time the sample covers, in days: from its earliest to its latest event (at least 1 day).
export function sampleDays(leads: Lead[]): number {
  let lo = Infinity, hi = -Infinity;
  for (const lead of leads) {
    for (const e of lead.events ?? []) {
      const t = Date.parse(e.time ?? "");
      if (!Number.isNaN(t)) { lo = Math.min(lo, t); hi = Math.max(hi, t); }
    }
  }
  return hi > lo ? Math.max(1, (hi - lo) / 86400000) : 1;
}

// The latest event time of the sample (RFC 3339), a natural "as of" for an exported sample.
export function latestEvent(leads: Lead[]): string {
  let hi = -Infinity;
  for (const lead of leads) {
    for (const e of lead.events ?? []) {
      const t = Date.parse(e.time ?? "");
      if (!Number.isNaN(t)) hi = Math.max(hi, t);
    }
  }
  return Number.isFinite(hi) ? new Date(hi).toISOString() : "";
}

export interface VolumeProjection {
  check: VolumeCheck;
  before: number;  // projected per period
  after: number;
  metBefore: boolean;
  metAfter: boolean;
}

// "Monthly MQLs projected 212 -> 168; commitment >= 200: at risk": a volume check scaled from
// the `days` the sample covers to the commitment's period.
export function projectVolume(check: VolumeCheck, days: number): VolumeProjection {
  const scale = (PERIOD_DAYS[check.period ?? ""] ?? 30) / Math.max(days, 1e-9);
  const before = Math.round(num(check.reachedBefore) * scale);
  const after = Math.round(num(check.reachedAfter) * scale);
  const need = num(check.minCount);
  return { check, before, after, metBefore: before >= need, metAfter: after >= need };
}
