// What every screen shares: who the caller is and what it may do. The server stays the
// authority; this only decides which buttons to show.
import type { Caller, Revision } from "./types";

export interface Ctx {
  caller: Caller;
  go(hash: string): void;
  refresh(): void;
}

export function can(caller: Caller, permission: string): boolean {
  return (caller.permissions ?? []).includes(permission);
}

// The teams whose approval `revision` still needs.
export function missingTeams(revision: Revision): string[] {
  const approved = new Set((revision.reviews ?? []).filter((r) => r.verdict === "APPROVE")
    .map((r) => r.team ?? ""));
  return (revision.requiredTeams ?? []).filter((t) => !approved.has(t));
}

// Whether `caller` may review `revision` now: it is PROPOSED, the caller approves for a team it
// still needs, and the caller neither proposed nor wrote it nor reviewed it already.
export function waitsFor(caller: Caller, revision: Revision): string[] {
  if (revision.state !== "PROPOSED") return [];
  const me = caller.principal ?? "";
  if (revision.proposer === me || (revision.authors ?? []).includes(me)) return [];
  if ((revision.reviews ?? []).some((r) => r.principal === me)) return [];
  const mine = new Set(caller.approverTeams ?? []);
  return missingTeams(revision).filter((t) => mine.has(t));
}

// "3 h ago", "2 d ago" from an RFC 3339 time.
export function age(time: string | undefined, now = Date.now()): string {
  const t = Date.parse(time ?? "");
  if (Number.isNaN(t)) return "";
  const s = Math.max(0, (now - t) / 1000);
  if (s < 90) return "just now";
  if (s < 5400) return `${Math.round(s / 60)} min ago`;
  if (s < 129600) return `${Math.round(s / 3600)} h ago`;
  return `${Math.round(s / 86400)} d ago`;
}

export function revisionHash(revisionName: string): string {
  // namespaces/{ns}/definitions/{id}/revisions/{n} -> #/review/{ns}/{id}/{n}
  const p = revisionName.split("/");
  return `#/review/${p[1]}/${p[3]}/${p[5]}`;
}
