// The inbox: revisions that wait for my team's approval (with author, summary, age, what they
// touch and what references it), revisions ready to publish, my proposals and their state,
// and every definition.
import { allDefinitions, api } from "../api";
import type { Ctx } from "../app";
import { age, can, revisionHash, waitsFor } from "../app";
import { h, link, replace, section } from "../dom";
import type { Definition, Revision } from "../types";
import { KIND_WORDS, kindInSentence, namespaceOf, referencedBy, shortName } from "../words";

const n = (v: string | number | undefined) => Number(v ?? 0);

export async function renderInbox(main: HTMLElement, ctx: Ctx): Promise<void> {
  const defs = await allDefinitions();
  const open = defs.filter((d) => d.state !== "DELETED" &&
    n(d.latestRevision) > 0 && n(d.latestRevision) !== n(d.publishedRevision));
  const revisions = await Promise.all(open.map((d) =>
    api.getRevision(`${d.name}/revisions/latest`).then((r) => ({ d, r }), () => null)));
  const pending = revisions.filter((x): x is { d: Definition; r: Revision } => x !== null);
  const me = ctx.caller.principal ?? "";
  const mine = pending.filter(({ r }) => waitsFor(ctx.caller, r).length > 0);
  const approved = pending.filter(({ r }) => r.state === "APPROVED");
  const proposed = pending.filter(({ r }) => r.proposer === me);

  const revisionRow = ({ d, r }: { d: Definition; r: Revision }, extra: string) => h("tr", {},
    h("td", {}, link(revisionHash(r.name ?? ""), d.displayName || shortName(d.name)),
      h("div", { class: "sub" }, `${KIND_WORDS[d.kind ?? ""] ?? d.kind} · ${d.name}`)),
    h("td", {}, `#${r.revisionNumber}`),
    h("td", {}, r.changeSummary || "(no summary)"),
    h("td", {}, r.proposer ?? ""),
    h("td", {}, age(r.createTime)),
    h("td", {}, extra),
    h("td", {}, referencedBy(d.name ?? "", defs).map((x) =>
      `${kindInSentence(x.kind)} ${shortName(x.name)}`).join(", ") || "—"));
  const revisionTable = (rows: { d: Definition; r: Revision }[], extra: (r: Revision) => string,
      extraTitle: string, empty: string) => rows.length === 0 ? h("p", { class: "empty" }, empty) :
    h("table", {}, h("thead", {}, h("tr", {}, ["Definition", "Revision", "Summary", "Proposed by",
      "Age", extraTitle, "Referenced by"].map((c) => h("th", { scope: "col" }, c)))),
    h("tbody", {}, rows.map((x) => revisionRow(x, extra(x.r)))));

  const teams = (ctx.caller.approverTeams ?? []).join(" and ");
  replace(main,
    h("h1", {}, "Inbox"),
    can(ctx.caller, "review") ? section(`Waiting for your approval (${teams})`,
      revisionTable(mine, (r) => `needs ${waitsFor(ctx.caller, r).join(", ")}`, "Needs",
        "Nothing waits for your team's approval.")) : null,
    section("Approved, ready to publish", revisionTable(approved,
      (r) => (r.reviews ?? []).filter((v) => v.verdict === "APPROVE").map((v) => v.team).join(" + "),
      "Approved by", "No approved revision waits to be published.")),
    section("Your proposals", revisionTable(proposed, (r) => (r.state ?? "").toLowerCase(), "State",
      "You have no open proposal.")),
    section("Definitions", h("table", { class: "definitions" },
      h("thead", {}, h("tr", {}, ["Definition", "Kind", "Namespace", "Published", "Pending",
        "Draft"].map((c) => h("th", { scope: "col" }, c)))),
      h("tbody", {}, defs.filter((d) => d.state !== "DELETED").map((d) => h("tr", {},
        h("td", {}, link(`#/def/${namespaceOf(d.name)}/${shortName(d.name)}`,
          d.displayName || shortName(d.name))),
        h("td", {}, KIND_WORDS[d.kind ?? ""] ?? d.kind ?? ""),
        h("td", {}, namespaceOf(d.name)),
        h("td", {}, n(d.publishedRevision) ? `#${d.publishedRevision}` : "never"),
        h("td", {}, n(d.pendingRevision) ? `#${d.pendingRevision}` : ""),
        h("td", {}, d.draftChanged ? "changed" : "")))))));
}
