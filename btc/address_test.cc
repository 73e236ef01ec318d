#include "btc/address.h"

#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "btc/base58.h"
#include "btc/bech32.h"
#include "crypto/key_export.h"
#include "util/hex.h"

namespace kinko::btc {
namespace {

constexpr Network kAllNetworks[] = {Network::kMainnet, Network::kTestnet, Network::kSignet,
                                    Network::kRegtest};

nlohmann::json ReadVectors(const std::string& name) {
  std::ifstream in(std::string(KINKO_VECTORS_DIR) + "/" + name);
  EXPECT_TRUE(in.good()) << name;
  return nlohmann::json::parse(in);
}

Script ScriptFromHex(const std::string& hex) { return Script(*util::HexDecode(hex)); }

std::string FlipCase(std::string s) {
  for (char& c : s) {
    if (c >= 'a' && c <= 'z') {
      c = static_cast<char>(c - 'a' + 'A');
    } else if (c >= 'A' && c <= 'Z') {
      c = static_cast<char>(c - 'A' + 'a');
    }
  }
  return s;
}

// Bitcoin Core's key_io_valid.json, addresses: the address decodes on its chain to the
// scriptPubKey, the scriptPubKey encodes back to the address, and flipping the case keeps a
// segwit address valid (tryCaseFlip) and breaks a Base58 one.
TEST(AddressTest, KeyIoValidAddresses) {
  const nlohmann::json vectors = ReadVectors("key_io_valid.json");
  ASSERT_EQ(vectors.size(), 70u);
  size_t passed = 0;
  for (const auto& v : vectors) {
    const nlohmann::json& meta = v[2];
    if (meta["isPrivkey"].get<bool>()) continue;
    const std::string address = v[0].get<std::string>();
    const Script script = ScriptFromHex(v[1].get<std::string>());
    util::Result<Network> network = ParseNetwork(meta["chain"].get<std::string>());
    ASSERT_TRUE(network.ok()) << network.status();

    util::Result<DecodedAddress> decoded = DecodeAddress(address, *network);
    ASSERT_TRUE(decoded.ok()) << address << ": " << decoded.status();
    EXPECT_EQ(decoded->script_pubkey, script) << address;
    EXPECT_EQ(AddressTypeOf(script), decoded->type) << address;
    util::Result<std::string> encoded = EncodeAddress(script, *network);
    ASSERT_TRUE(encoded.ok()) << address << ": " << encoded.status();
    EXPECT_EQ(*encoded, address);

    const bool try_case_flip = meta.contains("tryCaseFlip") && meta["tryCaseFlip"].get<bool>();
    util::Result<DecodedAddress> flipped = DecodeAddress(FlipCase(address), *network);
    EXPECT_EQ(flipped.ok(), try_case_flip) << address;
    if (flipped.ok()) {
      EXPECT_EQ(flipped->script_pubkey, script) << address;
    }
    ++passed;
  }
  EXPECT_EQ(passed, 54u);
}

// Bitcoin Core's key_io_invalid.json: none is an address on any network.
TEST(AddressTest, KeyIoInvalidAddresses) {
  const nlohmann::json vectors = ReadVectors("key_io_invalid.json");
  size_t passed = 0;
  for (const auto& v : vectors) {
    const std::string text = v[0].get<std::string>();
    for (Network network : kAllNetworks) {
      util::Result<DecodedAddress> r = DecodeAddress(text, network);
      EXPECT_FALSE(r.ok()) << text << " on " << NetworkName(network);
      if (!r.ok()) {
        EXPECT_EQ(r.status().code(), util::StatusCode::kInvalidArgument);
      }
    }
    ++passed;
  }
  EXPECT_EQ(passed, 70u);
}

Network NetworkOfHrp(std::string_view address) {
  return (address[0] == 'b' || address[0] == 'B') ? Network::kMainnet : Network::kTestnet;
}

// BIP173 and BIP350 valid addresses. BIP173's addresses of witness version 1+ use a Bech32
// checksum, which BIP350 replaced with Bech32m: they must now be rejected (the vector file
// marks them with a note).
TEST(AddressTest, Bip173Bip350ValidAddresses) {
  const nlohmann::json vectors = ReadVectors("bech32_bech32m_test_vectors.json");
  size_t accepted = 0;
  size_t superseded = 0;
  for (const char* section : {"bip173", "bip350"}) {
    for (const auto& v : vectors[section]["valid_addresses"]) {
      const std::string address = v["address"].get<std::string>();
      const Network network = NetworkOfHrp(address);
      util::Result<DecodedAddress> d = DecodeAddress(address, network);
      if (v.contains("note")) {
        EXPECT_FALSE(d.ok()) << address;
        ++superseded;
        continue;
      }
      ASSERT_TRUE(d.ok()) << address << ": " << d.status();
      const Script script = ScriptFromHex(v["scriptPubKey_hex"].get<std::string>());
      EXPECT_EQ(d->script_pubkey, script) << address;
      EXPECT_EQ(d->witness_version, script.bytes()[0] == 0 ? 0 : script.bytes()[0] - 0x50);
      util::Result<std::string> encoded = EncodeAddress(script, network);
      ASSERT_TRUE(encoded.ok()) << encoded.status();
      std::string lower = address;
      for (char& c : lower) {
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
      }
      EXPECT_EQ(*encoded, lower);
      ++accepted;
    }
  }
  EXPECT_EQ(accepted, 11u);
  EXPECT_EQ(superseded, 3u);
}

TEST(AddressTest, Bip173Bip350InvalidAddresses) {
  const nlohmann::json vectors = ReadVectors("bech32_bech32m_test_vectors.json");
  size_t passed = 0;
  for (const char* section : {"bip173", "bip350"}) {
    for (const auto& v : vectors[section]["invalid_addresses"]) {
      const std::string address = v["address"].get<std::string>();
      for (Network network : kAllNetworks) {
        EXPECT_FALSE(DecodeAddress(address, network).ok())
            << address << " (" << v["reason"] << ") on " << NetworkName(network);
      }
      ++passed;
    }
  }
  EXPECT_EQ(passed, 25u);
}

// One test per decoding rule, each naming the reason.
void ExpectRejected(std::string_view address, Network network, std::string_view message_part) {
  util::Result<DecodedAddress> r = DecodeAddress(address, network);
  ASSERT_FALSE(r.ok()) << address;
  EXPECT_EQ(r.status().code(), util::StatusCode::kInvalidArgument);
  EXPECT_NE(r.status().message().find(message_part), std::string::npos)
      << "'" << r.status().message() << "' lacks '" << message_part << "'";
}

TEST(AddressTest, DecodeRejectsBase58OfAnotherNetwork) {
  // key_io_valid.json mainnet P2PKH and testnet4 P2SH addresses.
  ExpectRejected("1FsSia9rv4NeEwvJ2GvXrX7LyxYspbN2mo", Network::kTestnet, "is for main");
  ExpectRejected("2NC2hEhe28ULKAJkW5MjZ3jtTMJdvXmByvK", Network::kMainnet,
                 "is for test, signet and regtest");
}

TEST(AddressTest, DecodeRejectsSegwitOfAnotherNetwork) {
  ExpectRejected("bc1qvyq0cc6rahyvsazfdje0twl7ez82ndmuac2lhv", Network::kTestnet,
                 "segwit prefix 'bc'");
  ExpectRejected("tb1qcrh3yqn4nlleplcez2yndq2ry8h9ncg3qh7n54", Network::kMainnet,
                 "segwit prefix 'tb'");
  ExpectRejected("bcrt1qdavt4j2sd7dlhqsavtnfxvzppw6k7qy97tmnu9", Network::kMainnet,
                 "segwit prefix 'bcrt'");
  ExpectRejected("bc1qvyq0cc6rahyvsazfdje0twl7ez82ndmuac2lhv", Network::kRegtest,
                 "segwit prefix 'bc'");
}

TEST(AddressTest, DecodeRejectsBase58Rules) {
  ExpectRejected("1FsSia9rv4NeEwvJ2GvXrX7LyxYspbN2mp", Network::kMainnet, "checksum");
  ExpectRejected("1FsSia9rv4NeEwvJ2GvXrX7LyxYspbN2m0", Network::kMainnet, "invalid character");
  // Right version byte, wrong length.
  std::vector<uint8_t> short_payload(20, 0x11);
  short_payload[0] = 0x00;
  ExpectRejected(Base58CheckEncode(short_payload), Network::kMainnet, "expected 21");
  // Unknown version byte.
  std::vector<uint8_t> unknown(21, 0x11);
  unknown[0] = 0x30;
  ExpectRejected(Base58CheckEncode(unknown), Network::kMainnet, "unknown base58 version 0x30");
}

std::string SegwitString(Bech32Encoding encoding, std::string_view hrp, int version,
                         const std::vector<uint8_t>& program) {
  std::vector<uint8_t> values = {static_cast<uint8_t>(version)};
  const std::vector<uint8_t> five = ConvertBits8To5(program);
  values.insert(values.end(), five.begin(), five.end());
  return Bech32Encode(encoding, hrp, values);
}

TEST(AddressTest, DecodeRejectsSegwitRules) {
  const std::vector<uint8_t> p20(20, 0x42);
  const std::vector<uint8_t> p32(32, 0x42);
  ASSERT_TRUE(
      DecodeAddress(SegwitString(Bech32Encoding::kBech32, "bc", 0, p20), Network::kMainnet).ok());
  ExpectRejected(SegwitString(Bech32Encoding::kBech32m, "bc", 0, p20), Network::kMainnet,
                 "version 0 must use a bech32 checksum");
  ExpectRejected(SegwitString(Bech32Encoding::kBech32, "bc", 1, p32), Network::kMainnet,
                 "version 1 must use a bech32m checksum");
  ExpectRejected(SegwitString(Bech32Encoding::kBech32, "bc", 0, std::vector<uint8_t>(21, 1)),
                 Network::kMainnet, "v0 program of 21 bytes");
  ExpectRejected(SegwitString(Bech32Encoding::kBech32m, "bc", 2, std::vector<uint8_t>(1, 1)),
                 Network::kMainnet, "program of 1 bytes");
  ExpectRejected(SegwitString(Bech32Encoding::kBech32m, "bc", 2, std::vector<uint8_t>(41, 1)),
                 Network::kMainnet, "program of 41 bytes");
  ExpectRejected(SegwitString(Bech32Encoding::kBech32m, "bc", 17, p32), Network::kMainnet,
                 "witness version 17");
  ExpectRejected(Bech32Encode(Bech32Encoding::kBech32, "bc", {}), Network::kMainnet,
                 "empty data part");
  std::string mixed = SegwitString(Bech32Encoding::kBech32, "bc", 0, p20);
  mixed[5] = static_cast<char>(mixed[5] - 'a' + 'A');
  ExpectRejected(mixed, Network::kMainnet, "mixed case");
  // A whole group of padding (5 bits) is invalid.
  std::vector<uint8_t> values = {0};
  const std::vector<uint8_t> five = ConvertBits8To5(p20);
  values.insert(values.end(), five.begin(), five.end());
  values.push_back(0);
  ExpectRejected(Bech32Encode(Bech32Encoding::kBech32, "bc", values), Network::kMainnet, "padding");
}

TEST(AddressTest, EncodeRejectsScriptsWithoutAddress) {
  const char* scripts[] = {
      // P2PK (compressed key).
      "210279be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798ac",
      // Bare 1-of-1 multisig.
      "51210279be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f8179851ae",
      // OP_RETURN with data.
      "6a0474657374",
      // Witness v0 program of 21 bytes.
      "0015000000000000000000000000000000000000000000",
      // A push of 2 bytes preceded by OP_1NEGATE (not a version opcode).
      "4f020000",
      // Witness-like, but the push uses OP_PUSHDATA1.
      "004c14751e76e8199196d454941c45d1b3a323f1433bd6",
      // Empty.
      "",
  };
  for (const char* hex : scripts) {
    const Script script = ScriptFromHex(hex);
    for (Network network : kAllNetworks) {
      EXPECT_FALSE(EncodeAddress(script, network).ok()) << hex;
    }
    EXPECT_FALSE(AddressTypeOf(script).has_value()) << hex;
  }
}

TEST(AddressTest, EncodeChoosesTheChecksumByVersion) {
  // BIP350 valid address vectors: v0 is Bech32, v1 and v16 are Bech32m.
  const Script v16 = ScriptFromHex("6002751e");
  util::Result<std::string> a = EncodeAddress(v16, Network::kMainnet);
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(*a, "bc1sw50qgdz25j");
  EXPECT_EQ(AddressTypeOf(v16), AddressType::kWitnessUnknown);
}

TEST(AddressTest, PayToAnchorIsAWitnessUnknownAddress) {
  // OP_1 <0x4e73>: Bitcoin Core's pay-to-anchor output, encoded like any v1 program.
  const Script anchor = ScriptFromHex("51024e73");
  EXPECT_EQ(AddressTypeOf(anchor), AddressType::kWitnessUnknown);
  util::Result<std::string> a = EncodeAddress(anchor, Network::kRegtest);
  ASSERT_TRUE(a.ok()) << a.status();
  util::Result<DecodedAddress> back = DecodeAddress(*a, Network::kRegtest);
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(back->script_pubkey, anchor);
  EXPECT_EQ(back->witness_version, 1);
}

TEST(AddressTest, NetworkNamesRoundTrip) {
  for (Network network : kAllNetworks) {
    util::Result<Network> back = ParseNetwork(NetworkName(network));
    ASSERT_TRUE(back.ok());
    EXPECT_EQ(*back, network);
  }
  EXPECT_EQ(*ParseNetwork("mainnet"), Network::kMainnet);
  EXPECT_EQ(*ParseNetwork("bitcoin"), Network::kMainnet);
  EXPECT_EQ(*ParseNetwork("testnet"), Network::kTestnet);
  EXPECT_EQ(*ParseNetwork("testnet3"), Network::kTestnet);
  EXPECT_EQ(*ParseNetwork("testnet4"), Network::kTestnet);
  for (const char* bad : {"", "Main", "MAIN", "testnet5", "liquid", " main"}) {
    EXPECT_FALSE(ParseNetwork(bad).ok()) << bad;
  }
}

TEST(AddressTest, AddressTypeNames) {
  EXPECT_EQ(AddressTypeName(AddressType::kP2pkh), "p2pkh");
  EXPECT_EQ(AddressTypeName(AddressType::kP2sh), "p2sh");
  EXPECT_EQ(AddressTypeName(AddressType::kP2wpkh), "p2wpkh");
  EXPECT_EQ(AddressTypeName(AddressType::kP2wsh), "p2wsh");
  EXPECT_EQ(AddressTypeName(AddressType::kP2tr), "p2tr");
  EXPECT_EQ(AddressTypeName(AddressType::kWitnessUnknown), "witness_unknown");
}

// Bitcoin Core's key_io_valid.json, private keys: the WIF decodes to the secret with its
// compression flag and network, encodes back, and is not an address; the addresses of the
// file are not WIF keys.
TEST(WifTest, KeyIoValidSecrets) {
  const nlohmann::json vectors = ReadVectors("key_io_valid.json");
  size_t secrets = 0;
  size_t addresses = 0;
  for (const auto& v : vectors) {
    const nlohmann::json& meta = v[2];
    const std::string text = v[0].get<std::string>();
    const Network chain = *ParseNetwork(meta["chain"].get<std::string>());
    if (!meta["isPrivkey"].get<bool>()) {
      EXPECT_FALSE(DecodeWif(text).ok()) << text;
      ++addresses;
      continue;
    }
    util::Result<WifKey> wif = DecodeWif(text);
    ASSERT_TRUE(wif.ok()) << text << ": " << wif.status();
    const std::array<uint8_t, 32> secret = crypto::ExportPrivateKeyBytes(wif->key);
    EXPECT_EQ(util::HexEncode(secret), v[1].get<std::string>());
    EXPECT_EQ(wif->compressed, meta["isCompressed"].get<bool>()) << text;
    EXPECT_EQ(wif->network, chain == Network::kMainnet ? Network::kMainnet : Network::kTestnet);
    EXPECT_EQ(EncodeWif(wif->key, wif->compressed, chain), text);
    EXPECT_FALSE(DecodeAddress(text, chain).ok()) << text;
    ++secrets;
  }
  EXPECT_EQ(secrets, 16u);
  EXPECT_EQ(addresses, 54u);
}

TEST(WifTest, KeyIoInvalidAreNotWif) {
  const nlohmann::json vectors = ReadVectors("key_io_invalid.json");
  size_t passed = 0;
  for (const auto& v : vectors) {
    EXPECT_FALSE(DecodeWif(v[0].get<std::string>()).ok()) << v[0];
    ++passed;
  }
  EXPECT_EQ(passed, 70u);
}

std::vector<uint8_t> WifPayload(uint8_t version, uint8_t fill, size_t key_size,
                                std::optional<uint8_t> suffix) {
  std::vector<uint8_t> payload(1 + key_size, fill);
  payload[0] = version;
  if (suffix) payload.push_back(*suffix);
  return payload;
}

TEST(WifTest, DecodeRejectsEachRule) {
  EXPECT_TRUE(DecodeWif(Base58CheckEncode(WifPayload(0x80, 1, 32, std::nullopt))).ok());
  EXPECT_TRUE(DecodeWif(Base58CheckEncode(WifPayload(0xef, 1, 32, 0x01))).ok());
  // Unknown version byte (a P2PKH prefix).
  EXPECT_FALSE(DecodeWif(Base58CheckEncode(WifPayload(0x00, 1, 32, std::nullopt))).ok());
  // Compression suffix other than 0x01.
  EXPECT_FALSE(DecodeWif(Base58CheckEncode(WifPayload(0x80, 1, 32, 0x02))).ok());
  // Wrong key length.
  EXPECT_FALSE(DecodeWif(Base58CheckEncode(WifPayload(0x80, 1, 31, std::nullopt))).ok());
  EXPECT_FALSE(DecodeWif(Base58CheckEncode(WifPayload(0x80, 1, 33, 0x01))).ok());
  // Key 0 and key >= n.
  EXPECT_FALSE(DecodeWif(Base58CheckEncode(WifPayload(0x80, 0, 32, std::nullopt))).ok());
  EXPECT_FALSE(DecodeWif(Base58CheckEncode(WifPayload(0x80, 0xff, 32, 0x01))).ok());
  // Bad checksum: key_io_valid.json's first mainnet WIF with its last character changed.
  EXPECT_FALSE(DecodeWif("5JuW2AMDYu4xVwRG9DZW18VbzQrGcd5RCgb99sS6ehJsNQXu5bA").ok());
}

TEST(WifTest, ErrorsDoNotContainTheKey) {
  const std::string text = "L5nJeqKmpHp4P7F8ZYyjwc5a7P4d8EabuGAzfGJk7yC1BJyzNaEd";
  std::string broken = text;
  broken.back() = 'e';
  util::Result<WifKey> r = DecodeWif(broken);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message().find("L5nJeq"), std::string::npos);
}

}  // namespace
}  // namespace kinko::btc
