// The feedback loop on the review page of a qualification model (docs/feedback.md): what sales
// said about the leads the published model handed over (acceptance by level and by rule, with
// 95 % intervals, and why leads were not accepted), and how this proposed revision scores live
// traffic beside the published one (shadow scoring: published level x proposed level).
import { ApiError, api } from "../api";
import { errorBox, h, replace, section } from "../dom";
import type { AcceptanceRate, ShadowRevisionReport } from "../types";

const n = (v: string | number | undefined) => Number(v ?? 0);
const pct = (v: number | undefined) => `${Math.round((v ?? 0) * 1000) / 10} %`;

function rate(r: AcceptanceRate | undefined): string {
  if (!r || n(r.total) === 0) return "–";
  return `${pct(r.rate)} (${pct(r.low)}–${pct(r.high)})`;
}

// Sales' verdicts: the rules this model fires, ranked by lift, so a rule that brings leads
// sales turns down stands out.
export function qualityPanel(ns: string): HTMLElement {
  const out = h("div", { id: "quality", "aria-live": "polite" }, h("p", { class: "sub" }, "Loading…"));
  api.qualityReport(ns).then((q) => {
    const total = n(q.overall?.total);
    if (total === 0) {
      replace(out, h("p", { class: "empty" }, "No verdict from sales in the last 90 days."));
      return;
    }
    const rules = [...(q.byRule ?? [])].sort((a, b) => (a.lift ?? 0) - (b.lift ?? 0));
    replace(out,
      h("p", { class: "sub" }, `${total} leads handed over in the last 90 days have a verdict; ` +
        `sales accepted ${rate(q.overall)}. Rates with their 95 % interval.`),
      h("table", { class: "quality", id: "quality-levels" },
        h("thead", {}, h("tr", {}, ["Level at hand-off", "Leads", "Accepted"]
          .map((c) => h("th", { scope: "col" }, c)))),
        h("tbody", {}, (q.byLevel ?? []).map((r) => h("tr", {},
          h("td", {}, r.key || "(none)"), h("td", {}, String(n(r.total))), h("td", {}, rate(r)))))),
      h("table", { class: "quality", id: "quality-rules" },
        h("caption", {}, "Rules, least accepted first: accepted when the rule fired, when it did " +
          "not, and the ratio of the two (lift)"),
        h("thead", {}, h("tr", {}, ["Rule", "Fired for", "Accepted when fired", "when not", "Lift"]
          .map((c) => h("th", { scope: "col" }, c)))),
        h("tbody", {}, rules.map((r) => h("tr", { class: r.hasLift && (r.lift ?? 0) < 0.8 ? "low" : "" },
          h("td", {}, r.rule ?? ""), h("td", {}, `${n(r.fired?.total)} leads`),
          h("td", {}, rate(r.fired)), h("td", {}, rate(r.notFired)),
          h("td", {}, r.hasLift ? (Math.round((r.lift ?? 0) * 100) / 100).toFixed(2) : "–"))))),
      (q.notAcceptedByReason ?? []).length === 0 ? null :
        h("p", { id: "quality-reasons" }, "Why sales did not accept: ",
          (q.notAcceptedByReason ?? []).map((c) => `${c.reasonCode || "(none)"} ${n(c.leads)}`).join(", ")));
  }).catch((e) => replace(out, errorBox(e instanceof ApiError ? e.describe() : String(e))));
  return section("What sales said about the published model", out);
}

function shadowMatrix(r: ShadowRevisionReport): HTMLElement {
  const cells = r.levels ?? [];
  const levels = [...new Set(cells.flatMap((c) => [c.published ?? "", c.proposed ?? ""]))].sort();
  const at = (p: string, q: string) => cells.find((c) => (c.published ?? "") === p && (c.proposed ?? "") === q);
  return h("table", { class: "matrix", id: "shadow-matrix" },
    h("caption", {}, "Live leads by level: published (rows) and this revision (columns)"),
    h("thead", {}, h("tr", {}, h("th", { scope: "col" }, "published \\ proposed"),
      levels.map((l) => h("th", { scope: "col" }, l || "(none)")))),
    h("tbody", {}, levels.map((p) => h("tr", {}, h("th", { scope: "row" }, p || "(none)"),
      levels.map((q) => {
        const c = at(p, q);
        const v = n(c?.leads);
        const examples = (c?.exampleLeadIds ?? []).join(", ");
        return h("td", { class: v === 0 ? "zero" : p === q ? "same" : "moved",
          title: examples ? `e.g. ${examples}` : undefined }, String(v));
      })))));
}

// Shadow scoring of this revision, when the scoring service shadows the namespace.
export function shadowPanel(ns: string, definition: string, revision: number): HTMLElement {
  const out = h("div", { id: "shadow", "aria-live": "polite" }, h("p", { class: "sub" }, "Loading…"));
  api.shadowReport(ns).then((report) => {
    const r = (report.revisions ?? []).find((x) => x.definition === definition && n(x.revision) === revision);
    if (!r || n(r.leads) === 0) {
      replace(out, h("p", { class: "empty" }, r ? "No live lead has been scored with this revision yet." :
        "This revision is not shadow-scored (it is not the namespace's pending model proposal)."));
      return;
    }
    replace(out,
      h("p", { class: "sub" }, `${n(r.leads)} live leads (a ${pct(report.sampleRate)} sample of scoring ` +
        `requests since ${new Date(r.since ?? "").toLocaleString()}) scored with the published ` +
        `revision #${n(r.publishedRevision)} and with this one: ${n(r.levelChanges)} would change ` +
        `level, ${n(r.gradeChanges)} grade. Sales tools still get the published answers.`),
      shadowMatrix(r));
  }).catch((e) => {
    const off = e instanceof ApiError && e.reason === "SHADOW_OFF";
    replace(out, off ? h("p", { class: "empty" }, "Shadow scoring is off for this namespace " +
      "(accord-scoring --shadow_namespaces).") : errorBox(e instanceof ApiError ? e.describe() : String(e)));
  });
  return section("On live traffic (shadow scoring)", out);
}
