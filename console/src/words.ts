// The business language of the console, in one place: conditions, durations, rules, levels and
// commitments as sentences a marketing or sales manager reads. Pure functions (unit-tested in
// test/words.test.ts); the screens only lay these out.
import type {
  AttributeCondition, BuyerJourney, Condition, Decay, Definition, QualificationModel,
  ServiceLevelAgreement,
} from "./types";

// "2592000s" (protobuf JSON) -> seconds; NaN for anything else.
export function seconds(duration: string | undefined): number {
  const m = /^(-?\d+(?:\.\d+)?)s$/.exec(duration ?? "");
  return m ? Number(m[1]) : NaN;
}

// Seconds in the largest unit that divides them: "30 d", "4 h", "90 min", "45 s".
export function durationWords(duration: string | undefined): string {
  const s = seconds(duration);
  if (Number.isNaN(s)) return "all time";
  for (const [size, unit] of [[86400, "d"], [3600, "h"], [60, "min"]] as const) {
    if (s >= size && s % size === 0) return `${s / size} ${unit}`;
  }
  return `${s} s`;
}

const OPS: Record<string, string> = {
  EQ: "is", NE: "is not", IN: "is one of", NOT_IN: "is none of", LT: "<", LE: "≤", GT: ">",
  GE: "≥", BETWEEN: "is between", CONTAINS: "contains", STARTS_WITH: "starts with",
  ENDS_WITH: "ends with", MATCHES: "matches", EXISTS: "is known", NOT_EXISTS: "is unknown",
};

export function valueWords(v: unknown): string {
  return typeof v === "string" ? `“${v}”` : JSON.stringify(v);
}

export function attributeWords(a: AttributeCondition): string {
  const op = a.op ?? "";
  let out = `${a.field ?? "?"} ${OPS[op] ?? op}`;
  if (op === "BETWEEN" && a.values?.length === 2) {
    out += ` ${valueWords(a.values[0])} and ${valueWords(a.values[1])}`;
  } else if (op === "IN" || op === "NOT_IN") {
    out += ` ${(a.values ?? []).map(valueWords).join(", ")}`;
  } else if (op !== "EXISTS" && op !== "NOT_EXISTS") {
    out += ` ${valueWords(a.value)}`;
  }
  return a.ignoreCase ? `${out} (any case)` : out;
}

const METRICS: Record<string, string> = { FIT: "fit", ENGAGEMENT: "engagement", TOTAL: "total",
  LEVEL: "level" };

export function conditionWords(c: Condition | undefined, nested = false): string {
  if (!c) return "always";
  const list = (items: Condition[], joiner: string) => {
    const text = items.map((i) => conditionWords(i, true)).join(joiner);
    return nested && items.length > 1 ? `(${text})` : text;
  };
  if (c.all?.length) return list(c.all, " and ");
  if (c.any?.length) return list(c.any, " or ");
  if (c.not) return `not ${conditionWords(c.not, true)}`;
  if (c.attribute) return attributeWords(c.attribute);
  if (c.persona) {
    return `matches persona ${c.persona.persona}` +
      (c.persona.minMatch ? ` (≥ ${pct(c.persona.minMatch)})` : "");
  }
  if (c.event) {
    const e = c.event;
    const where = (e.where ?? []).map(attributeWords).join(" and ");
    return `${e.minCount && e.minCount > 1 ? `at least ${e.minCount}` : article(e.type)} ${e.type} event` +
      (e.minCount && e.minCount > 1 ? "s" : "") + (where ? ` where ${where}` : "") +
      (e.window ? ` in the last ${durationWords(e.window)}` : "");
  }
  if (c.score) {
    const s = c.score;
    const metric = METRICS[s.metric ?? ""] ?? s.metric;
    const value = s.metric === "LEVEL" ? s.level : String(s.value ?? 0);
    return `${metric} ${OPS[s.op ?? ""] ?? s.op} ${value}` + (s.model ? ` (model ${s.model})` : "");
  }
  return "always";
}

// "a" or "an" before a word.
export function article(word: string | undefined): string {
  return /^[aeiou]/i.test(word ?? "") ? "an" : "a";
}

export function pct(fraction: number | undefined): string {
  return `${Math.round((fraction ?? 0) * 1000) / 10} %`;
}

export function points(p: number | undefined): string {
  const v = p ?? 0;
  return `${v > 0 ? "+" : ""}${v} point${Math.abs(v) === 1 ? "" : "s"}`;
}

export function decayWords(d: Decay | undefined): string {
  if (!d || !d.kind || d.kind === "NONE" || d.kind === "KIND_UNSPECIFIED") return "";
  if (d.kind === "EXPONENTIAL") return `half-life ${durationWords(d.halfLife)}`;
  return `loses ${pct(d.fraction)} every ${durationWords(d.period)}`;
}

// "MQL: fit ≥ 40 and engagement ≥ 25"
export function levelWords(l: NonNullable<QualificationModel["levels"]>[number]): string {
  const parts: string[] = [];
  if (l.minFit !== undefined) parts.push(`fit ≥ ${l.minFit}`);
  if (l.minEngagement !== undefined) parts.push(`engagement ≥ ${l.minEngagement}`);
  if (l.minTotal !== undefined) parts.push(`total ≥ ${l.minTotal}`);
  return parts.length ? parts.join(" and ") : "every lead that is not disqualified";
}

export function capWords(group: { maxPoints?: number; minPoints?: number }): string {
  const parts: string[] = [];
  if (group.maxPoints !== undefined) parts.push(`at most ${group.maxPoints} points`);
  if (group.minPoints !== undefined) parts.push(`at least ${group.minPoints} points`);
  return parts.join(", ");
}

const PERIODS: Record<string, string> = { DAY: "day", WEEK: "week", MONTH: "month",
  QUARTER: "quarter" };
export function periodWords(p: string | undefined): string { return PERIODS[p ?? ""] ?? "period"; }

// Days per period, for projecting a sample onto a commitment's period.
export const PERIOD_DAYS: Record<string, number> = { DAY: 1, WEEK: 7, MONTH: 365.25 / 12,
  QUARTER: 365.25 / 4 };

// How an account model combines its members: "the sum of the 3 highest engagement scores".
export function aggregationWords(e: { method?: string; metric?: string; topN?: number;
    dropNegative?: boolean; trimFraction?: number } | undefined): string {
  const metric = (e?.metric === "FIT" ? "fit" : e?.metric === "TOTAL" ? "total" : "engagement");
  const how: Record<string, string> = { AVERAGE: "the average", MAX: "the highest",
    TOP_N: `the sum of the ${e?.topN ?? 0} highest`,
    TRIMMED_MEAN: `the mean without the top and bottom ${pct(e?.trimFraction)}` };
  return `${how[e?.method ?? ""] ?? "the sum"} of the members' ${metric} scores` +
    (e?.dropNegative ? ", leaving out negative ones" : "");
}

// Every commitment of an SLA as a sentence.
export function slaSentences(sla: ServiceLevelAgreement): string[] {
  const out: string[] = [];
  for (const r of sla.response ?? []) {
    out.push(`${cap(r.team)} records ${article(r.eventType)} ${r.eventType} within ${durationWords(r.within)} of a ` +
      `lead entering stage ${r.stage} (at risk after ${pct(r.warnFraction ?? 0.75)} of that).`);
  }
  for (const v of sla.volume ?? []) {
    out.push(`${cap(v.team)} delivers at least ${v.minCount ?? 0} ${v.level} leads per ` +
      `${periodWords(v.period)}.`);
  }
  for (const q of sla.quality ?? []) {
    const accepted = q.acceptedStage ? `reach stage ${q.acceptedStage}` :
      `get ${article(q.acceptedEventType)} ${q.acceptedEventType} event`;
    out.push(`Of the ${q.level} leads ${q.team} delivers, at least ` +
      `${pct(q.minAcceptedFraction)} ${accepted} each ${periodWords(q.period)}.`);
  }
  for (const m of sla.metrics ?? []) {
    out.push(`Shared metric ${m.name}: ${cap(m.team)} targets ${m.target ?? 0}` +
      `${m.unit ? " " + m.unit : ""}${m.description ? ` (${m.description})` : ""}.`);
  }
  return out;
}

function cap(s: string | undefined): string {
  return s ? s[0].toUpperCase() + s.slice(1) : "";
}

export const KIND_WORDS: Record<string, string> = {
  BUYER_PERSONA: "Buyer persona", QUALIFICATION_MODEL: "Qualification model",
  BUYER_JOURNEY: "Buyer journey", SERVICE_LEVEL_AGREEMENT: "SLA", ACCOUNT_MODEL: "Account model",
};

// A kind in the middle of a sentence: "buyer journey", "qualification model", "SLA".
export function kindInSentence(kind: string | undefined): string {
  const words = KIND_WORDS[kind ?? ""] ?? "";
  return words === "SLA" ? words : words.toLowerCase();
}

// What an audit event did, as the people who did it would say it.
const ACTIONS: Record<string, string> = {
  CreateDefinition: "created", UpdateDefinition: "edited the draft", ProposeRevision: "proposed",
  ApproveRevision: "approved", RejectRevision: "rejected", PublishRevision: "published",
  RollbackDefinition: "rolled back", DeleteDefinition: "withdrew", UndeleteDefinition: "restored",
};
export function actionWords(action: string | undefined): string {
  return ACTIONS[action ?? ""] ?? action ?? "";
}

// The definition id of a resource name: "namespaces/x/definitions/b2b" -> "b2b".
export function shortName(name: string | undefined): string {
  return (name ?? "").split("/").pop() ?? "";
}
export function namespaceOf(name: string | undefined): string {
  return (name ?? "").split("/")[1] ?? "";
}

// The definition names `d` refers to (ids or names, resolved in d's namespace).
export function referencesOf(d: Definition): string[] {
  const ns = namespaceOf(d.name);
  const full = (ref: string | undefined) =>
    !ref ? "" : ref.includes("/") ? ref : `namespaces/${ns}/definitions/${ref}`;
  const refs = new Set<string>();
  const walk = (c: Condition | undefined) => {
    if (!c) return;
    c.all?.forEach(walk); c.any?.forEach(walk); walk(c.not);
    if (c.persona?.persona) refs.add(full(c.persona.persona));
    if (c.score?.model) refs.add(full(c.score.model));
  };
  const m = d.qualificationModel;
  if (m) {
    (m.personas ?? []).forEach((p) => refs.add(full(p)));
    m.fit?.forEach((g) => g.rules?.forEach((r) => walk(r.condition)));
    m.disqualifiers?.forEach((q) => walk(q.condition));
  }
  d.buyerPersona?.criteria?.forEach((c) => walk(c.condition));
  const j: BuyerJourney | undefined = d.buyerJourney;
  if (j) {
    if (j.model) refs.add(full(j.model));
    j.stages?.forEach((s) => walk(s.entry));
  }
  const s = d.serviceLevelAgreement;
  if (s) {
    refs.add(full(s.journey));
    refs.add(full(s.model));
  }
  const a = d.accountModel;
  if (a) {
    refs.add(full(a.model));
    (a.buyingGroup ?? []).forEach((r) => refs.add(full(r.persona)));
  }
  refs.delete("");
  return [...refs];
}

// "journey b2b-journey and SLA b2b-sla use this": who refers to `name`.
export function referencedBy(name: string, all: Definition[]): Definition[] {
  return all.filter((d) => d.name !== name && d.state !== "DELETED" &&
    referencesOf(d).includes(name));
}
