// A definition: its published content in business language, the revision timeline with every
// review, the audit log, and "propose rollback to revision N" (a new proposal with that
// revision's content: it still needs both teams' approval).
import { ApiError, api } from "../api";
import type { Ctx } from "../app";
import { age, can, revisionHash } from "../app";
import { renderContent } from "../content";
import { errorBox, h, link, replace, section } from "../dom";
import type { Definition, Revision } from "../types";
import { KIND_WORDS, actionWords } from "../words";

const n = (v: string | number | undefined) => Number(v ?? 0);

export function reviewWords(r: Revision): string {
  return (r.reviews ?? []).map((v) => `${v.team}: ${v.verdict === "APPROVE" ? "approved" : "rejected"} ` +
    `by ${v.principal}${v.comment ? ` (“${v.comment}”)` : ""}`).join("; ");
}

// Proposes the content of revision `number` as a new revision of `d`.
async function proposeRollback(d: Definition, r: Revision): Promise<Revision> {
  const content: Definition = { ...(r.snapshot ?? {}), name: d.name, etag: d.etag };
  const updated = await api.updateDefinition(content, false);
  return api.propose(d.name ?? "", updated.etag ?? "", `Roll back to revision ${r.revisionNumber}`);
}

export async function renderDefinition(main: HTMLElement, ctx: Ctx, ns: string,
    id: string): Promise<void> {
  const name = `namespaces/${ns}/definitions/${id}`;
  const [d, revisions, audit] = await Promise.all([api.getDefinition(name),
    api.listRevisions(name), api.listAudit(`namespaces/${ns}`, name)]);
  const published = n(d.publishedRevision) > 0 ?
    await api.getRevision(`${name}/revisions/published`) : null;
  const status = h("div", { "aria-live": "polite" });
  const rollback = (r: Revision) => async () => {
    try {
      const proposal = await proposeRollback(d, r);
      ctx.go(revisionHash(proposal.name ?? ""));
    } catch (e) {
      replace(status, errorBox(e instanceof ApiError ? e.describe() : String(e)));
    }
  };
  const pending = n(d.pendingRevision);
  replace(main,
    h("h1", {}, d.displayName || id),
    h("p", { class: "sub" }, `${KIND_WORDS[d.kind ?? ""] ?? d.kind} · ${name} · `,
      published ? `published revision #${d.publishedRevision}, ${age(published.publishTime)}` :
        "never published", d.draftChanged ? " · the draft has unproposed changes" : ""),
    h("div", { class: "actions" },
      pending ? link(`#/review/${ns}/${id}/${pending}`, `Review pending revision #${pending}`) : null,
      can(ctx.caller, "edit") ? link(`#/edit/${ns}/${id}`, "Edit the draft") : null,
      link(`#/test/${ns}/${id}/${pending || ""}`, "Test a lead")),
    status,
    section(published ? "Published content" : "Draft content (never published)",
      renderContent(published?.snapshot ?? d)),
    section("Revisions", h("table", {},
      h("thead", {}, h("tr", {}, ["Revision", "State", "Proposed by", "Summary", "Reviews",
        "Proposed", "Published", ""].map((c) => h("th", { scope: "col" }, c)))),
      h("tbody", {}, (revisions.revisions ?? []).map((r) => h("tr", {},
        h("td", {}, link(revisionHash(r.name ?? ""), `#${r.revisionNumber}`),
          n(r.rollbackOf) ? h("div", { class: "sub" }, `rollback of #${r.rollbackOf}`) : null),
        h("td", {}, h("span", { class: `state ${(r.state ?? "").toLowerCase()}` }, (r.state ?? "").toLowerCase())),
        h("td", {}, r.proposer ?? ""),
        h("td", {}, r.changeSummary ?? ""),
        h("td", {}, reviewWords(r)),
        h("td", {}, age(r.createTime)),
        h("td", {}, r.publishTime ? age(r.publishTime) : ""),
        h("td", {}, r.state === "SUPERSEDED" && can(ctx.caller, "edit") ?
          h("button", { type: "button", onclick: rollback(r) }, `Propose rollback to #${r.revisionNumber}`) :
          null)))))),
    section("Audit log", h("table", {},
      h("thead", {}, h("tr", {}, ["When", "Who", "Action", "Detail"].map((c) => h("th", { scope: "col" }, c)))),
      h("tbody", {}, (audit.events ?? []).map((e) => h("tr", {},
        h("td", { title: e.time ?? "" }, age(e.time)), h("td", {}, e.principal ?? ""),
        h("td", {}, actionWords(e.action)), h("td", {}, e.detail ?? "")))))));
}
