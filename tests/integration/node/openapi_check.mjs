// The gateway's /openapi.json through tools written by others: @apidevtools/swagger-parser
// validates it against the OpenAPI 3.0 schema (and resolves every $ref), and openapi-typescript
// generates the TypeScript types a client (the review console) would use.
// usage: node openapi_check.mjs openapi.json out.d.ts
// (console/src/generated/api.d.ts is this script's output for the current API: regenerate it
// with the gateway's /openapi.json when a proto changes; gateway_test checks they agree.)
import { createRequire } from "node:module";
import { readFileSync, writeFileSync } from "node:fs";
import path from "node:path";

const require = createRequire(path.join(process.env.NODE_PATH || ".", "noop.js"));
const SwaggerParser = require("@apidevtools/swagger-parser");
const [, , documentPath, outPath] = process.argv;
const document = JSON.parse(readFileSync(documentPath, "utf8"));

const api = await SwaggerParser.validate(structuredClone(document));
const paths = Object.keys(api.paths).length;

// Keys sorted at every level: the generated text is then the same for the same API whatever
// order the gateway printed its maps in (console/src/generated/api.d.ts is compared with it).
const sortKeys = (v) => Array.isArray(v) ? v.map(sortKeys)
  : v && typeof v === "object"
    ? Object.fromEntries(Object.keys(v).sort().map((k) => [k, sortKeys(v[k])])) : v;
const openapiTS = await import(
  path.join(process.env.NODE_PATH, "openapi-typescript", "dist", "index.js"));
const ast = await openapiTS.default(sortKeys(document));
const text = openapiTS.astToString(ast);
writeFileSync(outPath, text);
console.log(JSON.stringify({ valid: true, paths, typescriptBytes: text.length }));
