// Bitcoin addresses (Base58Check P2PKH/P2SH, BIP173/BIP350 segwit) and WIF private keys, per
// network, following Bitcoin Core's key_io.cpp.
//
//   network  | P2PKH | P2SH | WIF  | segwit HRP
//   main     | 0x00  | 0x05 | 0x80 | bc
//   test     | 0x6f  | 0xc4 | 0xef | tb     (testnet3 and testnet4)
//   signet   | 0x6f  | 0xc4 | 0xef | tb
//   regtest  | 0x6f  | 0xc4 | 0xef | bcrt
//
// Thread-safe: pure functions; the returned values have one owner.
#ifndef KINKO_BTC_ADDRESS_H_
#define KINKO_BTC_ADDRESS_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "btc/script.h"
#include "crypto/secp256k1.h"
#include "util/result.h"

namespace kinko::btc {

// A Bitcoin network, as far as encodings are concerned. testnet3 and testnet4 share every
// encoding, so both are kTestnet.
enum class Network { kMainnet, kTestnet, kSignet, kRegtest };

// Bitcoin Core's chain name: "main", "test", "signet" or "regtest".
std::string_view NetworkName(Network network);

// Accepts main, mainnet, bitcoin, test, testnet, testnet3, testnet4, signet and regtest
// (exactly, lowercase). Fails with kInvalidArgument naming the unknown name otherwise.
util::Result<Network> ParseNetwork(std::string_view name);

enum class AddressType { kP2pkh, kP2sh, kP2wpkh, kP2wsh, kP2tr, kWitnessUnknown };

// "p2pkh", "p2sh", "p2wpkh", "p2wsh", "p2tr" or "witness_unknown".
std::string_view AddressTypeName(AddressType type);

struct DecodedAddress {
  Script script_pubkey;  // The output script the address pays to.
  AddressType type;
  std::optional<int> witness_version;  // 0..16 for segwit addresses, nullopt for Base58 ones.
  std::vector<uint8_t> program;        // The 20-byte hash (P2PKH, P2SH) or the witness program.
};

// Decodes an address of `network`. A string starting (in either case) with the network's
// segwit HRP is decoded as Bech32/Bech32m, anything else as Base58Check (as Core does).
// Fails with kInvalidArgument, the message naming why:
//   Base58: not Base58 or bad checksum; unknown version byte (including another network's);
//     payload not 21 bytes.
//   Segwit: not Bech32 (bad character, mixed case, too long, bad checksum: see Bech32Decode);
//     HRP of another network; empty data part; witness version above 16; version 0 with a
//     Bech32m checksum or version 1+ with a Bech32 checksum (BIP350); invalid padding; version
//     0 program not 20 or 32 bytes; version 1+ program not 2..40 bytes.
// Uppercase segwit addresses are accepted (BIP173) and decode like their lowercase form.
util::Result<DecodedAddress> DecodeAddress(std::string_view address, Network network);

// Returns the address of `script_pubkey` on `network`: P2PKH and P2SH in Base58Check, witness
// programs in lowercase Bech32 (version 0) or Bech32m (versions 1..16).
// Fails with kInvalidArgument for a script that has no address: P2PK, bare multisig,
// OP_RETURN, any other non-standard script, and witness programs of invalid size.
util::Result<std::string> EncodeAddress(const Script& script_pubkey, Network network);

// The address type of `script_pubkey`, or nullopt when it has no address (same rules as
// EncodeAddress).
std::optional<AddressType> AddressTypeOf(const Script& script_pubkey);

// A WIF ("wallet import format") private key.
struct WifKey {
  crypto::PrivateKey key;
  bool compressed;  // Whether addresses use the compressed public key (suffix byte 0x01).
  Network network;  // kMainnet or kTestnet: test, signet and regtest share the 0xef prefix.
};

// Decodes a WIF key: Base58Check of prefix || 32-byte key [|| 0x01 when compressed].
// Fails with kInvalidArgument when the string is not Base58Check, the prefix is neither 0x80
// nor 0xef, the payload is not 33 bytes or 34 bytes ending in 0x01, or the key is 0 or >= n.
// Error messages never contain key material.
util::Result<WifKey> DecodeWif(std::string_view wif);

// Returns the WIF encoding of `key` for `network` (kTestnet, kSignet and kRegtest give the same
// string). WARNING: the result is the private key; never log it.
std::string EncodeWif(const crypto::PrivateKey& key, bool compressed, Network network);

}  // namespace kinko::btc

#endif  // KINKO_BTC_ADDRESS_H_
