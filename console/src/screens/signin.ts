// Sign-in: paste an API key (development), or nothing at all behind an OIDC proxy, which
// passes the user's JWT to the gateway itself (docs/console.md).
import { errorBox, h, replace } from "../dom";

export function renderSignIn(main: HTMLElement,
    submit: (key: string) => Promise<string | null>): void {
  const input = h("input", { id: "key", type: "password", autocomplete: "off", required: true,
    spellcheck: "false", size: 40 });
  const status = h("div", { "aria-live": "polite" });
  const form = h("form", { class: "card signin", onsubmit: async (e: Event) => {
    e.preventDefault();
    replace(status, h("p", {}, "Signing in…"));
    const problem = await submit(input.value.trim());
    replace(status, problem ? errorBox(problem) : "");
  } },
  h("h1", {}, "Sign in to the review console"),
  h("p", {}, "Marketing and sales read, test, approve and publish their shared definitions here."),
  h("label", { for: "key" }, "API key"), input,
  h("button", { type: "submit" }, "Sign in"),
  h("p", { class: "hint" }, "Development: paste the key of your role (make run prints one per role). ",
    "In production the console runs behind your company's single sign-on, and you are signed in ",
    "without a key. The key is kept in this tab only (sessionStorage) and sent only to this server."),
  status);
  replace(main, form);
  input.focus();
}
