#!/usr/bin/env node
// Runs `kinko demo --keep DIR` (three kinko-signer processes, a kinkod, the offline backend) and
// checks what it tells: the customer withdrawal approved without approvals and signed, the
// transfer to cold storage awaiting two approvals then signed, the attacked intent refused by
// every signer with a code and an audit entry, the three audit logs verified, exit status 0,
// the two exported transactions, and no process left running in DIR afterwards.
// Uses Node.js built-ins only.
// Usage: node demo_test.js PATH_TO_KINKO PATH_TO_KINKO_SIGNER PATH_TO_KINKOD
'use strict';

const { spawnSync } = require('child_process');
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
const stopped = [...text.matchAll(/kinko-signer exit status 0/g)];
check(stopped.length === 3, `three signers stopped cleanly, found ${stopped.length}`);
check(/kinkod exit status 0/.test(text), 'kinkod stopped cleanly');

// Nothing the demo started is left: every child was started with a path inside `keep`.
const pgrep = spawnSync('pgrep', ['-f', keep], { encoding: 'utf8' });
check(pgrep.status === 1, `no process left running in ${keep}: ${pgrep.stdout}`);

console.log(`kinko demo ran in ${seconds.toFixed(1)} s`);
if (failures.length > 0) {
  console.log(out);
  for (const failure of failures) console.log(`FAIL: ${failure}`);
  console.log(`${passed} passed, ${failures.length} failed (kept ${dir})`);
  process.exit(1);
}
fs.rmSync(dir, { recursive: true, force: true });
console.log(`${passed} checks passed`);
