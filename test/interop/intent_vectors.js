#!/usr/bin/env node
// An independent implementation of kinko's intent and approval encoding (doc/intent-encoding.md)
// in Node.js built-ins only: a small canonical CBOR encoder and decoder, the tagged-hash digests,
// key ids, and Ed25519 through node:crypto. It checks the documented vectors
// (test/vectors/kinko_intent_vectors.json) and intents and approvals freshly made by the
// `kinko` command.
// Usage: node intent_vectors.js PATH_TO_KINKO
'use strict';

const { spawnSync } = require('child_process');
const crypto = require('crypto');
const fs = require('fs');
const os = require('os');
const path = require('path');

const kinko = process.argv[2] && path.resolve(process.argv[2]);
if (!kinko) {
  console.error('usage: node intent_vectors.js PATH_TO_KINKO');
  process.exit(2);
}

let passed = 0;
const failures = [];
function check(condition, message) {
  if (condition) passed++;
  else failures.push(message);
  return condition;
}

// ---- Canonical CBOR (RFC 8949 section 4.2.1), the subset kinko uses. ----
// Values: a non-negative integer (Number or BigInt), a Buffer (byte string), a string (text), an
// Array, or a Map whose keys are small non-negative integers.
function head(major, value) {
  const v = BigInt(value);
  const type = major << 5;
  if (v < 24n) return Buffer.from([type | Number(v)]);
  if (v < 0x100n) return Buffer.from([type | 24, Number(v)]);
  if (v < 0x10000n) { const b = Buffer.alloc(3); b[0] = type | 25; b.writeUInt16BE(Number(v), 1); return b; }
  if (v < 0x100000000n) { const b = Buffer.alloc(5); b[0] = type | 26; b.writeUInt32BE(Number(v), 1); return b; }
  const b = Buffer.alloc(9); b[0] = type | 27; b.writeBigUInt64BE(v, 1); return b;
}

function encode(value) {
  if (typeof value === 'number' || typeof value === 'bigint') return head(0, value);
  if (Buffer.isBuffer(value)) return Buffer.concat([head(2, value.length), value]);
  if (typeof value === 'string') {
    const bytes = Buffer.from(value, 'utf8');
    return Buffer.concat([head(3, bytes.length), bytes]);
  }
  if (Array.isArray(value)) return Buffer.concat([head(4, value.length), ...value.map(encode)]);
  if (value instanceof Map) {
    // Integer keys: ascending numeric order is the bytewise order of their encodings.
    const keys = [...value.keys()].sort((a, b) => a - b);
    const parts = [head(5, keys.length)];
    for (const k of keys) parts.push(encode(k), encode(value.get(k)));
    return Buffer.concat(parts);
  }
  throw new Error(`cannot encode ${typeof value}`);
}

// A strict decoder: definite lengths, shortest heads, integer map keys strictly increasing,
// valid UTF-8, no trailing bytes. Throws on anything else. Returns { value, end } where
// `spans` records the byte range of every map for digest computation.
function decode(bytes) {
  let offset = 0;
  function readHead() {
    if (offset >= bytes.length) throw new Error('truncated');
    const initial = bytes[offset];
    const major = initial >> 5;
    const info = initial & 0x1f;
    offset++;
    if (info < 24) return { major, value: BigInt(info) };
    if (info > 27) throw new Error('indefinite length or reserved');
    const size = 1 << (info - 24);
    if (offset + size > bytes.length) throw new Error('truncated');
    let v = 0n;
    for (let i = 0; i < size; i++) v = (v << 8n) | BigInt(bytes[offset + i]);
    offset += size;
    const min = size === 1 ? 24n : 1n << BigInt(4 * size);
    if (v < min) throw new Error('non-shortest head');
    return { major, value: v };
  }
  function item() {
    const start = offset;
    const { major, value } = readHead();
    switch (major) {
      case 0: return value <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(value) : value;
      case 2: case 3: {
        const n = Number(value);
        if (offset + n > bytes.length) throw new Error('truncated');
        const data = bytes.subarray(offset, offset + n);
        offset += n;
        if (major === 2) return Buffer.from(data);
        const text = new TextDecoder('utf-8', { fatal: true }).decode(data);
        return text;
      }
      case 4: {
        const out = [];
        for (let i = 0n; i < value; i++) out.push(item());
        return out;
      }
      case 5: {
        const out = new Map();
        let previous = -1;
        for (let i = 0n; i < value; i++) {
          const key = item();
          if (typeof key !== 'number' || key <= previous) throw new Error('map keys not increasing integers');
          previous = key;
          out.set(key, item());
        }
        out.span = [start, offset];
        return out;
      }
      default: throw new Error(`major type ${major} not allowed`);
    }
  }
  const value = item();
  if (offset !== bytes.length) throw new Error('trailing bytes');
  return value;
}

// ---- Digests, key ids, Ed25519 ----
function taggedHash(tag, ...parts) {
  const t = crypto.createHash('sha256').update(tag, 'utf8').digest();
  const h = crypto.createHash('sha256').update(t).update(t);
  for (const p of parts) h.update(p);
  return h.digest();
}
const keyId = (publicKey) => taggedHash('kinko/key-id/v1', Buffer.from([1]), publicKey);

function publicKeyObject(raw) {
  return crypto.createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: raw.toString('base64url') }, format: 'jwk' });
}
function privateKeyFromSeed(seed) {
  const pkcs8 = Buffer.concat([Buffer.from('302e020100300506032b657004220420', 'hex'), seed]);
  return crypto.createPrivateKey({ key: pkcs8, format: 'der', type: 'pkcs8' });
}
function rawPublicKey(privateKey) {
  return Buffer.from(crypto.createPublicKey(privateKey).export({ format: 'jwk' }).x, 'base64url');
}
const verify = (publicKey, message, signature) =>
  crypto.verify(null, message, publicKeyObject(publicKey), signature);

// ---- The objects, built from the vector file's fields ----
const NETWORKS = ['main', 'test', 'signet', 'regtest'];
function intentValue(f, requester) {
  const fee = new Map();
  if (f.fee.max_fee !== undefined) fee.set(0, f.fee.max_fee);
  if (f.fee.max_rate_sat_per_kvb !== undefined) fee.set(1, f.fee.max_rate_sat_per_kvb);
  return new Map([
    [0, 1], [1, Buffer.from(f.id, 'hex')], [2, f.wallet], [3, f.network],
    [4, f.outputs.map((o) => new Map([[0, o.address], [1, o.amount]]))], [5, fee],
    [6, requester], [7, f.created], [8, f.expires], [9, f.external_ref], [10, f.memo],
  ]);
}
function approvalValue(f) {
  const m = new Map([
    [0, 1], [1, Buffer.from(f.intent_digest, 'hex')], [2, Buffer.from(f.policy_digest, 'hex')],
    [3, Buffer.from(f.approver, 'hex')], [4, f.decision === 'approve' ? 1 : 2], [5, f.time],
  ]);
  if (f.comment_hash) m.set(6, Buffer.from(f.comment_hash, 'hex'));
  return m;
}
const signatureValue = (publicKey, signature) => new Map([[0, 1], [1, publicKey], [2, signature]]);

// Checks a signed object (intent or approval) given as bytes: canonical, the signer's key id,
// the signature over the domain-separated digest. Returns the decoded object and its digest.
function checkSigned(bytes, tag, signerField, label) {
  const top = decode(bytes);
  check(encode(top).equals(bytes), `${label}: re-encoding differs`);
  const body = top.get(0);
  const sig = top.get(1);
  check(top.size === 2 && body instanceof Map && sig instanceof Map, `${label}: envelope shape`);
  const bodyBytes = bytes.subarray(body.span[0], body.span[1]);
  const digest = taggedHash(tag, bodyBytes);
  check(sig.get(0) === 1, `${label}: scheme is ed25519`);
  check(keyId(sig.get(1)).equals(body.get(signerField)), `${label}: signer key id`);
  check(verify(sig.get(1), digest, sig.get(2)), `${label}: signature verifies`);
  return { body, digest, sig };
}

// ---- 1. The documented vectors ----
const vectors = JSON.parse(fs.readFileSync(path.join(__dirname, '..', 'vectors', 'kinko_intent_vectors.json'), 'utf8'));
for (const v of vectors.intents) {
  const key = privateKeyFromSeed(Buffer.from(v.requester_seed, 'hex'));
  const pub = rawPublicKey(key);
  check(pub.toString('hex') === v.requester_public_key, `${v.name}: public key`);
  const requester = keyId(pub);
  check(requester.toString('hex') === v.fields.requester, `${v.name}: key id`);
  check(NETWORKS.includes(v.fields.network), `${v.name}: network name`);
  const encoding = encode(intentValue(v.fields, requester));
  check(encoding.toString('hex') === v.encoding, `${v.name}: encoding`);
  const digest = taggedHash('kinko/intent/v1', encoding);
  check(digest.toString('hex') === v.digest, `${v.name}: digest`);
  const signature = crypto.sign(null, digest, key);
  check(signature.toString('hex') === v.signature, `${v.name}: signature (Ed25519 is deterministic)`);
  const signed = encode(new Map([[0, intentValue(v.fields, requester)], [1, signatureValue(pub, signature)]]));
  check(signed.toString('hex') === v.signed, `${v.name}: signed encoding`);
  checkSigned(signed, 'kinko/intent/v1', 6, v.name);
}
for (const v of vectors.approvals) {
  const key = privateKeyFromSeed(Buffer.from(v.approver_seed, 'hex'));
  const pub = rawPublicKey(key);
  check(keyId(pub).toString('hex') === v.fields.approver, `${v.name}: approver key id`);
  const encoding = encode(approvalValue(v.fields));
  check(encoding.toString('hex') === v.encoding, `${v.name}: encoding`);
  const digest = taggedHash('kinko/approval/v1', encoding);
  check(digest.toString('hex') === v.digest, `${v.name}: digest`);
  const signature = crypto.sign(null, digest, key);
  check(signature.toString('hex') === v.signature, `${v.name}: signature`);
  const signed = encode(new Map([[0, approvalValue(v.fields)], [1, signatureValue(pub, signature)]]));
  check(signed.toString('hex') === v.signed, `${v.name}: signed encoding`);
  // The approval names the first vector intent's digest.
  check(v.fields.intent_digest === vectors.intents[0].digest, `${v.name}: bound to the vector intent`);
}
for (const v of vectors.invalid) {
  const bytes = Buffer.from(v.hex, 'hex');
  let refused = false;
  try {
    const tag = v.kind === 'signed_intent' ? 'kinko/intent/v1' : 'kinko/approval/v1';
    const before = failures.length;
    checkSigned(bytes, tag, v.kind === 'signed_intent' ? 6 : 3, v.description);
    refused = failures.length > before;
    failures.length = before;
    if (!refused && v.kind === 'signed_intent') {
      // Canonical CBOR with a valid signature can still break a kinko rule (an uppercase address).
      const address = decode(bytes).get(0).get(4)[0].get(0);
      refused = address !== address.toLowerCase() && /^(bc|tb|bcrt)1/i.test(address);
    }
  } catch (e) {
    refused = true;
  }
  check(refused, `invalid vector not refused by this implementation either: ${v.description}`);
  const r = spawnSync(kinko, [v.kind === 'signed_intent' ? 'intent' : 'approval', 'show', '/dev/stdin'], { input: bytes, encoding: 'utf8' });
  check(r.status === 2, `kinko accepted invalid vector: ${v.description}`);
}

// ---- 2. Fresh objects from the kinko command ----
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kinko-intent-'));
function runWithPassphrase(args, passphrase) {
  const file = path.join(dir, `.pass-${crypto.randomBytes(4).toString('hex')}`);
  fs.writeFileSync(file, passphrase, { mode: 0o600 });
  const fd = fs.openSync(file, 'r');
  const r = spawnSync(kinko, [...args, '--passphrase-fd', '3'], { cwd: dir, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe', fd] });
  fs.closeSync(fd);
  fs.unlinkSync(file);
  return r;
}
try {
  let r = runWithPassphrase(['key', 'new', '--ed25519', '--label', 'requester'], 'requester pass\n');
  check(r.status === 0, `key new requester: ${r.stderr}`);
  r = runWithPassphrase(['key', 'new', '--ed25519', '--label', 'approver'], 'approver pass');
  check(r.status === 0, `key new approver: ${r.stderr}`);
  const approverId = JSON.parse(r.stdout).key_id;
  const cases = [
    ['--network', 'regtest', '--to', 'bcrt1qdavt4j2sd7dlhqsavtnfxvzppw6k7qy97tmnu9', '--amount', '0.5btc', '--fee-max', '1000sat'],
    ['--to', 'bc1qvyq0cc6rahyvsazfdje0twl7ez82ndmuac2lhv', '--amount', '0.00000546btc',
     '--to', '3BZECeAH8gSKkjrTx8PwMrNQBLG18yHpvf', '--amount', '20999999.9999btc', '--fee-rate-max', '12.345',
     '--memo', 'café — 金庫 😀', '--ref', 'w-1'],
    ['--to', 'bc1pve739yap4uxjvfk0jrey69078u0gasm2nwvv483ec6zkzulgw9xqu4w9fd', '--amount', '65536sat', '--fee-max', '0.001btc', '--fee-rate-max', '2'],
  ];
  cases.forEach((extra, n) => {
    const label = `fresh intent ${n}`;
    r = runWithPassphrase(['intent', 'new', '--wallet', `w${n}`, '--expires', '2h', '--key', 'requester.key', '--out', `i${n}.intent`, ...extra], 'requester pass\n');
    if (!check(r.status === 0, `${label}: ${r.stderr}`)) return;
    const shown = JSON.parse(r.stdout);
    const bytes = fs.readFileSync(path.join(dir, `i${n}.intent`));
    const { body, digest } = checkSigned(bytes, 'kinko/intent/v1', 6, label);
    check(digest.toString('hex') === shown.digest, `${label}: digest agrees with kinko`);
    check(body.get(7) + 7200 === body.get(8), `${label}: expiry`);
    check(encode(body).equals(bytes.subarray(body.span[0], body.span[1])), `${label}: body re-encodes`);
    const outputs = body.get(4);
    check(outputs.length === shown.outputs.length, `${label}: outputs`);
    outputs.forEach((o, i) => check(o.get(1) === shown.outputs[i].amount.sat && o.get(0) === shown.outputs[i].address, `${label}: output ${i}`));
    // Approve it and check the approval's binding and signature.
    r = runWithPassphrase(['approve', `i${n}.intent`, '--key', 'approver.key', '--policy-digest', '00'.repeat(31) + '01', '--out', `a${n}.approval`, ...(n === 1 ? ['--reject', '--comment', 'too much'] : [])], 'approver pass');
    if (!check(r.status === 0, `${label} approve: ${r.stderr}`)) return;
    const approval = checkSigned(fs.readFileSync(path.join(dir, `a${n}.approval`)), 'kinko/approval/v1', 3, `${label} approval`);
    check(approval.body.get(1).equals(digest), `${label}: approval bound to the intent digest`);
    check(approval.body.get(3).toString('hex') === approverId, `${label}: approver key id`);
    check(approval.body.get(4) === (n === 1 ? 2 : 1), `${label}: decision`);
    if (n === 1) {
      check(approval.body.get(6).equals(crypto.createHash('sha256').update('too much').digest()), `${label}: comment hash`);
    }
    // Flip every byte of the intent file: kinko must refuse each one.
    let accepted = 0;
    for (let i = 0; i < bytes.length; i += n === 1 ? 1 : 7) {
      const bad = Buffer.from(bytes);
      bad[i] ^= 0x01;
      const s = spawnSync(kinko, ['intent', 'show', '/dev/stdin'], { input: bad, encoding: 'utf8' });
      if (s.status !== 2) accepted++;
    }
    check(accepted === 0, `${label}: kinko accepted ${accepted} altered intent files`);
  });
} finally {
  fs.rmSync(dir, { recursive: true, force: true });
}

console.log(`intent_vectors: ${passed} checks passed (${vectors.intents.length} intent, ${vectors.approvals.length} approval and ${vectors.invalid.length} invalid vectors)`);
if (failures.length > 0) {
  for (const f of failures) console.error(`FAIL: ${f}`);
  process.exit(1);
}
