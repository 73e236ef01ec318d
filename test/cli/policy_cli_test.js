#!/usr/bin/env node
// Tests of `kinko policy compile | sign | verify | show | lint | diff | check`: a policy from its
// TOML source to a file signed by 2 of 3 admins, its refusals (too few signatures, an altered
// byte, a stale successor), the review commands, and dry runs of intents with approvals against
// it (allowed, approvals missing, a rejection, the rolling window, an altered intent).
// Uses Node.js built-ins only.
// Usage: node policy_cli_test.js PATH_TO_KINKO
'use strict';

const { spawnSync } = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');

const kinko = process.argv[2] && path.resolve(process.argv[2]);
if (!kinko) {
  console.error('usage: node policy_cli_test.js PATH_TO_KINKO');
  process.exit(2);
}

let passed = 0;
const failures = [];
function check(condition, message) {
  if (condition) passed++;
  else failures.push(message);
  return condition;
}

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kinko-policy-cli-'));
const file = (name) => path.join(dir, name);
let passCount = 0;

// Runs kinko in its own session (no controlling terminal), with `passphrase` on fd 3 if given.
function run(args, passphrase) {
  const stdio = ['ignore', 'pipe', 'pipe'];
  let fd;
  let passFile;
  if (passphrase !== undefined) {
    passFile = file(`.pass-${passCount++}`);
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
// Expects exit status `status` and stdout matching every pattern; returns stdout.
function expect(args, status, patterns, what, passphrase) {
  const r = run(args, passphrase);
  const shown = `${what}: exit ${r.status} (expected ${status}); stdout ${JSON.stringify(r.stdout)}; stderr ${JSON.stringify(r.stderr.trim())}`;
  if (!check(r.status === status, shown)) return r.stdout;
  for (const p of patterns) check(p.test(r.stdout), `${what}: stdout does not match ${p}: ${JSON.stringify(r.stdout)}`);
  return r.stdout;
}
function json(args, what, passphrase) {
  const r = run(args, passphrase);
  if (!check(r.status === 0, `${what}: exit ${r.status}: ${r.stderr.trim()}`)) return null;
  return JSON.parse(r.stdout);
}
// Expects exit status 2, nothing on stdout, and stderr matching `pattern`.
function malformed(args, pattern, what, passphrase) {
  const r = run(args, passphrase);
  check(r.status === 2, `${what}: exit ${r.status}, expected 2 (stdout ${JSON.stringify(r.stdout)})`);
  check(r.stdout === '', `${what}: stdout not empty`);
  check(pattern.test(r.stderr), `${what}: stderr ${JSON.stringify(r.stderr.trim())} does not match ${pattern}`);
}

const PASS = 'pass\n';
const CUSTOMER = 'bc1qhxt04s5xnpy0kxw4x99n5hpdf5pmtzpqs52es2';
const COLD = 'bc1qvyq0cc6rahyvsazfdje0twl7ez82ndmuac2lhv';
const PARTNER = '36j4NfKv6Akva9amjWrLG6MuSQym1GuEmm';

function policyToml(ids, { sequence = 1, perTransaction = '10 BTC', extraBook = '', predecessor = '' } = {}) {
  return `network = "mainnet"
sequence = ${sequence}
activation_delay = "12h"
${predecessor ? `predecessor = "${predecessor}"` : ''}

[governance]
admins = ["admin-1", "admin-2", "admin-3"]
threshold = 2

[keys]
admin-1 = "${ids['admin-1']}"
admin-2 = "${ids['admin-2']}"
admin-3 = "${ids['admin-3']}"
ops-bot = "${ids['ops-bot']}"
bob = "${ids.bob}"
carol = "${ids.carol}"
dave = "${ids.dave}"

[groups]
treasury = ["bob", "carol", "dave"]

[[address_book]]
label = "cold-storage"
address = "${COLD}"
${extraBook}
[limits]
per_transaction = "${perTransaction}"
windows = { "24h" = "3 BTC" }

[[rule]]
name = "small withdrawals"
wallets = ["hot"]
requesters = ["ops-bot"]
amount_max = "0.1 BTC"
approvals = []

[[rule]]
name = "large withdrawals"
wallets = ["hot"]
requesters = ["ops-bot"]
amount_max = "5 BTC"
approvals = [{ group = "treasury", threshold = 2 }]

[[rule]]
name = "everything else"
action = "deny"
`;
}

try {
  // Keys: three admins, a requester bot, three treasury approvers.
  const ids = {};
  for (const label of ['admin-1', 'admin-2', 'admin-3', 'ops-bot', 'bob', 'carol', 'dave']) {
    const key = json(['key', 'new', '--ed25519', '--label', label], `key new ${label}`, PASS);
    ids[label] = key ? key.key_id : '00'.repeat(32);
  }

  // ---- compile ----
  fs.writeFileSync(file('policy.toml'), policyToml(ids));
  let out = expect(['policy', 'compile', 'policy.toml'], 0, [/^compiled +policy\.toml into policy\.policy/m, /^digest +([0-9a-f]{4} ){15}[0-9a-f]{4}$/m, /^sequence +1$/m, /^governance +2 of admin-1, admin-2, admin-3$/m], 'compile');
  check(fs.existsSync(file('policy.policy')), 'compile writes NAME.policy');
  const compiled = json(['policy', 'show', 'policy.policy', '--json'], 'show --json');
  const digest = compiled ? compiled.digest : '';
  check(compiled && /^[0-9a-f]{64}$/.test(digest) && out.includes(compiled.digest_grouped), 'compile prints the digest that show reports');
  check(compiled && compiled.rules.length === 3 && compiled.rules[1].approvals[0].group === 'treasury' && compiled.signatures.length === 0, 'show --json: rules, no signatures yet');
  malformed(['policy', 'compile', 'policy.toml'], /policy\.policy: already exists/, 'compile never overwrites');
  fs.writeFileSync(file('bad.toml'), policyToml(ids).replace('group = "treasury"', 'group = "treasurey"'));
  malformed(['policy', 'compile', 'bad.toml'], /bad\.toml:\d+:.*treasurey/, 'compile names the undefined group and its line');
  check(!fs.existsSync(file('bad.policy')), 'nothing written for a bad source');

  // ---- sign ----
  fs.copyFileSync(file('policy.policy'), file('unsigned.policy'));
  expect(['policy', 'sign', 'policy.policy', '--key', 'admin-1.key'], 0, [/^signer +admin-1 \(/m, /^signatures +1 \(1 by admins of this policy: admin-1; its threshold is 2\)$/m], 'sign admin-1', PASS);
  fs.copyFileSync(file('policy.policy'), file('one.policy'));
  expect(['policy', 'sign', 'policy.policy', '--key', 'admin-2.key'], 0, [/^signatures +2 \(2 by admins of this policy: admin-1, admin-2;/m], 'sign admin-2', PASS);
  malformed(['policy', 'sign', 'policy.policy', '--key', 'admin-2.key'], /already signed by admin-2/, 'second signature by one key', PASS);
  const before = fs.readFileSync(file('policy.policy'));
  malformed(['policy', 'sign', 'policy.policy', '--key', 'admin-3.key'], /cannot decrypt/, 'wrong passphrase', 'wrong\n');
  check(fs.readFileSync(file('policy.policy')).equals(before), 'a failed signing leaves the file unchanged');
  check(fs.readdirSync(dir).every((n) => !n.startsWith('.kinko-tmp')), 'no temporary file left behind');
  fs.copyFileSync(file('policy.policy'), file('bob.policy'));
  expect(['policy', 'sign', 'bob.policy', '--key', 'bob.key'], 0, [/^note +not an admin of this policy/m], 'sign by a non-admin is noted', PASS);

  // ---- verify ----
  expect(['policy', 'verify', 'policy.policy'], 0, [/^verified +policy\.policy$/m, /2 of 3 admins \(2 needed\)/, /^ +admin-1 \(/m, /^ +admin-2 \(/m], 'verify 2 of 3');
  const adminList = [ids['admin-1'], ids['admin-2'], ids['admin-3']].join(',');
  expect(['policy', 'verify', 'policy.policy', '--admins', adminList, '--threshold', '2'], 0, [/against the given admins/], 'verify against pinned admins');
  expect(['policy', 'verify', 'policy.policy', '--admins', adminList, '--threshold', '3'], 1, [/^refused +policy has 2 of the 3 admin signatures it needs/m], 'verify against a threshold of 3');
  expect(['policy', 'verify', 'one.policy'], 1, [/^refused +policy has 1 of the 2 admin signatures it needs \(signed by: admin-1\)/m], 'verify with 1 signature');
  expect(['policy', 'verify', 'bob.policy', '--admins', [ids.bob, ids.carol].join(','), '--threshold', '1'], 0, [/1 of 2 admins/], 'signatures by other keys count for the admins given');
  expect(['policy', 'verify', 'unsigned.policy', '--json'], 1, [/"valid": false/], 'verify --json of an unsigned policy');
  // An altered byte inside a rule name: the encoding still decodes, the signatures do not verify.
  const tampered = Buffer.from(fs.readFileSync(file('policy.policy')));
  const at = tampered.indexOf(Buffer.from('large withdrawals'));
  check(at > 0, 'rule name found in the policy file');
  tampered[at] = 'L'.charCodeAt(0);
  fs.writeFileSync(file('tampered.policy'), tampered);
  expect(['policy', 'verify', 'tampered.policy'], 1, [/^refused +tampered\.policy: signature \d: policy signature: does not verify/m], 'verify refuses an altered byte');
  fs.writeFileSync(file('junk.policy'), Buffer.from('a2006a756e6b', 'hex'));
  malformed(['policy', 'verify', 'junk.policy'], /junk\.policy: /, 'verify of a malformed file');
  malformed(['policy', 'verify', 'policy.policy', '--admins', 'abcd', '--threshold', '1'], /--admins: key id 1/, 'verify with a bad key id');
  malformed(['policy', 'verify', 'policy.policy', '--current', 'one.policy', '--threshold', '1'], /not both/, 'verify with conflicting options');
  malformed(['policy', 'verify', 'one.policy', '--admins', [ids['admin-1'], ids['admin-1']].join(','), '--threshold', '2'], /--admins: key id 2 is listed twice/, 'verify with an admin listed twice');

  // ---- show ----
  expect(['policy', 'show', 'policy.policy'], 0, [/large withdrawals/, /5\.00000000 BTC \(500000000 sat\)/, /treasury: bob, carol, dave/, new RegExp(compiled ? compiled.digest_grouped : 'x'), /^signatures +2 /m], 'show');

  // ---- lint ----
  const shadowed = policyToml(ids).replace('[[rule]]\nname = "everything else"', '[[rule]]\nname = "medium withdrawals"\nwallets = ["hot"]\nrequesters = ["ops-bot"]\namount_max = "1 BTC"\napprovals = [{ group = "treasury", threshold = 1 }]\n\n[[rule]]\nname = "everything else"');
  fs.writeFileSync(file('shadowed.toml'), shadowed);
  expect(['policy', 'lint', 'shadowed.toml'], 0, [/^shadowed_rule: rule 'medium withdrawals'/m, /^unapproved exposure/m, /ops-bot: at most/], 'lint reports a shadowed rule');
  expect(['policy', 'lint', 'shadowed.toml', '--strict'], 1, [/shadowed_rule/], 'lint --strict exits 1');
  const lintJson = json(['policy', 'lint', 'policy.policy', '--json'], 'lint --json');
  check(lintJson && lintJson.findings.every((f) => f.kind !== 'shadowed_rule'), 'no shadowed rule in the policy itself');
  check(lintJson && lintJson.unapproved_exposure.some((e) => e.requester === 'ops-bot' && e.max_24h && e.max_24h.sat <= 300000000), 'exposure of ops-bot bounded by the 24h window');

  // ---- diff ----
  fs.writeFileSync(file('lower.toml'), policyToml(ids, { sequence: 2, perTransaction: '5 BTC' }));
  expect(['policy', 'diff', 'policy.policy', 'lower.toml'], 0, [/^tightens limits\.per_transaction: .*10.* -> .*5/m, /\ntakes effect: at once\n$/], 'diff of a lowered limit');
  fs.writeFileSync(file('book.toml'), policyToml(ids, { sequence: 2, extraBook: `\n[[address_book]]\nlabel = "partner"\naddress = "${PARTNER}"\n` }));
  expect(['policy', 'diff', 'policy.policy', 'book.toml'], 0, [new RegExp(`^loosens +address_book.*${PARTNER}`, 'm'), /\ntakes effect: after 12h \(loosens\)\n$/], 'diff of a new address-book entry');
  const diffJson = json(['policy', 'diff', 'policy.policy', 'book.toml', '--json'], 'diff --json');
  check(diffJson && diffJson.loosens === true && diffJson.changes.some((c) => c.effect === 'loosens'), 'diff --json: loosens');

  // ---- successors: compile --predecessor, verify --current ----
  expect(['policy', 'compile', 'lower.toml', '--predecessor', 'policy.policy', '--out', 'lower.policy'], 0, [new RegExp(`^predecessor +${compiled ? compiled.digest_grouped : 'x'}$`, 'm'), /^sequence +2$/m], 'compile a successor');
  for (const admin of ['admin-1', 'admin-3']) run(['policy', 'sign', 'lower.policy', '--key', `${admin}.key`], PASS);
  expect(['policy', 'verify', 'lower.policy', '--current', 'policy.policy', '--now', '2026-01-05T10:00:00Z'], 0, [/^signed by +admin-1, admin-3 \(2 admins of policy\.policy, which needs 2\)$/m, /^takes effect +at once$/m], 'verify a tightening successor');
  expect(['policy', 'compile', 'book.toml', '--predecessor', 'policy.policy', '--out', 'book.policy'], 0, [/^compiled/m], 'compile a loosening successor');
  for (const admin of ['admin-2', 'admin-3']) run(['policy', 'sign', 'book.policy', '--key', `${admin}.key`], PASS);
  expect(['policy', 'verify', 'book.policy', '--current', 'policy.policy', '--now', '1767607200'], 0, [/^takes effect +after 12h \(loosens\): from 2026-01-05T22:00:00Z if installed at 2026-01-05T10:00:00Z$/m], 'verify a loosening successor');
  expect(['policy', 'verify', 'lower.policy', '--current', 'lower.policy'], 1, [/^refused +stale sequence 2/m], 'verify a stale successor');
  expect(['policy', 'compile', 'lower.toml', '--out', 'nopred.policy'], 0, [/^predecessor +\(none/m], 'compile without predecessor');
  for (const admin of ['admin-1', 'admin-2']) run(['policy', 'sign', 'nopred.policy', '--key', `${admin}.key`], PASS);
  expect(['policy', 'verify', 'nopred.policy', '--current', 'policy.policy'], 1, [/^refused +.*predecessor/m], 'verify a successor without the right predecessor');
  expect(['policy', 'compile', 'lower.toml', '--predecessor', 'policy.policy', '--out', 'lone.policy'], 0, [], 'compile another successor');
  run(['policy', 'sign', 'lone.policy', '--key', 'admin-1.key'], PASS);
  expect(['policy', 'verify', 'lone.policy', '--current', 'policy.policy'], 1, [/^refused +policy has 1 of the 2 admin signatures/m], 'verify a successor signed by one admin');
  fs.writeFileSync(file('other.toml'), policyToml(ids, { sequence: 2, predecessor: 'ab'.repeat(32) }));
  malformed(['policy', 'compile', 'other.toml', '--predecessor', 'policy.policy'], /other\.toml: predecessor abab.* is not the digest of policy\.policy/, 'compile with a conflicting predecessor');
  malformed(['policy', 'compile', 'policy.toml', '--predecessor', 'policy.policy', '--out', 'same.policy'], /sequence 1 is not greater than the sequence 1/, 'compile a successor with the same sequence');
  check(!fs.existsSync(file('other.policy')) && !fs.existsSync(file('same.policy')), 'nothing written for a refused successor');

  // ---- check ----
  const intent = (name, amount) => run(['intent', 'new', '--wallet', 'hot', '--to', CUSTOMER, '--amount', amount, '--fee-max', '1000sat', '--expires', '1h', '--key', 'ops-bot.key', '--out', name], PASS).status;
  check(intent('small.intent', '0.05btc') === 0 && intent('large.intent', '1btc') === 0, 'intents made');
  const approve = (key, out, extra = []) => run(['approve', 'large.intent', '--key', key, '--policy-digest', digest, '--out', out, ...extra], PASS).status;
  check(approve('bob.key', 'bob.approval') === 0 && approve('carol.key', 'carol.approval') === 0, 'approvals made');
  check(approve('dave.key', 'dave-reject.approval', ['--reject']) === 0, 'rejection made');
  check(run(['approve', 'large.intent', '--key', 'carol.key', '--policy-digest', 'ab'.repeat(32), '--out', 'carol-other.approval'], PASS).status === 0, 'approval under another policy made');

  expect(['policy', 'check', 'small.intent', '--policy', 'policy.policy'], 0, [/^allowed +policy /m, /^ +rule +small withdrawals$/m, /^ +approvers +none needed$/m, /^record +spend of 0\.05000000 BTC \(5000000 sat\) from hot/m], 'check: small withdrawal allowed without approval');
  expect(['policy', 'check', 'small.intent', '--policy', 'policy.toml'], 0, [/^allowed/m], 'check against the TOML source');
  expect(['policy', 'check', 'large.intent', 'bob.approval', 'carol.approval', '--policy', 'policy.policy'], 0, [/^ +rule +large withdrawals$/m, /^ +approvers +bob, carol$/m], 'check: allowed with two approvals');
  expect(['policy', 'check', 'carol.approval', 'large.intent', 'bob.approval', '--policy', 'policy.policy'], 0, [/approvers +bob, carol/], 'check: files in any order');
  expect(['policy', 'check', 'large.intent', 'bob.approval', '--policy', 'policy.policy'], 1, [/^refused +approvals_missing$/m, /^rule +large withdrawals$/m, /^detail +.*treasury/m], 'check: approvals missing names the group');
  expect(['policy', 'check', 'large.intent', 'bob.approval', 'carol.approval', 'dave-reject.approval', '--policy', 'policy.policy'], 1, [/^refused +approval_rejected$/m, /dave/], 'check: rejected by a member of the required group');
  expect(['policy', 'check', 'large.intent', 'bob.approval', 'carol-other.approval', '--policy', 'policy.policy'], 1, [/^refused +invalid_approval$/m], 'check: approval under another policy');
  const now = Math.floor(Date.now() / 1000);
  fs.writeFileSync(file('state.json'), JSON.stringify({ spends: [{ wallet: 'hot', time: now - 3600, amount_sat: 250000000 }] }));
  expect(['policy', 'check', 'large.intent', 'bob.approval', 'carol.approval', '--policy', 'policy.policy', '--state', 'state.json'], 1, [/^refused +window_limit$/m, /^limit +window /m], 'check: the 24h window with the state file');
  fs.writeFileSync(file('old-state.json'), JSON.stringify({ spends: [{ wallet: 'hot', time: now - 90000, amount_sat: 250000000 }, { wallet: 'cold', time: now, amount_sat: 290000000 }] }));
  expect(['policy', 'check', 'large.intent', 'bob.approval', 'carol.approval', '--policy', 'policy.policy', '--state', 'old-state.json'], 0, [/^allowed/m], 'check: spends outside the window or of another wallet do not count');
  const verdict = json(['policy', 'check', 'large.intent', 'bob.approval', 'carol.approval', '--policy', 'policy.policy', '--json'], 'check --json');
  check(verdict && verdict.allowed === true && verdict.intents[0].rule === 'large withdrawals' && verdict.spends[0].amount_sat === 100000000, 'check --json');
  const refusal = run(['policy', 'check', 'large.intent', '--policy', 'policy.policy', '--json']);
  check(refusal.status === 1 && JSON.parse(refusal.stdout).refusal.code === 'approvals_missing', 'check --json refusal');

  expect(['policy', 'check', 'small.intent', '--policy', 'policy.policy', '--fee', '1001', '--vsize', '200'], 1, [/^refused +fee_ceiling_exceeded$/m, /^limit +max_fee$/m], 'check: a fee above the intent\'s ceiling');
  expect(['policy', 'check', 'small.intent', '--policy', 'policy.policy', '--fee', '1000', '--vsize', '200'], 0, [/^allowed/m], 'check: a fee at the intent\'s ceiling');
  const later = new Date((now + 7200) * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
  expect(['policy', 'check', 'small.intent', '--policy', 'policy.policy', '--now', later], 1, [/^refused +intent_expired$/m, new RegExp(`^now +${later}$`, 'm')], 'check: --now after the intent expired');

  // The 2024 attack: an output altered in transit, the requester's signature kept.
  const altered = Buffer.from(fs.readFileSync(file('large.intent')));
  altered.write(COLD, altered.indexOf(Buffer.from(CUSTOMER)));
  fs.writeFileSync(file('altered.intent'), altered);
  expect(['policy', 'check', 'altered.intent', 'bob.approval', 'carol.approval', '--policy', 'policy.policy'], 1, [/^refused +invalid_signature$/m, /^detail +altered\.intent: .*requester signature: does not verify/m], 'check: an altered intent is refused, naming the requester signature');

  // Malformed input: exit 2, nothing on stdout.
  malformed(['policy', 'check', 'small.intent', 'bob.approval', '--policy', 'policy.policy'], /bob\.approval: approves none of the intents given/, 'check: approval of an intent not given');
  malformed(['policy', 'check', 'small.intent', '--policy', 'policy.policy', '--now', '2026-02-30T00:00:00Z'], /--now: .*not a valid time/, 'check: invalid --now');
  malformed(['policy', 'check', 'small.intent', '--policy', 'policy.policy', '--fee', '100'], /--fee and --vsize go together/, 'check: --fee without --vsize');
  fs.writeFileSync(file('bad-state.json'), JSON.stringify({ spends: [{ wallet: 'hot', time: 1, amount: 5 }] }));
  malformed(['policy', 'check', 'small.intent', '--policy', 'policy.policy', '--state', 'bad-state.json'], /bad-state\.json: spends\[0\]/, 'check: malformed state file');
  malformed(['policy', 'check', 'small.intent', '--policy', 'policy.policy', '--state', 'missing.json'], /missing\.json: cannot open/, 'check: missing state file');
  malformed(['policy', 'check', 'policy.toml', '--policy', 'policy.policy'], /policy\.toml: neither a signed intent nor a signed approval/, 'check: a file that is neither');
  malformed(['policy', 'check', 'small.intent', '--policy', 'tampered.policy'], /tampered\.policy: signature \d: policy signature: does not verify/, 'check: an altered policy file');

  // ---- intent show and approval show for a person ----
  expect(['intent', 'show', 'large.intent'], 0, [/^wallet +hot$/m, new RegExp(`^output 0 +${CUSTOMER} \\(p2wpkh\\)$`, 'm'), /^ +1\.00000000 BTC \(100000000 sat\)$/m, /^created +\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/m, /^digest +([0-9a-f]{4} ){15}[0-9a-f]{4}$/m, new RegExp(`^requester +${ids['ops-bot'].match(/.{4}/g).join(' ')}$`, 'm')], 'intent show renders text');
  expect(['approval', 'show', 'dave-reject.approval', '--intent', 'large.intent'], 0, [/^decision +reject$/m, /matches the intent digest/], 'approval show renders text');
} finally {
  fs.rmSync(dir, { recursive: true, force: true });
}

console.log(`policy_cli: ${passed} checks passed`);
if (failures.length > 0) {
  for (const f of failures) console.error(`FAIL: ${f}`);
  process.exit(1);
}
