#!/usr/bin/env node
// Tests of `kinko-signer keygen | init | run | status`: three signers' keys, a wallet descriptor
// built from them, a first policy made and signed with the `kinko` CLI, init (and its
// refusals: a wrong passphrase, a second init), then the daemon on a port chosen by the system,
// answering GET /healthz and /v1/status over HTTP, and exiting 0 on SIGTERM; a daemon asked to
// listen on a port in use exits 1.
// Uses Node.js built-ins only.
// Usage: node signer_daemon_test.js PATH_TO_KINKO_SIGNER PATH_TO_KINKO
'use strict';

const { spawn, spawnSync } = require('child_process');
const fs = require('fs');
const http = require('http');
const net = require('net');
const os = require('os');
const path = require('path');

const signer = process.argv[2] && path.resolve(process.argv[2]);
const kinko = process.argv[3] && path.resolve(process.argv[3]);
if (!signer || !kinko) {
  console.error('usage: node signer_daemon_test.js PATH_TO_KINKO_SIGNER PATH_TO_KINKO');
  process.exit(2);
}

let passed = 0;
const failures = [];
function check(condition, message) {
  if (condition) passed++;
  else failures.push(message);
  return condition;
}

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kinko-signer-cli-'));
const file = (name) => path.join(dir, name);
let passCount = 0;

// A file holding `secret`, opened for reading: handed to the child as fd 3.
function secretFd(secret) {
  const name = file(`.pass-${passCount++}`);
  fs.writeFileSync(name, secret, { mode: 0o600 });
  const fd = fs.openSync(name, 'r');
  fs.unlinkSync(name);
  return fd;
}

// Runs `program` with `passphrase` on fd 3 (and --passphrase-fd 3) if given.
function run(program, args, passphrase) {
  const stdio = ['ignore', 'pipe', 'pipe'];
  let fd;
  if (passphrase !== undefined) {
    fd = secretFd(passphrase);
    stdio.push(fd);
    args = [...args, '--passphrase-fd', '3'];
  }
  const r = spawnSync(program, args, { cwd: dir, encoding: 'utf8', stdio, detached: true });
  if (fd !== undefined) fs.closeSync(fd);
  return r;
}
function json(program, args, what, passphrase) {
  const r = run(program, args, passphrase);
  if (!check(r.status === 0, `${what}: exit ${r.status}: ${r.stderr.trim()}`)) return null;
  return JSON.parse(r.stdout);
}
function expectFailure(program, args, status, pattern, what, passphrase) {
  const r = run(program, args, passphrase);
  check(r.status === status, `${what}: exit ${r.status}, expected ${status}; stderr ${JSON.stringify(r.stderr.trim())}`);
  check(pattern.test(r.stderr), `${what}: stderr ${JSON.stringify(r.stderr.trim())} does not match ${pattern}`);
}

function get(port, urlPath) {
  return new Promise((resolve, reject) => {
    const request = http.get({ host: '127.0.0.1', port, path: urlPath, timeout: 5000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk) => { body += chunk; });
      res.on('end', () => resolve({ status: res.statusCode, body }));
    });
    request.on('error', reject);
    request.on('timeout', () => request.destroy(new Error('timeout')));
  });
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

// Starts `kinko-signer run` in the background; resolves with the child and its stderr so far.
function startDaemon(args, passphrase) {
  const fd = secretFd(passphrase);
  const child = spawn(signer, [...args, '--passphrase-fd', '3'], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe', fd] });
  fs.closeSync(fd);
  const state = { child, stderr: '', exit: null };
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (chunk) => { state.stderr += chunk; });
  child.stdout.resume();
  state.exited = new Promise((resolve) => child.on('exit', (code, signal) => { state.exit = { code, signal }; resolve(state.exit); }));
  return state;
}

async function waitFor(condition, ms) {
  for (let waited = 0; waited < ms; waited += 50) {
    if (condition()) return true;
    await sleep(50);
  }
  return condition();
}

const PASS = 'signer pass\n';
const ADMIN_PASS = 'admin pass\n';
const KDF = ['--kdf-memory-kib', '8', '--kdf-passes', '1'];

async function main() {
  // ---- keygen: one state directory per signer ----
  const keys = [];
  for (const name of ['signer-1', 'signer-2', 'signer-3']) {
    const out = json(signer, ['keygen', '--dir', name, '--network', 'regtest', ...KDF], `keygen ${name}`, PASS);
    check(out && /^\[[0-9a-f]{8}\/48'\/1'\/0'\/2'\]tpub/.test(out.descriptor_key), `keygen ${name}: descriptor key ${out && out.descriptor_key}`);
    check(out && /^[0-9a-f]{64}$/.test(out.signer_id) && /^[0-9a-f]{64}$/.test(out.identity_public_key), `keygen ${name}: ids`);
    keys.push(out ? out.descriptor_key : '');
    const mode = fs.statSync(file(name)).mode & 0o777;
    check(mode === 0o700, `keygen ${name}: directory mode ${mode.toString(8)}`);
    for (const f of ['identity.key', 'signing.key', 'backend.json']) {
      check((fs.statSync(file(`${name}/${f}`)).mode & 0o777) === 0o600, `keygen ${name}: ${f} mode 0600`);
    }
  }
  expectFailure(signer, ['keygen', '--dir', 'signer-1', '--network', 'regtest', ...KDF], 1, /not empty/, 'keygen into a used directory', PASS);
  expectFailure(signer, ['keygen', '--dir', 'x', '--network', 'moon'], 2, /passphrase-fd/, 'keygen without --passphrase-fd is a usage error');

  // ---- the first policy, made and signed with the kinko CLI ----
  const ids = {};
  for (const label of ['admin-1', 'admin-2', 'admin-3', 'ops-bot']) {
    const key = json(kinko, ['key', 'new', '--ed25519', '--label', label], `key new ${label}`, ADMIN_PASS);
    ids[label] = key ? key.key_id : '00'.repeat(32);
  }
  fs.writeFileSync(file('policy.toml'), `network = "regtest"
sequence = 1
activation_delay = "24h"

[governance]
admins = ["admin-1", "admin-2", "admin-3"]
threshold = 2

[keys]
admin-1 = "${ids['admin-1']}"
admin-2 = "${ids['admin-2']}"
admin-3 = "${ids['admin-3']}"
ops-bot = "${ids['ops-bot']}"

[limits]
per_transaction = "1 BTC"

[[rule]]
name = "small withdrawals"
wallets = ["hot"]
requesters = ["ops-bot"]
amount_max = "0.1 BTC"
approvals = []
`);
  check(run(kinko, ['policy', 'compile', 'policy.toml']).status === 0, 'policy compile');
  for (const admin of ['admin-1', 'admin-2']) {
    check(run(kinko, ['policy', 'sign', 'policy.policy', '--key', `${admin}.key`], ADMIN_PASS).status === 0, `policy sign ${admin}`);
  }

  // ---- init ----
  const descriptor = `wsh(sortedmulti(2,${keys.map((k) => `${k}/<0;1>/*`).join(',')}))`;
  const initArgs = ['init', '--dir', 'signer-1', '--wallet-id', 'hot', '--wallet', descriptor, '--policy', 'policy.policy',
    '--governance', ids['admin-1'], ids['admin-2'], ids['admin-3'], '--threshold', '2'];
  expectFailure(signer, initArgs, 1, /wrong passphrase/, 'init with a wrong passphrase', 'wrong\n');
  check(!fs.existsSync(file('signer-1/signer.db')), 'a refused init writes no state database');
  expectFailure(signer, [...initArgs.slice(0, -1), '1', '--governance', 'ABCD'], 1, /is not a key id/, 'init with a bad key id', PASS);
  const init = json(signer, initArgs, 'init', PASS);
  check(init && init.descriptor_key === keys[0] && init.wallet_id === 'hot', 'init names the key and wallet');
  check(fs.existsSync(file('signer-1/signer.db')) && (fs.statSync(file('signer-1/signer.db')).mode & 0o777) === 0o600, 'init writes signer.db with mode 0600');
  expectFailure(signer, initArgs, 1, /already exists/, 'init twice', PASS);
  const status = json(signer, ['status', '--dir', 'signer-1'], 'status');
  check(status && status.wallet_id === 'hot' && status.network === 'regtest' && status.governance_threshold === 2, 'status: pinned config');
  check(status && status.audit.tree_size === 2 && status.audit.signed_tree_head !== '', 'status: two entries under a signed head');
  check(status && status.signer_id === init.signer_id, 'status: signer id');

  // ---- run ----
  const daemon = startDaemon(['run', '--dir', 'signer-1', '--listen', '127.0.0.1:0', '--port-file', 'port'], PASS);
  const listening = await waitFor(() => fs.existsSync(file('port')) || daemon.exit !== null, 20000);
  if (check(listening && daemon.exit === null, `run: listening (stderr ${JSON.stringify(daemon.stderr)})`)) {
    const port = Number(fs.readFileSync(file('port'), 'utf8').trim());
    check(port > 0 && port < 65536, `run: port file holds a port (${port})`);
    const health = await get(port, '/healthz');
    check(health.status === 200 && health.body === 'ok\n', `GET /healthz: ${health.status} ${JSON.stringify(health.body)}`);
    const st = await get(port, '/v1/status');
    const body = st.status === 200 ? JSON.parse(st.body) : null;
    check(body && body.wallet === 'hot' && body.signer === init.signer_id && body.frozen === false, `GET /v1/status: ${st.status} ${st.body}`);
    check(body && body.audit.tree_size >= 3, 'GET /v1/status: the run logged a start-up entry');
    const missing = await get(port, '/v1/nothing');
    check(missing.status === 404, `GET /v1/nothing: ${missing.status}`);

    // A second daemon on the same port fails to start (the state is locked, or the port is taken).
    const portInUse = await new Promise((resolve) => {
      const blocker = net.createServer();
      blocker.listen(0, '127.0.0.1', () => resolve(blocker));
    });
    const busyPort = portInUse.address().port;
    daemon.child.kill('SIGTERM');
    const exit = await daemon.exited;
    check(exit.code === 0, `run: SIGTERM exits 0 (got ${JSON.stringify(exit)}; stderr ${JSON.stringify(daemon.stderr)})`);
    const events = daemon.stderr.trim().split('\n').map((line) => { try { return JSON.parse(line).event; } catch (e) { return `not json: ${line}`; } });
    check(events.includes('start') && events.includes('listening') && events[events.length - 1] === 'stop', `run: log events ${JSON.stringify(events)}`);
    check(!daemon.stderr.includes(PASS.trim()), 'run: the passphrase is not logged');

    const busy = startDaemon(['run', '--dir', 'signer-1', '--listen', `127.0.0.1:${busyPort}`], PASS);
    const busyExit = await Promise.race([busy.exited, sleep(20000).then(() => null)]);
    if (busyExit === null) busy.child.kill('SIGKILL');
    check(busyExit && busyExit.code === 1 && /cannot listen on 127\.0\.0\.1:\d+/.test(busy.stderr), `run on a port in use: ${JSON.stringify(busyExit)} ${JSON.stringify(busy.stderr)}`);
    portInUse.close();
  } else if (daemon.exit === null) {
    daemon.child.kill('SIGKILL');
  }

  // A wrong passphrase: exit 1 with a clear message, nothing listening.
  const wrong = startDaemon(['run', '--dir', 'signer-1', '--listen', '127.0.0.1:0'], 'wrong\n');
  const wrongExit = await Promise.race([wrong.exited, sleep(20000).then(() => null)]);
  if (wrongExit === null) wrong.child.kill('SIGKILL');
  check(wrongExit && wrongExit.code === 1 && /wrong passphrase/.test(wrong.stderr), `run with a wrong passphrase: ${JSON.stringify(wrongExit)} ${JSON.stringify(wrong.stderr)}`);
  expectFailure(signer, ['run', '--dir', 'signer-1', '--listen', 'nonsense'], 1, /--listen/, 'run with a bad --listen', PASS);
  expectFailure(signer, ['frobnicate'], 2, /frobnicate|subcommand/i, 'unknown subcommand');
}

main()
  .catch((e) => failures.push(`exception: ${e.stack}`))
  .finally(() => {
    fs.rmSync(dir, { recursive: true, force: true });
    if (failures.length > 0) {
      for (const f of failures) console.error(`FAIL ${f}`);
      console.error(`${failures.length} failed, ${passed} passed`);
      process.exit(1);
    }
    console.log(`signer daemon cli: ${passed} checks passed`);
  });
