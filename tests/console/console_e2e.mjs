// The review console's scenario in a real browser: Debian's chromium driven by npm's
// playwright-core (no browser download). Started by tests/integration/console_test.py with a
// real stack behind CONSOLE_URL. Saves a screenshot of every screen under SCREENSHOTS.
//
// The marketing editor edits a draft (and sees a field-path error first) and proposes it; the
// review page shows the semantic diff and the impact preview for the example leads; the
// proposer has no approve button and a forged approve request is refused with the server's
// reason; the marketing and the sales approver approve in two separate browser contexts; the
// editor publishes; "test a lead" shows the new score; the inbox empties. A definition whose
// display name is markup renders inert.
import assert from "node:assert/strict";
import { createRequire } from "node:module";
import path from "node:path";

const require = createRequire(path.join(process.env.NODE_PATH, "noop.js"));
const { chromium } = require("playwright-core");

const url = process.env.CONSOLE_URL;
const tokens = JSON.parse(process.env.TOKENS);
const shots = process.env.SCREENSHOTS;
const MODEL = "b2b-lead-score";

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM,
  args: ["--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu"],
});
const problems = [];

async function signedIn(role, viewport = { width: 1280, height: 800 }) {
  const context = await browser.newContext({ viewport });
  const page = await context.newPage();
  page.on("dialog", async (d) => { problems.push(`a dialog opened: ${d.message()}`); await d.dismiss(); });
  page.on("console", (m) => {
    if (m.type() === "error" && !/status of 40[0-9]/.test(m.text())) problems.push(`console: ${m.text()}`);
  });
  page.on("pageerror", (e) => problems.push(`page error: ${e.message}`));
  await page.goto(url);
  await page.waitForSelector("#key");
  assert.equal(await page.evaluate(() => document.activeElement?.id), "key",
    "the key field has the keyboard focus");
  await page.fill("#key", tokens[role]);
  await page.keyboard.press("Enter");
  await page.waitForSelector("h1:text('Inbox')");
  return { context, page };
}

// Waits for `selector`; on a timeout saves what the page showed (FAILED-<name>.png) first.
async function waitFor(page, selector, name, timeout = 15000) {
  try {
    return await page.waitForSelector(selector, { timeout });
  } catch (e) {
    await shot(page, `FAILED-${name}`);
    throw new Error(`${name}: ${selector} did not appear: ${await page.locator("main").innerText()}`);
  }
}
const shot = (page, name) => page.screenshot({ path: path.join(shots, `${name}.png`), fullPage: true });
const text = (page, selector) => page.locator(selector).innerText();

// ---- sign-in (and a wrong key refused with the server's reason)
{
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  const page = await context.newPage();
  await page.goto(url);
  await page.waitForSelector("#key");
  await page.fill("#key", "not-a-key");
  await page.click("button[type=submit]");
  await page.waitForSelector(".error");
  assert.match(await text(page, ".error"), /UNAUTHENTICATED/);
  await shot(page, "01-sign-in");
  // The security headers of the page itself.
  const response = await page.goto(url);
  const csp = response.headers()["content-security-policy"];
  assert.match(csp, /script-src 'self'/);
  assert.match(csp, /frame-ancestors 'none'/);
  assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval/);
  assert.equal(response.headers()["x-content-type-options"], "nosniff");
  await context.close();
}

// ---- the marketing editor: inbox, the XSS case, the draft editor
const editor = await signedIn("marketing_editor");
{
  const { page } = editor;
  await page.waitForSelector("table.definitions");
  const names = await text(page, "table.definitions");
  assert.ok(names.includes('<img src=x onerror="window.__xss=1;alert(1)">'),
    "the markup display name is shown as text");
  assert.equal(await page.evaluate(() => window.__xss), undefined, "no script of the data ran");
  assert.equal(await page.locator("table.definitions img").count(), 0, "no element from the data");
  await shot(page, "02-inbox-editor");
  assert.equal(await page.evaluate(() => sessionStorage.getItem("accord.token")), tokens.marketing_editor);
  assert.ok(!page.url().includes(tokens.marketing_editor), "no token in the URL");

  // The definition page in business language: the journey graph and the SLA sentences.
  await page.goto(`${url}#/def/default/b2b-journey`);
  await page.waitForSelector("svg.journey");
  await shot(page, "03-definition-journey");
  await page.goto(`${url}#/def/default/marketing-sales-sla`);
  await page.waitForSelector("ul.sentences");
  assert.match(await text(page, "ul.sentences"), /Marketing delivers at least 200 MQL leads per month/);
  await page.goto(`${url}#/def/default/${MODEL}`);
  await page.waitForSelector("h3:has-text('Levels')");
  await shot(page, "04-definition-model");

  // The editor: a field-path error first, then the real change.
  await page.goto(`${url}#/edit/default/${MODEL}`);
  await page.waitForSelector("#yaml");
  const yaml = await page.inputValue("#yaml");
  assert.match(yaml, /half_life: \d+d/, "durations are shown as days");
  const broken = yaml.replace(/- name: MQL\n/, '- name: ""\n');
  assert.notEqual(broken, yaml);
  await page.fill("#yaml", broken);
  await page.click("#check");
  await page.waitForSelector("#problems .error");
  const problemText = await text(page, "#problems");
  assert.match(problemText, /qualification_model\.levels\[1\]\.name/, problemText);
  assert.match(problemText, /line \d+/);
  await shot(page, "05-editor-field-error");
  const changed = yaml.replace(/min_fit: 40\n(\s+)min_engagement: 25/, "min_fit: 20\n$1min_engagement: 10");
  assert.notEqual(changed, yaml, "the MQL thresholds are in the YAML");
  await page.fill("#yaml", changed);
  await page.click("#check");
  await page.waitForSelector("#problems .ok");
  await page.fill("#summary", "Lower the MQL bar to reach the volume commitment");
  await page.click("#propose");
  await page.waitForSelector("h1:has-text('Review:')");
}

// ---- the review page as the proposer: diff, preview, no approve button, forged approve refused
const reviewUrl = editor.page.url();
const revision = reviewUrl.split("/").pop();
let movedLead = "";
{
  const { page } = editor;
  const diff = await text(page, "ul.diff");
  assert.match(diff, /MQL needs fit >= 20 \(was 40\)/);
  assert.match(diff, /MQL needs engagement >= 10 \(was 25\)/);
  assert.equal(await page.locator("ul.diff .tag.loosens").count(), 2, "both changes loosen");
  assert.equal(await page.locator("#approve").count(), 0, "the proposer has no approve button");
  await page.click("text=Use the example leads");
  await page.waitForSelector("button:text('Run the preview'):not([disabled])");
  await page.click("text=Run the preview");
  await page.waitForSelector("#preview-done", { timeout: 30000 });
  assert.match(await text(page, "table.volume"), /monthly-mqls/);
  assert.ok(await page.locator("table.matrix td.moved").count() > 0, "leads move in the matrix");
  movedLead = (await page.locator("#changed-leads tbody tr td").first().innerText()).trim();
  await shot(page, "06-review-proposer");
  // A forged approval from the proposer's own session: refused, with the server's reason.
  const forged = await page.evaluate(async (name) => {
    const r = await fetch(`/v1/${name}:approve`, { method: "POST",
      headers: { Authorization: `Bearer ${sessionStorage.getItem("accord.token")}`,
        "Content-Type": "application/json" }, body: "{}" });
    return { status: r.status, body: await r.json() };
  }, `namespaces/default/definitions/${MODEL}/revisions/${revision}`);
  assert.equal(forged.status, 403);
  assert.match(JSON.stringify(forged.body), /PERMISSION_DENIED|review/i);
  // Test a lead: published and proposed side by side (the changed lead's "test" link).
  await page.locator("#changed-leads tbody tr").first().locator("a").click();
  await waitFor(page, "#test-result .side-by-side", "test-lead-side-by-side");
  assert.equal(await page.locator("#test-result .score-card").count(), 2);
  await shot(page, "07-test-lead-side-by-side");
}

// ---- the feedback loop on the review page: what sales said (the verdicts console_test.py
// recorded) and the proposal shadow-scored on live traffic (sent here, as a CRM would)
{
  const { page } = editor;
  const scored = await page.evaluate(async (asOf) => {
    const text = await (await fetch("example-leads.jsonl")).text();
    const leads = text.split("\n").filter((l) => l.trim()).map((l) => JSON.parse(l)).slice(0, 200);
    const r = await fetch("/v1/scoring:batchScoreLeads", { method: "POST",
      headers: { Authorization: `Bearer ${sessionStorage.getItem("accord.token")}`,
        "Content-Type": "application/json" }, body: JSON.stringify({ leads, asOf, view: "BASIC" }) });
    return r.status;
  }, "2026-11-01T12:00:00Z");
  assert.equal(scored, 200);
  let moved = 0;
  await page.goto(reviewUrl);
  for (let i = 0; i < 40 && moved === 0; i++) {
    if (i > 0) await page.reload();
    await page.waitForSelector("#shadow p, #shadow table");
    moved = await page.locator("#shadow-matrix td.moved").count();
    if (moved === 0) await page.waitForTimeout(250);
  }
  assert.ok(moved > 0, `the shadow matrix shows leads the lower bar moves: ${await text(page, "#shadow")}`);
  assert.match(await text(page, "#shadow"), /Sales tools still get the published answers/);
  await page.waitForSelector("#quality-rules tbody tr");
  const quality = await text(page, "#quality");
  assert.match(quality, /leads handed over in the last 90 days have a verdict/);
  assert.match(quality, /Why sales did not accept/);
  await page.locator("#shadow").scrollIntoViewIfNeeded();
  await shot(page, "06b-review-feedback");
  await page.goto(`${url}#/inbox`);  // so that the next visit of the review page renders it anew
}

// ---- the approvers, each in a browser context of their own
for (const [role, team] of [["marketing_approver", "marketing"], ["sales_approver", "sales"]]) {
  const { context, page } = await signedIn(role);
  const waiting = await text(page, "main");
  assert.ok(waiting.includes("Lower the MQL bar"), `${team}'s inbox lists the proposal`);
  await shot(page, `08-inbox-${team}`);
  await page.goto(reviewUrl);
  await page.waitForSelector("#approve");
  assert.match(await text(page, "#approve"), new RegExp(team));
  await page.fill("#comment", `ok for ${team}`);
  await page.click("#approve");
  await page.waitForSelector("#decision-status .ok");
  await page.waitForTimeout(800);
  await shot(page, `09-review-approved-${team}`);
  await page.goto(`${url}#/inbox`);
  await page.waitForSelector("h1:text('Inbox')");
  assert.match(await text(page, "main"), /Nothing waits for your team's approval/);
  if (team === "sales") await shot(page, "11-inbox-empty");
  await context.close();
}

// ---- the editor publishes; test a lead shows the new score
{
  const { page } = editor;
  await page.goto(reviewUrl);
  await page.waitForSelector("#publish");
  await page.click("#publish");
  await page.waitForSelector("#decision-status .ok");
  await page.waitForTimeout(1500);  // the scoring service applies the new revision
  await shot(page, "10-review-published");
  await page.goto(`${url}#/test`);
  await page.waitForSelector("#lead-json");
  await page.click("text=Use the example leads");
  await page.waitForFunction(() => document.querySelectorAll("#pick-lead option").length > 1);
  await page.selectOption("#pick-lead", { label: movedLead });
  await page.click("#score");
  await page.waitForSelector("#test-result .score-card");
  const card = await text(page, "#test-result .score-card");
  assert.match(card, new RegExp(`${MODEL} #${revision}`), card);
  assert.match(card, /MQL|SQL/, card);
  await shot(page, "12-test-lead-published");
  // The timeline, and "propose rollback to #1": a new proposal that restores the old bar,
  // which the diff calls a tightening and which still needs both teams.
  await page.goto(`${url}#/def/default/${MODEL}`);
  await waitFor(page, "button:has-text('Propose rollback to #1')", "rollback-button");
  await page.click("button:has-text('Propose rollback to #1')");
  await waitFor(page, "h1:has-text('Review:')", "rollback-review");
  assert.match(await text(page, "#change-summary"), /Roll back to revision 1/);
  assert.match(await text(page, "ul.diff"), /MQL needs fit >= 40 \(was 20\)/);
  assert.equal(await page.locator("ul.diff .tag.tightens").count(), 2);
  assert.match(await text(page, ".teams"), /marketing: waiting/);
  await shot(page, "14-rollback-proposed");
}

// ---- a 768-px tablet: the review page fits
{
  const { context, page } = await signedIn("sales_approver", { width: 768, height: 1024 });
  await page.goto(reviewUrl);
  await page.waitForSelector("h1:has-text('Review:')");
  await page.waitForSelector(".teams");
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth);
  assert.ok(overflow <= 768, `no horizontal scrolling at 768 px (${overflow})`);
  await shot(page, "13-review-tablet");
  await context.close();
}

await browser.close();
assert.deepEqual(problems, [], problems.join("\n"));
console.log(`console e2e: passed; revision ${revision}, lead ${movedLead}; screenshots in ${shots}`);
