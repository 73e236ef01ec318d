#!/usr/bin/env node
// Tests of `kinko key new --ed25519`, `key show`, `intent new`, `intent show`, `approve` and
// `approval show`: files and permissions, passphrase handling, rendering for people, and the
// refusals (altered intents, wrong network, moved approvals, self-approval, expiry).
// Uses Node.js built-ins only.
// Usage: node intent_cli_test.js PATH_TO_KINKO
'use strict';

const { spawnSync } = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');

const kinko = process.argv[2] && path.resolve(process.argv[2]);
if (!kinko) {
  console.error('usage: node intent_cli_test.js PATH_TO_KINKO');
  process.exit(2);
}

let passed = 0;
const failures = [];
function check(condition, message) {
  if (condition) passed++;
  else failures.push(message);
  return condition;
}

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kinko-intent-cli-'));
const file = (name) => path.join(dir, name);

// Runs kinko in its own session (no controlling terminal), with `passphrase` on fd 3 if given.
function run(args, passphrase) {
  const stdio = ['ignore', 'pipe', 'pipe'];
  let fd;
  let passFile;
  if (passphrase !== undefined) {
    passFile = file(`.pass-${passed}-${failures.length}-${Math.random()}`);
    fs.writeFileSync(passFile, passphrase, { mode: 0o600 });
    fd = fs.openSync(passFile, 'r');
    stdio.push(fd);
    args = [...args, '--passphrase-fd', '3'];
  }
  const r = spawnSync(kinko, args, { cwd: dir, encoding: 'utf8', stdio, detached: true });
  if (fd !== undefined) {
    fs.closeSync(fd);
    fs.unlinkSync(passFile);
  }
  return r;
}
function ok(args, passphrase, what) {
  const r = run(args, passphrase);
  if (!check(r.status === 0, `${what}: exit ${r.status}: ${r.stderr.trim()}`)) return null;
  return JSON.parse(r.stdout);
}
function fails(args, passphrase, pattern, what) {
  const r = run(args, passphrase);
  check(r.status === 2, `${what}: exit ${r.status}, expected 2`);
  check(r.stdout === '', `${what}: stdout not empty`);
  check(pattern.test(r.stderr), `${what}: stderr ${JSON.stringify(r.stderr.trim())} does not match ${pattern}`);
}

const POLICY = 'ab'.repeat(32);
const A1 = 'bc1qvyq0cc6rahyvsazfdje0twl7ez82ndmuac2lhv';
const A2 = 'bc1qhxt04s5xnpy0kxw4x99n5hpdf5pmtzpqs52es2';  // Same length, the attacker's.

try {
  // Keys.
  const alice = ok(['key', 'new', '--ed25519', '--label', 'alice'], 'alice pass\n', 'key new alice');
  check(alice && /^[0-9a-f]{64}$/.test(alice.key_id) && /^[0-9a-f]{64}$/.test(alice.public_key), 'key new prints key id and public key');
  check(alice && alice.file === 'alice.key', 'key new writes LABEL.key');
  check((fs.statSync(file('alice.key')).mode & 0o777) === 0o600, 'key file is 0600');
  check(!fs.readFileSync(file('alice.key')).includes(Buffer.from('alice pass')), 'passphrase not in the key file');
  const bob = ok(['key', 'new', '--ed25519', '--label', 'bob', '--out', 'bob-approver.key'], 'bob pass', 'key new bob');
  fails(['key', 'new', '--ed25519', '--label', 'alice'], 'x', /already exists/, 'key new refuses to overwrite');
  fails(['key', 'new', '--ed25519', '--label', 'carol'], undefined, /no terminal.*--passphrase-fd/, 'no passphrase without terminal');
  fails(['key', 'new', '--ed25519', '--label', 'carol'], '\n', /passphrase: empty/, 'empty passphrase');
  fails(['key', 'new', '--ed25519', '--label', 'bad label'], 'x', /--label/, 'bad label');
  check(!fs.existsSync(file('carol.key')), 'no key file after a refusal');
  const shown = ok(['key', 'show', 'alice.key'], undefined, 'key show');
  check(shown && alice && shown.key_id === alice.key_id && shown.public_key === alice.public_key && shown.label === 'alice', 'key show agrees with key new');
  check(shown && shown.kdf.algorithm === 'argon2id', 'key show names the KDF');
  fs.writeFileSync(file('junk.key'), 'not a key');
  fails(['key', 'show', 'junk.key'], undefined, /junk\.key: key file/, 'key show of junk');
  fails(['key', 'new', '--label', 'dave'], undefined, /need --ed25519/, 'identity options without --ed25519');
  check(!fs.existsSync(file('dave.key')), 'no key file without --ed25519');
  const help = run(['key', 'new', '--help']);
  check(help.status === 0 && /--ed25519/.test(help.stdout) && /--passphrase-fd/.test(help.stdout), 'key new --help lists --ed25519');
  check(!/--passphrase[ =]/.test(help.stdout.replace(/--passphrase-fd/g, '')), 'no passphrase argument option');

  // Intents.
  const base = ['intent', 'new', '--wallet', 'treasury', '--expires', '1h', '--key', 'alice.key'];
  const intent = ok([...base, '--to', A1, '--amount', '0.5btc', '--to', '1FsSia9rv4NeEwvJ2GvXrX7LyxYspbN2mo', '--amount', '1234sat', '--fee-max', '0.0002btc', '--fee-rate-max', '12.5', '--ref', 'w-42', '--memo', 'payout', '--out', 'i1.intent'], 'alice pass\n', 'intent new');
  if (intent) {
    check(intent.outputs[0].amount.btc === '0.50000000' && intent.outputs[0].amount.sat === 50000000, 'amount in BTC and satoshi');
    check(intent.outputs[0].address_type === 'p2wpkh' && intent.outputs[1].address_type === 'p2pkh', 'address types');
    check(intent.total.sat === 50001234, 'total');
    check(intent.network === 'main', 'network');
    check(/^([0-9a-f]{4} ){15}[0-9a-f]{4}$/.test(intent.digest_grouped) && intent.digest_grouped.replace(/ /g, '') === intent.digest, 'digest in groups of four');
    check(intent.fee_ceiling.max_fee.sat === 20000 && intent.fee_ceiling.max_rate_sat_per_vb === 12.5, 'fee ceiling');
    check(alice && intent.requester === alice.key_id, 'requester is the key id');
    check(intent.requester_signature.verified === true && intent.expired === false, 'signature verified');
    check(intent.memo === 'payout' && intent.external_ref === 'w-42', 'memo and reference');
  }
  const again = ok(['intent', 'show', 'i1.intent', '--json'], undefined, 'intent show');
  check(again && intent && again.digest === intent.digest && again.id === intent.id, 'intent show agrees with intent new');
  fails([...base, '--network', 'test', '--to', A1, '--amount', '1btc', '--fee-max', '1sat'], 'alice pass', /output 0 address/, 'address of another network');
  fails([...base, '--to', A1.toUpperCase(), '--amount', '1btc', '--fee-max', '1sat'], 'alice pass', /canonical/, 'uppercase address');
  fails([...base, '--to', A1, '--amount', '1', '--fee-max', '1sat'], 'alice pass', /--amount.*unit/, 'amount without unit');
  fails([...base, '--to', A1, '--amount', '1btc'], 'alice pass', /--fee-max/, 'no fee ceiling');
  fails([...base, '--to', A1, '--amount', '1btc', '--fee-max', '1sat', '--memo', 'a\u202eb'], 'alice pass', /memo/, 'bidi override in memo');
  fails([...base, '--to', A1, '--amount', '1btc', '--fee-max', '1sat'], 'wrong\n', /cannot decrypt/, 'wrong passphrase');

  // The 2024 attack: destination and amount changed in transit, signature kept.
  const bytes = fs.readFileSync(file('i1.intent'));
  const altered = Buffer.from(bytes);
  const at = altered.indexOf(Buffer.from(A1));
  altered.write(A2, at);
  const amountAt = altered.indexOf(Buffer.from('1a02faf080', 'hex'));
  Buffer.from('1a055d4a80', 'hex').copy(altered, amountAt);  // 0.5 BTC -> 0.9 BTC.
  fs.writeFileSync(file('altered.intent'), altered);
  fails(['intent', 'show', 'altered.intent'], undefined, /requester signature: does not verify/, 'altered output refused, naming the requester signature');
  fails(['approve', 'altered.intent', '--key', 'bob-approver.key', '--policy-digest', POLICY], 'bob pass', /requester signature/, 'approve refuses an altered intent');

  // Approvals.
  const approval = ok(['approve', 'i1.intent', '--key', 'bob-approver.key', '--policy-digest', POLICY, '--out', 'a1.approval'], 'bob pass', 'approve');
  check(approval && intent && approval.intent_digest === intent.digest && approval.decision === 'approve', 'approval bound to the intent digest');
  check(approval && bob && approval.approver === bob.key_id && approval.policy_digest === POLICY, 'approval names approver and policy');
  const rejected = ok(['approve', 'i1.intent', '--key', 'bob-approver.key', '--policy-digest', POLICY, '--reject', '--comment', 'no', '--out', 'r1.approval'], 'bob pass', 'reject');
  check(rejected && rejected.decision === 'reject' && /^[0-9a-f]{64}$/.test(rejected.comment_hash), 'rejection with comment hash');
  fails(['approve', 'i1.intent', '--key', 'alice.key', '--policy-digest', POLICY], 'alice pass\n', /cannot approve its own intent/, 'self-approval refused');
  fails(['approve', 'i1.intent', '--key', 'bob-approver.key', '--policy-digest', 'abcd'], 'bob pass', /--policy-digest/, 'short policy digest');
  ok(['approval', 'show', 'a1.approval', '--intent', 'i1.intent', '--json'], undefined, 'approval show with its intent');
  ok([...base, '--to', A1, '--amount', '0.5btc', '--fee-max', '1000sat', '--out', 'i2.intent'], 'alice pass', 'second intent');
  fails(['approval', 'show', 'a1.approval', '--intent', 'i2.intent'], undefined, /another intent/, 'approval moved to another intent');
  const abytes = fs.readFileSync(file('a1.approval'));
  for (let i = 0; i < abytes.length; i++) {
    const bad = Buffer.from(abytes);
    bad[i] ^= 0x04;
    fs.writeFileSync(file('bad.approval'), bad);
    const r = run(['approval', 'show', 'bad.approval']);
    if (!check(r.status === 2, `altered approval byte ${i} accepted`)) break;
  }

  // Expiry.
  ok([...base.slice(0, 4), '--expires', '1s', '--key', 'alice.key', '--to', A1, '--amount', '1btc', '--fee-max', '1sat', '--out', 'short.intent'], 'alice pass', 'short-lived intent');
  spawnSync('sleep', ['1.2']);
  fails(['approve', 'short.intent', '--key', 'bob-approver.key', '--policy-digest', POLICY], 'bob pass', /expired/, 'expired intent not approved');
} finally {
  fs.rmSync(dir, { recursive: true, force: true });
}

console.log(`intent_cli: ${passed} checks passed`);
if (failures.length > 0) {
  for (const f of failures) console.error(`FAIL: ${f}`);
  process.exit(1);
}
