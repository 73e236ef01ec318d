#!/usr/bin/env node
// Tests of `kinko descriptor info | derive` against the BIP380-386 vectors, a checksum computed
// here independently (BIP380's reference algorithm), addresses checked against an independent
// descriptor implementation, and the error behaviour (exit 2, nothing on stdout).
// Uses Node.js built-ins only.
// Usage: node descriptor_cli_test.js PATH_TO_KINKO
'use strict';

const { spawnSync } = require('child_process');
const fs = require('fs');
const path = require('path');

const kinko = process.argv[2];
if (!kinko) {
  console.error('usage: node descriptor_cli_test.js PATH_TO_KINKO');
  process.exit(2);
}
const vectors = JSON.parse(fs.readFileSync(
  path.join(__dirname, '..', 'vectors', 'descriptors_bip380-386_test_vectors.json'), 'utf8'));

let passed = 0;
const failures = [];

function check(condition, message) {
  if (condition) passed++;
  else failures.push(message);
  return condition;
}

function run(args) {
  const result = spawnSync(kinko, args, { encoding: 'utf8' });
  if (result.error) throw result.error;
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

const shorten = (args) => `kinko ${args.map((a) => (a.length > 70 ? a.slice(0, 67) + '...' : a)).join(' ')}`;

function runJson(args) {
  const r = run(args);
  if (!check(r.code === 0, `${shorten(args)}: exit ${r.code}; stderr: ${r.stderr.trim()}`)) return null;
  check(r.stderr === '', `${shorten(args)}: unexpected stderr: ${r.stderr.trim()}`);
  try {
    return JSON.parse(r.stdout);
  } catch (e) {
    check(false, `${shorten(args)}: stdout is not JSON`);
    return null;
  }
}

function expectMalformed(args, pattern) {
  const r = run(args);
  check(r.code === 2, `${shorten(args)}: exit ${r.code}, expected 2; stderr: ${r.stderr.trim()}`);
  check(r.stdout === '', `${shorten(args)}: stdout not empty`);
  check(pattern.test(r.stderr), `${shorten(args)}: stderr ${JSON.stringify(r.stderr.trim())} does not match ${pattern}`);
}

// BIP380 checksum, written from the BIP's reference code (not from kinko's).
const INPUT_CHARSET = '0123456789()[],\'/*abcdefgh@:$%{}IJKLMNOPQRSTUVWXYZ&+-.;<=>?!^_|~ijklmnopqrstuvwxyzABCDEFGH`#"\\ ';
const CHECKSUM_CHARSET = 'qpzry9x8gf2tvdw0s3jn54khce6mua7l';
const GENERATOR = [0xf5dee51989n, 0xa9fdca3312n, 0x1bab10e32dn, 0x3706b1677an, 0x644d626ffdn];
function descsumPolymod(symbols) {
  let chk = 1n;
  for (const value of symbols) {
    const top = chk >> 35n;
    chk = ((chk & 0x7ffffffffn) << 5n) ^ BigInt(value);
    for (let i = 0n; i < 5n; i++) if ((top >> i) & 1n) chk ^= GENERATOR[Number(i)];
  }
  return chk;
}
function descsumExpand(s) {
  const groups = [];
  const symbols = [];
  for (const c of s) {
    const v = INPUT_CHARSET.indexOf(c);
    if (v < 0) return null;
    symbols.push(v & 31);
    groups.push(v >> 5);
    if (groups.length === 3) {
      symbols.push(groups[0] * 9 + groups[1] * 3 + groups[2]);
      groups.length = 0;
    }
  }
  if (groups.length === 1) symbols.push(groups[0]);
  else if (groups.length === 2) symbols.push(groups[0] * 3 + groups[1]);
  return symbols;
}
function descsum(s) {
  const checksum = descsumPolymod([...descsumExpand(s), 0, 0, 0, 0, 0, 0, 0, 0]) ^ 1n;
  let out = '';
  for (let i = 0n; i < 8n; i++) out += CHECKSUM_CHARSET[Number((checksum >> (5n * (7n - i))) & 31n)];
  return out;
}
const hasValidChecksum = (d) => d.length > 9 && d[d.length - 9] === '#' && descsum(d.slice(0, -9)) === d.slice(-8);

// ---------------------------------------------------------------------------------------------

function testInfoVectors() {
  check(descsum('raw(deadbeef)') === '89f8spxm', 'reference checksum of raw(deadbeef)');
  let count = 0;
  for (const bip of ['381', '382', '383', '384', '385', '386']) {
    for (const v of vectors.bips[bip].valid) {
      const info = runJson(['descriptor', 'info', v.descriptor]);
      if (!info) continue;
      count++;
      check(hasValidChecksum(info.descriptor), `info ${v.descriptor}: bad checksum in ${info.descriptor}`);
      check(info.checksum === descsum(v.descriptor), `info ${v.descriptor}: checksum ${info.checksum}`);
      check(info.isrange === v.descriptor.includes('*'), `info ${v.descriptor}: isrange`);
      check(info.issolvable === !/^(addr|raw)\(/.test(v.descriptor), `info ${v.descriptor}: issolvable`);
      check(!info.descriptor.includes('xprv'), `info ${v.descriptor}: public form has an xprv`);
      // The public form is accepted again and is a fixed point.
      const again = runJson(['descriptor', 'info', info.descriptor]);
      if (again) check(again.descriptor === info.descriptor, `info ${v.descriptor}: not a fixed point`);
    }
    for (const v of vectors.bips[bip].invalid) {
      expectMalformed(['descriptor', 'info', v.descriptor], /DESCRIPTOR: descriptor/);
      count++;
    }
  }
  check(count === 84, `BIP381-386 vectors counted: ${count}`);
  for (const v of vectors.bips['380'].checksum_and_charset) {
    const r = run(['descriptor', 'info', v.descriptor]);
    check((r.code === 0) === v.valid, `info ${v.descriptor}: exit ${r.code} (${v.description})`);
  }
}

const A = 'xpub6ERApfZwUNrhLCkDtcHTcxd75RbzS1ed54G1LkBUHQVHQKqhMkhgbmJbZRkrgZw4koxb5JaHWkY4ALHY2grBGRjaDMzQLcgJvLJuZZvRcEL';
const B = 'xpub68NZiKmJWnxxS6aaHmn81bvJeTESw724CRDs6HbuccFQN9Ku14VQrADWgqbhhTHBaohPX4CjNLf9fq9MYo6oDaPPLPxSb7gwQN3ih19Zm4Y';
const C = 'xpub69H7F5d8KSRgmmdJg2KhpAK8SR3DjMwAdkxj3ZuxV27CprR9LgpeyGmXUbC6wb7ERfvrnKZjXoUmmDznezpbZb7ap6r1D3tgFxHmwMkQTPH';
const WSH_2OF3 = `wsh(sortedmulti(2,[a1a1a1a1/48h/0h/0h/2h]${A}/<0;1>/*,[b2b2b2b2/48h/0h/0h/2h]${B}/<0;1>/*,[c3c3c3c3/48h/0h/0h/2h]${C}/<0;1>/*))`;
const TR_2OF3 = `tr(50929b74c1a04954b78b4b6035e97a5e078a5a0f28ec96d547bfee9ace803ac0,multi_a(2,[a1a1a1a1/48h/0h/0h/3h]${A}/<0;1>/*,[b2b2b2b2/48h/0h/0h/3h]${B}/<0;1>/*,[c3c3c3c3/48h/0h/0h/3h]${C}/<0;1>/*))`;

function testDerive() {
  // The doc/wallets.md examples; the addresses were checked against an independent descriptor
  // implementation (@bitcoinerlab/descriptors).
  const info = runJson(['descriptor', 'info', WSH_2OF3]);
  if (info) {
    check(info.checksum === 'z7an7jtp', `2-of-3 checksum ${info.checksum}`);
    check(JSON.stringify(info.multipath_expansion) === JSON.stringify([
      WSH_2OF3.replaceAll('<0;1>', '0') + '#llxd9v30', WSH_2OF3.replaceAll('<0;1>', '1') + '#62dhm2p8']),
    `2-of-3 multipath_expansion ${JSON.stringify(info.multipath_expansion)}`);
    check(info.descriptor === info.multipath_expansion[0], '2-of-3 descriptor is the first path');
  }
  const wsh = runJson(['descriptor', 'derive', WSH_2OF3 + '#z7an7jtp', '--range', '0,1']);
  check(JSON.stringify(wsh) === JSON.stringify([
    ['bc1q6vjz7nkl52vnhss7esrdp3lxpgces4sz9mwggy00dkr0f2yskqss6alch9', 'bc1q622vn29cpjq78y26ycjfxrvfpkjfzdzkkrdrpd37yvurwd3x53nqqdtq06'],
    ['bc1qjyg7f59aq2d370hc6u77pnxau3efm0emj25fu6p83ztg8hwz7adqz5eq7c', 'bc1qn2n7lu4v43uhe8s2pzrxgl2qd8tv95mrmzzf25pvxk33g5zs2djqddan6n'],
  ]), `2-of-3 derive ${JSON.stringify(wsh)}`);
  const single = runJson(['descriptor', 'derive', WSH_2OF3.replaceAll('<0;1>', '1') + '#62dhm2p8', '--index', '1']);
  check(JSON.stringify(single) === JSON.stringify(['bc1qn2n7lu4v43uhe8s2pzrxgl2qd8tv95mrmzzf25pvxk33g5zs2djqddan6n']),
    `2-of-3 change index 1 ${JSON.stringify(single)}`);
  const tr = runJson(['descriptor', 'derive', TR_2OF3 + '#sfmll96s', '--range', '1']);
  check(JSON.stringify(tr) === JSON.stringify([
    ['bc1pue9ddxq5ez34u964ewnnku4ml8hj7qp26ets7h20r7wkwxrz7kjqx0qjll', 'bc1pv7u7dcgpgl6yelvp4aueuumgae8kkkd5ntkeeu0sv5upkkgcx33swrhayj'],
    ['bc1pcl7zrzp3zt3amg54r9ty9tr2fqjycx6hrawkwf0g6m9ay8sfgkfqsc0pcw', 'bc1pn0e6ufmasgf5s9e888w8ua9nkqp8qrlzcs5m4g6tkc6vhkyvn92s7y8nz5'],
  ]), `taproot derive ${JSON.stringify(tr)}`);
  // combo(): P2PK has no address and is left out, as in Core.
  const comboText = 'combo(L4rK1yDtCWekvXuE6oXD9jCYfFNV2cWRpVuPLBcCU2z8TrisoyY1)';
  const combo = runJson(['descriptor', 'derive', `${comboText}#${descsum(comboText)}`]);
  check(combo && combo.length === 3 && combo[0].startsWith('1') && combo[1].startsWith('bc1q') && combo[2].startsWith('3'),
    `combo derive ${JSON.stringify(combo)}`);
  // Test networks: tpub keys and tb1 addresses.
  const tpub = 'tpubDEnoLuPdBep9bzw5LoGYpsxUQYheRQ9gcgrJhJEcdKFB9cWQRyYmkCyRoTqeD4tJYiVVgt6A3rN6rWn9RYhR9sBsGxji29LYWHuKKbdb1ev';
  const wpkhTest = `wpkh(${tpub}/0/*)`;
  const testAddrs = runJson(['descriptor', 'derive', `${wpkhTest}#${descsum(wpkhTest)}`, '--range', '0,2', '--network', 'test']);
  check(testAddrs && testAddrs.length === 3 && testAddrs.every((a) => a.startsWith('tb1q')), `test network ${JSON.stringify(testAddrs)}`);
  const regAddrs = runJson(['descriptor', 'derive', `${wpkhTest}#${descsum(wpkhTest)}`, '--index', '0', '--network', 'regtest']);
  check(regAddrs && regAddrs[0].startsWith('bcrt1q') && testAddrs && regAddrs[0].slice(4) !== testAddrs[0].slice(2), `regtest ${JSON.stringify(regAddrs)}`);
  expectMalformed(['descriptor', 'info', wpkhTest], /not a valid key for network main/);
}

function testMalformed() {
  const fixed = 'wpkh(03a34b99f22c790c4e36b2b3c2c35a36db06226e41c692fc82b8b56ac1c540c5bd)';
  const ranged = `wpkh(${A}/0/*)`;
  expectMalformed(['descriptor', 'derive', fixed], /missing checksum/);
  expectMalformed(['descriptor', 'derive', `${fixed}#${descsum(fixed)}`, '--index', '0'], /un-ranged/);
  expectMalformed(['descriptor', 'derive', `${ranged}#${descsum(ranged)}`], /must be given for a ranged/);
  expectMalformed(['descriptor', 'derive', `${ranged}#${descsum(ranged)}`, '--range', '5,1'], /end is before begin/);
  expectMalformed(['descriptor', 'derive', `${ranged}#${descsum(ranged)}`, '--range', '0,1000000'], /too large/);
  expectMalformed(['descriptor', 'derive', `${ranged}#${descsum(ranged)}`, '--index', '2147483648'], /--index/);
  expectMalformed(['descriptor', 'derive', `${ranged}#${descsum(ranged)}`, '--index', '1', '--range', '1'], /one of them/);
  const hardened = `wpkh(${A}/0/*h)`;
  expectMalformed(['descriptor', 'derive', `${hardened}#${descsum(hardened)}`, '--index', '0'], /hardened/);
  const pk = 'pk(03a34b99f22c790c4e36b2b3c2c35a36db06226e41c692fc82b8b56ac1c540c5bd)';
  expectMalformed(['descriptor', 'derive', `${pk}#${descsum(pk)}`], /does not have a corresponding address/);
  expectMalformed(['descriptor', 'info', `${fixed}#00000000`], /checksum does not match/);
  expectMalformed(['descriptor', 'info', fixed, '--network', 'moon'], /--network/);
  // A private key never reaches stderr.
  const secret = 'L4rK1yDtCWekvXuE6oXD9jCYfFNV2cWRpVuPLBcCU2z8TrisoyY1';
  for (const text of [`wsh(${secret})`, `${secret}`, `pk(${secret}/0)`]) {
    const r = run(['descriptor', 'info', text]);
    check(r.code === 2 && !r.stderr.includes(secret.slice(0, 12)), `info with a misplaced key: ${r.stderr.trim()}`);
  }
  for (const args of [['descriptor'], ['descriptor', 'info'], ['descriptor', 'derive']]) {
    const r = run([...args, '--help']);
    check(r.code === 0 && r.stdout.length > 0, `kinko ${args.join(' ')} --help: exit ${r.code}`);
  }
}

function main() {
  const started = Date.now();
  testInfoVectors();
  testDerive();
  testMalformed();
  for (const f of failures.slice(0, 40)) console.error(`descriptor cli: FAIL ${f}`);
  console.log(`descriptor cli: ${((Date.now() - started) / 1000).toFixed(1)} s`);
  console.log(`${passed} passed, ${failures.length} failed`);
  process.exit(failures.length ? 1 : 0);
}

main();
