// Calls to the gateway's HTTP/JSON API (same origin). The credential lives in sessionStorage
// only (never in a URL, a cookie or a log); behind an OIDC proxy there is none: the proxy adds
// the Authorization header itself. Every refusal is an ApiError carrying the server's reason.
import type {
  Caller, Definition, DefinitionDiff, LeadScore, ListAuditEventsResponse,
  ListDefinitionsResponse, ListRevisionsResponse, PreviewRequest, PreviewResponse, QualityReport,
  Revision, ShadowReport,
} from "./types";

const TOKEN_KEY = "accord.token";

export function token(): string | null { return sessionStorage.getItem(TOKEN_KEY); }
export function setToken(value: string | null): void {
  if (value) sessionStorage.setItem(TOKEN_KEY, value); else sessionStorage.removeItem(TOKEN_KEY);
}

export interface FieldViolation { field: string; description: string }

export class ApiError extends Error {
  constructor(readonly status: number, readonly code: string, readonly reason: string,
              message: string, readonly violations: FieldViolation[]) {
    super(message);
  }
  // "PERMISSION_DENIED SELF_APPROVAL: the proposer may not review ..."
  describe(): string {
    return `${this.code}${this.reason ? " " + this.reason : ""}: ${this.message}`;
  }
}

const CODES = ["OK", "CANCELLED", "UNKNOWN", "INVALID_ARGUMENT", "DEADLINE_EXCEEDED", "NOT_FOUND",
  "ALREADY_EXISTS", "PERMISSION_DENIED", "RESOURCE_EXHAUSTED", "FAILED_PRECONDITION", "ABORTED",
  "OUT_OF_RANGE", "UNIMPLEMENTED", "INTERNAL", "UNAVAILABLE", "DATA_LOSS", "UNAUTHENTICATED"];

interface StatusDetail { "@type"?: string; reason?: string; fieldViolations?: FieldViolation[] }
interface StatusJson { code?: number; message?: string; details?: StatusDetail[] }

// The google.rpc.Status JSON the gateway returns for an error, as an ApiError.
export function errorFromStatus(httpStatus: number, body: unknown): ApiError {
  const s = (body ?? {}) as StatusJson;
  let reason = "";
  const violations: FieldViolation[] = [];
  for (const d of s.details ?? []) {
    if (d["@type"]?.endsWith("google.rpc.ErrorInfo")) reason = d.reason ?? "";
    if (d["@type"]?.endsWith("google.rpc.BadRequest")) violations.push(...(d.fieldViolations ?? []));
  }
  const code = CODES[s.code ?? 2] ?? `HTTP ${httpStatus}`;
  return new ApiError(httpStatus, code, reason, s.message ?? `HTTP ${httpStatus}`, violations);
}

async function call<T>(method: string, path: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = { Accept: "application/json" };
  const t = token();
  if (t) headers.Authorization = `Bearer ${t}`;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const response = await fetch(path, {
    method, headers, body: body === undefined ? undefined : JSON.stringify(body),
    credentials: "same-origin", cache: "no-store",
  });
  const text = await response.text();
  let parsed: unknown = undefined;
  try { parsed = text ? JSON.parse(text) : {}; } catch { parsed = { message: text }; }
  if (!response.ok) throw errorFromStatus(response.status, parsed);
  return parsed as T;
}

const enc = encodeURIComponent;
// "namespaces/default/definitions/b2b" -> "/v1/namespaces/default/definitions/b2b"
const v1 = (name: string) => "/v1/" + name.split("/").map(enc).join("/");

export const api = {
  caller: () => call<Caller>("GET", "/v1/caller"),
  listDefinitions: (parent: string, filter = "", pageToken = "") =>
    call<ListDefinitionsResponse>("GET", `${v1(parent)}/definitions?pageSize=1000` +
      (filter ? `&filter=${enc(filter)}` : "") + (pageToken ? `&pageToken=${enc(pageToken)}` : "")),
  getDefinition: (name: string) => call<Definition>("GET", v1(name)),
  updateDefinition: (definition: Definition, validateOnly: boolean) =>
    call<Definition>("PATCH", v1(definition.name ?? "") + (validateOnly ? "?validateOnly=true" : ""),
      definition),
  getRevision: (name: string) => call<Revision>("GET", v1(name)),
  listRevisions: (definition: string) =>
    call<ListRevisionsResponse>("GET", `${v1(definition)}/revisions?pageSize=100`),
  listAudit: (parent: string, resource: string) =>
    call<ListAuditEventsResponse>("GET",
      `${v1(parent)}/auditEvents?pageSize=100&resource=${enc(resource)}`),
  diff: (definition: string, from: string, to: string) =>
    call<DefinitionDiff>("GET", `${v1(definition)}:diff?from=${enc(from)}&to=${enc(to)}`),
  propose: (definition: string, etag: string, changeSummary: string) =>
    call<Revision>("POST", `${v1(definition)}:propose`, { etag, changeSummary }),
  approve: (revision: string, comment: string) =>
    call<Revision>("POST", `${v1(revision)}:approve`, { comment }),
  reject: (revision: string, comment: string) =>
    call<Revision>("POST", `${v1(revision)}:reject`, { comment }),
  publish: (revision: string, etag: string) =>
    call<Revision>("POST", `${v1(revision)}:publish`, { etag }),
  scoreLead: (namespace: string, lead: unknown, asOf: string) =>
    call<LeadScore>("POST", "/v1/scoring:scoreLead",
      { selector: { namespace }, lead, asOf: asOf || undefined, view: "FULL" }),
  preview: (request: PreviewRequest) =>
    call<PreviewResponse>("POST", "/v1/scoring:previewDefinition", request),
  // Sales' verdicts of the last 90 days, counted by what was scored at hand-off.
  qualityReport: (ns: string) => call<QualityReport>("GET", `/v1/namespaces/${enc(ns)}/qualityReport`),
  // How the proposed models of `ns` score this scoring replica's sampled live traffic.
  shadowReport: (ns: string) => call<ShadowReport>("GET", `/v1/scoring/shadow/${enc(ns)}`),
};

// Every definition of a namespace ("namespaces/-": all), following pages.
export async function allDefinitions(parent = "namespaces/-"): Promise<Definition[]> {
  const all: Definition[] = [];
  let page = "";
  do {
    const r = await api.listDefinitions(parent, "", page);
    all.push(...(r.definitions ?? []));
    page = r.nextPageToken ?? "";
  } while (page);
  return all;
}
