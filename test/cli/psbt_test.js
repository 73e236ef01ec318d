#!/usr/bin/env node
// Tests of `kinko psbt` against the BIP174 vectors (test/vectors/bip174_psbt_test_vectors.json):
// the role workflow through the command line, the signer refusals, PSBT arguments from files and
// standard input, and malformed input (exit 2, nothing on stdout). Node.js built-ins only.
// Usage: node psbt_test.js PATH_TO_KINKO
'use strict';

const { spawnSync } = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');

const kinko = process.argv[2];
if (!kinko) {
  console.error('usage: node psbt_test.js PATH_TO_KINKO');
  process.exit(2);
}
const vectors = JSON.parse(
  fs.readFileSync(path.join(__dirname, '..', 'vectors', 'bip174_psbt_test_vectors.json'), 'utf8'));
const steps = vectors.role_workflow.steps;
const master = vectors.role_workflow.master_extended_private_key;

let passed = 0;
const failures = [];
function check(condition, message) {
  if (condition) passed++;
  else failures.push(message);
  return condition;
}

function run(args, input) {
  const result = spawnSync(kinko, args, { encoding: 'utf8', input });
  if (result.error) throw result.error;
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

function runJson(args, input) {
  const r = run(args, input);
  const shown = `kinko ${args.map((a) => (a.length > 60 ? a.slice(0, 57) + '...' : a)).join(' ')}`;
  if (!check(r.code === 0, `${shown}: exit ${r.code}; stderr: ${r.stderr.trim()}`)) return null;
  check(r.stderr === '', `${shown}: unexpected stderr ${r.stderr.trim()}`);
  try {
    return JSON.parse(r.stdout);
  } catch (e) {
    check(false, `${shown}: stdout is not JSON`);
    return null;
  }
}

function expectMalformed(args, pattern) {
  const r = run(args);
  const shown = `kinko ${args.map((a) => (a.length > 60 ? a.slice(0, 57) + '...' : a)).join(' ')}`;
  check(r.code === 2, `${shown}: exit ${r.code}, expected 2`);
  check(r.stdout === '', `${shown}: stdout not empty`);
  check(pattern.test(r.stderr), `${shown}: stderr ${JSON.stringify(r.stderr.trim())} !~ ${pattern}`);
}

// creator: the vector's outputs are P2WPKH scripts; their testnet addresses.
{
  const created = runJson([
    'psbt', 'create', '--network', 'test',
    '--inputs', JSON.stringify(steps[0].inputs),
    '--outputs', JSON.stringify([
      { tb1qmpwzkuwsqc9snjvgdt4czhjsnywa5yjdzglap9: 1.4999 },
      { tb1qqzh2ngh97ru8dfvgma25d6r595wcwqy06sqc03: '1.00000000' },
    ]),
  ]);
  check(created === steps[0].result_base64, `psbt create: ${created}`);
}

// decode: Core's shape, fee from the previous transaction and the witness UTXO.
{
  const decoded = runJson(['psbt', 'decode', steps[2].result_base64, '--network', 'test']);
  if (decoded) {
    check(decoded.psbt_version === 0, 'decode: psbt_version');
    check(Array.isArray(decoded.global_xpubs) && decoded.global_xpubs.length === 0, 'decode: global_xpubs');
    check(decoded.tx.txid === '82efd652d7ab1197f01a5f4d9a30cb4c68bb79ab6fec58dfa1bf112291d1617b', 'decode: txid');
    check(decoded.inputs[0].non_witness_utxo !== undefined, 'decode: non_witness_utxo');
    check(decoded.inputs[1].witness_utxo.amount === 2, 'decode: witness_utxo amount');
    check(decoded.inputs[0].sighash === 'ALL', 'decode: sighash');
    check(decoded.inputs[0].redeem_script.type === 'multisig', 'decode: redeem_script type');
    check(decoded.inputs[1].witness_script.type === 'multisig', 'decode: witness_script type');
    check(decoded.inputs[0].bip32_derivs.length === 2, 'decode: bip32_derivs');
    check(decoded.inputs[0].bip32_derivs[0].path === "m/0'/0'/0'", 'decode: path');
    check(decoded.outputs[0].bip32_derivs.length === 1, 'decode: output bip32_derivs');
    // 0.5 + 2 BTC in, 2.4999 out.
    check(decoded.fee === 0.0001, `decode: fee ${decoded.fee}`);
  }
  const bare = runJson(['psbt', 'decode', steps[0].result_base64]);
  check(bare && bare.fee === undefined, 'decode: no fee without UTXOs');
}

// signer 1 (its signatures are low-R, as kinko grinds), combiner, finalizer, extractor.
{
  const keys1 = steps[3].private_keys.flatMap((k) => ['--privkey', k.wif]);
  const signed1 = runJson(['psbt', 'sign', steps[2].result_base64, ...keys1]);
  check(signed1 && signed1.psbt === steps[3].result_base64 && signed1.complete === false,
        'psbt sign: signer 1 result');
  const combined = runJson(['psbt', 'combine', steps[3].result_base64, steps[4].result_base64]);
  check(combined === steps[5].result_base64, 'psbt combine: vector result');
  const finalized = runJson(['psbt', 'finalize', steps[5].result_base64, '--no-extract']);
  check(finalized && finalized.psbt === steps[6].result_base64 && finalized.complete === true,
        'psbt finalize --no-extract');
  const extracted = runJson(['psbt', 'finalize', steps[5].result_base64]);
  check(extracted && extracted.hex === steps[7].result_tx_hex && extracted.complete === true &&
        extracted.psbt === undefined, 'psbt finalize: hex');
  const partial = runJson(['psbt', 'finalize', steps[3].result_base64]);
  check(partial && partial.complete === false && partial.psbt === steps[3].result_base64,
        'psbt finalize: incomplete');
  const tx = runJson(['psbt', 'extract', steps[6].result_base64]);
  check(tx && tx.hex === steps[7].result_tx_hex, 'psbt extract');
  expectMalformed(['psbt', 'extract', steps[3].result_base64], /input 0: not finalized/);
}

// The master tprv signs all four; --xprv and a descriptor with origins give the same result.
{
  const byXprv = runJson(['psbt', 'sign', steps[2].result_base64, '--xprv', master]);
  check(byXprv && byXprv.complete === true, 'psbt sign --xprv: complete');
  const descriptor = `sh(multi(2,${master}/0'/0'/0',${master}/0'/0'/1'))`;
  const byDescriptor = runJson(['psbt', 'sign', steps[2].result_base64, '--network', 'test',
                                '--descriptor', descriptor, '--xprv', master]);
  check(byDescriptor && byXprv && byDescriptor.psbt === byXprv.psbt, 'psbt sign --descriptor');
  const final = runJson(['psbt', 'finalize', byXprv ? byXprv.psbt : '']);
  check(final && final.complete === true && /^02000000000102/.test(final.hex), 'finalize signed');
}

// update from descriptors and previous transactions, then sign and finalize.
{
  const prevtx = steps[1].previous_transactions_hex.flatMap((hex) => ['--prevtx', hex]);
  const legacy = `sh(multi(2,${master}/0'/0'/0',${master}/0'/0'/1'))`;
  const nested = `sh(wsh(multi(2,${master}/0'/0'/2',${master}/0'/0'/3')))`;
  const first = runJson(['psbt', 'update', steps[0].result_base64, '--network', 'test',
                         '--descriptor', legacy, ...prevtx]);
  const second = first && runJson(['psbt', 'update', first, '--network', 'test',
                                   '--descriptor', nested]);
  const decoded = second && runJson(['psbt', 'decode', second, '--network', 'test']);
  if (decoded) {
    check(decoded.inputs[0].redeem_script.hex === steps[1].redeem_scripts_hex[0], 'update: redeem script');
    check(decoded.inputs[1].witness_script.hex === steps[1].witness_scripts_hex[0], 'update: witness script');
    check(decoded.inputs[1].witness_utxo !== undefined && decoded.inputs[1].non_witness_utxo !== undefined,
          'update: both UTXOs of the segwit input');
    check(decoded.inputs[1].bip32_derivs.map((d) => d.path).sort().join() === "m/0'/0'/2',m/0'/0'/3'",
          'update: derivations');
    check(decoded.fee === 0.0001, 'update: fee');
  }
  const signed = second && runJson(['psbt', 'sign', second, '--xprv', master]);
  check(signed && signed.complete === true, 'update then sign: complete');
}

// PSBT arguments from a file (base64 or binary) and from standard input.
{
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kinko-psbt-'));
  const b64File = path.join(dir, 'a.psbt.txt');
  const binFile = path.join(dir, 'a.psbt');
  fs.writeFileSync(b64File, steps[6].result_base64 + '\n');
  fs.writeFileSync(binFile, Buffer.from(steps[6].result_hex, 'hex'));
  const fromText = runJson(['psbt', 'extract', '@' + b64File]);
  const fromBinary = runJson(['psbt', 'extract', '@' + binFile]);
  const fromStdin = runJson(['psbt', 'extract', '-'], steps[6].result_base64);
  for (const [name, r] of [['base64 file', fromText], ['binary file', fromBinary], ['stdin', fromStdin]]) {
    check(r && r.hex === steps[7].result_tx_hex, `extract from ${name}`);
  }
  fs.rmSync(dir, { recursive: true });
  expectMalformed(['psbt', 'decode', '@/nonexistent/kinko.psbt'], /cannot read file/);
}

// The signer refuses the fails_signer_checks PSBTs, naming the input and the reason.
{
  const reasons = [
    /input 0: witness utxo given for a non-witness output/,
    /input 0: redeem script does not match/,
    /input 1: redeem script does not match/,
    /input 1: witness script does not match the redeem script/,
  ];
  vectors.fails_signer_checks.forEach((v, i) => {
    expectMalformed(['psbt', 'sign', v.base64, '--xprv', master], reasons[i]);
  });
}

// Malformed input.
expectMalformed(['psbt', 'decode', 'cHNidP8='], /PSBT/);
expectMalformed(['psbt', 'decode', 'not base64!'], /PSBT/);
expectMalformed(['psbt', 'sign', steps[2].result_base64], /no signing key/);
expectMalformed(['psbt', 'sign', steps[2].result_base64, '--privkey', 'abc'], /--privkey/);
expectMalformed(['psbt', 'combine', steps[0].result_base64,
                 vectors.combiner_unknown_keys.result_base64], /different transaction/);
expectMalformed(['psbt', 'create', '--inputs', '[', '--outputs', '{}'], /--inputs: not JSON/);
expectMalformed(['psbt', 'create', '--inputs', '[]', '--outputs', '{"bc1qnotanaddress": 1}'],
                /--outputs/);

if (failures.length > 0) {
  for (const f of failures) console.error('FAIL ' + f);
  console.error(`${failures.length} failed, ${passed} passed`);
  process.exit(1);
}
console.log(`psbt cli: ${passed} checks passed`);
