#!/usr/bin/env node
// Runs `kinko demo --keep DIR` (three kinko-signer processes, a kinkod, the offline backend) and
// checks what it tells: the customer withdrawal approved without approvals and signed, the
// transfer to cold storage awaiting two approvals then signed, the attacked intent refused by
// every signer with a code and an audit entry, the three audit logs verified, exit status 0,
// the two exported transactions, and no process left running in DIR afterwards. Then, on the
// kept directory: kinkod started again on its configuration, and `kinko utxo import` giving it
// an exported transaction (the change coin found), refused for a key that is not an operator's,
// and refused before sending anything for a malformed transaction.
// Uses Node.js built-ins only.
// Usage: node demo_test.js PATH_TO_KINKO PATH_TO_KINKO_SIGNER PATH_TO_KINKOD
'use strict';

const { spawn, spawnSync } = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');

const [kinko, signer, kinkod] = process.argv.slice(2, 5).map((p) => p && path.resolve(p));
if (!kinko || !signer || !kinkod) {
  console.error('usage: node demo_test.js PATH_TO_KINKO PATH_TO_KINKO_SIGNER PATH_TO_KINKOD');
  process.exit(2);
}

let passed = 0;
const failures = [];
function check(condition, message) {
  if (condition) passed++;
  else failures.push(message);
  return condition;
}

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kinko-demo-test-'));
const keep = path.join(dir, 'demo');

const started = Date.now();
const r = spawnSync(kinko, ['demo', '--keep', keep], {
  encoding: 'utf8',
  env: { ...process.env, KINKO_SIGNER_BINARY: signer, KINKOD_BINARY: kinkod },
  timeout: 240000,
});
const seconds = (Date.now() - started) / 1000;
const out = r.stdout || '';
// The narration wraps at 100 columns: checks read it with line breaks and indents folded.
const text = out.replace(/\n\s*/g, ' ');

check(r.status === 0, `kinko demo exit status ${r.status} (signal ${r.signal}): ${r.stderr}`);
check(r.stderr === '', `kinko demo wrote to stderr: ${r.stderr}`);

check(text.includes("approved: rule 'customer withdrawals', no approval needed"),
      'the customer withdrawal is approved by its rule without approvals');
check(/awaiting approvals: treasury 0 of 2/.test(text),
      'the cold-storage transfer awaits 2 treasury approvals');
check(/awaiting approvals: treasury 1 of 2/.test(text), 'one approval counts');
const signed = [...text.matchAll(/transaction ([0-9a-f]{64}) is signed and finalized/g)];
check(signed.length === 2, `two signed transactions, found ${signed.length}`);
check(new Set(signed.map((m) => m[1])).size === 2, 'two different transactions');
for (const m of signed) {
  const file = path.join(keep, 'out', `${m[1]}.hex`);
  check(fs.existsSync(file), `exported ${file}`);
}
const outFiles = fs.existsSync(path.join(keep, 'out')) ? fs.readdirSync(path.join(keep, 'out')) : [];
check(outFiles.length === 2, `out/ holds exactly the two signed transactions: ${outFiles}`);

const refusals = [
  ...text.matchAll(/Signer ([123]) refused: ([a-z_]+) — .*? \(audit entry (\d+)\)/g),
];
check(refusals.length === 3, `three refusals of the attacked intent, found ${refusals.length}`);
check(new Set(refusals.map((m) => m[1])).size === 3, 'one refusal from each signer');
for (const m of refusals) {
  check(['unexpected_output', 'missing_intent_output'].includes(m[2]),
        `signer ${m[1]} refused with an output code, not ${m[2]}`);
}
check(!/SIGNED the attacker/.test(text), 'no signer signed the attacker\'s transaction');
check(/Nothing was exported for it/.test(text), 'nothing exported for the attacked intent');

const verified = [...text.matchAll(/Signer ([123]): audit log verified, (\d+) entries \((\d+) signed, (\d+) refused\)/g)];
check(verified.length === 3, `three audit logs verified, found ${verified.length}`);
for (const m of verified) {
  check(Number(m[4]) >= 1, `signer ${m[1]}'s log records the refusal`);
}
const stopped = [...text.matchAll(/kinko-signer \(signer [123]\): exit status 0/g)];
check(stopped.length === 3, `three signers stopped cleanly, found ${stopped.length}`);
check(/kinkod: exit status 0/.test(text), 'kinkod stopped cleanly');

// Nothing the demo started is left: every child was started with a path inside `keep`.
const pgrep = spawnSync('pgrep', ['-f', keep], { encoding: 'utf8' });
check(pgrep.status === 1, `no process left running in ${keep}: ${pgrep.stdout}`);

console.log(`kinko demo ran in ${seconds.toFixed(1)} s`);

// --- kinko utxo import, against kinkod started again on the kept directory ---

const PASSPHRASE = 'kinko demo passphrase (public)';
let passCount = 0;
// A file holding the passphrase, opened for reading: handed to the child as fd 3.
function passphraseFd() {
  const name = path.join(dir, `.pass-${passCount++}`);
  fs.writeFileSync(name, PASSPHRASE, { mode: 0o600 });
  const fd = fs.openSync(name, 'r');
  fs.unlinkSync(name);
  return fd;
}
function utxoImport(args) {
  const fd = passphraseFd();
  const result = spawnSync(kinko, ['utxo', 'import', ...args, '--passphrase-fd', '3'],
                           { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe', fd], timeout: 60000 });
  fs.closeSync(fd);
  return result;
}
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

async function utxoImportChecks() {
  if (signed.length === 0) return;
  const portFile = path.join(dir, 'kinkod-again.port');
  const kinkodLog = fs.openSync(path.join(dir, 'kinkod-again.log'), 'w');
  const child = spawn(kinkod, ['run', '--config', path.join(keep, 'kinkod.toml'), '--port-file', portFile],
                      { stdio: ['ignore', kinkodLog, kinkodLog] });
  let exited = false;
  child.on('exit', () => { exited = true; });
  try {
    let port = '';
    for (let waited = 0; waited < 30000 && !exited; waited += 50) {
      if (fs.existsSync(portFile)) port = fs.readFileSync(portFile, 'utf8').trim();
      if (/^\d+$/.test(port)) break;
      await sleep(50);
    }
    if (!check(/^\d+$/.test(port), `kinkod started again: ${fs.readFileSync(path.join(dir, 'kinkod-again.log'), 'utf8')}`)) return;
    const url = `http://127.0.0.1:${port}`;
    const txFile = path.join(keep, 'out', `${signed[0][1]}.hex`);
    const operatorKey = path.join(keep, 'keys', 'operator.key');

    const imported = utxoImport(['--coordinator', url, '--wallet', 'hot', '--key', operatorKey, '--file', txFile]);
    if (check(imported.status === 0, `utxo import: exit ${imported.status}: ${imported.stderr}`)) {
      const answer = JSON.parse(imported.stdout);
      check(answer.wallet === 'hot', 'utxo import names the wallet');
      check(answer.txid === signed[0][1], `utxo import prints the transaction's txid: ${answer.txid}`);
      check(Array.isArray(answer.utxos) && answer.utxos.length === 1, `one coin found: ${imported.stdout}`);
      if (answer.utxos.length === 1) {
        check(answer.utxos[0].change === true, 'the coin found is the change');
        check(answer.utxos[0].txid === signed[0][1], 'the coin is an output of the imported transaction');
      }
    }
    const hex = fs.readFileSync(txFile, 'utf8').trim();
    const forbidden = utxoImport(['--coordinator', url, '--wallet', 'hot', '--key',
                                  path.join(keep, 'keys', 'ops-bot.key'), '--hex', hex]);
    check(forbidden.status === 2 && /403|forbidden/.test(forbidden.stderr),
          `utxo import with a requester's key is refused: exit ${forbidden.status}: ${forbidden.stderr}`);
    const malformed = utxoImport(['--coordinator', 'http://127.0.0.1:1', '--wallet', 'hot', '--key', operatorKey,
                                  '--hex', hex.slice(0, -2)]);
    check(malformed.status === 2 && /--hex/.test(malformed.stderr) && !/127\.0\.0\.1:1/.test(malformed.stderr),
          `a truncated transaction is refused before anything is sent: ${malformed.stderr}`);
    const both = utxoImport(['--coordinator', url, '--wallet', 'hot', '--key', operatorKey, '--hex', hex, '--file', txFile]);
    check(both.status === 2 && /exactly one of --hex and --file/.test(both.stderr), `--hex and --file together: ${both.stderr}`);
  } finally {
    child.kill('SIGTERM');
    for (let waited = 0; waited < 10000 && !exited; waited += 50) await sleep(50);
    if (!exited) child.kill('SIGKILL');
    fs.closeSync(kinkodLog);
  }
}

// --- kinko demo --regtest, when a bitcoind is given ---
function regtestChecks() {
  const bitcoind = process.env.BITCOIND;
  if (!bitcoind || !fs.existsSync(bitcoind)) {
    console.log('SKIP kinko demo --regtest: set BITCOIND to the path of a bitcoind to run it');
    return;
  }
  const regtestDir = path.join(dir, 'regtest');
  const rr = spawnSync(kinko, ['demo', '--regtest', '--keep', regtestDir], {
    encoding: 'utf8',
    env: { ...process.env, KINKO_SIGNER_BINARY: signer, KINKOD_BINARY: kinkod },
    timeout: 240000,
  });
  const t = (rr.stdout || '').replace(/\n\s*/g, ' ');
  check(rr.status === 0, `kinko demo --regtest exit status ${rr.status}: ${rr.stderr}`);
  const confirmed = [...t.matchAll(/a block mined: 1 confirmation/g)];
  check(confirmed.length === 2, `two transactions confirmed on regtest, found ${confirmed.length}`);
  const refused = [...t.matchAll(/Signer [123] refused: (unexpected_output|missing_intent_output) — /g)];
  check(refused.length === 3, `three refusals on regtest, found ${refused.length}`);
  check(/the node's mempool is empty/.test(t), 'nothing broadcast for the attacked intent');
  check(/bitcoind \(regtest node\): exit status 0/.test(t), 'the regtest node stopped cleanly');
  const left = spawnSync('pgrep', ['-f', regtestDir], { encoding: 'utf8' });
  check(left.status === 1, `no process left running in ${regtestDir}: ${left.stdout}`);
  if (rr.status !== 0) console.log(rr.stdout);
}

utxoImportChecks().then(() => {
  regtestChecks();
  if (failures.length > 0) {
    console.log(out);
    for (const failure of failures) console.log(`FAIL: ${failure}`);
    console.log(`${passed} passed, ${failures.length} failed (kept ${dir})`);
    process.exit(1);
  }
  fs.rmSync(dir, { recursive: true, force: true });
  console.log(`${passed} checks passed`);
});
