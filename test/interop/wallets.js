#!/usr/bin/env node
// Wallet and PSBT interoperability: random wallets of every kind kinko supports (single key as
// P2PKH, P2WPKH or P2SH-P2WPKH; 2-of-3 P2WSH; 2-of-3 P2SH-P2WSH; taproot key path, half of them
// with a script tree; taproot with a 2-of-3 multi_a or sortedmulti_a leaf) are built by kinko
// from descriptors and by an independent library from the same BIP32 keys, and must give the
// same scripts and addresses at several indexes. Each wallet then spends fake funding
// transactions (given in full) through a PSBT, the direction alternating per wallet:
// - kinko creates and updates it from the descriptor; the library's decoding of the updated
//   PSBT must show the UTXOs, scripts and key origins (BIP32 and taproot) the library computes;
//   the library signs; kinko finalizes and extracts;
// - or the library creates and updates it; kinko signs with the descriptor's xprv keys; the
//   library finalizes and extracts (bitcoinjs-lib first runs validateSignaturesOfAllInputs).
// Multisig wallets are sometimes signed by both (one key each), in turn or in parallel, the two
// PSBTs then combined by kinko and by the library. Both sides finalize the same signed PSBT, and
// both final transactions (and txids) must be byte for byte the same. Every final transaction
// must pass kinko's interpreter (VerifyTransaction, standard flags, in the oracle; and
// `kinko tx verify` when the binary has it) and the library's signature checks: each signature
// in the final scriptSig/witness verified by tiny-secp256k1 against the sighash bitcoinjs-lib
// computes, with the taproot control block checked against the output key. For the first
// wallet of each kind a changed signature byte must be rejected by both. Some library PSBTs name
// SIGHASH_ALL explicitly (taproot signatures are then 65 bytes), and kinko must refuse to sign
// one asking for ALL|ANYONECANPAY.
//
// Libraries: bitcoinjs-lib (with bip32, tiny-secp256k1) for the single-key kinds and half the
// segwit v0 multisig wallets; @scure/btc-signer for both taproot kinds (bitcoinjs-lib has no
// multi_a script-path signer or finalizer) and the other half of the multisig wallets.
//
// kinko answers through interop_wallet_oracle (JSON lines on stdin/stdout, one process).
// Usage: node wallets.js PATH_TO_INTEROP_WALLET_ORACLE [PATH_TO_KINKO]
// The wallets come from a seeded generator: the seed is printed, and KINKO_INTEROP_SEED=N
// replays a run; KINKO_INTEROP_WALLETS=N changes the number of wallets (default 250). Exits 1
// on the first disagreement, naming the wallet, the step, the seed and the differing values.
'use strict';

const { spawn, spawnSync } = require('child_process');
const nodeCrypto = require('crypto');
const fs = require('fs');
const os = require('os');
const path = require('path');
const readline = require('readline');

function load(name) {
  try {
    return require(name);
  } catch (e) {
    console.error(`interop_wallets: cannot load ${name} (${e.code || e.message}): run ` +
      'scripts/install-deps --test, which runs npm ci in test/interop');
    process.exit(1);
  }
}
const bitcoin = load('bitcoinjs-lib');
const ecc = load('tiny-secp256k1');
const { BIP32Factory } = load('bip32');
const btc = load('@scure/btc-signer');

bitcoin.initEccLib(ecc);
console.warn = () => {};
const bip32 = BIP32Factory(ecc);

const oraclePath = process.argv[2];
const kinkoPath = process.argv[3];
if (!oraclePath) {
  console.error('usage: node wallets.js PATH_TO_INTEROP_WALLET_ORACLE [PATH_TO_KINKO]');
  process.exit(2);
}

// ---------------------------------------------------------------------------------------------
// Seeded randomness: SHA-256 of (seed, counter) blocks.

function parseUint(name, text, max) {
  if (!/^[0-9]+$/.test(text) || Number(text) > max) {
    console.error(`interop_wallets: ${name} must be an integer in 0..${max}, got '${text}'`);
    process.exit(2);
  }
  return Number(text);
}
const seed = process.env.KINKO_INTEROP_SEED !== undefined
  ? parseUint('KINKO_INTEROP_SEED', process.env.KINKO_INTEROP_SEED, 0xffffffff)
  : nodeCrypto.randomBytes(4).readUInt32LE(0);
const walletCount = process.env.KINKO_INTEROP_WALLETS !== undefined
  ? parseUint('KINKO_INTEROP_WALLETS', process.env.KINKO_INTEROP_WALLETS, 100000)
  : 250;

let rngCounter = 0;
let rngPool = Buffer.alloc(0);
function randBytes(n) {
  while (rngPool.length < n) {
    const block = Buffer.alloc(12);
    block.writeUInt32LE(seed, 0);
    block.writeUInt32LE(rngCounter % 0x100000000, 4);
    block.writeUInt32LE(Math.floor(rngCounter / 0x100000000), 8);
    rngCounter++;
    rngPool = Buffer.concat([rngPool, nodeCrypto.createHash('sha256').update(block).digest()]);
  }
  const out = rngPool.subarray(0, n);
  rngPool = rngPool.subarray(n);
  return Buffer.from(out);
}
// Uniform in [lo, hi] (hi - lo < 2^32), by rejection.
function randInt(lo, hi) {
  const span = hi - lo + 1;
  const limit = Math.floor(0x100000000 / span) * span;
  for (;;) {
    const v = randBytes(4).readUInt32LE(0);
    if (v < limit) return lo + (v % span);
  }
}
const randBool = () => randInt(0, 1) === 1;
const pick = (items) => items[randInt(0, items.length - 1)];
function randPrivateKey() {
  for (;;) {
    const key = randBytes(32);
    if (ecc.isPrivate(key)) return key;
  }
}
const hex = (bytes) => Buffer.from(bytes).toString('hex');

// ---------------------------------------------------------------------------------------------
// Failure reporting.

let currentCase = '';
function fail(message) {
  console.error(`interop_wallets: FAIL (seed ${seed}) ${currentCase}: ${message}`);
  console.error(`interop_wallets: replay with KINKO_INTEROP_SEED=${seed}`);
  process.exit(1);
}
function expectEqual(what, kinkoValue, libValue) {
  if (kinkoValue !== libValue) {
    fail(`${what} differ:\n  kinko:   ${kinkoValue}\n  library: ${libValue}`);
  }
}
function attempt(what, fn) {
  try {
    return fn();
  } catch (e) {
    if (e instanceof LibraryCheckError) fail(`${what}: ${e.message}`);
    fail(`${what} threw: ${e && e.stack ? e.stack : e}`);
  }
}

// ---------------------------------------------------------------------------------------------
// The oracle: one process, requests answered in order.

const oracle = spawn(oraclePath, [], { stdio: ['pipe', 'pipe', 'inherit'] });
oracle.on('error', (e) => {
  console.error(`interop_wallets: cannot run ${oraclePath}: ${e.message}`);
  process.exit(1);
});
// The run is over only when main() says so: an oracle that dies, or a promise left unsettled,
// must never look like a pass.
let finished = false;
oracle.on('close', (code, signal) => {
  if (!finished) fail(`the oracle exited early (status ${code}, signal ${signal})`);
});
process.on('exit', (code) => {
  if (!finished && code === 0) {
    console.error(`interop_wallets: FAIL (seed ${seed}) ${currentCase}: the run stopped before the end`);
    process.exitCode = 1;
  }
});
oracle.stdin.on('error', (e) => fail(`cannot write to the oracle: ${e.message}`));
const pending = [];
readline.createInterface({ input: oracle.stdout }).on('line', (line) => {
  const waiter = pending.shift();
  if (waiter) waiter(JSON.parse(line));
});
let nextId = 0;
function ask(request) {
  const id = nextId++;
  return new Promise((resolve) => {
    pending.push((answer) => {
      if (answer.id !== id) fail(`oracle answered id ${answer.id} for request ${id}`);
      resolve(answer);
    });
    oracle.stdin.write(JSON.stringify({ ...request, id }) + '\n');
  });
}
// A request that must succeed.
async function kinko(op, fields) {
  const answer = await ask({ op, ...fields });
  if (answer.error !== undefined) fail(`kinko ${op} failed: ${answer.error}`);
  return answer;
}

// `kinko tx verify` when the binary has it (it is checked on a sample of wallets, as each call
// is a process).
const kinkoHasVerify = kinkoPath !== undefined &&
  /^\s+verify\s/m.test(spawnSync(kinkoPath, ['tx', '--help'], { encoding: 'utf8' }).stdout || '');
const tmpDir = fs.mkdtempSync(path.join(os.tmpdir(), 'kinko-wallets-'));
process.on('exit', () => fs.rmSync(tmpDir, { recursive: true, force: true }));

// ---------------------------------------------------------------------------------------------
// Networks.

const REGTEST_SCURE = { bech32: 'bcrt', pubKeyHash: 0x6f, scriptHash: 0xc4, wif: 0xef };
const NETWORKS = [
  { kinko: 'main', bjs: bitcoin.networks.bitcoin, scure: btc.NETWORK, coin: 0 },
  { kinko: 'test', bjs: bitcoin.networks.testnet, scure: btc.TEST_NETWORK, coin: 1 },
  { kinko: 'regtest', bjs: bitcoin.networks.regtest, scure: REGTEST_SCURE, coin: 1 },
];

// ---------------------------------------------------------------------------------------------
// Wallets. A cosigner is a BIP32 master from a random seed with an account key at a hardened
// path; the wallet's keys are account/branch/index.

const KINDS = ['single', 'wsh_multi', 'sh_wsh_multi', 'tr_key', 'tr_multi_a'];

function makeCosigner(network, accountPath) {
  const master = bip32.fromSeed(randBytes(32), network.bjs);
  const account = master.derivePath(accountPath);
  const origin = `${hex(master.fingerprint)}${accountPath.slice(1).replace(/'/g, 'h')}`;
  return { master, account, accountPath, origin };
}

function keyExpr(cosigner, branch, withPrivate) {
  const key = withPrivate ? cosigner.account.toBase58() : cosigner.account.neutered().toBase58();
  return `[${cosigner.origin}]${key}/${branch}/*`;
}

function childOf(cosigner, branch, index) {
  const node = cosigner.account.derive(branch).derive(index);
  return {
    pubkey: Buffer.from(node.publicKey),
    xonly: Buffer.from(node.publicKey).subarray(1, 33),
    privateKey: Buffer.from(node.privateKey),
    path: `${cosigner.accountPath}/${branch}/${index}`,
    fingerprint: Buffer.from(cosigner.master.fingerprint),
  };
}

function makeWallet(kind, number) {
  const network = pick(NETWORKS);
  const branch = randInt(0, 1);
  const w = { kind, number, network, branch };
  const c = network.coin;
  switch (kind) {
    case 'single': {
      w.script = pick(['pkh', 'wpkh', 'sh_wpkh']);
      const purpose = { pkh: 44, wpkh: 84, sh_wpkh: 49 }[w.script];
      w.cosigners = [makeCosigner(network, `m/${purpose}'/${c}'/${randInt(0, 5)}'`)];
      w.signers = [0];
      break;
    }
    case 'wsh_multi':
    case 'sh_wsh_multi': {
      const type = kind === 'wsh_multi' ? 2 : 1;
      w.cosigners = [0, 1, 2].map(() =>
        makeCosigner(network, `m/48'/${c}'/${randInt(0, 5)}'/${type}'`));
      w.sorted = randBool();
      w.signers = pick([[0, 1], [0, 2], [1, 2], [1, 0], [2, 0], [2, 1]]);
      w.split = randBool();
      w.parallel = w.split && randBool();
      break;
    }
    case 'tr_key':
      // Half the key path wallets also have a script tree (one pk() leaf of a second key that
      // does not sign): the key path signature then commits to its merkle root.
      w.cosigners = [makeCosigner(network, `m/86'/${c}'/${randInt(0, 5)}'`)];
      if (randBool()) {
        w.script = 'with_leaf';
        w.cosigners.push(makeCosigner(network, `m/86'/${c}'/${randInt(0, 5)}'`));
      }
      w.signers = [0];
      break;
    case 'tr_multi_a':
      // Cosigners 0..2 hold the leaf keys; cosigner 3 the internal key, which nobody signs with.
      w.cosigners = [0, 1, 2, 3].map(() => makeCosigner(network, `m/87'/${c}'/${randInt(0, 5)}'`));
      w.sorted = randBool();
      w.signers = pick([[0, 1], [0, 2], [1, 2], [1, 0], [2, 0], [2, 1]]);
      w.split = randBool();
      w.parallel = w.split && randBool();
      break;
    default:
      throw new Error(`unknown kind ${kind}`);
  }
  // Library: bitcoinjs-lib for segwit v0 and legacy (scure on alternate multisig wallets),
  // @scure/btc-signer for taproot.
  if (kind === 'tr_key' || kind === 'tr_multi_a') w.lib = 'scure';
  else if (kind === 'single') w.lib = 'bitcoinjs';
  else w.lib = number % 4 < 2 ? 'bitcoinjs' : 'scure';
  // Sometimes all three multisig keys sign (not split): both finalizers must then pick two
  // signatures (CHECKMULTISIG and multi_a's NUMEQUAL fail with three). Only with
  // @scure/btc-signer: bitcoinjs-lib's finalizer refuses more than m signatures.
  if (w.lib === 'scure' && w.signers.length === 2 && !w.split && randInt(0, 2) === 0) {
    w.signers = [0, 1, 2];
    w.allSign = true;
  }
  // Direction: who creates, updates and finalizes; the other signs.
  w.creator = number % 2 === 0 ? 'kinko' : w.lib;
  return w;
}

// The wallet's descriptor, with xprv keys for the cosigners in `privateKeys` (xpub elsewhere).
function descriptorOf(w, privateKeys) {
  const k = (i) => keyExpr(w.cosigners[i], w.branch, privateKeys.includes(i));
  switch (w.kind) {
    case 'single':
      if (w.script === 'pkh') return `pkh(${k(0)})`;
      if (w.script === 'wpkh') return `wpkh(${k(0)})`;
      return `sh(wpkh(${k(0)}))`;
    case 'wsh_multi':
    case 'sh_wsh_multi': {
      const multi = `${w.sorted ? 'sortedmulti' : 'multi'}(2,${k(0)},${k(1)},${k(2)})`;
      return w.kind === 'wsh_multi' ? `wsh(${multi})` : `sh(wsh(${multi}))`;
    }
    case 'tr_key':
      return w.script === 'with_leaf' ? `tr(${k(0)},pk(${k(1)}))` : `tr(${k(0)})`;
    case 'tr_multi_a':
      return `tr(${k(3)},${w.sorted ? 'sortedmulti_a' : 'multi_a'}(2,${k(0)},${k(1)},${k(2)}))`;
    default:
      throw new Error(`unknown kind ${w.kind}`);
  }
}

// The library's view of the wallet at `index`: output script, address, and what its PSBT
// inputs need.
function libraryAddress(w, index) {
  const keys = w.cosigners.map((cs) => childOf(cs, w.branch, index));
  const net = w.network;
  const out = { keys };
  if (w.kind === 'single') {
    const pubkey = keys[0].pubkey;
    let p;
    if (w.script === 'pkh') p = bitcoin.payments.p2pkh({ pubkey, network: net.bjs });
    if (w.script === 'wpkh') p = bitcoin.payments.p2wpkh({ pubkey, network: net.bjs });
    if (w.script === 'sh_wpkh') {
      p = bitcoin.payments.p2sh({
        redeem: bitcoin.payments.p2wpkh({ pubkey, network: net.bjs }), network: net.bjs,
      });
      out.redeemScript = p.redeem.output;
    }
    out.script = p.output;
    out.address = p.address;
    out.multisigKeys = [keys[0]];
    return out;
  }
  if (w.kind === 'wsh_multi' || w.kind === 'sh_wsh_multi') {
    let ordered = keys.slice(0, 3);
    if (w.sorted) ordered = ordered.slice().sort((a, b) => Buffer.compare(a.pubkey, b.pubkey));
    out.multisigKeys = ordered;
    if (w.lib === 'bitcoinjs') {
      const ms = bitcoin.payments.p2ms({ m: 2, pubkeys: ordered.map((x) => x.pubkey), network: net.bjs });
      const wsh = bitcoin.payments.p2wsh({ redeem: ms, network: net.bjs });
      out.witnessScript = wsh.redeem.output;
      if (w.kind === 'wsh_multi') {
        out.script = wsh.output;
        out.address = wsh.address;
      } else {
        const sh = bitcoin.payments.p2sh({ redeem: wsh, network: net.bjs });
        out.redeemScript = wsh.output;
        out.script = sh.output;
        out.address = sh.address;
      }
    } else {
      const ms = btc.p2ms(2, ordered.map((x) => x.pubkey));
      const wsh = btc.p2wsh(ms, net.scure);
      out.witnessScript = Buffer.from(ms.script);
      if (w.kind === 'wsh_multi') {
        out.script = Buffer.from(wsh.script);
        out.address = wsh.address;
      } else {
        const sh = btc.p2sh(wsh, net.scure);
        out.redeemScript = Buffer.from(wsh.script);
        out.script = Buffer.from(sh.script);
        out.address = sh.address;
      }
    }
    return out;
  }
  if (w.kind === 'tr_key') {
    out.tapInternalKey = keys[0].xonly;
    if (w.script === 'with_leaf') {
      const leaf = btc.p2tr_pk(keys[1].xonly);
      const p = btc.p2tr(keys[0].xonly, { script: leaf.script }, net.scure);
      out.script = Buffer.from(p.script);
      out.address = p.address;
      out.tapMerkleRoot = Buffer.from(p.tapMerkleRoot);
      out.tapLeafScript = p.tapLeafScript;
      out.leafHash = tapLeafHash(leaf.script);
      return out;
    }
    const p = btc.p2tr(keys[0].xonly, undefined, net.scure);
    out.script = Buffer.from(p.script);
    out.address = p.address;
    return out;
  }
  // tr_multi_a
  let ordered = keys.slice(0, 3);
  if (w.sorted) ordered = ordered.slice().sort((a, b) => Buffer.compare(a.xonly, b.xonly));
  out.multisigKeys = ordered;
  const leaf = btc.p2tr_ms(2, ordered.map((x) => x.xonly));
  const p = btc.p2tr(keys[3].xonly, { script: leaf.script }, net.scure);
  out.script = Buffer.from(p.script);
  out.address = p.address;
  out.tapInternalKey = keys[3].xonly;
  out.tapMerkleRoot = Buffer.from(p.tapMerkleRoot);
  out.tapLeafScript = p.tapLeafScript;
  out.leafScript = Buffer.from(leaf.script);
  out.leafHash = tapLeafHash(leaf.script);
  return out;
}

function tapLeafHash(script) {
  return bitcoin.crypto.taggedHash('TapLeaf',
    Buffer.concat([Buffer.from([0xc0]), varint(script.length), Buffer.from(script)]));
}

function varint(n) {
  if (n < 0xfd) return Buffer.from([n]);
  const b = Buffer.alloc(3);
  b[0] = 0xfd;
  b.writeUInt16LE(n, 1);
  return b;
}

// ---------------------------------------------------------------------------------------------
// Transactions.

function randomOutputScript() {
  switch (randInt(0, 3)) {
    case 0: return Buffer.concat([Buffer.from([0x76, 0xa9, 0x14]), randBytes(20), Buffer.from([0x88, 0xac])]);
    case 1: return Buffer.concat([Buffer.from([0xa9, 0x14]), randBytes(20), Buffer.from([0x87])]);
    case 2: return Buffer.concat([Buffer.from([0x00, 0x14]), randBytes(20)]);
    default: {
      const x = Buffer.from(ecc.pointFromScalar(randPrivateKey(), true)).subarray(1, 33);
      return Buffer.concat([Buffer.from([0x51, 0x20]), x]);
    }
  }
}

// A fake funding transaction paying `amount` to `script` at a random output.
function fundingTx(script, amount) {
  const tx = new bitcoin.Transaction();
  tx.version = pick([1, 2]);
  tx.addInput(randBytes(32), randInt(0, 5), 0xffffffff, Buffer.from([0x51]));
  const outputs = randInt(1, 3);
  const vout = randInt(0, outputs - 1);
  for (let i = 0; i < outputs; i++) {
    if (i === vout) tx.addOutput(script, amount);
    else tx.addOutput(randomOutputScript(), randInt(1000, 5000000));
  }
  return { tx, vout };
}

// ---------------------------------------------------------------------------------------------
// The library's checks of a final transaction: every signature in every input is verified with
// tiny-secp256k1 against the sighash bitcoinjs-lib computes, and the scripts match the wallet.

class LibraryCheckError extends Error {}
function bad(message) {
  throw new LibraryCheckError(message);
}

// Throws LibraryCheckError naming the input and the problem.
function checkFinalTx(txHex, prevouts, w) {
  const tx = bitcoin.Transaction.fromHex(txHex);
  const scripts = prevouts.map((p) => p.script);
  const values = prevouts.map((p) => p.value);
  const decodeSig = (sig) => bitcoin.script.signature.decode(sig);
  const checkEcdsa = (i, hash, pubkey, sig, what) => {
    if (!ecc.verify(hash, pubkey, sig)) bad(`input ${i}: ${what}: library rejects a signature`);
  };
  const checkMultisig = (i, items, witnessScript, value) => {
    const chunks = bitcoin.script.decompile(witnessScript);
    const m = chunks[0] - 0x50;
    const pubkeys = chunks.slice(1, chunks.length - 2);
    if (items.length !== 1 + m || items[0].length !== 0) {
      bad(`input ${i}: multisig witness has ${items.length} items before the script, want ${1 + m}`);
    }
    let k = 0;
    for (const raw of items.slice(1)) {
      const { signature, hashType } = decodeSig(raw);
      const hash = tx.hashForWitnessV0(i, witnessScript, value, hashType);
      while (k < pubkeys.length && !ecc.verify(hash, pubkeys[k], signature)) k++;
      if (k === pubkeys.length) bad(`input ${i}: multisig signature matches no remaining key`);
      k++;
    }
  };
  tx.ins.forEach((input, i) => {
    const prev = scripts[i];
    const type = bitcoin.script.toASM(prev).split(' ');
    if (prev.length === 25 && prev[0] === 0x76) {
      const [rawSig, pubkey] = bitcoin.script.decompile(input.script);
      const { signature, hashType } = decodeSig(rawSig);
      checkEcdsa(i, tx.hashForSignature(i, prev, hashType), pubkey, signature, 'p2pkh');
      return;
    }
    let program = prev;
    if (prev.length === 23 && prev[0] === 0xa9) {
      const pushes = bitcoin.script.decompile(input.script);
      program = pushes[pushes.length - 1];
      const h = bitcoin.crypto.hash160(program);
      if (!h.equals(prev.subarray(2, 22))) bad(`input ${i}: redeem script does not hash to the P2SH`);
    } else if (input.script.length !== 0) {
      bad(`input ${i}: segwit input with a scriptSig`);
    }
    const wit = input.witness;
    if (program.length === 22 && program[0] === 0) {
      const [rawSig, pubkey] = wit;
      if (!bitcoin.crypto.hash160(pubkey).equals(program.subarray(2))) bad(`input ${i}: wrong key`);
      const { signature, hashType } = decodeSig(rawSig);
      const code = bitcoin.payments.p2pkh({ hash: program.subarray(2) }).output;
      checkEcdsa(i, tx.hashForWitnessV0(i, code, values[i], hashType), pubkey, signature, 'p2wpkh');
    } else if (program.length === 34 && program[0] === 0) {
      const ws = wit[wit.length - 1];
      if (!bitcoin.crypto.sha256(ws).equals(program.subarray(2))) bad(`input ${i}: wrong witness script`);
      checkMultisig(i, wit.slice(0, wit.length - 1), ws, values[i]);
    } else if (program.length === 34 && program[0] === 0x51) {
      const outputKey = program.subarray(2);
      if (wit.length === 1) {
        const sig = wit[0];
        const hashType = sig.length === 65 ? sig[64] : 0;
        const hash = tx.hashForWitnessV1(i, scripts, values, hashType);
        if (!ecc.verifySchnorr(hash, outputKey, sig.subarray(0, 64))) {
          bad(`input ${i}: library rejects the key path signature`);
        }
        if (w.kind !== 'tr_key') bad(`input ${i}: key path spend of a ${w.kind} wallet`);
        return;
      }
      const control = wit[wit.length - 1];
      const leafScript = wit[wit.length - 2];
      const leafVersion = control[0] & 0xfe;
      const leafHash = bitcoin.crypto.taggedHash('TapLeaf',
        Buffer.concat([Buffer.from([leafVersion]), varint(leafScript.length), leafScript]));
      let node = leafHash;
      for (let p = 33; p < control.length; p += 32) {
        const sibling = control.subarray(p, p + 32);
        node = bitcoin.crypto.taggedHash('TapBranch', Buffer.compare(node, sibling) < 0
          ? Buffer.concat([node, sibling]) : Buffer.concat([sibling, node]));
      }
      const internal = control.subarray(1, 33);
      const tweak = bitcoin.crypto.taggedHash('TapTweak', Buffer.concat([internal, node]));
      const tweaked = ecc.xOnlyPointAddTweak(internal, tweak);
      if (!tweaked || !Buffer.from(tweaked.xOnlyPubkey).equals(outputKey) ||
          tweaked.parity !== (control[0] & 1)) {
        bad(`input ${i}: control block does not commit to the output key`);
      }
      // multi_a: K1 CHECKSIG K2 CHECKSIGADD ... m NUMEQUAL; the witness holds the signatures
      // for the last key first.
      const chunks = bitcoin.script.decompile(leafScript);
      const pubkeys = chunks.filter((c) => Buffer.isBuffer(c) && c.length === 32);
      const sigs = wit.slice(0, wit.length - 2).reverse();
      if (sigs.length !== pubkeys.length) bad(`input ${i}: ${sigs.length} multi_a witness items`);
      let valid = 0;
      sigs.forEach((sig, k) => {
        if (sig.length === 0) return;
        const hashType = sig.length === 65 ? sig[64] : 0;
        const hash = tx.hashForWitnessV1(i, scripts, values, hashType, leafHash);
        if (!ecc.verifySchnorr(hash, pubkeys[k], sig.subarray(0, 64))) {
          bad(`input ${i}: library rejects the multi_a signature of key ${k}`);
        }
        valid++;
      });
      if (valid !== 2) bad(`input ${i}: ${valid} multi_a signatures, want 2`);
    } else {
      bad(`input ${i}: unexpected spent script ${type.join(' ')}`);
    }
  });
}

// ---------------------------------------------------------------------------------------------
// The library's roles.

const ecdsaValidator = (pubkey, msghash, signature) => ecc.verify(msghash, pubkey, signature);

// bitcoinjs-lib creator and updater.
function bjsCreate(w, spend) {
  const psbt = new bitcoin.Psbt({ network: w.network.bjs });
  psbt.setVersion(spend.version);
  psbt.setLocktime(spend.locktime);
  spend.inputs.forEach((input) => {
    const a = input.lib;
    const fields = {
      hash: input.prev.tx.getId(),
      index: input.prev.vout,
      sequence: input.sequence,
      nonWitnessUtxo: input.prev.tx.toBuffer(),
      bip32Derivation: a.multisigKeys.map((k) => ({
        masterFingerprint: k.fingerprint, path: k.path, pubkey: k.pubkey,
      })),
    };
    if (!(w.kind === 'single' && w.script === 'pkh')) {
      fields.witnessUtxo = { script: a.script, value: input.amount };
    }
    if (a.redeemScript) fields.redeemScript = a.redeemScript;
    if (a.witnessScript) fields.witnessScript = a.witnessScript;
    if (spend.sighashType !== undefined) fields.sighashType = spend.sighashType;
    psbt.addInput(fields);
  });
  spend.outputs.forEach((o) => psbt.addOutput({ script: o.script, value: o.value }));
  return psbt.toBase64();
}

// @scure/btc-signer creator and updater.
function scureCreate(w, spend) {
  const tx = new btc.Transaction({ version: spend.version, lockTime: spend.locktime });
  spend.inputs.forEach((input) => {
    const a = input.lib;
    const fields = {
      txid: input.prev.tx.getId(),
      index: input.prev.vout,
      sequence: input.sequence,
      witnessUtxo: { script: a.script, amount: BigInt(input.amount) },
    };
    const der = (k) => ({ fingerprint: k.fingerprint.readUInt32BE(0), path: btc.bip32Path(k.path) });
    if (w.kind === 'tr_key' || w.kind === 'tr_multi_a') {
      // Taproot: the full previous transaction is optional; give it on half the inputs.
      if (randBool()) fields.nonWitnessUtxo = input.prev.tx.toBuffer();
      fields.tapInternalKey = a.tapInternalKey;
      if (w.kind === 'tr_key') {
        fields.tapBip32Derivation = [[a.keys[0].xonly, { hashes: [], der: der(a.keys[0]) }]];
        if (w.script === 'with_leaf') {
          fields.tapMerkleRoot = a.tapMerkleRoot;
          fields.tapLeafScript = a.tapLeafScript;
          fields.tapBip32Derivation.push(
            [a.keys[1].xonly, { hashes: [a.leafHash], der: der(a.keys[1]) }]);
        }
      } else {
        fields.tapMerkleRoot = a.tapMerkleRoot;
        fields.tapLeafScript = a.tapLeafScript;
        fields.tapBip32Derivation = [
          [a.keys[3].xonly, { hashes: [], der: der(a.keys[3]) }],
          ...a.multisigKeys.map((k) => [k.xonly, { hashes: [a.leafHash], der: der(k) }]),
        ];
      }
    } else {
      fields.nonWitnessUtxo = input.prev.tx.toBuffer();
      fields.bip32Derivation = a.multisigKeys.map((k) => [k.pubkey, der(k)]);
      if (a.redeemScript) fields.redeemScript = a.redeemScript;
      if (a.witnessScript) fields.witnessScript = a.witnessScript;
    }
    if (spend.sighashType !== undefined) fields.sighashType = spend.sighashType;
    tx.addInput(fields);
  });
  spend.outputs.forEach((o) => tx.addOutput({ script: o.script, amount: BigInt(o.value) }));
  return Buffer.from(tx.toPSBT(0)).toString('base64');
}

// The library signer: signs every input with the keys of the cosigners in `signers`.
function libSign(w, spend, psbtBase64, signers) {
  if (w.lib === 'bitcoinjs') {
    const psbt = bitcoin.Psbt.fromBase64(psbtBase64, { network: w.network.bjs });
    for (const s of signers) psbt.signAllInputsHD(w.cosigners[s].master);
    if (!psbt.validateSignaturesOfAllInputs(ecdsaValidator)) {
      fail('bitcoinjs rejects its own signatures');
    }
    return psbt.toBase64();
  }
  const tx = btc.Transaction.fromPSBT(Buffer.from(psbtBase64, 'base64'));
  spend.inputs.forEach((input, i) => {
    for (const s of signers) {
      const named = tx.getInput(i).sighashType;
      const allowed = named === undefined ? undefined : [named];
      if (!tx.signIdx(input.lib.keys[s].privateKey, i, allowed)) {
        fail(`scure signed nothing on input ${i}`);
      }
    }
  });
  return Buffer.from(tx.toPSBT(0)).toString('base64');
}

// Canonical text of a PSBT field value as @scure/btc-signer decodes it (bytes as hex, maps and
// lists sorted), to compare kinko's updater output with what the library computes.
function canon(value) {
  if (value instanceof Uint8Array) return hex(value);
  if (typeof value === 'bigint') return value.toString();
  if (Array.isArray(value)) return `[${value.map(canon).join(',')}]`;
  if (value && typeof value === 'object') {
    return `{${Object.keys(value).sort().map((k) => `${k}:${canon(value[k])}`).join(',')}}`;
  }
  return String(value);
}
const canonSet = (entries) => `[${entries.map(canon).sort().join(',')}]`;

// Checks, in @scure/btc-signer's decoding, that kinko's updater gave each input (and the change
// output) the UTXOs, scripts and key origins the library computes for the wallet.
function checkKinkoUpdate(w, spend, psbtBase64) {
  const tx = btc.Transaction.fromPSBT(Buffer.from(psbtBase64, 'base64'));
  const der = (k) => ({ fingerprint: k.fingerprint.readUInt32BE(0), path: btc.bip32Path(k.path) });
  const same = (what, got, want) => {
    if (got !== want) fail(`kinko's updater: ${what}:\n  kinko:   ${got}\n  library: ${want}`);
  };
  const taproot = w.kind === 'tr_key' || w.kind === 'tr_multi_a';
  spend.inputs.forEach((input, i) => {
    const a = input.lib;
    const got = tx.getInput(i);
    same(`input ${i} non_witness_utxo`, got.nonWitnessUtxo ? hex(btc.RawTx.encode(got.nonWitnessUtxo)) : '',
      input.prev.tx.toHex());
    const segwit = w.script !== 'pkh';
    same(`input ${i} witness_utxo`, canon(got.witnessUtxo),
      segwit ? canon({ script: a.script, amount: BigInt(input.amount) }) : 'undefined');
    same(`input ${i} redeem_script`, canon(got.redeemScript), canon(a.redeemScript));
    same(`input ${i} witness_script`, canon(got.witnessScript), canon(a.witnessScript));
    if (!taproot) {
      same(`input ${i} bip32_derivation`, canonSet(got.bip32Derivation || []),
        canonSet(a.multisigKeys.map((k) => [k.pubkey, der(k)])));
      return;
    }
    same(`input ${i} tap_internal_key`, canon(got.tapInternalKey), canon(a.tapInternalKey));
    same(`input ${i} tap_merkle_root`, canon(got.tapMerkleRoot), canon(a.tapMerkleRoot));
    same(`input ${i} tap_leaf_script`, canonSet(got.tapLeafScript || []),
      canonSet(a.tapLeafScript || []));
    let want;
    if (w.kind === 'tr_key') {
      want = [[a.keys[0].xonly, { hashes: [], der: der(a.keys[0]) }]];
      if (w.script === 'with_leaf') {
        want.push([a.keys[1].xonly, { hashes: [a.leafHash], der: der(a.keys[1]) }]);
      }
    } else {
      want = [[a.keys[3].xonly, { hashes: [], der: der(a.keys[3]) }],
        ...a.multisigKeys.map((k) => [k.xonly, { hashes: [a.leafHash], der: der(k) }])];
    }
    same(`input ${i} tap_bip32_derivation`, canonSet(got.tapBip32Derivation || []), canonSet(want));
  });
  if (spend.change !== undefined && !taproot) {
    const a = spend.change.lib;
    const got = tx.getOutput(spend.change.position);
    same('change output redeem_script', canon(got.redeemScript), canon(a.redeemScript));
    same('change output witness_script', canon(got.witnessScript), canon(a.witnessScript));
    same('change output bip32_derivation', canonSet(got.bip32Derivation || []),
      canonSet(a.multisigKeys.map((k) => [k.pubkey, der(k)])));
  }
}

// The library combiner.
function libCombine(w, first, second) {
  if (w.lib === 'bitcoinjs') {
    const psbt = bitcoin.Psbt.fromBase64(first, { network: w.network.bjs });
    psbt.combine(bitcoin.Psbt.fromBase64(second, { network: w.network.bjs }));
    return psbt.toBase64();
  }
  return Buffer.from(btc.PSBTCombine([Buffer.from(first, 'base64'), Buffer.from(second, 'base64')]))
    .toString('base64');
}

// The library finalizer and extractor: the final transaction's hex and txid.
function libFinalize(w, psbtBase64) {
  if (w.lib === 'bitcoinjs') {
    const psbt = bitcoin.Psbt.fromBase64(psbtBase64, { network: w.network.bjs });
    if (!psbt.validateSignaturesOfAllInputs(ecdsaValidator)) {
      fail('bitcoinjs validateSignaturesOfAllInputs rejects the signatures kinko made');
    }
    psbt.finalizeAllInputs();
    const tx = psbt.extractTransaction(true);
    return { hex: tx.toHex(), txid: tx.getId() };
  }
  const tx = btc.Transaction.fromPSBT(Buffer.from(psbtBase64, 'base64'));
  tx.finalize();
  return { hex: hex(tx.extract()), txid: tx.id };
}

// The library's extractor on a PSBT finalized by kinko.
function libExtract(w, psbtBase64) {
  if (w.lib === 'bitcoinjs') {
    const tx = bitcoin.Psbt.fromBase64(psbtBase64, { network: w.network.bjs }).extractTransaction(true);
    return { hex: tx.toHex(), txid: tx.getId() };
  }
  const tx = btc.Transaction.fromPSBT(Buffer.from(psbtBase64, 'base64'));
  return { hex: hex(tx.extract()), txid: tx.id };
}

// ---------------------------------------------------------------------------------------------
// One wallet.

const counts = {};
let cliVerified = 0;
let negatives = 0;
let sighashRefusals = 0;
let explicitSighash = 0;

// `txHex` with one byte of a signature of its last input changed.
function tamperedTx(txHex) {
  const tx = bitcoin.Transaction.fromHex(txHex);
  const input = tx.ins[tx.ins.length - 1];
  let sig;
  if (input.witness.length > 0) {
    sig = input.witness.find((item) => item.length >= 64 && item.length <= 73);
  } else {
    sig = bitcoin.script.decompile(input.script)[0];
  }
  if (!Buffer.isBuffer(sig)) fail('no signature found to change in the final transaction');
  const changed = Buffer.from(sig);
  changed[10] ^= 0x01;
  return txHex.replace(hex(sig), hex(changed));
}

async function runWallet(w) {
  const network = w.network.kinko;
  // Who signs: the side that does not create, or, for a split multisig, the creator with the
  // first key and the other side with the second.
  const creatorSigners = w.split ? [w.signers[0]] : [];
  const otherSigners = w.split ? [w.signers[1]] : w.signers;
  const kinkoSigners = w.creator === 'kinko' ? creatorSigners : otherSigners;
  const libSigners = w.creator === 'kinko' ? otherSigners : creatorSigners;
  const publicDescriptor = descriptorOf(w, []);
  const privateDescriptor = descriptorOf(w, w.signers);
  const kinkoDescriptor = descriptorOf(w, kinkoSigners);
  currentCase = `wallet ${w.number} (${w.kind}${w.script ? '/' + w.script : ''}` +
    `${w.sorted ? '/sorted' : ''}, ${network}, ${w.lib}, creator ${w.creator}` +
    `${w.split ? ', split signing' : ''}) ${publicDescriptor}`;

  // 1. Addresses at several indexes, from the public and the private descriptor.
  const indexes = [];
  while (indexes.length < 3) {
    const n = randBool() ? randInt(0, 20) : randInt(0, 0x7fffffff);
    if (!indexes.includes(n)) indexes.push(n);
  }
  const lib = {};
  for (const index of indexes) {
    lib[index] = attempt('library address', () => libraryAddress(w, index));
    const mine = await kinko('derive', { descriptor: publicDescriptor, network, index });
    expectEqual(`scriptPubKey at index ${index}`, mine.script, hex(lib[index].script));
    expectEqual(`address at index ${index}`, mine.address, lib[index].address);
    const priv = await kinko('derive', { descriptor: privateDescriptor, network, index });
    expectEqual(`private descriptor's scriptPubKey at index ${index}`, priv.script, mine.script);
    expectEqual('public form of the private descriptor', priv.descriptor.split('#')[0],
      mine.descriptor.split('#')[0]);
  }

  // 2. Fund the wallet and spend.
  const inputs = [];
  const inputCount = randInt(1, 3);
  for (let i = 0; i < inputCount; i++) {
    const index = pick(indexes);
    const amount = randInt(20000, 200000000);
    inputs.push({
      index, amount, lib: lib[index], prev: fundingTx(lib[index].script, amount),
      sequence: pick([0xffffffff, 0xfffffffe, 0xfffffffd]),
    });
  }
  const total = inputs.reduce((s, x) => s + x.amount, 0);
  const outputCount = randInt(1, 3);
  let left = total - randInt(1000, 10000);
  const outputs = [];
  for (let i = 0; i < outputCount; i++) {
    const value = i === outputCount - 1 ? left : randInt(546, Math.floor(left / 2));
    left -= value;
    outputs.push({ script: randomOutputScript(), value });
  }
  const spend = { version: 2, locktime: pick([0, randInt(1, 800000)]), inputs, outputs };
  // Half the spends pay change back to the wallet, at one of its indexes.
  if (randBool()) {
    const position = randInt(0, outputs.length - 1);
    const index = pick(indexes);
    outputs[position].script = lib[index].script;
    spend.change = { position, lib: lib[index] };
  }
  const unsigned = new bitcoin.Transaction();
  unsigned.version = spend.version;
  unsigned.locktime = spend.locktime;
  inputs.forEach((x) => unsigned.addInput(x.prev.tx.getHash(), x.prev.vout, x.sequence));
  outputs.forEach((o) => unsigned.addOutput(o.script, o.value));
  const prevouts = inputs.map((x) => ({ script: x.lib.script, value: x.amount }));

  let signed;
  let final;
  if (w.creator === 'kinko') {
    const created = await kinko('create', { tx: unsigned.toHex() });
    const updated = await kinko('update', {
      psbt: created.psbt, descriptor: publicDescriptor, network, indices: indexes,
      prev_txs: inputs.map((x) => x.prev.tx.toHex()),
    });
    attempt('checking the updated PSBT', () => checkKinkoUpdate(w, spend, updated.psbt));
    let toSign = updated.psbt;
    if (kinkoSigners.length > 0) {
      const first = await kinko('sign', { psbt: toSign, descriptor: kinkoDescriptor, network });
      expectEqual('signatures kinko added', first.signatures_added, inputs.length);
      if (w.parallel) {
        // Both sign the updated PSBT; each side combines the two.
        const theirs = attempt(`${w.lib} signing kinko's PSBT`,
          () => libSign(w, spend, updated.psbt, libSigners));
        signed = (await kinko('combine', { psbts: [first.psbt, theirs] })).psbt;
        const libCombined = attempt(`${w.lib} combining`, () => libCombine(w, theirs, first.psbt));
        const a = await kinko('finalize', { psbt: libCombined });
        if (!a.complete) fail('kinko cannot finalize the PSBT the library combined');
        const b = await kinko('finalize', { psbt: signed });
        expectEqual('final transaction (kinko combine vs library combine)',
          (await kinko('extract', { psbt: a.psbt })).tx, (await kinko('extract', { psbt: b.psbt })).tx);
      } else {
        toSign = first.psbt;
      }
    }
    if (!signed) {
      signed = attempt(`${w.lib} signing kinko's PSBT`, () => libSign(w, spend, toSign, libSigners));
    }
    const finalized = await kinko('finalize', { psbt: signed });
    if (!finalized.complete) fail('kinko cannot finalize the PSBT the library signed');
    final = await kinko('extract', { psbt: finalized.psbt });
    const theirs = attempt(`${w.lib} extracting kinko's final PSBT`, () => libExtract(w, finalized.psbt));
    expectEqual('final transaction (kinko extract vs library extract)', final.tx, theirs.hex);
    expectEqual('txid', final.txid, theirs.txid);
    const ours = attempt(`${w.lib} finalizing the same signed PSBT`, () => libFinalize(w, signed));
    expectEqual('final transaction (kinko finalizer vs library finalizer)', final.tx, ours.hex);
  } else {
    // A third of the library's PSBTs name SIGHASH_ALL explicitly (PSBT_IN_SIGHASH_TYPE): taproot
    // signatures are then 65 bytes. Before, kinko must refuse to sign one that asks for
    // ALL|ANYONECANPAY (it allows only ALL and taproot's DEFAULT).
    if (libSigners.length === 0 && w.number % 3 === 0) {
      const risky = attempt(`${w.lib} creating the PSBT`, () => (w.lib === 'bitcoinjs'
        ? bjsCreate(w, { ...spend, sighashType: 0x81 }) : scureCreate(w, { ...spend, sighashType: 0x81 })));
      const refused = await ask({ op: 'sign', psbt: risky, descriptor: kinkoDescriptor, network });
      if (refused.error === undefined) fail('kinko signed a PSBT asking for SIGHASH_ALL|ANYONECANPAY');
      sighashRefusals++;
    }
    if (w.number % 3 === 1) spend.sighashType = 0x01;
    let created = attempt(`${w.lib} creating the PSBT`,
      () => (w.lib === 'bitcoinjs' ? bjsCreate(w, spend) : scureCreate(w, spend)));
    let libSigned;
    if (libSigners.length > 0) {
      libSigned = attempt(`${w.lib} signing first`, () => libSign(w, spend, created, libSigners));
      if (!w.parallel) created = libSigned;
    }
    const result = await kinko('sign', { psbt: created, descriptor: kinkoDescriptor, network });
    if (!w.parallel && !result.complete) {
      fail(`kinko signed ${result.signatures_added} signatures, PSBT not complete`);
    }
    const wantSigs = inputs.length * kinkoSigners.length;
    expectEqual('signatures kinko added', result.signatures_added, wantSigs);
    signed = result.psbt;
    if (w.parallel) {
      // Both signed the created PSBT; the library combines, and kinko's combination must give
      // the same final transaction.
      signed = attempt(`${w.lib} combining`, () => libCombine(w, libSigned, result.psbt));
      const combined = await kinko('combine', { psbts: [result.psbt, libSigned] });
      const b = await kinko('finalize', { psbt: combined.psbt });
      if (!b.complete) fail('kinko cannot finalize the PSBT it combined');
      const c = await kinko('finalize', { psbt: signed });
      if (!c.complete) fail('kinko cannot finalize the PSBT the library combined');
      expectEqual('final transaction (kinko combine vs library combine)',
        (await kinko('extract', { psbt: b.psbt })).tx, (await kinko('extract', { psbt: c.psbt })).tx);
    }
    const theirs = attempt(`${w.lib} finalizing kinko's signatures`, () => libFinalize(w, signed));
    const finalized = await kinko('finalize', { psbt: signed });
    if (!finalized.complete) fail('kinko cannot finalize the PSBT it signed');
    final = await kinko('extract', { psbt: finalized.psbt });
    expectEqual('final transaction (library finalizer vs kinko finalizer)', theirs.hex, final.tx);
    expectEqual('txid', theirs.txid, final.txid);
  }
  // Native segwit spends keep the txid of the unsigned transaction (P2PKH and P2SH-wrapped
  // spends fill the scriptSig, which the txid covers).
  if (w.kind !== 'sh_wsh_multi' && w.script !== 'pkh' && w.script !== 'sh_wpkh') {
    expectEqual('txid of the final transaction vs the unsigned one', final.txid, unsigned.getId());
  }

  // 3. Verification by both.
  const verdict = await kinko('verify', {
    tx: final.tx, prevouts: prevouts.map((p) => ({ script: hex(p.script), amount: p.value })),
  });
  if (!verdict.valid) fail(`kinko's interpreter rejects the final transaction: ${verdict.detail}`);
  attempt('library signature checks', () => checkFinalTx(final.tx, prevouts, w));
  // `kinko tx verify`: status 0 and {"valid": true} for a valid transaction, status 1 and
  // {"valid": false, ...} for an invalid one.
  const cliVerify = (txHex, wantValid) => {
    const file = path.join(tmpDir, 'prevouts.json');
    fs.writeFileSync(file, JSON.stringify(inputs.map((x) => ({
      txid: x.prev.tx.getId(), vout: x.prev.vout, scriptPubKey: hex(x.lib.script), amount: x.amount,
    }))));
    const r = spawnSync(kinkoPath, ['tx', 'verify', txHex, '--prevouts', `@${file}`],
      { encoding: 'utf8' });
    if (r.status !== (wantValid ? 0 : 1) || JSON.parse(r.stdout || '{}').valid !== wantValid) {
      fail(`kinko tx verify ${txHex}: exit ${r.status}, want ${wantValid ? 0 : 1}: ` +
        `${r.stdout}${r.stderr}`);
    }
  };
  if (kinkoHasVerify && w.number % 5 === 0) {
    cliVerify(final.tx, true);
    cliVerified++;
  }

  const label = `${w.kind}${w.script ? '/' + w.script : ''}`;
  // The checks are not vacuous: for the first wallet of each kind, one changed signature byte
  // in the last input must be rejected by kinko and by the library checks.
  if (counts[label] === undefined) {
    const broken = tamperedTx(final.tx);
    const negative = await kinko('verify', {
      tx: broken, prevouts: prevouts.map((p) => ({ script: hex(p.script), amount: p.value })),
    });
    if (negative.valid) fail(`kinko accepts a transaction with a changed signature byte: ${broken}`);
    let libraryRejects = false;
    try {
      checkFinalTx(broken, prevouts, w);
    } catch (e) {
      libraryRejects = e instanceof LibraryCheckError;
    }
    if (!libraryRejects) fail(`library checks accept a changed signature byte: ${broken}`);
    if (kinkoHasVerify) cliVerify(broken, false);
    negatives++;
  }
  let direction = w.creator === 'kinko' ? `kinko->${w.lib}->kinko` : `${w.lib}->kinko->${w.lib}`;
  if (spend.sighashType !== undefined) {
    explicitSighash++;
    if (w.kind === 'tr_key' || w.kind === 'tr_multi_a') {
      const t = bitcoin.Transaction.fromHex(final.tx);
      const sigs = t.ins.flatMap((x) => x.witness.filter((item) => item.length === 64 || item.length === 65));
      if (sigs.length === 0 || sigs.some((sig) => sig.length !== 65 || sig[64] !== 0x01)) {
        fail('taproot signatures of a PSBT asking for SIGHASH_ALL are not 65 bytes ending in 01');
      }
    }
  }
  if (w.allSign) direction += ' (3 of 3 signed)';
  if (w.split) direction += w.parallel ? ' (split, parallel + combine)' : ' (split)';
  counts[label] = counts[label] || {};
  counts[label][direction] = (counts[label][direction] || 0) + 1;
}

async function main() {
  const start = Date.now();
  console.log(`interop_wallets: seed ${seed} (KINKO_INTEROP_SEED=${seed} replays), ` +
    `${walletCount} wallets`);
  console.log('interop_wallets: bitcoinjs-lib for single-key and half the segwit v0 multisig ' +
    'wallets; @scure/btc-signer for taproot (bitcoinjs-lib cannot sign or finalize multi_a ' +
    'leaves) and the other multisig half');
  for (let n = 0; n < walletCount; n++) {
    // Kinds in turn, so each kind gets both directions and both libraries.
    const kind = KINDS[Math.floor(n / 2) % KINDS.length];
    await runWallet(makeWallet(kind, n));
  }
  finished = true;
  oracle.stdin.end();
  for (const [label, byDirection] of Object.entries(counts).sort()) {
    const parts = Object.entries(byDirection).sort().map(([d, c]) => `${d} ${c}`);
    console.log(`interop_wallets: ${label}: ${parts.join(', ')}`);
  }
  console.log(`interop_wallets: ${negatives} transactions with a changed signature byte rejected ` +
    'by both');
  console.log(`interop_wallets: ${explicitSighash} PSBTs named SIGHASH_ALL explicitly; kinko refused ` +
    `${sighashRefusals} asking for ALL|ANYONECANPAY`);
  console.log(kinkoHasVerify
    ? `interop_wallets: kinko tx verify (CLI) also accepted ${cliVerified} of the final ` +
      `transactions and rejected the ${negatives} changed ones`
    : 'interop_wallets: this kinko has no `tx verify`; final transactions checked by ' +
      'VerifyTransaction in the oracle only');
  console.log(`interop_wallets: ${walletCount} wallets agree (seed ${seed}, ` +
    `${((Date.now() - start) / 1000).toFixed(1)} s)`);
}

main().catch((e) => fail(`unexpected: ${e && e.stack ? e.stack : e}`));
