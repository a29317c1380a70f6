// The browser half of bench/console_bench.py: headless Chromium (Debian's, driven by npm's
// playwright-core) loads the console and runs an impact preview; prints one JSON line.
// Env: CONSOLE_URL, TOKEN, SAMPLE (a JSONL file), REVIEW (ns/definition/revision), REPS,
// CHROMIUM, NODE_PATH (playwright-core).
import { createRequire } from "node:module";
import path from "node:path";

const require = createRequire(path.join(process.env.NODE_PATH, "noop.js"));
const { chromium } = require("playwright-core");

const url = process.env.CONSOLE_URL;
const token = process.env.TOKEN;
const reps = Number(process.env.REPS || 3);
const browser = await chromium.launch({ executablePath: process.env.CHROMIUM,
  args: ["--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu"] });
const out = { chromium: browser.version(), js_bytes: [], all_bytes: [], load_ms: [], api_ms: [],
  preview_ms: [], parts: [] };

// The inbox's calls without a browser: the baseline of the load time.
async function apiCalls() {
  const headers = { Authorization: `Bearer ${token}` };
  const origin = new URL(url).origin;
  const started = performance.now();
  const list = await (await fetch(`${origin}/v1/caller`, { headers }), fetch(
    `${origin}/v1/namespaces/-/definitions?pageSize=1000`, { headers })).then((r) => r.json());
  const open = list.definitions.filter((d) => Number(d.latestRevision ?? 0) > 0 &&
    Number(d.latestRevision) !== Number(d.publishedRevision ?? 0));
  await Promise.all(open.map((d) => fetch(`${origin}/v1/${d.name}/revisions/latest`, { headers })
    .then((r) => r.json())));
  return performance.now() - started;
}

for (let rep = 0; rep < reps; ++rep) {
  // A fresh context each time: nothing cached.
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  await context.addInitScript((t) => sessionStorage.setItem("accord.token", t), token);
  const page = await context.newPage();
  let js = 0, all = 0;
  page.on("requestfinished", async (request) => {
    const sizes = await request.sizes();
    all += sizes.responseBodySize + sizes.responseHeadersSize;
    if (request.url().endsWith(".js")) js += sizes.responseBodySize;
  });
  const started = performance.now();
  await page.goto(url);
  await page.waitForFunction(() =>
    document.querySelectorAll("table.definitions tbody tr").length >= 200, null, { timeout: 30000 });
  out.load_ms.push(performance.now() - started);
  await page.waitForTimeout(200);
  out.js_bytes.push(js);
  out.all_bytes.push(all);
  out.api_ms.push(await apiCalls());

  // The impact preview of the whole sample.
  await page.goto(`${url}#/review/${process.env.REVIEW}`);
  await page.waitForSelector("#sample-file");
  const previewStarted = performance.now();
  await page.setInputFiles("#sample-file", process.env.SAMPLE);
  await page.waitForSelector("button:text('Run the preview'):not([disabled])");
  let parts = 0;
  page.on("request", (r) => { if (r.url().includes(":previewDefinition")) parts++; });
  await page.click("text=Run the preview");
  await page.waitForSelector("#preview-done", { timeout: 60000 });
  await page.waitForSelector("table.matrix");
  out.preview_ms.push(performance.now() - previewStarted);
  out.parts.push(parts);
  await context.close();
}
await browser.close();
console.log(JSON.stringify(out));
