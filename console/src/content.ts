// A definition's content in business language, not YAML: persona criteria, model groups and
// levels, the journey as a graph, SLA commitments as sentences. Shared by the definition page
// and the review page (which shows the proposed content the same way).
import { journeyGraph } from "./charts";
import { h } from "./dom";
import type { Definition } from "./types";
import {
  aggregationWords, capWords, conditionWords, decayWords, durationWords, levelWords, pct, points,
  slaSentences, valueWords,
} from "./words";

function table(headers: string[], rows: (string | Node)[][]): HTMLTableElement {
  return h("table", {}, h("thead", {}, h("tr", {}, headers.map((c) => h("th", { scope: "col" }, c)))),
    h("tbody", {}, rows.map((r) => h("tr", {}, r.map((c) => h("td", {}, c))))));
}

export function renderContent(d: Definition): HTMLElement {
  const out = h("div", { class: "content" });
  if (d.description) out.append(h("p", { class: "description" }, d.description));
  const p = d.buyerPersona;
  if (p) {
    if (p.summary) out.append(h("p", {}, p.summary));
    out.append(h("p", {}, p.exclude ? "A negative persona: leads that match it are excluded. " : "",
      `A lead matches when the weighted criteria it meets reach ${pct(p.minMatch ?? 0.5)}.`));
    out.append(table(["Criterion", "Weight", "Required", "Holds when"], (p.criteria ?? []).map((c) => [
      c.id ?? "", String(c.weight || 1), c.required ? "required" : "", conditionWords(c.condition)])));
    for (const [label, list] of [["Goals", p.goals], ["Pain points", p.painPoints],
      ["Objections", p.objections], ["Preferred channels", p.preferredChannels]] as const) {
      if (list?.length) out.append(h("p", {}, h("strong", {}, `${label}: `), list.join("; ")));
    }
  }
  const m = d.qualificationModel;
  if (m) {
    for (const g of m.fit ?? []) {
      out.append(h("h3", {}, `Fit group ${g.name}`, capWords(g) ? ` (${capWords(g)})` : ""));
      out.append(table(["Rule", "Points", "When"], (g.rules ?? []).map((r) => [
        r.id ?? "", points(r.points), conditionWords(r.condition)])));
    }
    for (const g of m.engagement ?? []) {
      out.append(h("h3", {}, `Engagement group ${g.name}`, capWords(g) ? ` (${capWords(g)})` : ""));
      out.append(table(["Rule", "Points per event", "Event", "Window", "Decay", "Cap"],
        (g.rules ?? []).map((r) => [
          r.id ?? "", points(r.points),
          `${r.eventType}${(r.where ?? []).length ? " where " + conditionWords({ all: (r.where ?? []).map((w) => ({ attribute: w })) }) : ""}`,
          r.window ? `last ${durationWords(r.window)}` : "all time",
          decayWords(r.decay) || "none",
          [r.maxPoints !== undefined ? `at most ${r.maxPoints} points` : "",
            r.maxEvents ? `${r.maxEvents} most recent events` : ""].filter(Boolean).join(", ")])));
    }
    if (m.disqualifiers?.length) {
      out.append(h("h3", {}, "Disqualifiers"));
      out.append(table(["Disqualifier", "Reason shown to sales", "When"], m.disqualifiers.map((q) => [
        q.id ?? "", q.reason ?? "", conditionWords(q.condition)])));
    }
    if (m.levels?.length) {
      out.append(h("h3", {}, "Levels (the last that holds applies)"));
      out.append(h("ol", {}, m.levels.map((l) => h("li", {}, h("strong", {}, l.name ?? ""), ": ",
        levelWords(l)))));
    }
    for (const [title, bands] of [["Fit grades", m.fitGrades], ["Engagement grades", m.engagementGrades]] as const) {
      if (bands?.length) {
        out.append(h("p", {}, h("strong", {}, `${title}: `),
          bands.map((b) => `${b.label} from ${b.min ?? 0}`).join(", ")));
      }
    }
  }
  const j = d.buyerJourney;
  if (j) {
    out.append(h("div", { class: "graph" }, journeyGraph(j)));
    out.append(table(["Stage", "Owner", "Entered when", "May stay"], (j.stages ?? []).map((s) => [
      s.displayName || s.id || "", s.ownerTeam ?? "", s.entry ? conditionWords(s.entry) : "always (first stage)",
      s.maxDuration ? durationWords(s.maxDuration) : "no limit"])));
    if (j.reasonTaxonomy?.length) {
      out.append(h("p", {}, h("strong", {}, "Reason codes: "),
        j.reasonTaxonomy.map((r) => `${r.code}${r.description ? ` (${r.description})` : ""}`).join("; ")));
    }
  }
  const s = d.serviceLevelAgreement;
  if (s) {
    out.append(h("p", {}, `Journey ${s.journey}, qualification model ${s.model}.`));
    out.append(h("ul", { class: "sentences" }, slaSentences(s).map((t) => h("li", {}, t))));
  }
  const a = d.accountModel;
  if (a) {
    out.append(h("p", {}, `Members are scored with ${a.model}; the account's engagement is `,
      aggregationWords(a.engagement), "."));
    for (const g of a.fit ?? []) {
      out.append(h("h3", {}, `Account fit: ${g.name}`, capWords(g) ? ` (${capWords(g)})` : ""));
      out.append(table(["Rule", "Points", "When the account's"], (g.rules ?? []).map((r) => [
        r.id ?? "", points(r.points), conditionWords(r.condition)])));
    }
    out.append(h("h3", {}, "Buying group"));
    out.append(table(["Role", "Weight", "Played by", "From level"], (a.buyingGroup ?? []).map((r) => [
      r.id ?? "", String(r.weight || 1),
      r.persona ? `persona ${r.persona}` : `${r.attribute} is one of ${(r.values ?? []).map(valueWords).join(", ")}`,
      r.minLevel || "any"])));
    out.append(h("h3", {}, "Account levels (the last that holds applies)"));
    out.append(h("ol", {}, (a.levels ?? []).map((l) => h("li", {}, h("strong", {}, l.name ?? ""), ": ",
      [l.minFit !== undefined ? `fit ≥ ${l.minFit}` : "", l.minEngagement !== undefined ?
        `engagement ≥ ${l.minEngagement}` : "", l.minCoverage !== undefined ?
        `buying group ≥ ${pct(l.minCoverage)} covered` : ""].filter(Boolean).join(" and ") || "every account"))));
    if (a.consent) {
      out.append(h("p", {}, `Members whose ${a.consent.attribute} is not ` +
        `${(a.consent.allowed ?? []).map(valueWords).join(" or ")} are excluded and never scored.`));
    }
  }
  const teams = d.approvalPolicy?.requiredTeams?.length ? d.approvalPolicy.requiredTeams : ["marketing", "sales"];
  out.append(h("p", { class: "policy" }, `Changes need the approval of: ${teams.join(" and ")}.`));
  return out;
}
