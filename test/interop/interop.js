#!/usr/bin/env node
// Cross-checks kinko against two independent Bitcoin libraries, bitcoinjs-lib (with bip32,
// ecpair, tiny-secp256k1) and @scure/btc-signer (with @scure/bip32), on random cases:
// transaction serialization, txid/wtxid, size/vsize/weight; legacy, BIP143 and BIP341/342
// sighashes; addresses of every type on every network; BIP32 derivations; ECDSA (low-R ground
// like Bitcoin Core) and BIP340 signatures.
//
// kinko answers through the interop_oracle binary (JSON lines on stdin/stdout, one process for
// all cases); with PATH_TO_KINKO, `kinko tx decode` is also checked against bitcoinjs-lib.
// Usage: node interop.js PATH_TO_INTEROP_ORACLE [PATH_TO_KINKO]
// The cases come from a seeded generator: the seed is printed, and KINKO_INTEROP_SEED=N replays
// a run. Exits 1 on any disagreement, naming the case, the seed and the differing values.
'use strict';

const { spawnSync } = require('child_process');
const nodeCrypto = require('crypto');

// The libraries are pinned by package-lock.json; without them the test fails (never skips).
function load(name) {
  try {
    return require(name);
  } catch (e) {
    console.error(`interop: cannot load ${name} (${e.code || e.message}): run scripts/install-deps --test, ` +
      'which runs npm ci in test/interop');
    process.exit(1);
  }
}
const bitcoin = load('bitcoinjs-lib');
const ecc = load('tiny-secp256k1');
const { BIP32Factory } = load('bip32');
const { ECPairFactory } = load('ecpair');
const btc = load('@scure/btc-signer');
const scureUtils = load('@scure/btc-signer/utils');
const { HDKey } = load('@scure/bip32');

bitcoin.initEccLib(ecc);
// bitcoinjs-lib warns on stderr for every future segwit version address it encodes.
console.warn = () => {};
const bip32 = BIP32Factory(ecc);
const ECPair = ECPairFactory(ecc);

const oraclePath = process.argv[2];
const kinkoPath = process.argv[3];
if (!oraclePath) {
  console.error('usage: node interop.js PATH_TO_INTEROP_ORACLE [PATH_TO_KINKO]');
  process.exit(2);
}

// ---------------------------------------------------------------------------------------------
// Seeded randomness (sfc32, seeded through splitmix32).

function parseSeed(text) {
  if (!/^[0-9]+$/.test(text) || Number(text) > 0xffffffff) {
    console.error(`interop: KINKO_INTEROP_SEED must be an integer in 0..4294967295, got '${text}'`);
    process.exit(2);
  }
  return Number(text);
}
const seed = process.env.KINKO_INTEROP_SEED !== undefined
  ? parseSeed(process.env.KINKO_INTEROP_SEED)
  : nodeCrypto.randomBytes(4).readUInt32LE(0);

function makeRng(seed32) {
  let s = seed32 >>> 0;
  const splitmix = () => {
    s = (s + 0x9e3779b9) >>> 0;
    let z = s;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    return (z ^ (z >>> 16)) >>> 0;
  };
  let a = splitmix(), b = splitmix(), c = splitmix(), d = splitmix();
  return () => {
    const t = (((a + b) >>> 0) + d) >>> 0;
    d = (d + 1) >>> 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) >>> 0;
    c = ((c << 21) | (c >>> 11)) >>> 0;
    c = (c + t) >>> 0;
    return t >>> 0;
  };
}
const next32 = makeRng(seed);
const randInt = (lo, hi) => lo + Math.floor((next32() / 0x100000000) * (hi - lo + 1));
const randBool = () => (next32() & 1) === 1;
const pick = (items) => items[randInt(0, items.length - 1)];
function randBytes(n) {
  const out = Buffer.alloc(n);
  for (let i = 0; i < n; i++) out[i] = next32() & 0xff;
  return out;
}
function randPrivateKey() {
  for (;;) {
    const key = randBytes(32);
    if (ecc.isPrivate(key)) return key;
  }
}
const randPubkey = () => Buffer.from(ecc.pointFromScalar(randPrivateKey(), true));
const randXOnly = () => randPubkey().subarray(1, 33);
const hex = (bytes) => Buffer.from(bytes).toString('hex');

// ---------------------------------------------------------------------------------------------
// Scripts of every kind.

const OPS = bitcoin.opcodes;
function pushData(data) {
  if (data.length < 0x4c) return Buffer.concat([Buffer.from([data.length]), data]);
  if (data.length <= 0xff) return Buffer.concat([Buffer.from([0x4c, data.length]), data]);
  const len = Buffer.alloc(2);
  len.writeUInt16LE(data.length);
  return Buffer.concat([Buffer.from([0x4d]), len, data]);
}
const scriptMakers = {
  p2pkh: () => Buffer.concat([Buffer.from([0x76, 0xa9, 0x14]), randBytes(20), Buffer.from([0x88, 0xac])]),
  p2sh: () => Buffer.concat([Buffer.from([0xa9, 0x14]), randBytes(20), Buffer.from([0x87])]),
  p2wpkh: () => Buffer.concat([Buffer.from([0x00, 0x14]), randBytes(20)]),
  p2wsh: () => Buffer.concat([Buffer.from([0x00, 0x20]), randBytes(32)]),
  p2tr: () => Buffer.concat([Buffer.from([0x51, 0x20]), randXOnly()]),
  witness_unknown: () => {
    const program = randBytes(randInt(2, 40));
    return Buffer.concat([Buffer.from([0x50 + randInt(2, 16), program.length]), program]);
  },
  p2pk: () => Buffer.concat([pushData(randPubkey()), Buffer.from([0xac])]),
  multisig: () => {
    const n = randInt(1, 3);
    const keys = [];
    for (let i = 0; i < n; i++) keys.push(pushData(randPubkey()));
    return Buffer.concat([Buffer.from([0x50 + randInt(1, n)]), ...keys, Buffer.from([0x50 + n, 0xae])]);
  },
  nulldata: () => Buffer.concat([Buffer.from([0x6a]), pushData(randBytes(randInt(1, 80)))]),
  nonstandard: () => randBytes(randInt(0, 30)),
};
const scriptKinds = Object.keys(scriptMakers);
const randScript = () => scriptMakers[pick(scriptKinds)]();

// A random transaction built with bitcoinjs-lib.
function randTransaction({ inputs, outputs, witness, anyVersion }) {
  const tx = new bitcoin.Transaction();
  // @scure/btc-signer 1.8.1 parses versions 0..3 only (its allowUnknownVersion flag rejects every
  // version), so other versions are compared with bitcoinjs-lib alone.
  tx.version = anyVersion && randInt(0, 4) === 0 ? randInt(4, 0x7fffffff) : randInt(0, 3);
  tx.locktime = pick([0, randInt(0, 0xffffffff)]);
  const nIn = inputs !== undefined ? inputs : randInt(1, 4);
  const nOut = outputs !== undefined ? outputs : randInt(1, 4);
  for (let i = 0; i < nIn; i++) {
    const scriptSig = randBool() ? Buffer.alloc(0) : randBytes(randInt(1, 110));
    tx.addInput(randBytes(32), randInt(0, 5), pick([0xffffffff, 0xfffffffd, randInt(0, 0xffffffff)]), scriptSig);
  }
  for (let i = 0; i < nOut; i++) tx.addOutput(randScript(), randInt(0, 2100000000000000));
  const withWitness = witness !== undefined ? witness : randBool();
  if (withWitness) {
    for (const input of tx.ins) {
      input.witness = [];
      const items = randInt(0, 4);
      for (let j = 0; j < items; j++) input.witness.push(randBytes(pick([0, 1, 33, 72, randInt(0, 300)])));
    }
    // BIP144: a witness flag needs at least one non-empty witness.
    if (tx.ins.every((input) => input.witness.length === 0)) tx.ins[0].witness = [randBytes(71)];
  }
  return tx;
}

const scureOptions = {
  allowUnknownOutputs: true,
  allowUnknownInputs: true,
  disableScriptCheck: true,
  allowLegacyWitnessUtxo: true,
};
// @scure/btc-signer computes ids and weight of finalized transactions only (inputs with a
// scriptSig or witness); the view below presents any parsed transaction as final.
function scureTx(txHex) {
  const tx = btc.Transaction.fromRaw(Buffer.from(txHex, 'hex'), scureOptions);
  return Object.create(tx, { isFinal: { value: true } });
}

// ---------------------------------------------------------------------------------------------
// Cases: each has a request for the oracle and a check of its answer.

const cases = [];
const counts = {};
function addCase(category, request, check) {
  cases.push({ category, request: { id: cases.length, ...request }, check });
}

function expectEqual(what, values) {
  const names = Object.keys(values);
  const first = values[names[0]];
  for (const name of names.slice(1)) {
    if (values[name] !== first) {
      const listed = names.map((n) => `  ${n}: ${values[n]}`).join('\n');
      throw new Error(`${what} differs:\n${listed}`);
    }
  }
}

// Transactions: serialization, ids and sizes.
function transactionCases(count) {
  for (let i = 0; i < count; i++) {
    const tx = randTransaction({ anyVersion: true });
    const txHex = tx.toHex();
    addCase('transaction', { op: 'tx', hex: txHex }, (answer) => {
      const scure = tx.version <= 3 ? scureTx(txHex) : undefined;
      const values = (what, kinko, bitcoinjs, scureValue) => {
        const all = { kinko, bitcoinjs };
        if (scure) all.scure = scureValue();
        expectEqual(what, all);
      };
      values('serialization', answer.hex, txHex, () => scure.hex);
      values('txid', answer.txid, tx.getId(), () => scure.id);
      values('wtxid', answer.wtxid, hex(tx.getHash(true).reverse()),
        () => hex(Buffer.from(bitcoin.crypto.hash256(Buffer.from(scure.toBytes(true, true)))).reverse()));
      values('size', answer.size, tx.byteLength(), () => scure.toBytes(true, true).length);
      values('base size', answer.base_size, tx.byteLength(false), () => scure.toBytes(true, false).length);
      values('weight', answer.weight, tx.weight(), () => scure.weight);
      values('vsize', answer.vsize, tx.virtualSize(), () => scure.vsize);
    });
  }
}

const legacyHashTypes = [0x01, 0x02, 0x03, 0x81, 0x82, 0x83];
const taprootHashTypes = [0x00, 0x01, 0x02, 0x03, 0x81, 0x82, 0x83];

// Legacy sighash: every hash type, script codes of several kinds (with OP_CODESEPARATOR, which
// the legacy sighash removes), and the SIGHASH_SINGLE bug.
function legacySighashCases(count) {
  for (let i = 0; i < count; i++) {
    const tx = randTransaction({ witness: false });
    const input = randInt(0, tx.ins.length - 1);
    let scriptCode = scriptMakers[pick(['p2pkh', 'p2pk', 'multisig', 'p2sh'])]();
    if (randInt(0, 3) === 0) scriptCode = Buffer.concat([Buffer.from([OPS.OP_CODESEPARATOR]), scriptCode]);
    const hashType = pick(legacyHashTypes);
    const txHex = tx.toHex();
    const request = { op: 'sighash', tx: txHex, input, sigversion: 'base', hashtype: hashType, script_code: hex(scriptCode) };
    addCase('sighash legacy', request, (answer) => {
      let bitcoinjsHash = Buffer.from(tx.hashForSignature(input, scriptCode, hashType));
      let scureHash = Buffer.from(scureTx(txHex).preimageLegacy(input, scriptCode, hashType));
      const singleBug = (hashType & 0x1f) === 0x03 && input >= tx.outs.length;
      if (singleBug) {
        // Both libraries return the "one" hash as the number 1 in big-endian bytes; Bitcoin Core
        // signs uint256::ONE, whose bytes are 01 00 .. 00 (checked by sighash.json).
        bitcoinjsHash = bitcoinjsHash.reverse();
        scureHash = scureHash.reverse();
      }
      expectEqual(`legacy sighash (input ${input}, hashtype ${hashType})`, {
        kinko: answer.sighash, bitcoinjs: hex(bitcoinjsHash), scure: hex(scureHash),
      });
    });
  }
}

// BIP143: P2WPKH script codes and P2WSH witness scripts, every hash type.
function segwitSighashCases(count) {
  for (let i = 0; i < count; i++) {
    const tx = randTransaction({});
    const input = randInt(0, tx.ins.length - 1);
    const scriptCode = randBool() ? scriptMakers.p2pkh() : scriptMakers[pick(['multisig', 'p2pk', 'nonstandard'])]();
    const amount = randInt(0, 2100000000000000);
    const hashType = pick(legacyHashTypes);
    const txHex = tx.toHex();
    const request = { op: 'sighash', tx: txHex, input, sigversion: 'witness_v0', hashtype: hashType, script_code: hex(scriptCode), amount };
    addCase('sighash bip143', request, (answer) => {
      const bitcoinjsHash = tx.hashForWitnessV0(input, scriptCode, amount, hashType);
      const scureHash = scureTx(txHex).preimageWitnessV0(input, scriptCode, hashType, BigInt(amount));
      expectEqual(`bip143 sighash (input ${input}, hashtype ${hashType})`, {
        kinko: answer.sighash, bitcoinjs: hex(bitcoinjsHash), scure: hex(scureHash),
      });
    });
  }
}

function compactSize(n) {
  if (n < 0xfd) return Buffer.from([n]);
  const out = Buffer.alloc(3);
  out[0] = 0xfd;
  out.writeUInt16LE(n, 1);
  return out;
}
const tapleafHash = (leafVersion, script) =>
  bitcoin.crypto.taggedHash('TapLeaf', Buffer.concat([Buffer.from([leafVersion]), compactSize(script.length), script]));

// BIP341 key path and BIP342 script path, with and without annex; OP_CODESEPARATOR positions
// are checked against @scure/btc-signer only (bitcoinjs-lib has no such parameter).
function taprootSighashCases(count, scriptPath) {
  for (let i = 0; i < count; i++) {
    const tx = randTransaction({});
    const input = randInt(0, tx.ins.length - 1);
    // The signed input spends a P2TR output (bitcoinjs-lib sizes its buffer for that); the others
    // spend anything.
    const prevouts = tx.ins.map((_, i) => ({
      script: i === input || randBool() ? scriptMakers.p2tr() : randScript(),
      amount: randInt(0, 2100000000000000),
    }));
    let hashType = pick(taprootHashTypes);
    // SIGHASH_SINGLE needs an output at the input's index (BIP341 makes the hash fail otherwise).
    if ((hashType & 0x03) === 0x03 && input >= tx.outs.length) hashType = 0x00;
    const annex = randInt(0, 2) === 0 ? Buffer.concat([Buffer.from([0x50]), randBytes(randInt(0, 40))]) : undefined;
    const leafScript = scriptPath ? randScript() : undefined;
    const leafVersion = 0xc0;
    const leafHash = scriptPath ? tapleafHash(leafVersion, leafScript) : undefined;
    const codesep = scriptPath && randInt(0, 2) === 0 ? randInt(0, 20) : undefined;
    const txHex = tx.toHex();
    const request = {
      op: 'sighash', tx: txHex, input, sigversion: scriptPath ? 'tapscript' : 'taproot', hashtype: hashType,
      prevouts: prevouts.map((p) => ({ script: hex(p.script), amount: p.amount })),
    };
    if (annex) request.annex = hex(annex);
    if (scriptPath) request.leaf_hash = hex(leafHash);
    if (codesep !== undefined) request.codesep_pos = codesep;
    addCase(scriptPath ? 'sighash bip342' : 'sighash bip341', request, (answer) => {
      const scripts = prevouts.map((p) => p.script);
      const scureHash = scureTx(txHex).preimageWitnessV1(
        input, scripts, hashType, prevouts.map((p) => BigInt(p.amount)),
        codesep !== undefined ? codesep : -1, leafScript, leafVersion, annex);
      const values = { kinko: answer.sighash, scure: hex(scureHash) };
      if (codesep === undefined) {
        values.bitcoinjs = hex(tx.hashForWitnessV1(input, scripts, prevouts.map((p) => p.amount), hashType, leafHash, annex));
      }
      expectEqual(`taproot sighash (input ${input}, hashtype ${hashType}, ${scriptPath ? 'script' : 'key'} path${annex ? ', annex' : ''}${codesep !== undefined ? `, codesep ${codesep}` : ''})`, values);
    });
  }
}

// Addresses: every address type on every network, encoded by all three and decoded back.
const networks = {
  main: { bitcoinjs: bitcoin.networks.bitcoin, scure: btc.NETWORK },
  test: { bitcoinjs: bitcoin.networks.testnet, scure: btc.TEST_NETWORK },
  signet: { bitcoinjs: bitcoin.networks.testnet, scure: btc.TEST_NETWORK },
  regtest: { bitcoinjs: bitcoin.networks.regtest, scure: { bech32: 'bcrt', pubKeyHash: 0x6f, scriptHash: 0xc4, wif: 0xef } },
};
const addressKinds = ['p2pkh', 'p2sh', 'p2wpkh', 'p2wsh', 'p2tr', 'witness_unknown'];
function addressCases(perCombination) {
  for (const network of Object.keys(networks)) {
    for (const kind of addressKinds) {
      for (let i = 0; i < perCombination; i++) {
        const script = scriptMakers[kind]();
        addCase('address', { op: 'address', script: hex(script), network }, (answer) => {
          const values = { kinko: answer.address, bitcoinjs: bitcoin.address.fromOutputScript(script, networks[network].bitcoinjs) };
          // @scure/btc-signer encodes the standard types only.
          if (kind !== 'witness_unknown') {
            values.scure = btc.Address(networks[network].scure).encode(btc.OutScript.decode(script));
          }
          expectEqual(`${kind} address on ${network}`, values);
          const back = { kinko: answer.script, bitcoinjs: hex(bitcoin.address.toOutputScript(answer.address, networks[network].bitcoinjs)), original: hex(script) };
          if (kind !== 'witness_unknown') {
            back.scure = hex(btc.OutScript.encode(btc.Address(networks[network].scure).decode(answer.address)));
          }
          expectEqual(`${kind} address ${answer.address} decoded`, back);
        });
      }
    }
  }
}

// BIP32: private derivation from random seeds at random paths, and public derivation from the
// resulting xpub along non-hardened steps.
function randPath(maxDepth, hardenedAllowed) {
  const steps = [];
  const depth = randInt(0, maxDepth);
  for (let i = 0; i < depth; i++) {
    const index = pick([0, 1, randInt(0, 100), randInt(0, 0x7fffffff)]);
    steps.push(hardenedAllowed && randBool() ? `${index}'` : `${index}`);
  }
  return ['m', ...steps].join('/');
}
// bip32's derivePath rejects the bare "m".
const bip32Derive = (node, path) => (path === 'm' ? node : node.derivePath(path));
const scureVersions = {
  main: { private: 0x0488ade4, public: 0x0488b21e },
  test: { private: 0x04358394, public: 0x043587cf },
};
function bip32Cases(count) {
  for (let i = 0; i < count; i++) {
    const network = pick(['main', 'test']);
    const seedBytes = randBytes(pick([16, 32, 64, randInt(16, 64)]));
    const path = randPath(5, true);
    addCase('bip32 private', { op: 'bip32', seed: hex(seedBytes), path, network }, (answer) => {
      const node = bip32Derive(bip32.fromSeed(seedBytes, networks[network].bitcoinjs), path);
      const scure = HDKey.fromMasterSeed(seedBytes, scureVersions[network]).derive(path);
      expectEqual(`xprv of seed ${hex(seedBytes)} at ${path}`, { kinko: answer.xprv, bip32: node.toBase58(), scure: scure.privateExtendedKey });
      expectEqual(`xpub of seed ${hex(seedBytes)} at ${path}`, { kinko: answer.xpub, bip32: node.neutered().toBase58(), scure: scure.publicExtendedKey });
    });
    // Public derivation from the xpub at a random depth.
    const parent = bip32Derive(bip32.fromSeed(seedBytes, networks[network].bitcoinjs), randPath(3, true)).neutered();
    const xpub = parent.toBase58();
    const publicPath = randPath(4, false);
    addCase('bip32 public', { op: 'bip32', xkey: xpub, path: publicPath }, (answer) => {
      const relative = publicPath === 'm' ? parent : parent.derivePath(publicPath.slice(2));
      const scure = HDKey.fromExtendedKey(xpub, scureVersions[network]).derive(publicPath);
      expectEqual(`xpub of ${xpub} at ${publicPath}`, { kinko: answer.xpub, bip32: relative.toBase58(), scure: scure.publicExtendedKey });
    });
  }
}

// ECDSA: RFC 6979 with low-R grinding as Bitcoin Core does, which ecpair implements
// identically. @scure/btc-signer grinds with a different counter (it starts at 0, Core at 1),
// so it is compared only when no grinding was needed.
function ecdsaCases(count) {
  for (let i = 0; i < count; i++) {
    const key = randPrivateKey();
    const digest = randBytes(32);
    addCase('ecdsa', { op: 'sign', key: hex(key), digest: hex(digest) }, (answer) => {
      const compact = ECPair.fromPrivateKey(key).sign(digest, true);
      const ecpairDer = hex(bitcoin.script.signature.encode(compact, 1).subarray(0, -1));
      const values = { kinko: answer.der, ecpair: ecpairDer };
      const scureDer = hex(scureUtils.signECDSA(digest, key, false));
      if (ecc.sign(digest, key)[0] < 0x80) values.scure = scureDer;
      expectEqual(`ecdsa signature of ${hex(digest)}`, values);
      const decoded = bitcoin.script.signature.decode(Buffer.from(answer.der + '01', 'hex'));
      if (!ecc.verify(digest, ecc.pointFromScalar(key, true), decoded.signature, true)) {
        throw new Error(`kinko's ecdsa signature ${answer.der} does not verify`);
      }
    });
  }
}

// BIP340 signatures with auxiliary randomness.
function schnorrCases(count) {
  for (let i = 0; i < count; i++) {
    const key = randPrivateKey();
    const msg = randBytes(32);
    const aux = randBytes(32);
    addCase('schnorr', { op: 'schnorr', key: hex(key), msg: hex(msg), aux: hex(aux) }, (answer) => {
      expectEqual(`schnorr signature of ${hex(msg)}`, {
        kinko: answer.sig, tiny_secp256k1: hex(ecc.signSchnorr(msg, key, aux)), scure: hex(scureUtils.signSchnorr(msg, key, aux)),
      });
    });
  }
}

// Transactions signed with bitcoinjs-lib (its sighashes, ecpair's low-R ECDSA, tiny-secp256k1's
// BIP340 with a BIP341-tweaked key) spending P2PKH, P2WPKH, P2SH-P2WPKH and P2TR key-path
// outputs: kinko's interpreter must accept them under the standard flags, and must reject the
// same transaction with one signature byte changed, naming that input.
const p2pkhScript = (pubkey) => Buffer.concat([Buffer.from([0x76, 0xa9, 0x14]), bitcoin.crypto.hash160(pubkey), Buffer.from([0x88, 0xac])]);
function signedSpendCases(count) {
  const spendKinds = ['p2pkh', 'p2wpkh', 'p2sh-p2wpkh', 'p2tr'];
  for (let i = 0; i < count; i++) {
    const tx = randTransaction({ witness: false, anyVersion: false });
    tx.version = randInt(1, 2);
    for (const input of tx.ins) input.script = Buffer.alloc(0);
    // CheckTransaction caps the outputs' total at 21 million BTC.
    for (const output of tx.outs) output.value = randInt(0, 500000000000000);
    // Spending a taproot output (BIP341) needs every spent output; all are generated here.
    const spends = tx.ins.map(() => {
      const key = ECPair.fromPrivateKey(randPrivateKey());
      const kind = pick(spendKinds);
      const amount = randInt(1000, 2100000000000000);
      if (kind === 'p2pkh') return { kind, key, amount, script: p2pkhScript(key.publicKey) };
      const wpkh = Buffer.concat([Buffer.from([0x00, 0x14]), bitcoin.crypto.hash160(key.publicKey)]);
      if (kind === 'p2wpkh') return { kind, key, amount, script: wpkh };
      if (kind === 'p2sh-p2wpkh') {
        return { kind, key, amount, redeem: wpkh, script: Buffer.concat([Buffer.from([0xa9, 0x14]), bitcoin.crypto.hash160(wpkh), Buffer.from([0x87])]) };
      }
      // P2TR key path: Q = P + H_TapTweak(P)G (no script tree), signed with the tweaked key.
      let secret = Buffer.from(key.privateKey);
      if (key.publicKey[0] === 0x03) secret = Buffer.from(ecc.privateNegate(secret));
      const internal = key.publicKey.subarray(1, 33);
      const tweak = bitcoin.crypto.taggedHash('TapTweak', internal);
      const output = ecc.xOnlyPointAddTweak(internal, tweak);
      return { kind, key, amount, tweaked: Buffer.from(ecc.privateAdd(secret, tweak)), script: Buffer.concat([Buffer.from([0x51, 0x20]), Buffer.from(output.xOnlyPubkey)]) };
    });
    const scripts = spends.map((s) => s.script);
    const amounts = spends.map((s) => s.amount);
    const hashTypes = spends.map((s) => (s.kind === 'p2tr' ? pick(taprootHashTypes) : pick(legacyHashTypes)));
    spends.forEach((s, n) => {
      // SIGHASH_SINGLE without a matching output: legacy signs the "one" hash and BIP341 forbids
      // it; use ALL there.
      if ((hashTypes[n] & 0x03) === 0x03 && n >= tx.outs.length) hashTypes[n] = 0x01;
    });
    // Legacy sighashes blank every other input's scriptSig and BIP143/BIP341 commit to none,
    // so the inputs can be signed in any order.
    spends.forEach((s, n) => {
      if (s.kind === 'p2sh-p2wpkh') tx.ins[n].script = pushData(s.redeem);
    });
    const signatures = [];
    spends.forEach((s, n) => {
      if (s.kind === 'p2pkh') {
        const hash = tx.hashForSignature(n, s.script, hashTypes[n]);
        signatures[n] = bitcoin.script.signature.encode(s.key.sign(hash, true), hashTypes[n]);
      } else if (s.kind === 'p2tr') {
        const hash = tx.hashForWitnessV1(n, scripts, amounts, hashTypes[n]);
        const sig = Buffer.from(ecc.signSchnorr(hash, s.tweaked, randBytes(32)));
        signatures[n] = hashTypes[n] === 0 ? sig : Buffer.concat([sig, Buffer.from([hashTypes[n]])]);
      } else {
        const hash = tx.hashForWitnessV0(n, p2pkhScript(s.key.publicKey), s.amount, hashTypes[n]);
        signatures[n] = bitcoin.script.signature.encode(s.key.sign(hash, true), hashTypes[n]);
      }
    });
    spends.forEach((s, n) => {
      if (s.kind === 'p2pkh') tx.ins[n].script = Buffer.concat([pushData(signatures[n]), pushData(s.key.publicKey)]);
      else if (s.kind === 'p2tr') tx.ins[n].witness = [signatures[n]];
      else tx.ins[n].witness = [signatures[n], s.key.publicKey];
    });
    const prevouts = spends.map((s) => ({ script: hex(s.script), amount: s.amount }));
    const kinds = spends.map((s) => s.kind).join(',');
    addCase('verify signed', { op: 'verify', tx: tx.toHex(), prevouts }, (answer) => {
      if (answer.valid !== true) throw new Error(`a valid spend (${kinds}) was rejected: input ${answer.input}: ${answer.script_error}`);
    });
    // The same transaction with one byte of one signature's S value changed.
    const bad = randInt(0, tx.ins.length - 1);
    const sig = Buffer.from(signatures[bad]);
    sig[spends[bad].kind === 'p2tr' ? 40 : sig.length - 3] ^= 0x01;
    if (spends[bad].kind === 'p2pkh') tx.ins[bad].script = Buffer.concat([pushData(sig), pushData(spends[bad].key.publicKey)]);
    else tx.ins[bad].witness[0] = sig;
    addCase('verify tampered', { op: 'verify', tx: tx.toHex(), prevouts }, (answer) => {
      if (answer.valid !== false || answer.input !== bad) {
        throw new Error(`a tampered signature on input ${bad} (${kinds}) gave valid=${answer.valid}, input ${answer.input}, ${answer.script_error}`);
      }
    });
  }
}

// `kinko tx decode` (the command, JSON and all) against bitcoinjs-lib's view of the same
// transaction: ids, sizes, every input and output field, addresses and amounts.
const btcTextToSats = (text) => {
  const negative = text.startsWith('-');
  const [whole, frac] = (negative ? text.slice(1) : text).split('.');
  const sats = BigInt(whole) * 100000000n + BigInt(frac);
  return negative ? -sats : sats;
};
function decodeCommandCases(count) {
  const results = [];
  for (let i = 0; i < count; i++) {
    const tx = randTransaction({ anyVersion: true });
    const txHex = tx.toHex();
    const run = spawnSync(kinkoPath, ['tx', 'decode', txHex], { encoding: 'utf8' });
    const check = () => {
      if (run.status !== 0) throw new Error(`kinko tx decode exit ${run.status}: ${run.stderr}`);
      const d = JSON.parse(run.stdout);
      expectEqual('txid', { kinko: d.txid, bitcoinjs: tx.getId() });
      expectEqual('hash', { kinko: d.hash, bitcoinjs: hex(tx.getHash(true).reverse()) });
      expectEqual('version', { kinko: d.version, bitcoinjs: tx.version });
      expectEqual('locktime', { kinko: d.locktime, bitcoinjs: tx.locktime });
      expectEqual('size', { kinko: d.size, bitcoinjs: tx.byteLength() });
      expectEqual('vsize', { kinko: d.vsize, bitcoinjs: tx.virtualSize() });
      expectEqual('weight', { kinko: d.weight, bitcoinjs: tx.weight() });
      tx.ins.forEach((input, n) => {
        const k = d.vin[n];
        expectEqual(`vin[${n}].txid`, { kinko: k.txid, bitcoinjs: hex(Buffer.from(input.hash).reverse()) });
        expectEqual(`vin[${n}].vout`, { kinko: k.vout, bitcoinjs: input.index });
        expectEqual(`vin[${n}].sequence`, { kinko: k.sequence, bitcoinjs: input.sequence });
        expectEqual(`vin[${n}].scriptSig.hex`, { kinko: k.scriptSig.hex, bitcoinjs: hex(input.script) });
        const witness = tx.hasWitnesses() ? input.witness.map(hex) : [];
        expectEqual(`vin[${n}].txinwitness`, { kinko: JSON.stringify(k.txinwitness || []), bitcoinjs: JSON.stringify(witness) });
      });
      const values = [...run.stdout.matchAll(/"value": (-?[0-9]+\.[0-9]{8}),?\n/g)].map((m) => btcTextToSats(m[1]));
      tx.outs.forEach((output, n) => {
        const k = d.vout[n];
        expectEqual(`vout[${n}].value`, { kinko: String(values[n]), bitcoinjs: String(output.value) });
        expectEqual(`vout[${n}].n`, { kinko: k.n, bitcoinjs: n });
        expectEqual(`vout[${n}].scriptPubKey.hex`, { kinko: k.scriptPubKey.hex, bitcoinjs: hex(output.script) });
        let address;
        try {
          address = bitcoin.address.fromOutputScript(output.script, bitcoin.networks.bitcoin);
        } catch (e) {
          address = undefined;
        }
        // Core (and kinko) show no address for a bare public key; bitcoinjs-lib has none either.
        expectEqual(`vout[${n}].scriptPubKey.address`, { kinko: String(k.scriptPubKey.address), bitcoinjs: String(address) });
      });
    };
    results.push({ category: 'tx decode (cli)', check });
  }
  return results;
}

// ---------------------------------------------------------------------------------------------

function main() {
  const started = Date.now();
  console.log(`interop: seed ${seed} (replay with KINKO_INTEROP_SEED=${seed})`);
  transactionCases(300);
  legacySighashCases(250);
  segwitSighashCases(200);
  taprootSighashCases(150, false);
  taprootSighashCases(150, true);
  addressCases(8);
  bip32Cases(120);
  ecdsaCases(200);
  schnorrCases(100);
  signedSpendCases(100);

  const input = cases.map((c) => JSON.stringify(c.request)).join('\n') + '\n';
  const run = spawnSync(oraclePath, [], { input, maxBuffer: 256 * 1024 * 1024, encoding: 'utf8' });
  if (run.error || run.status !== 0) {
    console.error(`interop: ${oraclePath} failed: ${run.error ? run.error.message : `exit ${run.status}`}\n${run.stderr || ''}`);
    process.exit(1);
  }
  const lines = run.stdout.split('\n').filter((line) => line.length > 0);
  if (lines.length !== cases.length) {
    console.error(`interop: the oracle answered ${lines.length} of ${cases.length} requests`);
    process.exit(1);
  }

  const failures = [];
  if (kinkoPath) {
    for (const c of decodeCommandCases(100)) {
      counts[c.category] = counts[c.category] || { passed: 0, failed: 0 };
      try {
        c.check();
        counts[c.category].passed++;
      } catch (e) {
        counts[c.category].failed++;
        failures.push(`${c.category}: ${e.message}`);
      }
    }
  }
  for (let i = 0; i < cases.length; i++) {
    const c = cases[i];
    const answer = JSON.parse(lines[i]);
    counts[c.category] = counts[c.category] || { passed: 0, failed: 0 };
    try {
      if (answer.id !== c.request.id) throw new Error(`answer id ${answer.id} for request ${c.request.id}`);
      if (answer.error !== undefined) throw new Error(`kinko failed: ${answer.error}`);
      c.check(answer);
      counts[c.category].passed++;
    } catch (e) {
      counts[c.category].failed++;
      failures.push(`case ${c.request.id} (${c.category}): ${e.message}\n  request: ${JSON.stringify(c.request)}`);
    }
  }

  for (const [category, n] of Object.entries(counts)) {
    console.log(`interop: ${category.padEnd(16)} ${n.passed} agree${n.failed ? `, ${n.failed} DISAGREE` : ''}`);
  }
  for (const failure of failures.slice(0, 20)) console.error(`interop: FAIL ${failure}`);
  if (failures.length > 20) console.error(`interop: ... and ${failures.length - 20} more failures`);
  const total = Object.values(counts).reduce((sum, n) => sum + n.passed + n.failed, 0);
  const passed = total - failures.length;
  console.log(`interop: ${total} cases in ${((Date.now() - started) / 1000).toFixed(1)} s, seed ${seed}`);
  console.log(`${passed} passed, ${failures.length} failed`);
  process.exit(failures.length === 0 ? 0 : 1);
}

main();
