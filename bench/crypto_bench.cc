// Benchmarks of crypto/: kinko's secp256k1 wrapper against the same work done by direct
// libsecp256k1 calls in the same binary, so the wrapper's overhead can be read off directly.
//
// Each *_Direct baseline does what the wrapper does, step for step:
// - EcdsaSign: RFC 6979 signing with Bitcoin Core's low-R grind loop, DER serialization, and the
//   verification of the fresh signature that Core's CKey::Sign (and kinko) performs.
// - EcdsaVerify: strict DER parse, normalize, verify, with a parsed public key (a kinko
//   PublicKey object; a secp256k1_pubkey). *FromBytes variants start from the key's bytes.
// - SchnorrSign: keypair from the 32-byte secret, sign32, verification of the fresh signature
//   (as Core's KeyPair::SignSchnorr).
// - SchnorrVerify: verify with a parsed x-only key. *FromBytes variants parse its 32 bytes first.
// *_DirectUnchecked variants skip the post-signing verification, to show what that fault check
// costs.
//
// The signing benchmarks cycle through 256 digests, so the low-R grind loop runs the same
// number of times (about two signing attempts per signature) in both versions.
#include <benchmark/benchmark.h>
#include <secp256k1.h>
#include <secp256k1_extrakeys.h>
#include <secp256k1_schnorrsig.h>

#include <array>
#include <cstdint>
#include <vector>

#include "crypto/hash.h"
#include "crypto/rng.h"
#include "crypto/secp256k1.h"
#include "util/check.h"

namespace kinko::crypto {
namespace {

constexpr size_t kDigests = 256;

// Fixed inputs for every benchmark: one key, 256 digests, their signatures.
struct Fixture {
  Fixture() : ctx(Secp256k1Context::Create(rng)), key(MakeKey()), pub(DerivePublicKey(ctx, key)) {
    for (size_t i = 0; i < kDigests; ++i) {
      std::array<uint8_t, 4> counter = {static_cast<uint8_t>(i), static_cast<uint8_t>(i >> 8), 0,
                                        0};
      digests[i] = Sha256(counter);
      ecdsa_sigs[i] = EcdsaSign(ctx, key, digests[i]);
      schnorr_sigs[i] = SchnorrSign(ctx, key, digests[i], aux);
    }
  }

  static std::array<uint8_t, 32> KeyBytes() {
    std::array<uint8_t, 32> bytes;
    bytes.fill(0x42);
    return bytes;
  }
  static PrivateKey MakeKey() {
    util::Result<PrivateKey> key = PrivateKey::FromBytes(KeyBytes());
    CHECK(key.ok());
    return std::move(key).value();
  }

  const secp256k1_context* raw() const { return static_cast<const secp256k1_context*>(ctx.raw()); }
  // The same fixed, public test key for the direct calls (kinko code reads it from `key`).
  const unsigned char* secret() const { return key_bytes.data(); }

  SystemRng rng;
  Secp256k1Context ctx;
  PrivateKey key;
  PublicKey pub;
  XOnlyPublicKey xonly = XOnlyPublicKey::FromPublicKey(pub);
  std::array<uint8_t, 32> key_bytes = KeyBytes();
  std::array<uint8_t, 32> aux{};
  std::array<std::array<uint8_t, 32>, kDigests> digests;
  std::array<std::vector<uint8_t>, kDigests> ecdsa_sigs;
  std::array<std::array<uint8_t, 64>, kDigests> schnorr_sigs;
};

const Fixture& GetFixture() {
  static const Fixture* fixture = new Fixture();
  return *fixture;
}

// ---------------------------------------------------------------------------------------------
// ECDSA sign

void BM_EcdsaSign_Kinko(benchmark::State& state) {
  const Fixture& f = GetFixture();
  size_t i = 0;
  for (auto _ : state) {
    std::vector<uint8_t> sig = EcdsaSign(f.ctx, f.key, f.digests[i++ % kDigests]);
    benchmark::DoNotOptimize(sig.data());
  }
}
BENCHMARK(BM_EcdsaSign_Kinko);

bool LowR(const secp256k1_context* ctx, const secp256k1_ecdsa_signature& sig) {
  unsigned char compact[64];
  secp256k1_ecdsa_signature_serialize_compact(ctx, compact, &sig);
  return compact[0] < 0x80;
}

// Core's CKey::Sign(grind = true) by direct calls; `check` adds its post-signing verification.
template <bool check>
void EcdsaSignDirect(benchmark::State& state) {
  const Fixture& f = GetFixture();
  const secp256k1_context* ctx = f.raw();
  size_t i = 0;
  for (auto _ : state) {
    const unsigned char* digest = f.digests[i++ % kDigests].data();
    secp256k1_ecdsa_signature sig;
    int ret = secp256k1_ecdsa_sign(ctx, &sig, digest, f.secret(), secp256k1_nonce_function_rfc6979,
                                   nullptr);
    unsigned char extra_entropy[32] = {0};
    uint32_t counter = 0;
    while (ret && !LowR(ctx, sig)) {
      ++counter;
      for (int b = 0; b < 4; ++b) extra_entropy[b] = static_cast<unsigned char>(counter >> (8 * b));
      ret = secp256k1_ecdsa_sign(ctx, &sig, digest, f.secret(), secp256k1_nonce_function_rfc6979,
                                 extra_entropy);
    }
    unsigned char der[72];
    size_t der_len = sizeof(der);
    secp256k1_ecdsa_signature_serialize_der(ctx, der, &der_len, &sig);
    if constexpr (check) {
      secp256k1_pubkey pk;
      ret &= secp256k1_ec_pubkey_create(ctx, &pk, f.secret());
      ret &= secp256k1_ecdsa_verify(ctx, &sig, digest, &pk);
    }
    CHECK(ret == 1);
    benchmark::DoNotOptimize(der);
    benchmark::DoNotOptimize(der_len);
  }
}

void BM_EcdsaSign_Direct(benchmark::State& state) { EcdsaSignDirect<true>(state); }
BENCHMARK(BM_EcdsaSign_Direct);
void BM_EcdsaSign_DirectUnchecked(benchmark::State& state) { EcdsaSignDirect<false>(state); }
BENCHMARK(BM_EcdsaSign_DirectUnchecked);

// ---------------------------------------------------------------------------------------------
// ECDSA verify

void BM_EcdsaVerify_Kinko(benchmark::State& state) {
  const Fixture& f = GetFixture();
  size_t i = 0;
  for (auto _ : state) {
    const size_t n = i++ % kDigests;
    const bool ok = EcdsaVerify(f.ctx, f.pub, f.digests[n], f.ecdsa_sigs[n], DerParsing::kStrict);
    CHECK(ok);
  }
}
BENCHMARK(BM_EcdsaVerify_Kinko);

// From the 33 key bytes, as a script interpreter has them: parse, then verify.
void BM_EcdsaVerifyFromBytes_Kinko(benchmark::State& state) {
  const Fixture& f = GetFixture();
  const std::array<uint8_t, 33> pub_bytes = f.pub.SerializeCompressed();
  size_t i = 0;
  for (auto _ : state) {
    const size_t n = i++ % kDigests;
    const util::Result<PublicKey> pub = PublicKey::Parse(pub_bytes);
    const bool ok =
        pub.ok() && EcdsaVerify(f.ctx, *pub, f.digests[n], f.ecdsa_sigs[n], DerParsing::kStrict);
    CHECK(ok);
  }
}
BENCHMARK(BM_EcdsaVerifyFromBytes_Kinko);

// `from_bytes`: the public key is parsed from its 33 bytes in the loop; otherwise once, before
// it (the counterpart of a kinko PublicKey object).
template <bool from_bytes>
void EcdsaVerifyDirect(benchmark::State& state) {
  const Fixture& f = GetFixture();
  const secp256k1_context* ctx = f.raw();
  const std::array<uint8_t, 33> pub_bytes = f.pub.SerializeCompressed();
  secp256k1_pubkey parsed_pub;
  CHECK(secp256k1_ec_pubkey_parse(ctx, &parsed_pub, pub_bytes.data(), pub_bytes.size()) == 1);
  size_t i = 0;
  for (auto _ : state) {
    const size_t n = i++ % kDigests;
    secp256k1_pubkey pub = parsed_pub;
    int ret = 1;
    if constexpr (from_bytes) {
      ret = secp256k1_ec_pubkey_parse(ctx, &pub, pub_bytes.data(), pub_bytes.size());
    }
    secp256k1_ecdsa_signature sig;
    ret &= secp256k1_ecdsa_signature_parse_der(ctx, &sig, f.ecdsa_sigs[n].data(),
                                               f.ecdsa_sigs[n].size());
    secp256k1_ecdsa_signature_normalize(ctx, &sig, &sig);
    ret &= secp256k1_ecdsa_verify(ctx, &sig, f.digests[n].data(), &pub);
    CHECK(ret == 1);
  }
}

void BM_EcdsaVerify_Direct(benchmark::State& state) { EcdsaVerifyDirect<false>(state); }
BENCHMARK(BM_EcdsaVerify_Direct);
void BM_EcdsaVerifyFromBytes_Direct(benchmark::State& state) { EcdsaVerifyDirect<true>(state); }
BENCHMARK(BM_EcdsaVerifyFromBytes_Direct);

// ---------------------------------------------------------------------------------------------
// BIP340 sign

void BM_SchnorrSign_Kinko(benchmark::State& state) {
  const Fixture& f = GetFixture();
  size_t i = 0;
  for (auto _ : state) {
    std::array<uint8_t, 64> sig = SchnorrSign(f.ctx, f.key, f.digests[i++ % kDigests], f.aux);
    benchmark::DoNotOptimize(sig);
  }
}
BENCHMARK(BM_SchnorrSign_Kinko);

template <bool check>
void SchnorrSignDirect(benchmark::State& state) {
  const Fixture& f = GetFixture();
  const secp256k1_context* ctx = f.raw();
  size_t i = 0;
  for (auto _ : state) {
    const unsigned char* msg = f.digests[i++ % kDigests].data();
    secp256k1_keypair keypair;
    int ret = secp256k1_keypair_create(ctx, &keypair, f.secret());
    unsigned char sig[64];
    ret &= secp256k1_schnorrsig_sign32(ctx, sig, msg, &keypair, f.aux.data());
    if constexpr (check) {
      secp256k1_xonly_pubkey xonly;
      ret &= secp256k1_keypair_xonly_pub(ctx, &xonly, nullptr, &keypair);
      ret &= secp256k1_schnorrsig_verify(ctx, sig, msg, 32, &xonly);
    }
    CHECK(ret == 1);
    benchmark::DoNotOptimize(sig);
  }
}

void BM_SchnorrSign_Direct(benchmark::State& state) { SchnorrSignDirect<true>(state); }
BENCHMARK(BM_SchnorrSign_Direct);
void BM_SchnorrSign_DirectUnchecked(benchmark::State& state) { SchnorrSignDirect<false>(state); }
BENCHMARK(BM_SchnorrSign_DirectUnchecked);

// ---------------------------------------------------------------------------------------------
// BIP340 verify

void BM_SchnorrVerify_Kinko(benchmark::State& state) {
  const Fixture& f = GetFixture();
  size_t i = 0;
  for (auto _ : state) {
    const size_t n = i++ % kDigests;
    const bool ok = SchnorrVerify(f.ctx, f.xonly, f.digests[n], f.schnorr_sigs[n]);
    CHECK(ok);
  }
}
BENCHMARK(BM_SchnorrVerify_Kinko);

// From the 32 key bytes, as a taproot output has them: parse, then verify.
void BM_SchnorrVerifyFromBytes_Kinko(benchmark::State& state) {
  const Fixture& f = GetFixture();
  const std::array<uint8_t, 32> key_bytes = f.xonly.bytes();
  size_t i = 0;
  for (auto _ : state) {
    const size_t n = i++ % kDigests;
    const util::Result<XOnlyPublicKey> key = XOnlyPublicKey::Parse(key_bytes);
    const bool ok = key.ok() && SchnorrVerify(f.ctx, *key, f.digests[n], f.schnorr_sigs[n]);
    CHECK(ok);
  }
}
BENCHMARK(BM_SchnorrVerifyFromBytes_Kinko);

template <bool from_bytes>
void SchnorrVerifyDirect(benchmark::State& state) {
  const Fixture& f = GetFixture();
  const secp256k1_context* ctx = f.raw();
  const std::array<uint8_t, 32> key_bytes = f.xonly.bytes();
  secp256k1_xonly_pubkey parsed;
  CHECK(secp256k1_xonly_pubkey_parse(ctx, &parsed, key_bytes.data()) == 1);
  size_t i = 0;
  for (auto _ : state) {
    const size_t n = i++ % kDigests;
    secp256k1_xonly_pubkey pub = parsed;
    int ret = 1;
    if constexpr (from_bytes) ret = secp256k1_xonly_pubkey_parse(ctx, &pub, key_bytes.data());
    ret &=
        secp256k1_schnorrsig_verify(ctx, f.schnorr_sigs[n].data(), f.digests[n].data(), 32, &pub);
    CHECK(ret == 1);
  }
}

void BM_SchnorrVerify_Direct(benchmark::State& state) { SchnorrVerifyDirect<false>(state); }
BENCHMARK(BM_SchnorrVerify_Direct);
void BM_SchnorrVerifyFromBytes_Direct(benchmark::State& state) { SchnorrVerifyDirect<true>(state); }
BENCHMARK(BM_SchnorrVerifyFromBytes_Direct);

// ---------------------------------------------------------------------------------------------
// Hashes over 64 bytes (a BIP341 TapBranch, or a Merkle node).

void BM_Sha256_64(benchmark::State& state) {
  std::array<uint8_t, 64> data{};
  for (auto _ : state) {
    Hash256Bytes out = Sha256(data);
    benchmark::DoNotOptimize(out);
    data[0] = out[0];
  }
}
BENCHMARK(BM_Sha256_64);

void BM_TaggedHash_64(benchmark::State& state) {
  std::array<uint8_t, 64> data{};
  for (auto _ : state) {
    Hash256Bytes out = TaggedHash("TapBranch", data);
    benchmark::DoNotOptimize(out);
    data[0] = out[0];
  }
}
BENCHMARK(BM_TaggedHash_64);

// The tag's midstate computed once and copied per hash.
void BM_TaggedHasherMidstate_64(benchmark::State& state) {
  const Sha256Hasher midstate = TaggedHasher("TapBranch");
  std::array<uint8_t, 64> data{};
  for (auto _ : state) {
    Sha256Hasher hasher = midstate;
    Hash256Bytes out = hasher.Write(data).Finalize();
    benchmark::DoNotOptimize(out);
    data[0] = out[0];
  }
}
BENCHMARK(BM_TaggedHasherMidstate_64);

}  // namespace
}  // namespace kinko::crypto
