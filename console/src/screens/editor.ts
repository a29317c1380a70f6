// The draft editor: the definition's draft as YAML (the shape `accordctl apply` reads), checked
// by the server (validate_only) with each problem shown at its field path and line, saved as
// the draft, and proposed for review.
import { ApiError, api } from "../api";
import type { Ctx } from "../app";
import { revisionHash } from "../app";
import { errorBox, h, link, replace } from "../dom";
import type { Definition } from "../types";
import { definitionToYaml, lineOf, yamlToDefinition } from "../yaml_edit";

// Selects line `line` (1-based) of the textarea and scrolls to it.
function goToLine(area: HTMLTextAreaElement, line: number): void {
  const lines = area.value.split("\n");
  const start = lines.slice(0, line - 1).reduce((n, l) => n + l.length + 1, 0);
  area.focus();
  area.setSelectionRange(start, start + (lines[line - 1]?.length ?? 0));
  area.scrollTop = Math.max(0, (line - 5) * 18);
}

export async function renderEditor(main: HTMLElement, ctx: Ctx, ns: string,
    id: string): Promise<void> {
  const name = `namespaces/${ns}/definitions/${id}`;
  let current: Definition = await api.getDefinition(name);
  let saved = definitionToYaml(current);
  const area = h("textarea", { id: "yaml", rows: 28, cols: 100, spellcheck: "false",
    class: "code", "aria-describedby": "problems" });
  area.value = saved;
  const problems = h("div", { id: "problems", "aria-live": "polite" });
  const summary = h("input", { id: "summary", type: "text", size: 60,
    placeholder: "what changes and why" });

  const showProblems = (list: { line: number; field?: string; message: string }[]) => {
    replace(problems, h("div", { class: "error", role: "alert" },
      h("p", {}, `${list.length} problem(s):`),
      h("ul", { class: "problems" }, list.map((p) => h("li", {},
        h("button", { type: "button", class: "link", onclick: () => goToLine(area, p.line) },
          `line ${p.line}`), p.field ? [" ", h("code", {}, p.field)] : null, `: ${p.message}`)))));
  };
  const parse = (): Definition | null => {
    const { definition, problems: yamlProblems } = yamlToDefinition(area.value, name, current.etag ?? "");
    if (!definition) { showProblems(yamlProblems); return null; }
    return definition;
  };
  const send = async (validateOnly: boolean): Promise<boolean> => {
    const definition = parse();
    if (!definition) return false;
    try {
      const result = await api.updateDefinition(definition, validateOnly);
      if (!validateOnly) {
        current = result;
        saved = area.value;
      }
      replace(problems, h("p", { class: "ok" }, validateOnly ? "The server found no problem." :
        "Draft saved."));
      return true;
    } catch (e) {
      if (e instanceof ApiError && e.violations.length > 0) {
        showProblems(e.violations.map((v) => ({ line: lineOf(area.value, v.field), field: v.field,
          message: v.description })));
      } else {
        replace(problems, errorBox(e instanceof ApiError ? e.describe() : String(e)));
      }
      return false;
    }
  };
  const propose = async () => {
    if (area.value !== saved && !(await send(false))) return;
    try {
      const r = await api.propose(name, current.etag ?? "", summary.value.trim());
      ctx.go(revisionHash(r.name ?? ""));
    } catch (e) {
      replace(problems, errorBox(e instanceof ApiError ? e.describe() : String(e)));
    }
  };
  replace(main,
    h("h1", {}, `Edit the draft of ${current.displayName || id}`),
    h("p", { class: "sub" }, `${name} · the draft is what the next proposal freezes; nobody else sees ` +
      `it change until both teams approve and it is published.`),
    h("div", { class: "actions" }, link(`#/def/${ns}/${id}`, "Back to the definition")),
    h("label", { for: "yaml" }, "Draft (YAML; durations such as 30d, 4h, 90m)"), area,
    problems,
    h("div", { class: "row" },
      h("button", { type: "button", id: "check", onclick: () => void send(true) }, "Check"),
      h("button", { type: "button", id: "save", onclick: () => void send(false) }, "Save draft")),
    h("div", { class: "row" }, h("label", { for: "summary" }, "Change summary"), summary,
      h("button", { type: "button", id: "propose", onclick: () => void propose() }, "Propose for review")));
}
