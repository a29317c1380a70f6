// The review page of a proposed revision: the semantic diff against the published revision,
// the impact preview on a lead sample (levels and grades before/after, the level x level
// matrix, the leads that change level and why, and the SLA volume check), and the decision
// panel (approve, reject with a comment, publish).
import { ApiError, api } from "../api";
import type { Ctx } from "../app";
import { age, can, missingTeams, waitsFor } from "../app";
import { beforeAfterBars } from "../charts";
import { renderContent } from "../content";
import { qualityPanel, shadowPanel } from "./feedback";
import { errorBox, h, link, replace, section } from "../dom";
import { chunkLeads, latestEvent, mergePreviews, projectVolume, sampleDays } from "../sample";
import type { Preview } from "../sample";
import { EXAMPLE_AS_OF, currentSample, loadExampleLeads, loadFile } from "../sample_store";
import type { Definition, DefinitionChange, Lead, PreviewResponse, Revision } from "../types";
import { KIND_WORDS, periodWords, shortName } from "../words";

const n = (v: string | number | undefined) => Number(v ?? 0);
// Each preview request stays well under the gateway's 1 MiB body limit.
const PART_BYTES = 900 * 1024;

const EFFECTS: Record<string, string> = { TIGHTENS: "tightens", LOOSENS: "loosens",
  NEUTRAL: "neutral", UNDECIDED: "depends on the leads" };

function diffList(changes: DefinitionChange[]): HTMLElement {
  if (changes.length === 0) return h("p", { class: "empty" }, "No change to the published content.");
  const counts = new Map<string, number>();
  changes.forEach((c) => counts.set(c.effect ?? "", (counts.get(c.effect ?? "") ?? 0) + 1));
  return h("div", {},
    h("p", { class: "sub" }, `${changes.length} change(s): `,
      [...counts].map(([e, k]) => `${k} ${EFFECTS[e] ?? e}`).join(", ")),
    h("ul", { class: "diff" }, changes.map((c) => h("li", { class: `change ${(c.kind ?? "").toLowerCase()}` },
      h("span", { class: `tag ${(c.effect ?? "").toLowerCase()}` }, EFFECTS[c.effect ?? ""] ?? ""),
      h("span", { class: "summary" }, c.summary ?? ""),
      c.path ? h("code", { class: "path" }, c.path) : null))));
}

function matrix(p: Preview): HTMLElement {
  const levels = [...new Set([...p.transitions.keys()].flatMap((k) => k.split("\u0000")))].sort();
  return h("table", { class: "matrix" },
    h("caption", {}, "Leads by level: before (rows) and after (columns)"),
    h("thead", {}, h("tr", {}, h("th", { scope: "col" }, "before \\ after"),
      levels.map((l) => h("th", { scope: "col" }, l)))),
    h("tbody", {}, levels.map((b) => h("tr", {}, h("th", { scope: "row" }, b),
      levels.map((a) => {
        const v = p.transitions.get(`${b}\u0000${a}`) ?? 0;
        return h("td", { class: v === 0 ? "zero" : a === b ? "same" : "moved" }, String(v));
      })))));
}

function volumeTable(p: Preview, days: number): HTMLElement {
  if (p.volume.length === 0) return h("p", { class: "empty" }, "No SLA volume commitment uses this model.");
  return h("table", { class: "volume" },
    h("thead", {}, h("tr", {}, ["SLA commitment", "Needs", "Projected before", "Projected after",
      "Verdict"].map((c) => h("th", { scope: "col" }, c)))),
    h("tbody", {}, p.volume.map((v) => {
      const x = projectVolume(v, days);
      const verdict = x.metAfter ? (x.metBefore ? "met" : "met (was at risk)") :
        (x.metBefore ? "AT RISK (was met)" : "at risk");
      return h("tr", {},
        h("td", {}, `${shortName(v.sla)} · ${v.commitment} (${v.team})`),
        h("td", {}, `≥ ${v.minCount} ${v.level} per ${periodWords(v.period)}`),
        h("td", {}, String(x.before)), h("td", {}, String(x.after)),
        h("td", { class: x.metAfter ? "met" : "at-risk" }, verdict));
    })));
}

function changedTable(p: Preview, testHash: (lead: string) => string): HTMLElement {
  if (p.changedCount === 0) return h("p", { class: "empty" }, "No lead changes level.");
  return h("div", {}, h("p", {}, `${p.changedCount} lead(s) change level` +
    (p.changed.length < p.changedCount ? ` (first ${p.changed.length} listed)` : "") + ":"),
  h("table", { id: "changed-leads" }, h("thead", {}, h("tr", {}, ["Lead", "Level", "Total", "Rules that moved it", ""]
    .map((c) => h("th", { scope: "col" }, c)))),
  h("tbody", {}, p.changed.slice(0, 100).map((c) => h("tr", {},
    h("td", {}, c.leadId ?? ""),
    h("td", {}, `${c.before || "(none)"} → ${c.after || "(none)"}`),
    h("td", {}, `${round(c.totalBefore)} → ${round(c.totalAfter)}`),
    h("td", {}, (c.reasons ?? []).length === 0 ? "the same points: the level's thresholds moved" :
      (c.reasons ?? []).map((r) => `${r.rule || r.group}: ${round(r.pointsBefore)} → ` +
        `${round(r.pointsAfter)}`).join("; ")),
    h("td", {}, link(testHash(c.leadId ?? ""), "test")))))));
}

const round = (v: number | undefined) => String(Math.round((v ?? 0) * 100) / 100);

// The service runs two previews at once: two parts in flight keep it busy while the browser
// prepares the next one. Answers are merged in the order of the parts.
const IN_FLIGHT = 2;

async function runPreview(proposed: Definition, ns: string, model: string, leads: Lead[],
    asOf: string, progress: (done: number, total: number) => void): Promise<Preview> {
  const parts = chunkLeads(leads, PART_BYTES);
  const answers: PreviewResponse[] = new Array(parts.length);
  let next = 0, done = 0;
  const worker = async () => {
    while (next < parts.length) {
      const i = next++;
      answers[i] = await api.preview({ selector: { namespace: ns, model }, proposed,
        leads: parts[i], asOf: asOf || undefined });
      progress(++done, parts.length);
    }
  };
  progress(0, parts.length);
  await Promise.all(Array.from({ length: Math.min(IN_FLIGHT, parts.length) }, worker));
  return mergePreviews(answers);
}

function previewPanel(proposed: Definition, ns: string, model: string, testHash: (l: string) => string): HTMLElement {
  const file = h("input", { id: "sample-file", type: "file", accept: ".jsonl,.json,.csv" });
  const asOf = h("input", { id: "as-of", type: "text", size: 24, placeholder: "now" });
  const days = h("input", { id: "sample-days", type: "number", min: "1", step: "any", size: 6 });
  const sampleLabel = h("span", { class: "sub" });
  const out = h("div", { "aria-live": "polite" });
  const run = h("button", { type: "button", disabled: true }, "Run the preview");
  const ready = (leads: Lead[], label: string, errors: string[], exampleAsOf = "") => {
    asOf.value = exampleAsOf || latestEvent(leads);
    days.value = String(Math.round(sampleDays(leads) * 10) / 10);
    replace(sampleLabel, `${leads.length} leads from ${label}`,
      errors.length ? ` (${errors.length} line(s) skipped: ${errors.slice(0, 3).join("; ")})` : "");
    run.disabled = leads.length === 0;
  };
  file.addEventListener("change", async () => {
    const f = file.files?.[0];
    if (f) { const s = await loadFile(f); ready(s.leads, f.name, s.errors); }
  });
  const examples = h("button", { type: "button", onclick: async () => {
    const s = await loadExampleLeads();
    ready(s.leads, "the example leads", s.errors, EXAMPLE_AS_OF);
  } }, "Use the example leads");
  run.addEventListener("click", async () => {
    const sample = currentSample();
    if (!sample) return;
    run.disabled = true;
    const started = performance.now();
    try {
      const p = await runPreview(proposed, ns, model, sample.leads, asOf.value.trim(),
        (done, total) => replace(out, h("p", {}, `Scored ${done} of ${total} part(s)…`)));
      const levels = [...new Set([...Object.keys(p.levelsBefore), ...Object.keys(p.levelsAfter)])].sort();
      const grades = [...new Set([...Object.keys(p.gradesBefore), ...Object.keys(p.gradesAfter)])].sort();
      replace(out,
        h("p", { class: "sub", id: "preview-done" }, `${p.leadCount} leads scored with the published ` +
          `definitions and with this revision in ${Math.round(performance.now() - started)} ms.`),
        h("h3", {}, "SLA volume check"),
        h("p", { class: "sub" }, `Counts of leads reaching the level, projected from a sample ` +
          `covering ${days.value} day(s) to each commitment's period.`),
        volumeTable(p, Number(days.value) || 1),
        h("div", { class: "charts" }, beforeAfterBars("Leads per level", levels, p.levelsBefore, p.levelsAfter),
          beforeAfterBars("Leads per grade", grades, p.gradesBefore, p.gradesAfter)),
        matrix(p),
        h("h3", {}, "Leads that change level"),
        changedTable(p, testHash));
    } catch (e) {
      replace(out, errorBox(e instanceof ApiError ? e.describe() : String(e)));
    }
    run.disabled = false;
  });
  const existing = currentSample();
  if (existing) ready(existing.leads, existing.label, [], existing.label === "the example leads" ? EXAMPLE_AS_OF : "");
  return section("Impact preview",
    h("p", {}, "Score a sample of leads with the published definitions and with this revision."),
    h("div", { class: "row" }, h("label", { for: "sample-file" }, "Lead sample (JSONL or CSV)"), file,
      examples, sampleLabel),
    h("div", { class: "row" }, h("label", { for: "as-of" }, "As of"), asOf,
      h("label", { for: "sample-days" }, "The sample covers (days)"), days, run),
    out);
}

function decisionPanel(ctx: Ctx, d: Definition, r: Revision): HTMLElement {
  const status = h("div", { "aria-live": "polite", id: "decision-status" });
  const act = (what: () => Promise<Revision>, done: string) => async () => {
    try {
      await what();
      replace(status, h("p", { class: "ok" }, done));
      setTimeout(() => ctx.refresh(), 600);
    } catch (e) {
      replace(status, errorBox(e instanceof ApiError ? e.describe() : String(e)));
    }
  };
  const comment = h("textarea", { id: "comment", rows: 2, cols: 50 });
  const need = waitsFor(ctx.caller, r);
  const me = ctx.caller.principal ?? "";
  const author = r.proposer === me || (r.authors ?? []).includes(me);
  const approvedBy = new Map((r.reviews ?? []).map((v) => [v.team ?? "", v]));
  const buttons = h("div", { class: "actions" },
    need.length > 0 ? h("button", { type: "button", id: "approve",
      onclick: act(() => api.approve(r.name ?? "", comment.value), `Approved for ${need[0]}.`) },
    `Approve for ${need.join(" / ")}`) : null,
    can(ctx.caller, "review") && !author && (r.state === "PROPOSED" || r.state === "APPROVED") &&
      !(r.reviews ?? []).some((v) => v.principal === me) ?
      h("button", { type: "button", id: "reject", class: "danger", onclick: async () => {
        if (!comment.value.trim()) {
          replace(status, errorBox("A rejection needs a comment that says why."));
          comment.focus();
          return;
        }
        await act(() => api.reject(r.name ?? "", comment.value), "Rejected.")();
      } }, "Reject") : null,
    can(ctx.caller, "publish") && r.state === "APPROVED" ?
      h("button", { type: "button", id: "publish",
        onclick: act(() => api.publish(r.name ?? "", d.etag ?? ""), `Published revision #${r.revisionNumber}.`) },
      "Publish") : null);
  const why = author ? "You wrote or proposed this revision: another person of each team reviews it." :
    !can(ctx.caller, "review") ? "Your role does not review revisions." : "";
  return section("Decision",
    h("ul", { class: "teams" }, (r.requiredTeams ?? []).map((t) => {
      const v = approvedBy.get(t);
      return h("li", {}, h("strong", {}, t), ": ", v ? `${v.verdict === "APPROVE" ? "approved" : "rejected"} ` +
        `by ${v.principal} ${age(v.time)}${v.comment ? ` — “${v.comment}”` : ""}` : "waiting");
    })),
    r.state === "PROPOSED" || r.state === "APPROVED" ? [
      h("label", { for: "comment" }, "Comment (required to reject)"), comment, buttons,
      why ? h("p", { class: "hint" }, why) : null] :
      h("p", {}, `This revision is ${(r.state ?? "").toLowerCase()}.`),
    missingTeams(r).length && r.state === "PROPOSED" ?
      h("p", { class: "hint" }, `Publishing needs the approval of ${missingTeams(r).join(" and ")}.`) : null,
    status);
}

export async function renderReview(main: HTMLElement, ctx: Ctx, ns: string, id: string,
    rev: string): Promise<void> {
  const name = `namespaces/${ns}/definitions/${id}`;
  const [d, r] = await Promise.all([api.getDefinition(name), api.getRevision(`${name}/revisions/${rev}`)]);
  // An open proposal compares with the revision in force; a published one with the one it
  // replaced.
  let base = "published";
  if (r.state === "PUBLISHED" || r.state === "SUPERSEDED") {
    const earlier = (await api.listRevisions(name)).revisions ?? [];
    const previous = earlier.find((x) => n(x.revisionNumber) < n(r.revisionNumber) &&
      (x.state === "PUBLISHED" || x.state === "SUPERSEDED"));
    base = previous ? String(previous.revisionNumber) : "draft";
  }
  const diff = base === "draft" ? { from: "nothing", to: `revision ${rev}`, changes: [] } :
    await api.diff(name, base, rev);
  const published = n(d.publishedRevision) > 0 && n(d.publishedRevision) !== n(r.revisionNumber) ?
    await api.getRevision(`${name}/revisions/published`) : null;
  const open = r.state === "PROPOSED" || r.state === "APPROVED";
  const stale = open && published && Date.parse(published.publishTime ?? "") > Date.parse(r.createTime ?? "");
  const proposed: Definition = { ...(r.snapshot ?? {}), name };
  const model = d.kind === "QUALIFICATION_MODEL" ? id : "";
  const testHash = (lead: string) => `#/test/${ns}/${id}/${r.revisionNumber}/${encodeURIComponent(lead)}`;
  replace(main,
    h("h1", {}, `Review: ${d.displayName || id}, revision #${r.revisionNumber}`),
    h("p", { class: "sub" }, `${KIND_WORDS[d.kind ?? ""] ?? d.kind} · ${name} · `,
      h("span", { class: `state ${(r.state ?? "").toLowerCase()}` }, (r.state ?? "").toLowerCase()),
      ` · proposed by ${r.proposer} ${age(r.createTime)}`,
      (r.authors ?? []).length ? ` · written by ${(r.authors ?? []).join(", ")}` : ""),
    h("p", { class: "summary", id: "change-summary" }, r.changeSummary || "(no summary)"),
    stale ? h("p", { class: "warning", role: "status" }, `The published revision moved since this ` +
      `proposal: #${published?.revisionNumber} was published ${age(published?.publishTime)}. ` +
      `The changes below compare with the revision in force now.`) : null,
    h("div", { class: "actions" }, link(`#/def/${ns}/${id}`, "Definition and history"),
      link(testHash(""), "Test a lead with this revision")),
    section(`What changes (${diff.from} → ${diff.to})`, diffList(diff.changes ?? [])),
    decisionPanel(ctx, d, r),
    previewPanel(proposed, ns, model, testHash),
    model && open ? shadowPanel(ns, name, n(r.revisionNumber)) : null,
    model ? qualityPanel(ns) : null,
    section(open ? "The proposed content" : "The content of this revision", renderContent(proposed)));
}
