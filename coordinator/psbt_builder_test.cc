#include "coordinator/psbt_builder.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "btc/psbt_roles.h"
#include "coordinator/coin_selection.h"
#include "test/support/signer_fixture.h"

namespace kinko::coordinator {
namespace {

namespace fixture = ::kinko::testing;

constexpr uint64_t kFeeRate = 2'000;  // sat/kvB
constexpr int64_t kDust = 330;

// A coin of the fixture wallet: branch, index and amount.
struct CoinSpec {
  bool change = false;
  uint32_t index = 0;
  int64_t sats = 0;
};

// The result of selecting and building, as the coordinator's workflow does.
struct Built {
  Selection selection;
  BuildParams params;
  btc::Psbt psbt;
};

class PsbtBuilderTest : public ::testing::Test {
 protected:
  // A funding transaction paying `coins` (one output each), and the coins it makes.
  std::vector<BuildInput> Fund(const std::vector<CoinSpec>& coins, uint32_t seed = 0) const {
    btc::Transaction funding;
    funding.version = 2;
    funding.inputs.resize(1);
    std::array<uint8_t, 32> parent{};
    parent[0] = static_cast<uint8_t>(seed + 1);
    funding.inputs[0].prevout.txid = btc::Txid(parent);
    for (const CoinSpec& coin : coins) {
      funding.outputs.push_back({coin.sats, ScriptAt(coin.change, coin.index)});
    }
    const btc::Txid txid = funding.ComputeTxid();
    std::vector<BuildInput> inputs;
    for (size_t i = 0; i < coins.size(); ++i) {
      storage::Utxo utxo;
      utxo.wallet = fixture::kFixtureWalletId;
      utxo.outpoint = {txid, static_cast<uint32_t>(i)};
      utxo.sats = coins[i].sats;
      utxo.script_pubkey = ScriptAt(coins[i].change, coins[i].index).bytes();
      utxo.change = coins[i].change;
      utxo.index = coins[i].index;
      inputs.push_back({std::move(utxo), funding.Serialize()});
    }
    return inputs;
  }

  btc::Script ScriptAt(bool change, uint32_t index) const {
    const signer::WalletBranch branch =
        change ? signer::WalletBranch::kChange : signer::WalletBranch::kReceive;
    return config_.branch(branch).Expand(ctx_, index).value().script_pubkey;
  }

  static std::vector<storage::PayOutput> OutputsOf(
      const std::vector<policy::SignedIntent>& intents) {
    std::vector<storage::PayOutput> outputs;
    for (const policy::SignedIntent& intent : intents) {
      for (const policy::IntentOutput& out : intent.intent().fields().outputs) {
        outputs.push_back({out.address, out.amount.sats()});
      }
    }
    return outputs;
  }

  // Selects from `available` for `intents` and builds the PSBT, change at `change_index`.
  Built SelectAndBuild(const std::vector<policy::SignedIntent>& intents,
                       const std::vector<BuildInput>& available, uint32_t change_index) const {
    const std::vector<storage::PayOutput> outputs = OutputsOf(intents);
    const WalletSizes sizes = SizesFor(ctx_, descriptor_).value();
    int64_t target = 0;
    for (const storage::PayOutput& out : outputs) target += out.sats;
    std::vector<Coin> coins;
    for (const BuildInput& input : available) {
      coins.push_back({input.coin.outpoint, input.coin.sats, sizes.input_vbytes});
    }
    const SelectionParams params = {
        .target_sats = target,
        .fee_rate_sat_per_kvb = kFeeRate,
        .base_vbytes = BaseVbytes(outputs, fixture::kFixtureNetwork).value(),
        .change_output_vbytes = sizes.change_output_vbytes,
        .change_spend_vbytes = sizes.change_spend_vbytes,
        .dust_sats = kDust,
        .max_inputs = 100};
    Built built;
    built.selection = SelectCoins(coins, params).value();
    built.params.outputs = outputs;
    for (const btc::Outpoint& outpoint : built.selection.inputs) {
      for (const BuildInput& input : available) {
        if (input.coin.outpoint == outpoint) built.params.inputs.push_back(input);
      }
    }
    if (built.selection.change_sats > 0) {
      built.params.change_index = change_index;
      built.params.change_sats = built.selection.change_sats;
    }
    built.psbt = BuildPsbt(ctx_, descriptor_, fixture::kFixtureNetwork, built.params).value();
    return built;
  }

  std::vector<policy::SignedIntent> Intents(
      const std::vector<std::vector<fixture::OutputSpec>>& outputs) const {
    std::vector<policy::SignedIntent> intents;
    for (size_t i = 0; i < outputs.size(); ++i) {
      intents.push_back(
          fixture::MakeIntent(actors_, outputs[i], fixture::kFixtureNow, {.id_seed = 100 + i}));
    }
    return intents;
  }

  // Valid parameters: two coins (receive 3, change 5), two outputs, change at index 9.
  BuildParams ValidParams() const {
    BuildParams params;
    params.inputs = Fund({{false, 3, 150'000}, {true, 5, 80'000}});
    params.outputs = {{fixture::ForeignAddress(1), 100'000}, {fixture::ForeignAddress(2), 60'000}};
    params.change_index = 9;
    params.change_sats = 150'000 + 80'000 - 160'000 - 1'000;
    return params;
  }

  const crypto::Secp256k1Context& ctx_ = fixture::TestContext();
  fixture::TestWallet wallet_ = fixture::MakeTestWallet(ctx_);
  btc::Descriptor descriptor_ =
      btc::Descriptor::Parse(ctx_, wallet_.descriptor, fixture::kFixtureNetwork).value();
  signer::WalletConfig config_ = fixture::MakeWalletConfig(ctx_, wallet_.descriptor);
  fixture::Actors actors_ = fixture::MakeActors();
};

TEST_F(PsbtBuilderTest, SizesOfATwoOfThreeP2wshWallet) {
  // Input: 36 (outpoint) + 1 (empty scriptSig) + 4 (sequence) = 41 bytes, 164 weight units;
  // witness: 1 (count) + 1 (empty dummy) + 2 * (1 + 72) (signatures) + 1 + 105 (the script
  // 0x52 <33> <33> <33> 0x53 0xae) = 254 weight units; (164 + 254) / 4 = 104.5 -> 105.
  // Change output: 8 + 1 + 34 (P2WSH) = 43.
  const WalletSizes sizes = SizesFor(ctx_, descriptor_).value();
  EXPECT_EQ(sizes.input_vbytes, 105u);
  EXPECT_EQ(sizes.change_output_vbytes, 43u);
  EXPECT_EQ(sizes.change_spend_vbytes, 105u);
}

TEST_F(PsbtBuilderTest, SizesRefuseADescriptorWithoutTwoBranches) {
  const std::string single =
      "wsh(multi(1," +
      btc::ExtendedKey::FromSeed(ctx_, std::vector<uint8_t>(32, 7), fixture::kFixtureNetwork)
          .value()
          .Neuter()
          .ToString() +
      "/0/*))";
  const btc::Descriptor descriptor =
      btc::Descriptor::Parse(ctx_, single, fixture::kFixtureNetwork).value();
  util::Result<WalletSizes> sizes = SizesFor(ctx_, descriptor);
  ASSERT_FALSE(sizes.ok());
  EXPECT_EQ(sizes.status().code(), util::StatusCode::kInvalidArgument);
}

TEST_F(PsbtBuilderTest, BaseVbytes) {
  // Version 4, lock time 4, input count 1, output count 1 (two outputs with change); each
  // P2WPKH output 8 + 1 + 22 = 31 bytes; the segwit marker and flag 2 weight units.
  const std::vector<storage::PayOutput> one = {{fixture::ForeignAddress(1), 1000}};
  EXPECT_EQ(BaseVbytes(one, fixture::kFixtureNetwork).value(), (4 * (10 + 31) + 2 + 3) / 4u);
  const std::vector<storage::PayOutput> two = {{fixture::ForeignAddress(1), 1000},
                                               {fixture::ForeignAddress(2), 1000}};
  EXPECT_EQ(BaseVbytes(two, fixture::kFixtureNetwork).value(), (4 * (10 + 62) + 2 + 3) / 4u);

  const std::vector<storage::PayOutput> bad = {{"bcrt1qnotanaddress", 1000}};
  util::Result<uint64_t> refused = BaseVbytes(bad, fixture::kFixtureNetwork);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), util::StatusCode::kInvalidArgument);
  EXPECT_NE(refused.status().message().find("bcrt1qnotanaddress"), std::string::npos);
}

TEST_F(PsbtBuilderTest, TransactionShapeAndInputFields) {
  const BuildParams params = ValidParams();
  const btc::Psbt psbt = BuildPsbt(ctx_, descriptor_, fixture::kFixtureNetwork, params).value();
  ASSERT_TRUE(psbt.unsigned_tx.has_value());
  const btc::Transaction& tx = *psbt.unsigned_tx;
  EXPECT_EQ(tx.version, 2u);
  EXPECT_EQ(tx.lock_time, 0u);
  ASSERT_EQ(tx.inputs.size(), 2u);
  const btc::Transaction funding = btc::Transaction::Parse(params.inputs[0].previous_tx).value();
  for (size_t i = 0; i < tx.inputs.size(); ++i) {
    EXPECT_EQ(tx.inputs[i].sequence, 0xfffffffdu);
    EXPECT_EQ(tx.inputs[i].prevout, params.inputs[i].coin.outpoint);
    const btc::PsbtInput& input = psbt.inputs[i];
    ASSERT_TRUE(input.non_witness_utxo.has_value());
    EXPECT_EQ(*input.non_witness_utxo, funding);
    ASSERT_TRUE(input.witness_utxo.has_value());
    EXPECT_EQ(*input.witness_utxo, funding.outputs[i]);
    EXPECT_TRUE(input.witness_script.has_value());
    ASSERT_EQ(input.bip32_derivations.size(), 3u);
    // Account path m/48'/1'/0'/2', then branch (0 receive, 1 change) and index.
    const std::vector<uint32_t> tail = {params.inputs[i].coin.change ? 1u : 0u,
                                        params.inputs[i].coin.index};
    for (const auto& [pubkey, origin] : input.bip32_derivations) {
      ASSERT_EQ(origin.path.steps.size(), 6u);
      EXPECT_EQ(std::vector<uint32_t>(origin.path.steps.begin() + 4, origin.path.steps.end()),
                tail);
    }
  }
  // The intents' outputs in order, then change.
  ASSERT_EQ(tx.outputs.size(), 3u);
  EXPECT_EQ(tx.outputs[0].value, 100'000);
  EXPECT_EQ(tx.outputs[0].script_pubkey,
            btc::DecodeAddress(fixture::ForeignAddress(1), fixture::kFixtureNetwork)
                .value()
                .script_pubkey);
  EXPECT_EQ(tx.outputs[1].value, 60'000);
  EXPECT_EQ(tx.outputs[2].value, params.change_sats);
  EXPECT_EQ(tx.outputs[2].script_pubkey, ScriptAt(true, 9));
  EXPECT_TRUE(psbt.outputs[0].bip32_derivations.empty());
  ASSERT_EQ(psbt.outputs[2].bip32_derivations.size(), 3u);
  for (const auto& [pubkey, origin] : psbt.outputs[2].bip32_derivations) {
    EXPECT_EQ(origin.path.steps.back(), 9u);
  }
  EXPECT_TRUE(psbt.outputs[2].witness_script.has_value());
}

TEST_F(PsbtBuilderTest, NoChangeOutputWithoutChange) {
  BuildParams params = ValidParams();
  params.change_index.reset();
  params.change_sats = 0;
  const btc::Psbt psbt = BuildPsbt(ctx_, descriptor_, fixture::kFixtureNetwork, params).value();
  EXPECT_EQ(psbt.unsigned_tx->outputs.size(), 2u);
}

TEST_F(PsbtBuilderTest, HighIndexesAreDerivedDirectly) {
  BuildParams params = ValidParams();
  params.inputs = Fund({{false, 90'000, 150'000}, {true, 1'000'000, 80'000}});
  params.change_index = 2'000'000;
  const btc::Psbt psbt = BuildPsbt(ctx_, descriptor_, fixture::kFixtureNetwork, params).value();
  for (const auto& [pubkey, origin] : psbt.inputs[0].bip32_derivations) {
    EXPECT_EQ(origin.path.steps.back(), 90'000u);
  }
  for (const auto& [pubkey, origin] : psbt.inputs[1].bip32_derivations) {
    EXPECT_EQ(origin.path.steps.back(), 1'000'000u);
  }
  ASSERT_EQ(psbt.outputs[2].bip32_derivations.size(), 3u);
  for (const auto& [pubkey, origin] : psbt.outputs[2].bip32_derivations) {
    EXPECT_EQ(origin.path.steps.back(), 2'000'000u);
  }
}

// BuildPsbt writes exactly what BIP174's descriptor updater (btc::UpdatePsbtWithDescriptor,
// scanning the indexes used) writes for the same transaction and previous transactions, for a
// P2WSH multisig wallet and for a taproot wallet with a script tree; the signer's check of each
// wallet accepts the result.
TEST_F(PsbtBuilderTest, SameFieldsAsTheDescriptorUpdater) {
  // The fixture's three keys, "[origin]tpub.../<0;1>/*", in descriptor order.
  const std::string prefix = "wsh(multi(2,";
  ASSERT_EQ(wallet_.descriptor.rfind(prefix, 0), 0u);
  std::string keys = wallet_.descriptor.substr(prefix.size());
  keys.resize(keys.size() - 2);
  std::vector<std::string> key;
  for (size_t start = 0; start <= keys.size();) {
    const size_t comma = std::min(keys.find(',', start), keys.size());
    key.push_back(keys.substr(start, comma - start));
    start = comma + 1;
  }
  ASSERT_EQ(key.size(), 3u);
  const std::vector<std::string> descriptors = {
      wallet_.descriptor,
      "tr(" + key[0] + ",{multi_a(2," + key[1] + "," + key[2] + "),pk(" + key[2] + ")})",
  };
  for (const std::string& text : descriptors) {
    const btc::Descriptor descriptor =
        btc::Descriptor::Parse(ctx_, text, fixture::kFixtureNetwork).value();
    const std::vector<btc::Descriptor> branches = descriptor.SplitMultipath();
    btc::Transaction funding;
    funding.inputs.resize(1);
    funding.outputs.push_back({150'000, branches[0].Expand(ctx_, 3).value().script_pubkey});
    funding.outputs.push_back({80'000, branches[1].Expand(ctx_, 5).value().script_pubkey});
    BuildParams params = ValidParams();
    for (size_t i = 0; i < 2; ++i) {
      params.inputs[i].coin.outpoint = {funding.ComputeTxid(), static_cast<uint32_t>(i)};
      params.inputs[i].coin.script_pubkey = funding.outputs[i].script_pubkey.bytes();
      params.inputs[i].previous_tx = funding.Serialize();
    }
    const btc::Psbt built = BuildPsbt(ctx_, descriptor, fixture::kFixtureNetwork, params).value();

    const btc::Psbt bare = btc::CreatePsbt(*built.unsigned_tx).value();
    const btc::Psbt updated =
        btc::UpdatePsbtWithDescriptor(ctx_, bare, descriptor,
                                      std::vector<btc::Transaction>{funding}, {.range = 10})
            .value();
    EXPECT_EQ(built, updated) << text;
    // And the signer's check of a wallet with this descriptor accepts it.
    const signer::WalletConfig config = fixture::MakeWalletConfig(ctx_, text);
    const std::vector<policy::SignedIntent> intents =
        Intents({{{fixture::ForeignAddress(1), 100'000}, {fixture::ForeignAddress(2), 60'000}}});
    const signer::TransactionCheckOutcome outcome =
        signer::CheckTransaction(ctx_, built, config, intents);
    EXPECT_TRUE(outcome.ok()) << text << ": " << (outcome.ok() ? "" : outcome.refusal->detail);
    EXPECT_FALSE(built.inputs[0].bip32_derivations.empty() &&
                 built.inputs[0].tap_bip32_derivations.empty())
        << text;
    EXPECT_FALSE(built.outputs[2].bip32_derivations.empty() &&
                 built.outputs[2].tap_bip32_derivations.empty())
        << text;
  }
}

// Each builder input changed in one way is refused by BuildPsbt (kInvalidArgument), rather than
// producing a PSBT the signers would refuse.
TEST_F(PsbtBuilderTest, RefusesEachInconsistentInput) {
  const std::vector<BuildInput> other = Fund({{false, 4, 150'000}}, /*seed=*/7);
  struct Case {
    std::string name;
    std::function<void(BuildParams&)> change;
    std::string message_part;
  };
  const std::vector<Case> cases = {
      {"previous transaction of another coin",
       [&](BuildParams& p) { p.inputs[0].previous_tx = other[0].previous_tx; },
       "previous transaction has txid"},
      {"previous transaction truncated", [](BuildParams& p) { p.inputs[1].previous_tx.pop_back(); },
       "input 1"},
      {"output index beyond the previous transaction",
       [](BuildParams& p) { p.inputs[0].coin.outpoint.index = 5; }, "outputs"},
      {"amount differs from the previous transaction",
       [](BuildParams& p) { p.inputs[0].coin.sats += 1; }, "pays 150000 sat"},
      {"script differs from the previous transaction",
       [&](BuildParams& p) { p.inputs[0].coin.script_pubkey = ScriptAt(false, 4).bytes(); },
       "another script"},
      {"index is not the script's", [](BuildParams& p) { p.inputs[0].coin.index = 4; },
       "not the descriptor's at receive index 4"},
      {"branch is not the script's", [](BuildParams& p) { p.inputs[1].coin.change = false; },
       "not the descriptor's at receive index 5"},
      {"hardened index", [](BuildParams& p) { p.inputs[0].coin.index = 0x80000000; }, "input 0"},
      {"a foreign coin",
       [](BuildParams& p) {
         btc::Transaction funding;
         funding.inputs.resize(1);
         const btc::Script foreign =
             btc::DecodeAddress(fixture::ForeignAddress(9), fixture::kFixtureNetwork)
                 .value()
                 .script_pubkey;
         funding.outputs.push_back({150'000, foreign});
         p.inputs[0].coin.outpoint = {funding.ComputeTxid(), 0};
         p.inputs[0].coin.script_pubkey = foreign.bytes();
         p.inputs[0].previous_tx = funding.Serialize();
       },
       "not the descriptor's"},
      {"same coin twice", [](BuildParams& p) { p.inputs[1] = p.inputs[0]; }, "spent twice"},
      {"no input", [](BuildParams& p) { p.inputs.clear(); }, "no input"},
      {"undecodable address", [](BuildParams& p) { p.outputs[0].address = "bcrt1qnotanaddress"; },
       "output 0: address 'bcrt1qnotanaddress'"},
      {"mainnet address",
       [](BuildParams& p) {
         p.outputs[1].address = fixture::ForeignAddress(2, btc::Network::kMainnet);
       },
       "output 1: address"},
      {"zero amount", [](BuildParams& p) { p.outputs[1].sats = 0; }, "output 1: amount"},
      {"change amount without index", [](BuildParams& p) { p.change_index.reset(); }, "change"},
      {"change index without amount", [](BuildParams& p) { p.change_sats = 0; }, "change"},
      {"negative change", [](BuildParams& p) { p.change_sats = -1; }, "change"},
      {"hardened change index", [](BuildParams& p) { p.change_index = 0x80000000; },
       "change index"},
  };
  ASSERT_TRUE(BuildPsbt(ctx_, descriptor_, fixture::kFixtureNetwork, ValidParams()).ok());
  for (const Case& c : cases) {
    BuildParams params = ValidParams();
    c.change(params);
    util::Result<btc::Psbt> psbt = BuildPsbt(ctx_, descriptor_, fixture::kFixtureNetwork, params);
    ASSERT_FALSE(psbt.ok()) << c.name;
    EXPECT_EQ(psbt.status().code(), util::StatusCode::kInvalidArgument) << c.name;
    EXPECT_NE(psbt.status().message().find(c.message_part), std::string::npos)
        << c.name << ": " << psbt.status().message();
  }
}

TEST_F(PsbtBuilderTest, RefusesANetworkOtherThanTheDescriptors) {
  util::Result<btc::Psbt> psbt =
      BuildPsbt(ctx_, descriptor_, btc::Network::kTestnet, ValidParams());
  ASSERT_FALSE(psbt.ok());
  EXPECT_EQ(psbt.status().code(), util::StatusCode::kInvalidArgument);
}

// Select, build, sign with two of the three keys, finalize and verify: the estimate is never
// below the real size and within one vbyte per input of it (the estimate assumes 72-byte
// signatures where kinko's signers make 71-byte low-R ones, 2 weight units per input, and rounds
// each input up to whole vbytes), and the fee pays the fee rate over the real size.
TEST_F(PsbtBuilderTest, EstimateMatchesTheSignedTransaction) {
  struct Case {
    std::string name;
    std::vector<int64_t> coins;
    std::vector<std::vector<fixture::OutputSpec>> intents;
  };
  const std::vector<Case> cases = {
      {"one input with change", {1'000'000}, {{{fixture::ForeignAddress(1), 300'000}}}},
      {"changeless", {300'000, 200'000, 50'000}, {{{fixture::ForeignAddress(1), 499'400}}}},
      {"three inputs, two intents",
       {400'000, 300'000, 200'000},
       {{{fixture::ForeignAddress(1), 500'000}},
        {{fixture::ForeignAddress(2), 200'000}, {fixture::ForeignAddress(3), 150'000}}}},
      {"twelve inputs",
       std::vector<int64_t>(12, 100'000),
       {{{fixture::ForeignAddress(4), 1'150'000}}}},
  };
  for (const Case& c : cases) {
    std::vector<CoinSpec> specs;
    for (size_t i = 0; i < c.coins.size(); ++i) {
      specs.push_back({i % 2 == 1, static_cast<uint32_t>(10 + i), c.coins[i]});
    }
    const Built built = SelectAndBuild(Intents(c.intents), Fund(specs), 42);
    btc::Psbt psbt = built.psbt;
    psbt = fixture::SignWithWalletKey(ctx_, std::move(psbt), wallet_, 0).value();
    psbt = fixture::SignWithWalletKey(ctx_, std::move(psbt), wallet_, 2).value();
    util::Result<btc::Transaction> tx = fixture::FinalizeAndVerify(ctx_, std::move(psbt));
    ASSERT_TRUE(tx.ok()) << c.name << ": " << tx.status().message();
    const uint64_t real = tx->VirtualSize();
    const uint64_t inputs = built.selection.inputs.size();
    EXPECT_GE(built.selection.vbytes, real) << c.name;
    EXPECT_LE(built.selection.vbytes, real + inputs + 1) << c.name;
    EXPECT_GE(built.selection.fee_sats, FeeFor(real, kFeeRate)) << c.name;
    int64_t paid = 0;
    for (const btc::TxOut& out : tx->outputs) paid += out.value;
    EXPECT_EQ(built.selection.input_sats - paid, built.selection.fee_sats) << c.name;
  }
}

// The signer's own check (signer::CheckTransaction with the fixture's wallet configuration)
// accepts what the builder makes, and finds the change where the builder put it.
TEST_F(PsbtBuilderTest, SignerCheckAcceptsTheBuiltPsbt) {
  struct Case {
    std::string name;
    std::vector<CoinSpec> coins;
    std::vector<std::vector<fixture::OutputSpec>> intents;
    uint32_t change_index;
  };
  const std::vector<Case> cases = {
      {"one intent, change", {{false, 0, 1'000'000}}, {{{fixture::ForeignAddress(1), 300'000}}}, 0},
      {"batch of two intents, coins on both branches",
       {{false, 7, 400'000}, {true, 3, 250'000}, {false, 999, 100'000}},
       {{{fixture::ForeignAddress(1), 420'000}},
        {{fixture::ForeignAddress(2), 100'000}, {fixture::ForeignAddress(3), 150'000}}},
       1000},
      {"changeless", {{false, 1, 250'500}}, {{{fixture::ForeignAddress(5), 250'000}}}, 5},
  };
  for (const Case& c : cases) {
    const std::vector<policy::SignedIntent> intents = Intents(c.intents);
    const Built built = SelectAndBuild(intents, Fund(c.coins), c.change_index);
    const signer::TransactionCheckOutcome outcome =
        signer::CheckTransaction(ctx_, built.psbt, config_, intents);
    ASSERT_TRUE(outcome.ok()) << c.name << ": " << outcome.refusal->detail;
    const signer::CheckedTransaction& checked = *outcome.checked;
    EXPECT_EQ(checked.fee.sats(), built.selection.fee_sats) << c.name;
    EXPECT_LE(checked.estimated_vsize, built.selection.vbytes) << c.name;
    if (built.selection.change_sats > 0) {
      ASSERT_EQ(checked.change.size(), 1u) << c.name;
      EXPECT_EQ(checked.change[0].derivation_index, c.change_index) << c.name;
      EXPECT_EQ(checked.change[0].amount.sats(), built.selection.change_sats) << c.name;
    } else {
      EXPECT_TRUE(checked.change.empty()) << c.name;
    }
  }
}

}  // namespace
}  // namespace kinko::coordinator
