#!/usr/bin/env node
// Tests of the built `kinko` command against published vectors (test/vectors), and of its error
// behaviour: malformed input exits 2 with a message that names what is wrong, and prints nothing
// on stdout. Uses Node.js built-ins only.
// Usage: node cli_test.js PATH_TO_KINKO
'use strict';

const { spawnSync } = require('child_process');
const crypto = require('crypto');
const fs = require('fs');
const path = require('path');

const kinko = process.argv[2];
if (!kinko) {
  console.error('usage: node cli_test.js PATH_TO_KINKO');
  process.exit(2);
}
const vectorsDir = path.join(__dirname, '..', 'vectors');
const readVectors = (name) => JSON.parse(fs.readFileSync(path.join(vectorsDir, name), 'utf8'));

let passed = 0;
const failures = [];
const groupCounts = {};
let group = '';

function check(condition, message) {
  groupCounts[group] = groupCounts[group] || { passed: 0, failed: 0 };
  if (condition) {
    passed++;
    groupCounts[group].passed++;
  } else {
    failures.push(`[${group}] ${message}`);
    groupCounts[group].failed++;
  }
  return condition;
}

function run(args) {
  const result = spawnSync(kinko, args, { encoding: 'utf8' });
  if (result.error) throw result.error;
  return { code: result.status, signal: result.signal, stdout: result.stdout, stderr: result.stderr };
}

// Runs a command that must succeed (exit `code`, JSON on stdout, nothing on stderr).
function runJson(args, code = 0) {
  const r = run(args);
  const shown = `kinko ${args.map((a) => (a.length > 80 ? a.slice(0, 77) + '...' : a)).join(' ')}`;
  if (!check(r.code === code, `${shown}: exit ${r.code} (${r.signal || ''}), expected ${code}; stderr: ${r.stderr.trim()}`)) {
    return null;
  }
  check(r.stderr === '', `${shown}: unexpected stderr: ${r.stderr.trim()}`);
  try {
    return { json: JSON.parse(r.stdout), text: r.stdout };
  } catch (e) {
    check(false, `${shown}: stdout is not JSON: ${r.stdout.slice(0, 200)}`);
    return null;
  }
}

// Runs a command that must fail as malformed: exit 2, empty stdout, stderr matching `pattern`.
function expectMalformed(args, pattern) {
  const r = run(args);
  const shown = `kinko ${args.map((a) => (a.length > 60 ? a.slice(0, 57) + '...' : a)).join(' ')}`;
  check(r.code === 2, `${shown}: exit ${r.code} (${r.signal || ''}), expected 2; stderr: ${r.stderr.trim()}`);
  check(r.stdout === '', `${shown}: stdout not empty: ${r.stdout.slice(0, 200)}`);
  check(pattern.test(r.stderr), `${shown}: stderr ${JSON.stringify(r.stderr.trim())} does not match ${pattern}`);
}

const sha256d = (bytes) => crypto.createHash('sha256').update(crypto.createHash('sha256').update(bytes).digest()).digest();
const reverseHex = (hex) => Buffer.from(hex, 'hex').reverse().toString('hex');

// The legacy serialization (no marker, flag or witnesses) of a BIP144 transaction, for an
// independent txid: parsed here with a few lines, no kinko code involved.
function stripWitness(hex) {
  const b = Buffer.from(hex, 'hex');
  if (b[4] !== 0x00 || b[5] !== 0x01) return b;
  let pos = 6;
  // Note: `pos += readCompact()` would add to the old `pos`; read the length first.
  const skip = () => { const n = readCompact(); pos += n; };
  const readCompact = () => {
    const first = b[pos++];
    if (first < 0xfd) return first;
    if (first === 0xfd) { const v = b.readUInt16LE(pos); pos += 2; return v; }
    const v = b.readUInt32LE(pos); pos += 4; return v;
  };
  const nIn = readCompact();
  for (let i = 0; i < nIn; i++) { pos += 36; skip(); pos += 4; }
  const nOut = readCompact();
  for (let i = 0; i < nOut; i++) { pos += 8; skip(); }
  const bodyEnd = pos;
  for (let i = 0; i < nIn; i++) { const items = readCompact(); for (let j = 0; j < items; j++) skip(); }
  return Buffer.concat([b.subarray(0, 4), b.subarray(6, bodyEnd), b.subarray(pos, pos + 4)]);
}

// The prevouts argument of `tx sighash` / `tx verify` for the transaction `decoded` (from tx
// decode) spending `spent` ([{scriptPubKey, amount}] in input order).
function prevoutsArg(decoded, spent) {
  return JSON.stringify(decoded.vin.map((input, i) => ({
    txid: input.txid, vout: input.vout, scriptPubKey: spent[i].scriptPubKey, amount: spent[i].amount,
  })));
}

const btcToSats = (text) => {
  const [whole, frac = ''] = text.split('.');
  return Number(whole) * 1e8 + Number((frac + '00000000').slice(0, 8));
};
const compactPrefixLength = (hex) => ({ fd: 3, fe: 5, ff: 9 }[hex.slice(0, 2)] || 1);

// ---------------------------------------------------------------------------------------------

function testTxDecode() {
  group = 'tx decode';
  const bip143 = readVectors('bip143_test_vectors.json');
  const bip341 = readVectors('bip341_wallet_vectors.json');
  const txs = [
    ...bip143.examples.map((e) => ({ hex: e.signed_tx_hex, unsigned: e.unsigned_tx_hex })),
    ...bip341.keyPathSpending.map((e) => ({ hex: e.auxiliary.fullySignedTx, unsigned: e.given.rawUnsignedTx, spent: e.given.utxosSpent })),
  ];
  for (const t of txs) {
    const r = runJson(['tx', 'decode', t.hex]);
    if (!r) continue;
    const d = r.json;
    const stripped = stripWitness(t.hex);
    check(d.txid === reverseHex(sha256d(stripped).toString('hex')), `txid ${d.txid}`);
    check(d.hash === reverseHex(sha256d(Buffer.from(t.hex, 'hex')).toString('hex')), `hash ${d.hash}`);
    // Signing fills in scriptSigs and witnesses only, so the unsigned transaction has the same
    // outpoints and outputs.
    const unsigned = runJson(['tx', 'decode', t.unsigned]);
    if (unsigned) {
      check(JSON.stringify(unsigned.json.vout) === JSON.stringify(d.vout), `outputs of signed and unsigned ${d.txid} differ`);
      check(JSON.stringify(unsigned.json.vin.map((i) => [i.txid, i.vout])) === JSON.stringify(d.vin.map((i) => [i.txid, i.vout])), `outpoints of ${d.txid} differ`);
    }
    check(d.size === t.hex.length / 2, `size ${d.size}`);
    check(d.weight === stripped.length * 3 + t.hex.length / 2, `weight ${d.weight}`);
    check(d.vsize === Math.ceil(d.weight / 4), `vsize ${d.vsize}`);
    const keys = Object.keys(d).join(',');
    check(keys === 'txid,hash,version,size,vsize,weight,locktime,vin,vout', `field order ${keys}`);
    // Values print like Core: a number with 8 decimals.
    check(/"value": \d+\.\d{8},/.test(r.text), `value format in ${r.text.slice(0, 400)}`);
  }
  // The BIP341 vectors state the addresses of their taproot outputs' scripts; and of the spent
  // P2TR outputs, the decoded type.
  for (const s of bip341.scriptPubKey) {
    const r = runJson(['address', 'encode', '--network', 'main', s.expected.scriptPubKey]);
    if (r) check(r.json.address === s.expected.bip350Address, `address of ${s.expected.scriptPubKey}: ${r.json.address}`);
  }
  // A BIP143 transaction: the P2PKH outputs and the witness of the P2WPKH input.
  const example = bip143.examples[0];
  const r = runJson(['tx', 'decode', example.signed_tx_hex]);
  if (r) {
    check(r.json.vout[0].scriptPubKey.type === 'pubkeyhash', `type ${r.json.vout[0].scriptPubKey.type}`);
    const spkKeys = Object.keys(r.json.vout[0].scriptPubKey).join(',');
    check(spkKeys === 'asm,desc,hex,address,type', `scriptPubKey field order ${spkKeys}`);
    check(r.json.vout[0].scriptPubKey.desc.startsWith(`addr(${r.json.vout[0].scriptPubKey.address})#`), `desc ${r.json.vout[0].scriptPubKey.desc}`);
    check(r.json.vout[0].scriptPubKey.asm.startsWith('OP_DUP OP_HASH160 '), `asm ${r.json.vout[0].scriptPubKey.asm}`);
    check(typeof r.json.vout[0].scriptPubKey.address === 'string' && r.json.vout[0].scriptPubKey.address.startsWith('1'), 'P2PKH mainnet address');
    const witness = r.json.vin[1].txinwitness;
    check(Array.isArray(witness) && witness[1] === example.inputs[1].public_key_hex, `witness ${JSON.stringify(witness)}`);
    check(r.json.vin[0].scriptSig.asm.endsWith('[ALL]'), `scriptSig asm ${r.json.vin[0].scriptSig.asm}`);
    check(r.json.vin[0].txinwitness === undefined, 'no txinwitness on a legacy input');
  }
}

function testTxSighash() {
  group = 'tx sighash';
  // BIP143 examples: every input with a stated sighash.
  const bip143 = readVectors('bip143_test_vectors.json');
  for (const example of bip143.examples) {
    const d = runJson(['tx', 'decode', example.signed_tx_hex]);
    if (!d) continue;
    const spent = example.inputs.map((i) => ({ scriptPubKey: i.scriptPubKey_hex, amount: btcToSats(i.amount_btc) }));
    const prevouts = prevoutsArg(d.json, spent);
    for (const input of example.inputs) {
      const cases = [];
      if (input.type === 'P2SH-P2WPKH') {
        // The unsigned transaction has no redeem script in its scriptSig to say it is segwit.
        const u = runJson(['tx', 'decode', example.unsigned_tx_hex]);
        if (u) {
          group = 'malformed';
          expectMalformed(['tx', 'sighash', example.unsigned_tx_hex, '--prevouts', prevoutsArg(u.json, spent), '--input', String(input.index)],
            /input 0: spends P2SH but its scriptSig holds no redeem script; give --script-code/);
          group = 'tx sighash';
          const code = input.scriptCode_hex.slice(compactPrefixLength(input.scriptCode_hex) * 2);
          const r = runJson(['tx', 'sighash', example.unsigned_tx_hex, '--prevouts', prevoutsArg(u.json, spent), '--input', String(input.index),
            '--sigversion', 'witness_v0', '--script-code', code]);
          if (r) check(r.json.sighash === input.sighash, `${example.name} unsigned with --script-code: ${r.json.sighash}`);
        }
      }
      // kinko derives the script code (checked against the vector's) unless an executed
      // OP_CODESEPARATOR shortens it; then the vector's script code is given.
      if (input.sighash) {
        const derived = input.witnessScript_hex === undefined || input.scriptCode_hex.endsWith(input.witnessScript_hex);
        cases.push({ sighash: input.sighash, type: input.sighash_type, code: input.scriptCode_hex, given: !derived });
      }
      for (const s of input.signatures || []) {
        if (s.sighash) cases.push({ sighash: s.sighash, type: s.sighash_type || input.sighash_type, code: s.scriptCode_hex, given: true });
      }
      for (const c of cases) {
        const args = ['tx', 'sighash', example.signed_tx_hex, '--prevouts', prevouts, '--input', String(input.index), '--hashtype', String(c.type)];
        const code = c.code ? c.code.slice(compactPrefixLength(c.code) * 2) : undefined;
        if (c.given) args.push('--script-code', code);
        const r = runJson(args);
        if (r) check(r.json.sighash === c.sighash, `${example.name} input ${input.index}: ${r.json.sighash} != ${c.sighash}`);
        if (r && code) check(r.json.script_code === code, `${example.name} input ${input.index}: script code ${r.json.script_code}`);
      }
    }
  }
  // BIP341 key path: every input of the wallet vectors, by its stated hash type.
  const bip341 = readVectors('bip341_wallet_vectors.json');
  for (const vector of bip341.keyPathSpending) {
    const txHex = vector.given.rawUnsignedTx;
    const d = runJson(['tx', 'decode', txHex]);
    if (!d) continue;
    const prevouts = prevoutsArg(d.json, vector.given.utxosSpent.map((u) => ({ scriptPubKey: u.scriptPubKey, amount: u.amountSats })));
    for (const input of vector.inputSpending) {
      const r = runJson(['tx', 'sighash', txHex, '--prevouts', prevouts, '--input', String(input.given.txinIndex), '--hashtype', String(input.given.hashType)]);
      if (!r) continue;
      check(r.json.sighash === input.intermediary.sigHash, `bip341 input ${input.given.txinIndex}: ${r.json.sighash} != ${input.intermediary.sigHash}`);
      check(r.json.sigversion === 'taproot', `bip341 sigversion ${r.json.sigversion}`);
    }
  }
  {
    const vector = bip341.keyPathSpending[0];
    const d = runJson(['tx', 'decode', vector.given.rawUnsignedTx]);
    if (d) {
      const prevouts = prevoutsArg(d.json, vector.given.utxosSpent.map((u) => ({ scriptPubKey: u.scriptPubKey, amount: u.amountSats })));
      const args = ['tx', 'sighash', vector.given.rawUnsignedTx, '--prevouts', prevouts, '--input', '0'];
      group = 'malformed';
      expectMalformed([...args, '--leaf-hash', '00'], /--leaf-hash: expected 32 bytes, got 1/);
      expectMalformed([...args, '--annex', '51'], /--annex: must start with the byte 0x50/);
      expectMalformed([...args, '--hashtype', '0x04'], /input 0: .*hash/i);
      expectMalformed([...args, '--script-code', '51'], /--script-code does not apply to taproot/);
      group = 'tx sighash';
      const t = runJson([...args, '--leaf-hash', '11'.repeat(32), '--codesep-pos', '3']);
      if (t) check(t.json.sigversion === 'tapscript' && t.json.codesep_pos === 3 && t.json.leaf_hash === '11'.repeat(32), t.text);
    }
  }
  // Legacy: Bitcoin Core's sighash.json (every 10th of its 500 cases; the interop test covers
  // many more). Its hashes are printed byte-reversed (uint256::GetHex).
  const sighash = readVectors('sighash.json').filter((v) => v.length === 5);
  for (let i = 0; i < sighash.length; i += 10) {
    const [txHex, script, index, hashType, expected] = sighash[i];
    const d = runJson(['tx', 'decode', txHex]);
    if (!d) continue;
    const prevouts = prevoutsArg(d.json, d.json.vin.map(() => ({ scriptPubKey: '', amount: 0 })));
    const r = runJson(['tx', 'sighash', txHex, '--prevouts', prevouts, '--input', String(index), '--sigversion', 'base',
      '--script-code', script, '--hashtype', '0x' + (hashType >>> 0).toString(16)]);
    if (r) check(r.json.sighash === reverseHex(expected), `sighash.json case ${i}: ${r.json.sighash} != ${reverseHex(expected)}`);
  }
}

function testAddresses() {
  group = 'address';
  const valid = readVectors('key_io_valid.json');
  for (const [address, script, meta] of valid) {
    if (meta.isPrivkey) continue;
    const network = meta.chain === 'testnet4' ? 'test' : meta.chain;
    const d = runJson(['address', 'decode', '--network', network, address]);
    if (d) {
      check(d.json.isvalid === true && d.json.scriptPubKey === script, `decode ${address}: ${d.text}`);
      check(d.json.address === address, `decode ${address} address field`);
    }
    const e = runJson(['address', 'encode', '--network', network, script]);
    if (e) check(e.json.address === address, `encode ${script} on ${network}: ${e.json.address} != ${address}`);
  }
  // Every invalid string fails on every network.
  const invalid = readVectors('key_io_invalid.json');
  for (const [text] of invalid) {
    if (text === '') continue;  // An empty argument is its own case below.
    for (const network of ['main', 'test', 'signet', 'regtest']) {
      expectMalformed(['address', 'decode', '--network', network, text], /^kinko: error: ADDRESS: /);
    }
  }
  expectMalformed(['address', 'decode', ''], /ADDRESS/);
  // Without --network: the network is found.
  const r = runJson(['address', 'decode', 'bc1p2wsldez5mud2yam29q22wgfh9439spgduvct83k3pm50fcxa5dps59h4z5']);
  if (r) {
    check(r.json.network === 'main' && r.json.type === 'p2tr' && r.json.witness_version === 1 && r.json.isscript === true, r.text);
  }
}

function testKeys() {
  group = 'key';
  const bip32 = readVectors('bip32_test_vectors.json');
  for (const vector of bip32.valid) {
    const master = vector.chains.find((c) => c.path === 'm');
    for (let i = 0; i < vector.chains.length; i++) {
      const chain = vector.chains[i];
      const keyPath = chain.path.replace(/H/g, 'h');
      const r = runJson(['key', 'derive', master.xprv, keyPath]);
      if (r) {
        check(r.json.xprv === chain.xprv, `${vector.name} ${chain.path}: xprv ${r.json.xprv}`);
        check(r.json.xpub === chain.xpub, `${vector.name} ${chain.path}: xpub ${r.json.xpub}`);
        check(r.json.depth === (chain.path.match(/\//g) || []).length, `${vector.name} ${chain.path}: depth ${r.json.depth}`);
      }
      // Public derivation of a non-hardened step from the parent's xpub.
      const last = chain.path.split('/').pop();
      if (i > 0 && /^\d+$/.test(last)) {
        const parent = vector.chains[i - 1];
        if (chain.path === `${parent.path}/${last}`) {
          const p = runJson(['key', 'derive', parent.xpub, `m/${last}`]);
          if (p) {
            check(p.json.xpub === chain.xpub && p.json.xprv === undefined, `${vector.name} ${chain.path} from xpub: ${p.text}`);
          }
        }
      }
    }
  }
  for (const invalid of bip32.invalid_extended_keys) {
    expectMalformed(['key', 'derive', invalid.key, 'm'], /^kinko: error: XKEY: /);
  }
  const master = bip32.valid[0].chains[0];
  expectMalformed(['key', 'derive', master.xprv, 'm/x'], /^kinko: error: PATH: /);
  expectMalformed(['key', 'derive', master.xpub, 'm/0h'], /^kinko: error: PATH: .*harden/i);
  // key new: a fresh master key each time.
  const a = runJson(['key', 'new']);
  const b = runJson(['key', 'new', '--network', 'test']);
  if (a && b) {
    check(a.json.xprv.startsWith('xprv') && a.json.depth === 0, a.text);
    check(b.json.xprv.startsWith('tprv') && b.json.xpub.startsWith('tpub'), b.text);
    const again = runJson(['key', 'derive', a.json.xprv, 'm']);
    if (again) check(again.json.xpub === a.json.xpub, 'key new xpub matches its xprv');
  }
  expectMalformed(['key', 'new', '--network', 'moon'], /--network/);
}

function testScripts() {
  group = 'script';
  // P2PKH scripts from key_io_valid.json: the asm names the hash; parse-asm gives the bytes back.
  const valid = readVectors('key_io_valid.json');
  for (const [, script] of valid.filter(([, s, m]) => !m.isPrivkey && /^76a914[0-9a-f]{40}88ac$/.test(s)).slice(0, 10)) {
    const hash = script.slice(6, 46);
    const r = runJson(['script', 'asm', script]);
    if (r) check(r.json.asm === `OP_DUP OP_HASH160 ${hash} OP_EQUALVERIFY OP_CHECKSIG`, `asm ${r.json.asm}`);
    const p = runJson(['script', 'parse-asm', `DUP HASH160 0x14 0x${hash} EQUALVERIFY CHECKSIG`]);
    if (p) check(p.json.hex === script, `parse-asm ${p.json.hex}`);
  }
  // Every script of Bitcoin Core's script_tests.json parses (a sample: one in 20).
  const tests = readVectors('script_tests.json').filter((t) => t.length >= 4);
  let n = 0;
  for (const t of tests) {
    const offset = Array.isArray(t[0]) ? 1 : 0;
    if (n++ % 20 !== 0) continue;
    for (const text of [t[offset], t[offset + 1]]) {
      const r = runJson(['script', 'parse-asm', text]);
      if (r) check(/^([0-9a-f]{2})*$/.test(r.json.hex), `parse-asm ${text}`);
    }
  }
  const r = runJson(['script', 'parse-asm', '1 2 ADD 3 EQUAL']);
  if (r) check(r.json.hex === '5152935387' && r.json.asm === '1 2 OP_ADD 3 OP_EQUAL', r.text);
}

// Bitcoin Core's tx_valid.json and tx_invalid.json: [[[txid, vout, scriptPubKey asm, amount?],
// ...], tx hex, flags]. tx_valid lists the flags to leave out, tx_invalid the flags to apply
// (BADTX: the transaction fails CheckTransaction).
const allFlags = ['P2SH', 'STRICTENC', 'DERSIG', 'LOW_S', 'NULLDUMMY', 'SIGPUSHONLY', 'MINIMALDATA',
  'DISCOURAGE_UPGRADABLE_NOPS', 'CLEANSTACK', 'CHECKLOCKTIMEVERIFY', 'CHECKSEQUENCEVERIFY', 'WITNESS',
  'DISCOURAGE_UPGRADABLE_WITNESS_PROGRAM', 'MINIMALIF', 'NULLFAIL', 'WITNESS_PUBKEYTYPE', 'CONST_SCRIPTCODE', 'TAPROOT',
  'DISCOURAGE_UPGRADABLE_TAPROOT_VERSION', 'DISCOURAGE_OP_SUCCESS', 'DISCOURAGE_UPGRADABLE_PUBKEYTYPE'];
function coreTxCases(file) {
  const assembled = new Map();
  const toHex = (text) => {
    if (!assembled.has(text)) {
      const r = runJson(['script', 'parse-asm', text]);
      assembled.set(text, r ? r.json.hex : null);
    }
    return assembled.get(text);
  };
  return readVectors(file).filter((t) => t.length === 3 && Array.isArray(t[0])).map(([prevouts, txHex, flags], i) => {
    const byOutpoint = new Map(prevouts.map((p) => [`${p[0]}:${p[1] === -1 ? 4294967295 : p[1]}`, p]));
    return { i, txHex, flags, byOutpoint, toHex };
  });
}
function verifyArgs(c, flags) {
  const d = run(['tx', 'decode', c.txHex]);
  if (d.code !== 0) return null;
  const decoded = JSON.parse(d.stdout);
  const entries = decoded.vin.map((input) => {
    const key = input.coinbase !== undefined ? `${'0'.repeat(64)}:4294967295` : `${input.txid}:${input.vout}`;
    const p = c.byOutpoint.get(key);
    return p ? { txid: input.txid || '0'.repeat(64), vout: input.vout === undefined ? 4294967295 : input.vout, scriptPubKey: c.toHex(p[2]), amount: p[3] || 0 } : null;
  });
  if (entries.some((e) => e === null || e.scriptPubKey === null)) return null;
  return ['tx', 'verify', c.txHex, '--prevouts', JSON.stringify(entries), '--flags', flags];
}
function testTxVerify() {
  group = 'tx verify';
  for (const c of coreTxCases('tx_valid.json')) {
    const excluded = c.flags.split(',');
    const args = verifyArgs(c, allFlags.filter((f) => !excluded.includes(f)).join(',') || 'NONE');
    if (!check(args !== null, `tx_valid case ${c.i}: cannot build the prevouts`)) continue;
    const r = runJson(args);
    if (r) check(r.json.valid === true, `tx_valid case ${c.i}: ${r.text}`);
  }
  for (const c of coreTxCases('tx_invalid.json')) {
    const d = run(['tx', 'decode', c.txHex]);
    if (d.code === 2) {
      // Not even a transaction: tx verify must say so too.
      expectMalformed(['tx', 'verify', c.txHex, '--prevouts', '[]'], /HEX/);
      continue;
    }
    const args = verifyArgs(c, c.flags === 'BADTX' ? 'NONE' : c.flags);
    if (!check(args !== null, `tx_invalid case ${c.i}: cannot build the prevouts`)) continue;
    const r = runJson(args, 1);
    if (r) {
      check(r.json.valid === false && typeof r.json.error === 'string' && typeof r.json.detail === 'string', `tx_invalid case ${c.i}: ${r.text}`);
      if (c.flags === 'BADTX') check(r.json.error === 'BADTX', `tx_invalid case ${c.i}: error ${r.json.error}`);
    }
  }
}

function testMalformed() {
  group = 'malformed';
  const bip143 = readVectors('bip143_test_vectors.json');
  const tx = bip143.examples[0].signed_tx_hex;
  expectMalformed(['tx', 'decode', 'zz'], /HEX: .*0/);
  expectMalformed(['tx', 'decode', tx.slice(0, -2)], /HEX: .*byte \d+/);
  expectMalformed(['tx', 'decode', tx + '00'], /HEX: .*byte \d+/);
  expectMalformed(['tx', 'decode', tx.slice(0, 101)], /HEX: .*(odd|length)/);
  expectMalformed(['tx', 'decode', tx, '--network', 'moon'], /--network/);
  const d = runJson(['tx', 'decode', tx]);
  if (d) {
    const spent = bip143.examples[0].inputs.map((i) => ({ scriptPubKey: i.scriptPubKey_hex, amount: btcToSats(i.amount_btc) }));
    const good = prevoutsArg(d.json, spent);
    const sighash = (prevouts, ...rest) => ['tx', 'sighash', tx, '--prevouts', prevouts, '--input', '1', ...rest];
    expectMalformed(sighash('[{"txid": '), /--prevouts: not JSON: syntax error at byte offset 10/);
    expectMalformed(sighash('{}'), /--prevouts: expected a JSON array/);
    expectMalformed(sighash(JSON.stringify(JSON.parse(good).slice(1))), /--prevouts: has 1 entries but the transaction has 2 inputs/);
    const missing = JSON.parse(good);
    delete missing[1].amount;
    expectMalformed(sighash(JSON.stringify(missing)), /--prevouts\[1\]: missing "amount"/);
    const negative = JSON.parse(good);
    negative[1].amount = -1;
    expectMalformed(sighash(JSON.stringify(negative)), /--prevouts\[1\]\.amount/);
    const wrongTxid = JSON.parse(good);
    wrongTxid[0].txid = '00'.repeat(32);
    expectMalformed(sighash(JSON.stringify(wrongTxid)), /--prevouts\[0\]: names 0{64}:0 but input 0 spends/);
    const badScript = JSON.parse(good);
    badScript[1].scriptPubKey = 'abc';
    expectMalformed(sighash(JSON.stringify(badScript)), /--prevouts\[1\]\.scriptPubKey/);
    expectMalformed(['tx', 'sighash', tx, '--prevouts', good, '--input', '2'], /--input: 2 is out of range; the transaction has 2 inputs/);
    expectMalformed(sighash(good, '--hashtype', 'all'), /--hashtype: 'all' is not a number/);
    expectMalformed(sighash(good, '--sigversion', 'v2'), /--sigversion/);
    expectMalformed(sighash(good, '--leaf-hash', '00'.repeat(32)), /--leaf-hash, --codesep-pos and --annex apply to taproot/);
    expectMalformed(['tx', 'sighash', tx, '--input', '0'], /prevouts/);
    expectMalformed(['tx', 'verify', tx, '--prevouts', '[]'], /--prevouts: has 0 entries/);
    expectMalformed(['tx', 'verify', tx, '--prevouts', good, '--flags', 'P2SH,NOPE'], /--flags: .*NOPE/);
  }
  expectMalformed(['address', 'encode', '6a0100'], /SCRIPT_HEX/);
  expectMalformed(['address', 'encode', 'xyz'], /SCRIPT_HEX/);
  expectMalformed(['script', 'asm', '4c05ab'], /HEX: push at byte 0 runs past the end of the script/);
  expectMalformed(['script', 'asm', '76a9144c'], /push at byte 2/);
  expectMalformed(['script', 'parse-asm', 'DUP FOO'], /ASM: .*FOO.*4/);
  expectMalformed([], /./);
  expectMalformed(['nonsense'], /./);
  expectMalformed(['tx'], /./);
  expectMalformed(['tx', 'decode'], /HEX/);
  expectMalformed(['tx', 'sighash', tx, '--prevouts', '[]', '--input', '-1'], /--input: '-1' is not a number/);
  expectMalformed(['tx', 'sighash', tx, '--prevouts', '[]', '--input', '99999999999999999999'], /--input: 99999999999999999999 is larger than 4294967295/);
  for (const args of [[], ['tx'], ['tx', 'decode'], ['tx', 'sighash'], ['tx', 'verify'], ['address', 'decode'], ['address', 'encode'],
    ['key', 'derive'], ['key', 'new'], ['script', 'asm'], ['script', 'parse-asm']]) {
    const r = run([...args, '--help']);
    check(r.code === 0 && r.stdout.length > 0, `kinko ${args.join(' ')} --help: exit ${r.code}`);
  }
}

function main() {
  const started = Date.now();
  testTxDecode();
  testTxSighash();
  testAddresses();
  testKeys();
  testScripts();
  testTxVerify();
  testMalformed();
  for (const [name, n] of Object.entries(groupCounts)) {
    console.log(`cli: ${name.padEnd(12)} ${n.passed} passed${n.failed ? `, ${n.failed} FAILED` : ''}`);
  }
  for (const f of failures.slice(0, 40)) console.error(`cli: FAIL ${f}`);
  if (failures.length > 40) console.error(`cli: ... and ${failures.length - 40} more`);
  console.log(`cli: ${((Date.now() - started) / 1000).toFixed(1)} s`);
  console.log(`${passed} passed, ${failures.length} failed`);
  process.exit(failures.length ? 1 : 0);
}

main();
