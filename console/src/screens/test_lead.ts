// "Test a lead": paste a lead (JSON) or pick one from the sample, and score it with the
// published definitions and, when a revision is chosen, with that revision side by side,
// reason by reason (rule, points, decay and caps, evidence), persona and journey stage.
import { ApiError, api } from "../api";
import type { Ctx } from "../app";
import { errorBox, h, replace, section } from "../dom";
import { EXAMPLE_AS_OF, currentSample, loadExampleLeads } from "../sample_store";
import type { Definition, Lead, LeadScore, Reason } from "../types";
import { pct } from "../words";

const round = (v: number | undefined) => String(Math.round((v ?? 0) * 100) / 100);
const reasonKey = (r: Reason) => `${r.kind}\u0000${r.group ?? ""}\u0000${r.rule ?? ""}`;

function summary(title: string, s: LeadScore): HTMLElement {
  return h("div", { class: "score-card" }, h("h3", {}, title),
    h("dl", {},
      h("dt", {}, "Level"), h("dd", { class: "level" }, s.level || "(none)"),
      h("dt", {}, "Grade"), h("dd", {}, s.grade || "(none)"),
      h("dt", {}, "Fit / engagement / total"),
      h("dd", {}, `${round(s.fit)} / ${round(s.engagement)} / ${round(s.total)}`),
      h("dt", {}, "Persona"), h("dd", {}, s.persona?.persona ?
        `${s.persona.persona.split("/").pop()} (${pct(s.persona.match)} match)` : "none"),
      h("dt", {}, "Journey stage"), h("dd", {}, s.journeyStage || "—"),
      s.disqualified ? [h("dt", {}, "Disqualified"), h("dd", {}, s.disqualificationReason ?? "")] : null,
      (s.missingAttributes ?? []).length ? [h("dt", {}, "Attributes the rules read that the lead lacks"),
        h("dd", {}, (s.missingAttributes ?? []).join(", "))] : null),
    h("p", { class: "sub" }, "Definitions: ", (s.definitions ?? []).map((d) =>
      `${(d.name ?? "").split("/").pop()} #${Number(d.revision ?? 0) || "proposed"}`).join(", ")));
}

// Every reason of one or two scores, aligned by (kind, group, rule).
function reasonsTable(before: LeadScore, after: LeadScore | null): HTMLElement {
  const rows = new Map<string, { b?: Reason; a?: Reason }>();
  for (const r of before.reasons ?? []) rows.set(reasonKey(r), { b: r });
  for (const r of after?.reasons ?? []) rows.set(reasonKey(r), { ...(rows.get(reasonKey(r)) ?? {}), a: r });
  const head = after ? ["Kind", "Group", "Rule", "Published", "Proposed", "Evidence", "Detail"] :
    ["Kind", "Group", "Rule", "Points", "Evidence", "Detail"];
  return h("table", { class: "reasons" },
    h("thead", {}, h("tr", {}, head.map((c) => h("th", { scope: "col" }, c)))),
    h("tbody", {}, [...rows.values()].map(({ b, a }) => {
      const r = (a ?? b) as Reason;
      const moved = after && (b?.points ?? 0) !== (a?.points ?? 0);
      return h("tr", { class: moved ? "moved" : "" },
        h("td", {}, (r.kind ?? "").toLowerCase()), h("td", {}, r.group ?? ""),
        h("td", {}, r.rule ?? r.description ?? ""),
        h("td", {}, b ? round(b.points) : "—"),
        after ? h("td", {}, a ? round(a.points) : "—") : null,
        h("td", {}, r.evidence ?? ""),
        h("td", {}, r.detail ?? ""));
    })));
}

export async function renderTestLead(main: HTMLElement, ctx: Ctx, ns = "", id = "", rev = "",
    leadId = ""): Promise<void> {
  void ctx;
  const namespace = ns || "default";
  const name = id ? `namespaces/${namespace}/definitions/${id}` : "";
  let proposed: Definition | null = null;
  if (name && rev) {
    const r = await api.getRevision(`${name}/revisions/${rev}`);
    if (r.state !== "PUBLISHED") proposed = { ...(r.snapshot ?? {}), name };
  }
  const text = h("textarea", { id: "lead-json", rows: 12, cols: 80, spellcheck: "false" });
  const asOf = h("input", { id: "test-as-of", type: "text", size: 24, placeholder: "now" });
  const pick = h("select", { id: "pick-lead" });
  const out = h("div", { "aria-live": "polite", id: "test-result" });
  const fillPicker = () => {
    const sample = currentSample();
    replace(pick, h("option", { value: "" }, sample ? `a lead of ${sample.label}…` : "(no sample loaded)"),
      (sample?.leads ?? []).slice(0, 1000).map((l, i) => h("option", { value: String(i) }, l.id || `#${i + 1}`)));
  };
  const choose = (lead: Lead) => { text.value = JSON.stringify(lead, null, 2); };
  pick.addEventListener("change", () => {
    const lead = currentSample()?.leads[Number(pick.value)];
    if (lead) choose(lead);
  });
  const examples = h("button", { type: "button", onclick: async () => {
    await loadExampleLeads();
    asOf.value = EXAMPLE_AS_OF;
    fillPicker();
  } }, "Use the example leads");
  const score = async () => {
    let lead: Lead;
    try {
      lead = JSON.parse(text.value) as Lead;
    } catch (e) {
      replace(out, errorBox(`The lead is not JSON: ${(e as Error).message}`));
      return;
    }
    try {
      if (proposed) {
        const p = await api.preview({ selector: { namespace, model: proposed.kind === "QUALIFICATION_MODEL" ||
          proposed.qualificationModel ? id : "" }, proposed, leads: [lead], asOf: asOf.value.trim() || undefined,
          returnScores: true });
        const b = p.scoresBefore?.[0], a = p.scoresAfter?.[0];
        if (!b || !a) throw new Error("the preview returned no score");
        replace(out, h("div", { class: "side-by-side" }, summary("Published", b),
          summary(`Revision #${rev} (proposed)`, a)), reasonsTable(b, a));
      } else {
        const s = await api.scoreLead(namespace, lead, asOf.value.trim());
        replace(out, h("div", { class: "side-by-side" }, summary("Published", s)), reasonsTable(s, null));
      }
    } catch (e) {
      replace(out, errorBox(e instanceof ApiError ? e.describe() : String(e)));
    }
  };
  fillPicker();
  const sample = currentSample();
  if (sample) {
    if (sample.label === "the example leads") asOf.value = EXAMPLE_AS_OF;
    const found = sample.leads.find((l) => l.id === leadId);
    if (found) choose(found);
  }
  if (!text.value) {
    text.value = JSON.stringify({ id: "test-1", attributes: { company: { employees: 1200,
      industry: "software" }, contact: { title: "IT Director" } }, events: [] }, null, 2);
  }
  replace(main,
    h("h1", {}, "Test a lead"),
    h("p", { class: "sub" }, proposed ? `Published definitions of ${namespace} against revision #${rev} of ${id}.` :
      `Published definitions of namespace ${namespace}.`),
    section("The lead",
      h("div", { class: "row" }, examples, h("label", { for: "pick-lead" }, "Pick"), pick),
      h("label", { for: "lead-json" }, "Lead (JSON: id, attributes, events)"), text,
      h("div", { class: "row" }, h("label", { for: "test-as-of" }, "As of"), asOf,
        h("button", { type: "button", id: "score", onclick: score }, "Score"))),
    out);
  if (leadId && sample) await score();
}
