// BIP32 child derivation, m/48'/0'/0'/2'/0/i (the receive branch of a BIP48 multisig
// account), through ExtendedKey and through the same libsecp256k1 operations called directly.
//
// Each benchmark derives child i of the branch key m/48'/0'/0'/2'/0 for i = 0, 1, 2, ...:
//   Bip32DerivePrivate   ExtendedKey::Derive on the branch xprv
//   RawDerivePrivate     HMAC-SHA512 + secp256k1_ec_seckey_tweak_add + secp256k1_ec_pubkey_create
//                        + compressed serialization (what a private CKD needs at least)
//   Bip32DerivePublic    ExtendedKey::Derive on the branch xpub
//   RawDerivePublic      HMAC-SHA512 + secp256k1_ec_pubkey_tweak_add + compressed serialization
// The overhead of ExtendedKey is (Bip32X - RawX) / RawX. Bip32FullPath derives the whole path
// from the master xprv, for scale.
//
// This file calls libsecp256k1 directly, on purpose: the baseline must not go through crypto/.
#include <benchmark/benchmark.h>
#include <secp256k1.h>

#include <array>
#include <cstdint>
#include <vector>

#include "btc/bip32.h"
#include "crypto/hash.h"
#include "crypto/key_export.h"
#include "crypto/rng.h"
#include "crypto/secp256k1.h"
#include "util/check.h"

namespace kinko::btc {
namespace {

struct Fixture {
  crypto::Secp256k1Context ctx;
  ExtendedKey master;
  ExtendedKey branch;  // m/48'/0'/0'/2'/0, private.
};

Fixture& GetFixture() {
  static Fixture* fixture = [] {
    crypto::SystemRng rng;
    crypto::Secp256k1Context ctx = crypto::Secp256k1Context::Create(rng);
    // BIP32 test vector 1's seed.
    const std::vector<uint8_t> seed = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15};
    util::Result<ExtendedKey> master = ExtendedKey::FromSeed(ctx, seed, Network::kMainnet);
    CHECK(master.ok());
    util::Result<KeyPath> path = KeyPath::Parse("m/48'/0'/0'/2'/0");
    CHECK(path.ok());
    util::Result<ExtendedKey> branch = master->DerivePath(ctx, *path);
    CHECK(branch.ok());
    return new Fixture{std::move(ctx), std::move(*master), std::move(*branch)};
  }();
  return *fixture;
}

const secp256k1_context* Raw(const crypto::Secp256k1Context& ctx) {
  return static_cast<const secp256k1_context*>(ctx.raw());
}

// I = HMAC-SHA512(c, serP(K) || ser32(i)), the non-hardened BIP32 input.
crypto::Hash512Bytes ChildHmac(const std::array<uint8_t, 32>& chain_code,
                               const std::array<uint8_t, 33>& parent_pub, uint32_t index) {
  std::array<uint8_t, 37> data;
  std::copy(parent_pub.begin(), parent_pub.end(), data.begin());
  data[33] = static_cast<uint8_t>(index >> 24);
  data[34] = static_cast<uint8_t>(index >> 16);
  data[35] = static_cast<uint8_t>(index >> 8);
  data[36] = static_cast<uint8_t>(index);
  return crypto::HmacSha512(chain_code, data);
}

void Bip32DerivePrivate(benchmark::State& state) {
  Fixture& f = GetFixture();
  uint32_t i = 0;
  for (auto _ : state) {
    util::Result<ExtendedKey> child = f.branch.Derive(f.ctx, i++ % kHardened);
    benchmark::DoNotOptimize(child);
  }
  state.SetItemsProcessed(state.iterations());
}

void RawDerivePrivate(benchmark::State& state) {
  Fixture& f = GetFixture();
  const secp256k1_context* ctx = Raw(f.ctx);
  std::array<uint8_t, 32> parent_key = crypto::ExportPrivateKeyBytes(*f.branch.private_key());
  const std::array<uint8_t, 33> parent_pub = f.branch.public_key().SerializeCompressed();
  uint32_t i = 0;
  for (auto _ : state) {
    const crypto::Hash512Bytes hmac = ChildHmac(f.branch.chain_code(), parent_pub, i++ % kHardened);
    std::array<uint8_t, 32> child_key = parent_key;
    CHECK(secp256k1_ec_seckey_tweak_add(ctx, child_key.data(), hmac.data()) == 1);
    secp256k1_pubkey child_pub;
    CHECK(secp256k1_ec_pubkey_create(ctx, &child_pub, child_key.data()) == 1);
    std::array<uint8_t, 33> serialized;
    size_t size = serialized.size();
    secp256k1_ec_pubkey_serialize(ctx, serialized.data(), &size, &child_pub,
                                  SECP256K1_EC_COMPRESSED);
    benchmark::DoNotOptimize(serialized);
    benchmark::DoNotOptimize(child_key);
  }
  crypto::Wipe(parent_key);
  state.SetItemsProcessed(state.iterations());
}

void Bip32DerivePublic(benchmark::State& state) {
  Fixture& f = GetFixture();
  const ExtendedKey xpub = f.branch.Neuter();
  uint32_t i = 0;
  for (auto _ : state) {
    util::Result<ExtendedKey> child = xpub.Derive(f.ctx, i++ % kHardened);
    benchmark::DoNotOptimize(child);
  }
  state.SetItemsProcessed(state.iterations());
}

void RawDerivePublic(benchmark::State& state) {
  Fixture& f = GetFixture();
  const secp256k1_context* ctx = Raw(f.ctx);
  const std::array<uint8_t, 33> parent_pub = f.branch.public_key().SerializeCompressed();
  secp256k1_pubkey parent;
  CHECK(secp256k1_ec_pubkey_parse(ctx, &parent, parent_pub.data(), parent_pub.size()) == 1);
  uint32_t i = 0;
  for (auto _ : state) {
    const crypto::Hash512Bytes hmac = ChildHmac(f.branch.chain_code(), parent_pub, i++ % kHardened);
    secp256k1_pubkey child = parent;
    CHECK(secp256k1_ec_pubkey_tweak_add(ctx, &child, hmac.data()) == 1);
    std::array<uint8_t, 33> serialized;
    size_t size = serialized.size();
    secp256k1_ec_pubkey_serialize(ctx, serialized.data(), &size, &child, SECP256K1_EC_COMPRESSED);
    benchmark::DoNotOptimize(serialized);
  }
  state.SetItemsProcessed(state.iterations());
}

void Bip32FullPath(benchmark::State& state) {
  Fixture& f = GetFixture();
  KeyPath path = *KeyPath::Parse("m/48'/0'/0'/2'/0/0");
  uint32_t i = 0;
  for (auto _ : state) {
    path.steps.back() = i++ % kHardened;
    util::Result<ExtendedKey> child = f.master.DerivePath(f.ctx, path);
    benchmark::DoNotOptimize(child);
  }
  state.SetItemsProcessed(state.iterations());
}

BENCHMARK(Bip32DerivePrivate);
BENCHMARK(RawDerivePrivate);
BENCHMARK(Bip32DerivePublic);
BENCHMARK(RawDerivePublic);
BENCHMARK(Bip32FullPath);

}  // namespace
}  // namespace kinko::btc
