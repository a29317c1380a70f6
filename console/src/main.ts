// The console's entry point: sign-in, the navigation bar and a hash router over the screens.
import { ApiError, api, setToken } from "./api";
import type { Ctx } from "./app";
import { errorBox, h, replace } from "./dom";
import { renderDefinition } from "./screens/definition";
import { renderEditor } from "./screens/editor";
import { renderInbox } from "./screens/inbox";
import { renderReview } from "./screens/review";
import { renderSignIn } from "./screens/signin";
import { renderTestLead } from "./screens/test_lead";
import type { Caller } from "./types";

const main = document.getElementById("main") as HTMLElement;
const nav = document.getElementById("nav") as HTMLElement;
const who = document.getElementById("who") as HTMLElement;
let caller: Caller | null = null;

function go(hash: string): void {
  if (location.hash === hash) void route(); else location.hash = hash;
}

function signOut(): void {
  setToken(null);
  caller = null;
  go("#/signin");
}

async function signIn(): Promise<boolean> {
  try {
    caller = await api.caller();
    return true;
  } catch (e) {
    caller = null;
    if (e instanceof ApiError && e.status === 401) return false;
    throw e;
  }
}

function renderChrome(): void {
  if (!caller) {
    replace(nav);
    replace(who);
    return;
  }
  const links: [string, string][] = [["#/inbox", "Inbox"], ["#/test", "Test a lead"]];
  const here = location.hash.split("/")[1] ?? "";
  replace(nav, links.map(([href, text]) => h("a", { href,
    "aria-current": here === href.split("/")[1] ? "page" : undefined }, text)));
  const roles = (caller.roles ?? []).join(", ");
  replace(who, h("span", {}, caller.principal ?? "", h("small", {}, ` (${roles})`)), " ",
    h("button", { type: "button", class: "link", onclick: signOut }, "Sign out"));
}

async function route(): Promise<void> {
  const parts = location.hash.replace(/^#\/?/, "").split("/").map(decodeURIComponent);
  const screen = parts[0] || "inbox";
  if (!caller) {
    // A stored key, or an OIDC proxy in front of the gateway that adds the credential itself.
    const ok = await signIn().catch(() => false);
    if (!ok) {
      renderChrome();
      renderSignIn(main, async (key) => {
        setToken(key);
        if (await signIn().catch(() => false)) {
          go(screen === "signin" ? "#/inbox" : location.hash || "#/inbox");
          return null;
        }
        setToken(null);
        return "The gateway did not accept this key (UNAUTHENTICATED).";
      });
      return;
    }
  }
  if (screen === "signin" || !caller) {
    go("#/inbox");
    return;
  }
  renderChrome();
  const ctx: Ctx = { caller, go, refresh: () => void route() };
  replace(main, h("p", { class: "loading" }, "Loading…"));
  try {
    switch (screen) {
      case "def": await renderDefinition(main, ctx, parts[1], parts[2]); break;
      case "review": await renderReview(main, ctx, parts[1], parts[2], parts[3]); break;
      case "edit": await renderEditor(main, ctx, parts[1], parts[2]); break;
      case "test": await renderTestLead(main, ctx, parts[1], parts[2], parts[3], parts[4]); break;
      default: await renderInbox(main, ctx);
    }
  } catch (e) {
    const message = e instanceof ApiError ? e.describe() : String(e);
    replace(main, errorBox(message));
    if (e instanceof ApiError && e.status === 401) signOut();
  }
  main.focus({ preventScroll: true });
  document.title = `Accord · ${main.querySelector("h1")?.textContent ?? "console"}`;
}

window.addEventListener("hashchange", () => void route());
void route();
