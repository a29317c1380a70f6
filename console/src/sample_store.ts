// The lead sample chosen in this tab (a file or the example leads), shared by the review
// page's impact preview and "test a lead". Kept in memory only.
import { parseLeads } from "./sample";
import type { Lead } from "./types";

let current: { leads: Lead[]; label: string } | null = null;

export function currentSample(): { leads: Lead[]; label: string } | null { return current; }

export function setSample(leads: Lead[], label: string): void { current = { leads, label }; }

// The example leads the console is built with (examples/leads.jsonl, as `make run` scores them).
export async function loadExampleLeads(): Promise<{ leads: Lead[]; errors: string[] }> {
  const response = await fetch("example-leads.jsonl", { cache: "no-store" });
  if (!response.ok) return { leads: [], errors: [`example leads: HTTP ${response.status}`] };
  const parsed = parseLeads(await response.text(), "example-leads.jsonl");
  setSample(parsed.leads, "the example leads");
  return parsed;
}

export async function loadFile(file: File): Promise<{ leads: Lead[]; errors: string[] }> {
  const parsed = parseLeads(await file.text(), file.name);
  setSample(parsed.leads, file.name);
  return parsed;
}

// The example leads are dated around this time; `make run` scores them as of it.
export const EXAMPLE_AS_OF = "2026-11-01T12:00:00Z";
