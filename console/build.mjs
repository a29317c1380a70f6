// Builds the review console: type-checks every source with tsc (strict), bundles src/main.ts
// with esbuild into one minified app.js (no CDN, nothing fetched at run time), copies
// index.html, app.css and the example leads, and writes .gz copies for the gateway to serve.
// usage: node build.mjs OUT_DIR        the console, into OUT_DIR
//        node build.mjs --tests DIR    builds the unit tests (test/*.test.ts) into DIR and runs
//                                      them with Node's test runner
import { build } from "esbuild";
import { execFileSync } from "node:child_process";
import { copyFileSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";

const here = path.dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
const tests = args[0] === "--tests";
const out = path.resolve(tests ? args[1] : args[0] ?? "dist");
mkdirSync(out, { recursive: true });

const tsc = path.join(here, "node_modules/typescript/bin/tsc");
execFileSync(process.execPath, [tsc, "-p", tests ? path.join(here, "test") : here], { stdio: "inherit" });

if (tests) {
  const entryPoints = readdirSync(path.join(here, "test"))
    .filter((f) => f.endsWith(".test.ts")).map((f) => path.join(here, "test", f));
  // yaml's CommonJS build requires Node's modules: give the ESM bundles a `require`.
  await build({ entryPoints, outdir: out, bundle: true, platform: "node", format: "esm",
                outExtension: { ".js": ".mjs" }, logLevel: "warning",
                banner: { js: "import { createRequire } from 'node:module'; " +
                              "const require = createRequire(import.meta.url);" } });
  const files = readdirSync(out).filter((f) => f.endsWith(".test.mjs")).map((f) => path.join(out, f));
  try {
    execFileSync(process.execPath, ["--test", ...files], { stdio: "inherit" });
  } catch {
    process.exit(1);
  }
  process.exit(0);
}

await build({
  entryPoints: [path.join(here, "src/main.ts")],
  outfile: path.join(out, "app.js"),
  bundle: true, minify: true, format: "iife", target: "es2020", legalComments: "none",
  logLevel: "warning",
});
copyFileSync(path.join(here, "index.html"), path.join(out, "index.html"));
copyFileSync(path.join(here, "app.css"), path.join(out, "app.css"));
copyFileSync(path.join(here, "../examples/leads.jsonl"), path.join(out, "example-leads.jsonl"));
for (const name of ["app.js", "app.css", "index.html", "example-leads.jsonl"]) {
  writeFileSync(path.join(out, name + ".gz"), gzipSync(readFileSync(path.join(out, name)), { level: 9 }));
}
const js = readFileSync(path.join(out, "app.js"));
console.log(`console: ${out}/app.js ${js.length} bytes, ${gzipSync(js, { level: 9 }).length} gzipped`);
