#!/usr/bin/env node
// kinkod as a process: `kinkod run` on a temporary SQLite store and the offline chain backend,
// listening on port 0 (--port-file), driven over HTTP with requests signed by Node.js's own
// Ed25519 and an independent implementation of the request digest (coordinator/api_auth.h).
// The intent submitted is made by the `kinko` CLI (key new, policy compile/sign, intent new).
// Also: 401, 403, 400, 404, 405, 413, 415, /healthz, /metrics, the JSON log lines, SIGTERM
// (exit 0), `kinkod migrate`, `kinkod version` and the exit statuses of bad invocations.
// Uses Node.js built-ins only.
// Usage: node kinkod_test.js PATH_TO_KINKOD PATH_TO_KINKO
'use strict';

const { spawn, spawnSync } = require('child_process');
const crypto = require('crypto');
const fs = require('fs');
const http = require('http');
const os = require('os');
const path = require('path');

const kinkod = process.argv[2] && path.resolve(process.argv[2]);
const kinko = process.argv[3] && path.resolve(process.argv[3]);
if (!kinkod || !kinko) {
  console.error('usage: node kinkod_test.js PATH_TO_KINKOD PATH_TO_KINKO');
  process.exit(2);
}

let passed = 0;
const failures = [];
function check(condition, message) {
  if (condition) passed++;
  else failures.push(message);
  return condition;
}

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kinkod-test-'));
const file = (name) => path.join(dir, name);
const PASS = 'pass\n';

// Runs kinko with `passphrase` on fd 3 when given.
function kinkoRun(args, passphrase) {
  const stdio = ['ignore', 'pipe', 'pipe'];
  let fd;
  if (passphrase !== undefined) {
    const passFile = file(`.pass-${Math.random()}`);
    fs.writeFileSync(passFile, passphrase, { mode: 0o600 });
    fd = fs.openSync(passFile, 'r');
    fs.unlinkSync(passFile);
    stdio.push(fd);
    args = [...args, '--passphrase-fd', '3'];
  }
  const r = spawnSync(kinko, args, { cwd: dir, encoding: 'utf8', stdio, detached: true });
  if (fd !== undefined) fs.closeSync(fd);
  if (r.status !== 0) throw new Error(`kinko ${args.join(' ')}: exit ${r.status}: ${r.stderr}`);
  return r.stdout;
}

// --- The request signature, written from doc/coordinator-api.md without kinko's code ---
const sha256 = (data) => crypto.createHash('sha256').update(data).digest();
function requestDigest(method, target, time, body) {
  const tag = sha256(Buffer.from('kinko/api-request/v1'));
  const zero = Buffer.from([0]);
  return sha256(Buffer.concat([tag, tag, Buffer.from(method), zero, Buffer.from(target), zero,
    Buffer.from(String(time)), zero, sha256(Buffer.from(body))]));
}
function newKey() {
  const { privateKey, publicKey } = crypto.generateKeyPairSync('ed25519');
  const raw = publicKey.export({ format: 'der', type: 'spki' }).subarray(12);
  return { privateKey, publicHex: raw.toString('hex') };
}
function authorization(key, method, target, body, time = Math.floor(Date.now() / 1000)) {
  const sig = crypto.sign(null, requestDigest(method, target, time, body), key.privateKey);
  return `Kinko-Ed25519 key=${key.publicHex},time=${time},sig=${sig.toString('hex')}`;
}

// The pinned vector of coordinator/api_auth_test.cc, so both implementations agree.
{
  const digest = requestDigest('POST', '/v1/intents?state=approved', 1767225600, '{"signed_intent":"00"}');
  check(digest.toString('hex') === '5862cd03b469da4ff5910178a0c155931b646607253f3f9b61683c7d5dd5f426',
    'request digest matches the pinned vector');
}

let port = 0;
// One HTTP request; resolves {status, headers, body, json}.
function request(method, target, { body = '', key = null, contentType = 'application/json', headers = {} } = {}) {
  return new Promise((resolve, reject) => {
    const h = { ...headers };
    if (method === 'POST') h['Content-Type'] = contentType;
    if (body.length > 0 || method === 'POST') h['Content-Length'] = Buffer.byteLength(body);
    if (key) h.Authorization = authorization(key, method, target, body);
    const req = http.request({ host: '127.0.0.1', port, method, path: target, headers: h }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let json = null;
        try { json = JSON.parse(text); } catch (e) { /* not JSON */ }
        resolve({ status: res.statusCode, headers: res.headers, body: text, json });
      });
    });
    req.on('error', reject);
    req.end(body);
  });
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
async function waitFor(predicate, what, ms = 30000) {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (predicate()) return true;
    await sleep(50);
  }
  throw new Error(`timed out waiting for ${what}`);
}

async function main() {
  // Identities: admins, the requester bot and an approver by the kinko CLI (their ids go in the
  // policy); the API's client, operator and an outsider as Node.js keys (they sign requests).
  const ids = {};
  for (const label of ['admin-1', 'admin-2', 'ops-bot', 'bob']) {
    ids[label] = JSON.parse(kinkoRun(['key', 'new', '--ed25519', '--label', label], PASS)).key_id;
  }
  const client = newKey();
  const operator = newKey();
  const outsider = newKey();

  fs.writeFileSync(file('policy.toml'), `network = "regtest"
sequence = 1
activation_delay = "1h"

[governance]
admins = ["admin-1", "admin-2"]
threshold = 1

[keys]
admin-1 = "${ids['admin-1']}"
admin-2 = "${ids['admin-2']}"
ops-bot = "${ids['ops-bot']}"
bob = "${ids.bob}"

[groups]
treasury = ["bob"]

[[rule]]
name = "small withdrawals"
wallets = ["treasury-hot"]
requesters = ["ops-bot"]
amount_max = "0.1 BTC"
approvals = []

[[rule]]
name = "everything else"
action = "deny"
`);
  kinkoRun(['policy', 'compile', 'policy.toml']);
  kinkoRun(['policy', 'sign', 'policy.policy', '--key', 'admin-1.key'], PASS);

  // A 2-of-3 wallet of three fresh regtest keys.
  const xpubs = [0, 1, 2].map(() => JSON.parse(kinkoRun(['key', 'new', '--network', 'regtest'])).xpub);
  const descriptor = `wsh(multi(2,${xpubs.map((x) => `${x}/<0;1>/*`).join(',')}))`;
  const destination = JSON.parse(kinkoRun(['address', 'encode', '0014' + '11'.repeat(20), '--network', 'regtest'])).address;

  const config = `listen = "127.0.0.1:0"
instance = "kinkod-test"
clients = ["${client.publicHex}"]
operators = ["${operator.publicHex}"]

[storage]
backend = "sqlite"
path = "kinkod.db"

[chain]
backend = "offline"
export_dir = "out"

[[wallet]]
id = "treasury-hot"
network = "regtest"
descriptor = "${descriptor}"
policy_file = "policy.policy"
threshold = 2

[[wallet.signer]]
url = "http://127.0.0.1:9"
id = "${'11'.repeat(32)}"
[[wallet.signer]]
url = "http://127.0.0.1:9"
id = "${'22'.repeat(32)}"
[[wallet.signer]]
url = "http://127.0.0.1:9"
id = "${'33'.repeat(32)}"
`;
  fs.writeFileSync(file('kinkod.toml'), config);

  // Invocations that never serve.
  const version = spawnSync(kinkod, ['version'], { encoding: 'utf8' });
  check(version.status === 0 && /^kinkod \d+\.\d+\.\d+\n$/.test(version.stdout), `version: ${version.status} ${version.stdout}`);
  check(spawnSync(kinkod, [], { encoding: 'utf8' }).status === 2, 'no subcommand: exit 2');
  check(spawnSync(kinkod, ['run'], { encoding: 'utf8' }).status === 2, 'run without --config: exit 2');
  fs.writeFileSync(file('bad.toml'), 'listen = 1\n');
  const bad = spawnSync(kinkod, ['run', '--config', file('bad.toml')], { encoding: 'utf8' });
  check(bad.status === 3 && /config:1: listen: must be a string/.test(bad.stderr), `bad config: exit ${bad.status}: ${bad.stderr}`);
  check(spawnSync(kinkod, ['run', '--config', file('missing.toml')], { encoding: 'utf8' }).status === 3, 'missing config: exit 3');
  const migrate = spawnSync(kinkod, ['migrate', '--config', file('kinkod.toml')], { encoding: 'utf8' });
  check(migrate.status === 0 && /"event":"migrated"/.test(migrate.stderr), `migrate: exit ${migrate.status}: ${migrate.stderr}`);
  check(fs.existsSync(file('kinkod.db')), 'migrate created the sqlite store');

  // Serve.
  const portFile = file('port');
  const daemon = spawn(kinkod, ['run', '--config', file('kinkod.toml'), '--port-file', portFile], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  daemon.stderr.on('data', (c) => { stderr += c.toString('utf8'); });
  let exit = null;
  let intentHex = '';
  daemon.on('exit', (code, signal) => { exit = { code, signal }; });
  try {
    await waitFor(() => fs.existsSync(portFile) || exit !== null, 'the port file');
    if (exit !== null) throw new Error(`kinkod exited: ${JSON.stringify(exit)}: ${stderr}`);
    port = Number(fs.readFileSync(portFile, 'utf8').trim());
    check(port > 0, 'port file holds the port');

    let r = await request('GET', '/healthz');
    check(r.status === 200 && r.json && r.json.status === 'ok' && r.json.storage === 'ok' && r.json.chain === 'ok', `healthz: ${r.status} ${r.body}`);
    check(/^[0-9a-f]{16}$/.test(r.headers['x-request-id'] || ''), 'X-Request-Id header');

    // An intent made and signed by the kinko CLI.
    kinkoRun(['intent', 'new', '--wallet', 'treasury-hot', '--network', 'regtest', '--to', destination,
      '--amount', '50000sat', '--fee-max', '10000sat', '--expires', '1h', '--key', 'ops-bot.key',
      '--ref', 'w-1', '--out', 'i1.intent'], PASS);
    intentHex = fs.readFileSync(file('i1.intent')).toString('hex');
    const intentId = JSON.parse(kinkoRun(['intent', 'show', 'i1.intent', '--json'])).id;
    const submit = JSON.stringify({ signed_intent: intentHex });
    r = await request('POST', '/v1/intents', { body: submit, key: client });
    check(r.status === 201, `submit: ${r.status} ${r.body}`);
    check(r.json && r.json.id === intentId && r.json.wallet === 'treasury-hot' && r.json.requester === ids['ops-bot'], 'submitted intent: id, wallet, requester');
    check(r.json && r.json.total_sats === 50000 && r.json.outputs[0].address === destination && r.json.external_ref === 'w-1', 'submitted intent: outputs');
    check(r.json && r.json.state === 'approved', `small withdrawal needs no approval: ${r.json && r.json.state}`);
    r = await request('POST', '/v1/intents', { body: submit, key: client });
    check(r.status === 200 && r.json && r.json.id === intentId, `same intent again: ${r.status}`);
    r = await request('GET', `/v1/intents/${intentId}`, { key: client });
    check(r.status === 200 && r.json && r.json.id === intentId, `get intent: ${r.status}`);
    r = await request('GET', '/v1/intents?state=approved,awaiting_approvals&wallet=treasury-hot', { key: client });
    check(r.status === 200 && r.json && r.json.intents.length === 1 && r.json.intents[0].id === intentId && r.json.next === null, `list intents: ${r.status} ${r.body}`);
    r = await request('GET', '/v1/wallets/treasury-hot', { key: client });
    check(r.status === 200 && r.json && r.json.threshold === 2 && r.json.network === 'regtest' && r.json.balance.available === 0, `wallet: ${r.status} ${r.body}`);

    // Authentication.
    r = await request('GET', `/v1/intents/${intentId}`);
    check(r.status === 401 && r.json && r.json.error.code === 'unauthenticated', `no signature: ${r.status}`);
    const header = authorization(client, 'GET', `/v1/intents/${intentId}`, '');
    r = await request('GET', `/v1/intents/${intentId}`, { headers: { Authorization: header.replace(/sig=../, 'sig=00') } });
    check(r.status === 401 && r.json && r.json.error.code === 'unauthenticated', `bad signature: ${r.status}`);
    r = await request('GET', `/v1/intents/${intentId}?x=1`, { headers: { Authorization: header } });
    check(r.status === 401, `signature over another target: ${r.status}`);
    r = await request('GET', `/v1/intents/${intentId}`, { headers: { Authorization: authorization(client, 'GET', `/v1/intents/${intentId}`, '', Math.floor(Date.now() / 1000) - 600) } });
    check(r.status === 401 && /time/.test(r.json && r.json.error.message), `stale signature: ${r.status}`);
    r = await request('GET', `/v1/intents/${intentId}`, { key: outsider });
    check(r.status === 403 && r.json && r.json.error.code === 'forbidden', `unknown key: ${r.status}`);
    r = await request('POST', '/v1/wallets/treasury-hot/execute', { body: '{"intents":[]}', key: client });
    check(r.status === 403 && r.json && r.json.error.code === 'forbidden', `client may not execute: ${r.status}`);

    // Request errors.
    r = await request('POST', '/v1/intents', { body: '{"signed_intent":"00","x":1}', key: client });
    check(r.status === 400 && /unknown field 'x'/.test(r.json && r.json.error.message), `unknown field: ${r.status} ${r.body}`);
    r = await request('POST', '/v1/intents', { body: '{"signed_intent":"ABCD"}', key: client });
    check(r.status === 400 && /lowercase hex/.test(r.json && r.json.error.message), `uppercase hex: ${r.status}`);
    r = await request('POST', '/v1/intents', { body: submit, key: client, contentType: 'text/plain' });
    check(r.status === 415, `not json: ${r.status}`);
    r = await request('GET', '/v1/nothing', { key: client });
    check(r.status === 404 && r.json && r.json.error.code === 'not_found', `unknown route: ${r.status}`);
    r = await request('GET', `/v1/intents/${'0'.repeat(32)}`, { key: client });
    check(r.status === 404, `unknown intent: ${r.status}`);
    r = await request('DELETE', '/v1/intents', { key: client });
    check(r.status === 405 && r.headers.allow === 'GET, POST', `wrong method: ${r.status} ${r.headers.allow}`);
    r = await request('POST', '/v1/wallets/treasury-hot/execute', { body: 'x'.repeat(64 * 1024 + 1), key: operator });
    check(r.status === 413 && r.json && r.json.error.code === 'too_large', `body over the limit: ${r.status}`);

    // Metrics.
    r = await request('GET', '/metrics');
    check(r.status === 200 && /^kinkod_requests_total\{route="\/v1\/intents",status="201"\} 1$/m.test(r.body), 'metrics: requests by route and status');
    check(/^kinkod_intents\{state="approved"\} 1$/m.test(r.body), 'metrics: intents by state');
    check(/^kinkod_request_duration_seconds_count\{route="\/v1\/intents"\} \d+$/m.test(r.body), 'metrics: duration histogram');
    check(/^kinkod_requests_total\{route="\/v1\/wallets\/\{wallet\}\/execute",status="413"\} 1$/m.test(r.body), 'metrics: 413 counted');

    // SIGTERM.
    daemon.kill('SIGTERM');
    await waitFor(() => exit !== null, 'kinkod to exit');
    check(exit.code === 0, `SIGTERM: exit ${JSON.stringify(exit)}`);
  } finally {
    if (exit === null) daemon.kill('SIGKILL');
  }

  // The log: one JSON object per line, a line per request, no bodies or signatures.
  const lines = stderr.trim().split('\n');
  const parsed = lines.map((l) => { try { return JSON.parse(l); } catch (e) { return null; } });
  check(parsed.every((p) => p !== null && typeof p.time === 'number' && typeof p.event === 'string' && typeof p.level === 'string'), 'every log line is a JSON object with time, level, event');
  const requests = parsed.filter((p) => p && p.event === 'request');
  check(requests.length >= 20, `a line per request (${requests.length})`);
  check(requests.some((p) => p.status === 201 && p.path === '/v1/intents' && p.caller && /^[0-9a-f]{16}$/.test(p.request_id) && typeof p.duration_ms === 'number'), 'request line fields');
  check(intentHex.length > 64 && !stderr.includes(intentHex.slice(0, 64)) && !stderr.includes('Kinko-Ed25519') && !stderr.includes('sig='), 'no bodies or signatures in the log');
  check(parsed.some((p) => p && p.event === 'listening') && parsed.some((p) => p && p.event === 'stop' && p.signal === 'SIGTERM'), 'listening and stop logged');
}

main().catch((e) => failures.push(`exception: ${e.stack || e}`)).finally(() => {
  fs.rmSync(dir, { recursive: true, force: true });
  if (failures.length > 0) {
    for (const f of failures) console.error(`FAIL: ${f}`);
    console.error(`${failures.length} failed, ${passed} passed`);
    process.exit(1);
  }
  console.log(`kinkod: ${passed} checks passed`);
});
