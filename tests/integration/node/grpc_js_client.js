// An independent client: npm's @grpc/grpc-js with @grpc/proto-loader, loading Accord's .proto
// files at run time and talking to the gateway. Exits non-zero on the first failed check.
// Usage: node grpc_js_client.js GATEWAY_ADDRESS  (tokens in ACCORD_TEST_TOKENS as JSON)
'use strict';
const path = require('path');
const grpc = require('@grpc/grpc-js');
const protoLoader = require('@grpc/proto-loader');

const address = process.argv[2];
const tokens = JSON.parse(process.env.ACCORD_TEST_TOKENS);
const includeDirs = [process.env.ACCORD_PROTO_DIR, process.env.ACCORD_GOOGLEAPIS_DIR,
                     '/usr/include'];
const definition = protoLoader.loadSync(
    ['accord/registry/v1/registry.proto', 'accord/scoring/v1/scoring.proto'],
    {keepCase: false, longs: String, enums: String, defaults: false, oneofs: true, includeDirs});
const root = grpc.loadPackageDefinition(definition);
const Registry = root.accord.registry.v1.Registry;
const Scoring = root.accord.scoring.v1.Scoring;

function check(condition, message) {
  if (!condition) {
    console.error('FAILED: ' + message);
    process.exit(1);
  }
  console.log('ok: ' + message);
}

function metadata(token) {
  const md = new grpc.Metadata();
  if (token) md.set('authorization', 'Bearer ' + token);
  return md;
}

function unary(client, method, request, token) {
  return new Promise((resolve) => {
    client[method](request, metadata(token), {deadline: Date.now() + 5000},
                   (err, response) => resolve({err, response}));
  });
}

async function main() {
  const creds = grpc.credentials.createInsecure();
  const registry = new Registry(address, creds);
  const scoring = new Scoring(address, creds);

  let r = await unary(registry, 'getDefinition',
                      {name: 'namespaces/default/definitions/it-director'}, tokens.viewer);
  check(!r.err && r.response.kind === 'BUYER_PERSONA', 'GetDefinition through the gateway');
  check(r.response.publishedRevision === '1', 'published revision is 1');

  r = await unary(registry, 'listDefinitions', {parent: 'namespaces/default'}, tokens.viewer);
  check(!r.err && r.response.definitions.length >= 6, 'ListDefinitions returns the examples');

  r = await unary(registry, 'getDefinition', {name: 'namespaces/default/definitions/x'}, null);
  check(r.err && r.err.code === grpc.status.UNAUTHENTICATED, 'no credentials: UNAUTHENTICATED');

  r = await unary(registry, 'createDefinition',
                  {parent: 'namespaces/default', definitionId: 'js-persona', definition: {}},
                  tokens.viewer);
  check(r.err && r.err.code === grpc.status.PERMISSION_DENIED,
        'viewer creating: PERMISSION_DENIED');

  const lead = {
    id: 'js-1',
    attributes: {fields: {
      contact: {structValue: {fields: {title: {stringValue: 'IT Director'}}}},
      company: {structValue: {fields: {employees: {numberValue: 900},
                                       industry: {stringValue: 'software'}}}},
    }},
    events: [{type: 'webinar_attended', time: {seconds: String(Math.floor(Date.now() / 1000) - 3600)}}],
  };
  r = await unary(scoring, 'scoreLead', {lead, view: 'FULL'}, tokens.service);
  check(!r.err, 'ScoreLead through the gateway' + (r.err ? ': ' + r.err.message : ''));
  check(r.response.leadId === 'js-1' && r.response.reasons.length > 0,
        'ScoreLead returns reasons');
  check(r.response.definitions.some((d) => d.name.endsWith('b2b-lead-score')),
        'ScoreLead names the model revision used');

  // Bidirectional bulk stream: 5 messages of 10 leads, one response per message.
  const scores = await new Promise((resolve, reject) => {
    const call = scoring.streamScoreLeads(metadata(tokens.service));
    const got = [];
    call.on('data', (m) => got.push(...m.scores));
    call.on('error', reject);
    call.on('end', () => resolve(got));
    for (let i = 0; i < 5; i++) {
      const leads = [];
      for (let j = 0; j < 10; j++) leads.push(Object.assign({}, lead, {id: `js-${i}-${j}`}));
      call.write({leads});
    }
    call.end();
  });
  check(scores.length === 50, 'StreamScoreLeads scored 50 leads through the gateway');

  // Server stream: the watch snapshot arrives, then the stream is cancelled by the client.
  const first = await new Promise((resolve, reject) => {
    const call = registry.watchDefinitions({parent: 'namespaces/default'}, metadata(tokens.viewer));
    call.on('data', (m) => {
      resolve(m);
      call.cancel();
    });
    call.on('error', (e) => {
      if (e.code !== grpc.status.CANCELLED) reject(e);
    });
  });
  check(first.snapshotBegin !== undefined || first.changes !== undefined,
        'WatchDefinitions streams through the gateway');
  registry.close();
  scoring.close();
}

main().catch((e) => {
  console.error('FAILED: ' + (e.stack || e));
  process.exit(1);
});
