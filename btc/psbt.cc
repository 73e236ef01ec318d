#include "btc/psbt.h"

#include <algorithm>
#include <set>
#include <string>
#include <utility>

#include "btc/internal/serialize.h"
#include "crypto/hash.h"
#include "crypto/secp256k1.h"

namespace kinko::btc {
namespace {

using internal::Reader;

constexpr uint8_t kMagic[5] = {'p', 's', 'b', 't', 0xff};
// BIP341: a control block is 33 + 32m bytes with m <= 128; a tree is at most 128 deep.
constexpr size_t kTaprootControlBaseSize = 33;
constexpr size_t kTaprootControlNodeSize = 32;
constexpr size_t kTaprootMaxDepth = 128;
constexpr uint8_t kTaprootLeafMask = 0xfe;
// BIP113 / consensus: lock times below this are block heights.
constexpr uint32_t kLocktimeThreshold = 500000000;

enum class MapKind { kGlobal, kInput, kOutput };

std::string Hex2(uint64_t v) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string s;
  do {
    s.insert(s.begin(), kDigits[v & 0xf]);
    v >>= 4;
  } while (v != 0);
  if (s.size() % 2 == 1) s.insert(s.begin(), '0');
  return s;
}

// The BIP name of a standard key type, or "" for an unknown one.
std::string_view TypeName(MapKind kind, uint64_t type) {
  switch (kind) {
    case MapKind::kGlobal:
      switch (type) {
        case kPsbtGlobalUnsignedTx:
          return "PSBT_GLOBAL_UNSIGNED_TX";
        case kPsbtGlobalXpub:
          return "PSBT_GLOBAL_XPUB";
        case kPsbtGlobalTxVersion:
          return "PSBT_GLOBAL_TX_VERSION";
        case kPsbtGlobalFallbackLocktime:
          return "PSBT_GLOBAL_FALLBACK_LOCKTIME";
        case kPsbtGlobalInputCount:
          return "PSBT_GLOBAL_INPUT_COUNT";
        case kPsbtGlobalOutputCount:
          return "PSBT_GLOBAL_OUTPUT_COUNT";
        case kPsbtGlobalTxModifiable:
          return "PSBT_GLOBAL_TX_MODIFIABLE";
        case kPsbtGlobalVersion:
          return "PSBT_GLOBAL_VERSION";
        case kPsbtProprietary:
          return "PSBT_GLOBAL_PROPRIETARY";
      }
      return "";
    case MapKind::kInput:
      switch (type) {
        case kPsbtInNonWitnessUtxo:
          return "PSBT_IN_NON_WITNESS_UTXO";
        case kPsbtInWitnessUtxo:
          return "PSBT_IN_WITNESS_UTXO";
        case kPsbtInPartialSig:
          return "PSBT_IN_PARTIAL_SIG";
        case kPsbtInSighashType:
          return "PSBT_IN_SIGHASH_TYPE";
        case kPsbtInRedeemScript:
          return "PSBT_IN_REDEEM_SCRIPT";
        case kPsbtInWitnessScript:
          return "PSBT_IN_WITNESS_SCRIPT";
        case kPsbtInBip32Derivation:
          return "PSBT_IN_BIP32_DERIVATION";
        case kPsbtInFinalScriptSig:
          return "PSBT_IN_FINAL_SCRIPTSIG";
        case kPsbtInFinalScriptWitness:
          return "PSBT_IN_FINAL_SCRIPTWITNESS";
        case kPsbtInRipemd160:
          return "PSBT_IN_RIPEMD160";
        case kPsbtInSha256:
          return "PSBT_IN_SHA256";
        case kPsbtInHash160:
          return "PSBT_IN_HASH160";
        case kPsbtInHash256:
          return "PSBT_IN_HASH256";
        case kPsbtInPreviousTxid:
          return "PSBT_IN_PREVIOUS_TXID";
        case kPsbtInOutputIndex:
          return "PSBT_IN_OUTPUT_INDEX";
        case kPsbtInSequence:
          return "PSBT_IN_SEQUENCE";
        case kPsbtInRequiredTimeLocktime:
          return "PSBT_IN_REQUIRED_TIME_LOCKTIME";
        case kPsbtInRequiredHeightLocktime:
          return "PSBT_IN_REQUIRED_HEIGHT_LOCKTIME";
        case kPsbtInTapKeySig:
          return "PSBT_IN_TAP_KEY_SIG";
        case kPsbtInTapScriptSig:
          return "PSBT_IN_TAP_SCRIPT_SIG";
        case kPsbtInTapLeafScript:
          return "PSBT_IN_TAP_LEAF_SCRIPT";
        case kPsbtInTapBip32Derivation:
          return "PSBT_IN_TAP_BIP32_DERIVATION";
        case kPsbtInTapInternalKey:
          return "PSBT_IN_TAP_INTERNAL_KEY";
        case kPsbtInTapMerkleRoot:
          return "PSBT_IN_TAP_MERKLE_ROOT";
        case kPsbtProprietary:
          return "PSBT_IN_PROPRIETARY";
      }
      return "";
    case MapKind::kOutput:
      switch (type) {
        case kPsbtOutRedeemScript:
          return "PSBT_OUT_REDEEM_SCRIPT";
        case kPsbtOutWitnessScript:
          return "PSBT_OUT_WITNESS_SCRIPT";
        case kPsbtOutBip32Derivation:
          return "PSBT_OUT_BIP32_DERIVATION";
        case kPsbtOutAmount:
          return "PSBT_OUT_AMOUNT";
        case kPsbtOutScript:
          return "PSBT_OUT_SCRIPT";
        case kPsbtOutTapInternalKey:
          return "PSBT_OUT_TAP_INTERNAL_KEY";
        case kPsbtOutTapTree:
          return "PSBT_OUT_TAP_TREE";
        case kPsbtOutTapBip32Derivation:
          return "PSBT_OUT_TAP_BIP32_DERIVATION";
        case kPsbtProprietary:
          return "PSBT_OUT_PROPRIETARY";
      }
      return "";
  }
  return "";
}

// One key-value pair as read, with what error messages need to name it.
struct Entry {
  const std::string* map;  // "global", "input 3", "output 0".
  MapKind kind;
  size_t offset;  // Of the key's length prefix in the whole PSBT.
  uint64_t type;
  std::span<const uint8_t> key;       // Type and key data.
  std::span<const uint8_t> key_data;  // After the type.
  std::span<const uint8_t> value;

  // "psbt input 3 key type 0x02 (PSBT_IN_PARTIAL_SIG) at byte 120: WHAT".
  util::Status Error(std::string_view what) const {
    std::string msg = "psbt " + *map + " key type 0x" + Hex2(type);
    std::string_view name = TypeName(kind, type);
    if (!name.empty()) {
      msg += " (";
      msg += name;
      msg += ")";
    }
    msg += " at byte " + std::to_string(offset) + ": ";
    msg += what;
    return util::InvalidArgumentError(std::move(msg));
  }
  // The error of a reader over the key data or the value, with this entry's context.
  util::Status Wrap(const util::Status& inner) const { return Error(inner.message()); }

  util::Status RequireNoKeyData() const {
    if (key_data.empty()) return util::OkStatus();
    return Error("key has " + std::to_string(key_data.size()) +
                 " bytes of key data, expected none");
  }
  util::Status RequireKeyDataSize(size_t n) const {
    if (key_data.size() == n) return util::OkStatus();
    return Error("key data is " + std::to_string(key_data.size()) + " bytes, expected " +
                 std::to_string(n));
  }
  util::Status RequireValueSize(size_t n) const {
    if (value.size() == n) return util::OkStatus();
    return Error("value is " + std::to_string(value.size()) + " bytes, expected " +
                 std::to_string(n));
  }
};

util::Status RequireEnd(const Entry& e, const Reader& r, std::string_view what) {
  if (r.AtEnd()) return util::OkStatus();
  return e.Error(std::string(what) + " has " + std::to_string(r.remaining()) +
                 " bytes more than its stated size");
}

uint32_t LoadU32(std::span<const uint8_t> b) {
  return static_cast<uint32_t>(b[0]) | static_cast<uint32_t>(b[1]) << 8 |
         static_cast<uint32_t>(b[2]) << 16 | static_cast<uint32_t>(b[3]) << 24;
}

std::array<uint8_t, 32> Load32(std::span<const uint8_t> b) {
  std::array<uint8_t, 32> out;
  std::copy_n(b.begin(), 32, out.begin());
  return out;
}

util::Result<uint32_t> ValueU32(const Entry& e) {
  if (util::Status s = e.RequireValueSize(4); !s.ok()) return s;
  return LoadU32(e.value);
}

// BIP174 key origin: 4-byte fingerprint, then 32-bit little-endian path steps.
util::Result<KeyOrigin> ParseKeyOrigin(const Entry& e, std::span<const uint8_t> bytes) {
  if (bytes.empty() || bytes.size() % 4 != 0) {
    return e.Error("key origin is " + std::to_string(bytes.size()) +
                   " bytes, expected a non-zero multiple of 4");
  }
  KeyOrigin origin;
  std::copy_n(bytes.begin(), 4, origin.fingerprint.begin());
  origin.path.steps.reserve(bytes.size() / 4 - 1);
  for (size_t i = 4; i < bytes.size(); i += 4) {
    origin.path.steps.push_back(LoadU32(bytes.subspan(i, 4)));
  }
  return origin;
}

void WriteKeyOrigin(std::vector<uint8_t>& out, const KeyOrigin& origin) {
  internal::WriteBytes(out, origin.fingerprint);
  for (uint32_t step : origin.path.steps) internal::WriteU32(out, step);
}

size_t KeyOriginSize(const KeyOrigin& origin) { return 4 + 4 * origin.path.steps.size(); }

// A public key in a key's data: 33 or 65 bytes and a point (Bitcoin Core's IsFullyValid, which
// also accepts the hybrid 0x06/0x07 encodings).
util::Status CheckPubkeyKeyData(const Entry& e) {
  if (e.key_data.size() != 33 && e.key_data.size() != 65) {
    return e.Error("public key is " + std::to_string(e.key_data.size()) +
                   " bytes, expected 33 or 65");
  }
  if (!crypto::PublicKey::ParseAllowingHybrid(e.key_data).ok()) {
    return e.Error("public key is not a point on the curve");
  }
  return util::OkStatus();
}

// BIP66 strict DER (with the trailing sighash byte), as Bitcoin Core's IsValidSignatureEncoding.
bool IsValidSignatureEncoding(std::span<const uint8_t> sig) {
  if (sig.size() < 9 || sig.size() > 73) return false;
  if (sig[0] != 0x30) return false;
  if (sig[1] != sig.size() - 3) return false;
  const size_t len_r = sig[3];
  if (5 + len_r >= sig.size()) return false;
  const size_t len_s = sig[5 + len_r];
  if (len_r + len_s + 7 != sig.size()) return false;
  if (sig[2] != 0x02) return false;
  if (len_r == 0) return false;
  if ((sig[4] & 0x80) != 0) return false;
  if (len_r > 1 && sig[4] == 0x00 && (sig[5] & 0x80) == 0) return false;
  if (sig[len_r + 4] != 0x02) return false;
  if (len_s == 0) return false;
  if ((sig[len_r + 6] & 0x80) != 0) return false;
  if (len_s > 1 && sig[len_r + 6] == 0x00 && (sig[len_r + 7] & 0x80) == 0) return false;
  return true;
}

// SCRIPT_VERIFY_STRICTENC: the sighash byte, without ANYONECANPAY, is ALL, NONE or SINGLE.
bool IsDefinedHashtype(std::span<const uint8_t> sig) {
  const uint8_t type = sig.back() & static_cast<uint8_t>(~0x80);
  return type >= 1 && type <= 3;
}

// The legacy (no-witness) serialization, as PSBT_GLOBAL_UNSIGNED_TX holds it (Bitcoin Core reads
// it with TX_NO_WITNESS). Transaction::Parse would take the zero input count of a transaction
// without inputs but with outputs for the BIP144 marker, so this reads the legacy form directly.
util::Result<Transaction> ParseTxNoWitness(std::span<const uint8_t> bytes) {
  Reader r(bytes);
  Transaction tx;
  util::Result<uint32_t> version = r.ReadU32("version");
  if (!version.ok()) return version.status();
  tx.version = *version;
  util::Result<uint64_t> n_in = r.ReadCompactSize("input count");
  if (!n_in.ok()) return n_in.status();
  for (uint64_t i = 0; i < *n_in; ++i) {
    TxIn in;
    util::Result<std::span<const uint8_t>> txid = r.ReadBytes("input txid", 32);
    if (!txid.ok()) return txid.status();
    in.prevout.txid = Txid::FromSpan(*txid);
    util::Result<uint32_t> index = r.ReadU32("input index");
    if (!index.ok()) return index.status();
    in.prevout.index = *index;
    util::Result<std::vector<uint8_t>> script_sig = r.ReadVarBytes("input scriptSig");
    if (!script_sig.ok()) return script_sig.status();
    in.script_sig = Script(std::move(*script_sig));
    util::Result<uint32_t> sequence = r.ReadU32("input sequence");
    if (!sequence.ok()) return sequence.status();
    in.sequence = *sequence;
    tx.inputs.push_back(std::move(in));
  }
  util::Result<uint64_t> n_out = r.ReadCompactSize("output count");
  if (!n_out.ok()) return n_out.status();
  for (uint64_t i = 0; i < *n_out; ++i) {
    TxOut out;
    util::Result<int64_t> value = r.ReadI64("output value");
    if (!value.ok()) return value.status();
    out.value = *value;
    util::Result<std::vector<uint8_t>> script = r.ReadVarBytes("output scriptPubKey");
    if (!script.ok()) return script.status();
    out.script_pubkey = Script(std::move(*script));
    tx.outputs.push_back(std::move(out));
  }
  util::Result<uint32_t> lock_time = r.ReadU32("lock time");
  if (!lock_time.ok()) return lock_time.status();
  tx.lock_time = *lock_time;
  if (!r.AtEnd()) return r.Error("transaction", "trailing bytes");
  return tx;
}

util::Result<TxOut> ParseTxOut(const Entry& e) {
  Reader r(e.value);
  TxOut out;
  util::Result<int64_t> value = r.ReadI64("amount");
  if (!value.ok()) return e.Wrap(value.status());
  out.value = *value;
  util::Result<std::vector<uint8_t>> script = r.ReadVarBytes("scriptPubKey");
  if (!script.ok()) return e.Wrap(script.status());
  out.script_pubkey = Script(std::move(*script));
  if (util::Status s = RequireEnd(e, r, "witness utxo"); !s.ok()) return s;
  return out;
}

// BIP371 PSBT_{IN,OUT}_TAP_BIP32_DERIVATION value: leaf hashes, then a key origin.
util::Result<TapBip32Derivation> ParseTapBip32(const Entry& e) {
  Reader r(e.value);
  util::Result<uint64_t> n = r.ReadCompactSize("leaf hash count");
  if (!n.ok()) return e.Wrap(n.status());
  if (*n > r.remaining() / 32) {
    return e.Error(std::to_string(*n) + " leaf hashes do not fit in the value");
  }
  std::vector<TapLeafHash> hashes;
  hashes.reserve(static_cast<size_t>(*n));
  for (uint64_t i = 0; i < *n; ++i) {
    util::Result<std::span<const uint8_t>> h = r.ReadBytes("leaf hash", 32);
    if (!h.ok()) return e.Wrap(h.status());
    hashes.push_back(Load32(*h));
  }
  util::Result<std::span<const uint8_t>> rest = r.ReadBytes("key origin", r.remaining());
  if (!rest.ok()) return e.Wrap(rest.status());
  util::Result<KeyOrigin> origin = ParseKeyOrigin(e, *rest);
  if (!origin.ok()) return origin.status();
  return TapBip32Derivation(std::move(hashes), std::move(*origin));
}

// A proprietary key's data: a CompactSize-prefixed identifier, a CompactSize subtype, then any
// key data. Bitcoin Core rejects keys whose identifier or subtype cannot be read.
util::Status CheckProprietaryKey(const Entry& e) {
  Reader r(e.key_data);
  util::Result<uint64_t> id_len = r.ReadCompactSize("proprietary identifier");
  if (!id_len.ok()) return e.Wrap(id_len.status());
  util::Result<std::span<const uint8_t>> id =
      r.ReadBytes("proprietary identifier", static_cast<size_t>(*id_len));
  if (!id.ok()) return e.Wrap(id.status());
  util::Result<uint64_t> subtype = r.ReadCompactSize("proprietary subtype");
  if (!subtype.ok()) return e.Wrap(subtype.status());
  return util::OkStatus();
}

// Proprietary keys in key order, then other unknown keys in key order (Bitcoin Core's order).
bool UnknownLess(const PsbtUnknown* a, const PsbtUnknown* b) {
  const bool a_prop = !a->key.empty() && a->key[0] == kPsbtProprietary;
  const bool b_prop = !b->key.empty() && b->key[0] == kPsbtProprietary;
  if (a_prop != b_prop) return a_prop;
  return a->key < b->key;
}

void SortUnknown(std::vector<PsbtUnknown>& unknown) {
  std::sort(unknown.begin(), unknown.end(),
            [](const PsbtUnknown& a, const PsbtUnknown& b) { return UnknownLess(&a, &b); });
}

util::Status AddUnknown(const Entry& e, std::vector<PsbtUnknown>& unknown) {
  if (e.type == kPsbtProprietary) {
    if (util::Status s = CheckProprietaryKey(e); !s.ok()) return s;
  }
  unknown.push_back(PsbtUnknown{std::vector<uint8_t>(e.key.begin(), e.key.end()),
                                std::vector<uint8_t>(e.value.begin(), e.value.end())});
  return util::OkStatus();
}

// BIP371 PSBT_OUT_TAP_TREE: the leaves must form a complete binary tree in depth-first order
// (Bitcoin Core's TaprootBuilder rules).
util::Status ParseTapTree(const Entry& e, std::vector<std::tuple<uint8_t, uint8_t, Script>>& tree) {
  if (e.value.empty()) return e.Error("taproot tree is empty");
  Reader r(e.value);
  // branch[d] is set when a finished subtree at depth d waits for its right sibling.
  std::vector<bool> branch;
  bool valid = true;
  while (!r.AtEnd()) {
    util::Result<uint8_t> depth = r.ReadU8("leaf depth");
    if (!depth.ok()) return e.Wrap(depth.status());
    util::Result<uint8_t> leaf_version = r.ReadU8("leaf version");
    if (!leaf_version.ok()) return e.Wrap(leaf_version.status());
    util::Result<std::vector<uint8_t>> script = r.ReadVarBytes("leaf script");
    if (!script.ok()) return e.Wrap(script.status());
    if (*depth > kTaprootMaxDepth) {
      return e.Error("taproot tree leaf depth " + std::to_string(*depth) + " exceeds 128");
    }
    if ((*leaf_version & ~kTaprootLeafMask) != 0) {
      return e.Error("taproot tree leaf version 0x" + Hex2(*leaf_version) + " is odd");
    }
    tree.emplace_back(*depth, *leaf_version, Script(std::move(*script)));
    size_t d = *depth;
    if (d + 1 < branch.size()) {
      valid = false;
      continue;
    }
    while (valid && branch.size() > d && branch[d]) {
      branch.pop_back();
      if (d == 0) {
        valid = false;
        break;
      }
      --d;
    }
    if (valid) {
      if (branch.size() <= d) branch.resize(d + 1, false);
      branch[d] = true;
    }
  }
  const bool complete = valid && (branch.empty() || (branch.size() == 1 && branch[0]));
  if (!complete) return e.Error("taproot tree leaves do not form a complete tree");
  return util::OkStatus();
}

// Reads the key-value pairs of one map up to its separator, rejecting repeated keys, and passes
// each to `handle`.
template <typename Handler>
util::Status ReadMap(Reader& r, const std::string& map, MapKind kind, Handler&& handle) {
  std::set<std::vector<uint8_t>> seen;
  while (true) {
    const size_t offset = r.offset();
    if (r.AtEnd()) {
      return util::InvalidArgumentError("psbt " + map + " at byte " + std::to_string(offset) +
                                        ": data ends before the map's separator");
    }
    util::Result<uint64_t> key_len = r.ReadCompactSize("psbt " + map + " key length");
    if (!key_len.ok()) return key_len.status();
    if (*key_len == 0) return util::OkStatus();
    util::Result<std::span<const uint8_t>> key =
        r.ReadBytes("psbt " + map + " key", static_cast<size_t>(*key_len));
    if (!key.ok()) return key.status();
    Reader key_reader(*key);
    util::Result<uint64_t> type = key_reader.ReadCompactSize("type");
    if (!type.ok()) {
      return util::InvalidArgumentError("psbt " + map + " at byte " + std::to_string(offset) +
                                        ": key type: " + type.status().message());
    }
    util::Result<uint64_t> value_len = r.ReadCompactSize("psbt " + map + " value length");
    if (!value_len.ok()) return value_len.status();
    util::Result<std::span<const uint8_t>> value =
        r.ReadBytes("psbt " + map + " value", static_cast<size_t>(*value_len));
    if (!value.ok()) return value.status();
    const Entry e{&map, kind, offset, *type, *key, key->subspan(key_reader.offset()), *value};
    if (!seen.emplace(key->begin(), key->end()).second) return e.Error("duplicate key");
    if (util::Status s = handle(e); !s.ok()) return s;
  }
}

// The global map's fields that are not members of Psbt.
struct GlobalExtras {
  std::optional<uint32_t> version;
  std::optional<uint64_t> input_count;
  std::optional<uint64_t> output_count;
  // Chain code and public key of each global xpub: Bitcoin Core treats two xpubs that share
  // them as the same key, whatever their version, depth, parent or child number.
  std::set<std::vector<uint8_t>> xpub_keys;
};

util::Result<uint64_t> ValueCompactSize(const Entry& e) {
  Reader r(e.value);
  util::Result<uint64_t> n = r.ReadCompactSize("count", UINT64_MAX);
  if (!n.ok()) return e.Wrap(n.status());
  if (util::Status s = RequireEnd(e, r, "count"); !s.ok()) return s;
  return *n;
}

util::Status ParseGlobalEntry(const Entry& e, Psbt& psbt, GlobalExtras& extras) {
  switch (e.type) {
    case kPsbtGlobalUnsignedTx: {
      if (util::Status s = e.RequireNoKeyData(); !s.ok()) return s;
      util::Result<Transaction> tx = ParseTxNoWitness(e.value);
      if (!tx.ok()) {
        // The BIP144 marker and flag read as "no inputs, one output" in the legacy form.
        const bool marker = e.value.size() > 5 && e.value[4] == 0x00 && e.value[5] == 0x01;
        return e.Error("unsigned transaction: " + tx.status().message() +
                       (marker ? " (witness serialization is not allowed here)" : ""));
      }
      for (size_t i = 0; i < tx->inputs.size(); ++i) {
        if (tx->inputs[i].script_sig.size() != 0) {
          return e.Error("unsigned transaction input " + std::to_string(i) +
                         " has a non-empty scriptSig");
        }
      }
      psbt.unsigned_tx = std::move(*tx);
      return util::OkStatus();
    }
    case kPsbtGlobalXpub: {
      if (util::Status s = e.RequireKeyDataSize(78); !s.ok()) return s;
      if (!crypto::PublicKey::Parse(e.key_data.subspan(45, 33)).ok()) {
        return e.Error("extended public key's key is not a compressed point");
      }
      if (!extras.xpub_keys.emplace(e.key_data.begin() + 13, e.key_data.end()).second) {
        return e.Error("an extended public key with the same chain code and key was given");
      }
      util::Result<KeyOrigin> origin = ParseKeyOrigin(e, e.value);
      if (!origin.ok()) return origin.status();
      psbt.global_xpubs.emplace_back(std::vector<uint8_t>(e.key_data.begin(), e.key_data.end()),
                                     std::move(*origin));
      return util::OkStatus();
    }
    case kPsbtGlobalTxVersion:
    case kPsbtGlobalFallbackLocktime:
    case kPsbtGlobalVersion: {
      if (util::Status s = e.RequireNoKeyData(); !s.ok()) return s;
      util::Result<uint32_t> v = ValueU32(e);
      if (!v.ok()) return v.status();
      if (e.type == kPsbtGlobalTxVersion) psbt.tx_version = *v;
      if (e.type == kPsbtGlobalFallbackLocktime) psbt.fallback_locktime = *v;
      if (e.type == kPsbtGlobalVersion) {
        if (*v != 0 && *v != 2) {
          return e.Error("unsupported psbt version " + std::to_string(*v));
        }
        extras.version = *v;
      }
      return util::OkStatus();
    }
    case kPsbtGlobalInputCount:
    case kPsbtGlobalOutputCount: {
      if (util::Status s = e.RequireNoKeyData(); !s.ok()) return s;
      util::Result<uint64_t> n = ValueCompactSize(e);
      if (!n.ok()) return n.status();
      (e.type == kPsbtGlobalInputCount ? extras.input_count : extras.output_count) = *n;
      return util::OkStatus();
    }
    case kPsbtGlobalTxModifiable:
      if (util::Status s = e.RequireNoKeyData(); !s.ok()) return s;
      if (util::Status s = e.RequireValueSize(1); !s.ok()) return s;
      psbt.tx_modifiable = e.value[0];
      return util::OkStatus();
  }
  return AddUnknown(e, psbt.unknown);
}

template <typename Map>
util::Status AddPreimage(const Entry& e, size_t hash_size, Map& map) {
  if (util::Status s = e.RequireKeyDataSize(hash_size); !s.ok()) return s;
  map.emplace(std::vector<uint8_t>(e.key_data.begin(), e.key_data.end()),
              std::vector<uint8_t>(e.value.begin(), e.value.end()));
  return util::OkStatus();
}

util::Status ParseInputEntry(const Entry& e, PsbtInput& in) {
  switch (e.type) {
    case kPsbtInNonWitnessUtxo: {
      if (util::Status s = e.RequireNoKeyData(); !s.ok()) return s;
      // Kept with its witnesses, if any, so that it is written back as given (the BIP174
      // vectors carry BIP144 serializations here).
      util::Result<Transaction> tx = Transaction::Parse(e.value);
      if (!tx.ok()) return e.Error("non-witness utxo: " + tx.status().message());
      in.non_witness_utxo = std::move(*tx);
      return util::OkStatus();
    }
    case kPsbtInWitnessUtxo: {
      if (util::Status s = e.RequireNoKeyData(); !s.ok()) return s;
      util::Result<TxOut> out = ParseTxOut(e);
      if (!out.ok()) return out.status();
      in.witness_utxo = std::move(*out);
      return util::OkStatus();
    }
    case kPsbtInPartialSig: {
      if (util::Status s = CheckPubkeyKeyData(e); !s.ok()) return s;
      if (e.value.empty() || !IsValidSignatureEncoding(e.value) || !IsDefinedHashtype(e.value)) {
        return e.Error("signature is not strict DER with a defined sighash type");
      }
      in.partial_sigs.emplace(std::vector<uint8_t>(e.key_data.begin(), e.key_data.end()),
                              std::vector<uint8_t>(e.value.begin(), e.value.end()));
      return util::OkStatus();
    }
    case kPsbtInSighashType: {
      if (util::Status s = e.RequireNoKeyData(); !s.ok()) return s;
      util::Result<uint32_t> v = ValueU32(e);
      if (!v.ok()) return v.status();
      in.sighash_type = *v;
      return util::OkStatus();
    }
    case kPsbtInRedeemScript:
    case kPsbtInWitnessScript:
    case kPsbtInFinalScriptSig: {
      if (util::Status s = e.RequireNoKeyData(); !s.ok()) return s;
      Script script(e.value);
      if (e.type == kPsbtInRedeemScript) in.redeem_script = std::move(script);
      if (e.type == kPsbtInWitnessScript) in.witness_script = std::move(script);
      if (e.type == kPsbtInFinalScriptSig) in.final_script_sig = std::move(script);
      return util::OkStatus();
    }
    case kPsbtInBip32Derivation: {
      if (util::Status s = CheckPubkeyKeyData(e); !s.ok()) return s;
      util::Result<KeyOrigin> origin = ParseKeyOrigin(e, e.value);
      if (!origin.ok()) return origin.status();
      in.bip32_derivations.emplace(std::vector<uint8_t>(e.key_data.begin(), e.key_data.end()),
                                   std::move(*origin));
      return util::OkStatus();
    }
    case kPsbtInFinalScriptWitness: {
      if (util::Status s = e.RequireNoKeyData(); !s.ok()) return s;
      Reader r(e.value);
      util::Result<uint64_t> n = r.ReadCompactSize("witness item count");
      if (!n.ok()) return e.Wrap(n.status());
      std::vector<std::vector<uint8_t>> stack;
      for (uint64_t i = 0; i < *n; ++i) {
        util::Result<std::vector<uint8_t>> item = r.ReadVarBytes("witness item");
        if (!item.ok()) return e.Wrap(item.status());
        stack.push_back(std::move(*item));
      }
      if (util::Status s = RequireEnd(e, r, "script witness"); !s.ok()) return s;
      in.final_script_witness = std::move(stack);
      return util::OkStatus();
    }
    case kPsbtInRipemd160:
      return AddPreimage(e, 20, in.ripemd160_preimages);
    case kPsbtInSha256:
      return AddPreimage(e, 32, in.sha256_preimages);
    case kPsbtInHash160:
      return AddPreimage(e, 20, in.hash160_preimages);
    case kPsbtInHash256:
      return AddPreimage(e, 32, in.hash256_preimages);
    case kPsbtInPreviousTxid: {
      if (util::Status s = e.RequireNoKeyData(); !s.ok()) return s;
      if (util::Status s = e.RequireValueSize(32); !s.ok()) return s;
      in.previous_txid = Txid::FromSpan(e.value);
      return util::OkStatus();
    }
    case kPsbtInOutputIndex:
    case kPsbtInSequence:
    case kPsbtInRequiredTimeLocktime:
    case kPsbtInRequiredHeightLocktime: {
      if (util::Status s = e.RequireNoKeyData(); !s.ok()) return s;
      util::Result<uint32_t> v = ValueU32(e);
      if (!v.ok()) return v.status();
      if (e.type == kPsbtInOutputIndex) in.output_index = *v;
      if (e.type == kPsbtInSequence) in.sequence = *v;
      if (e.type == kPsbtInRequiredTimeLocktime) {
        if (*v < kLocktimeThreshold) {
          return e.Error("required time lock " + std::to_string(*v) + " is below 500000000");
        }
        in.time_locktime = *v;
      }
      if (e.type == kPsbtInRequiredHeightLocktime) {
        if (*v == 0 || *v >= kLocktimeThreshold) {
          return e.Error("required height lock " + std::to_string(*v) + " is not in 1..499999999");
        }
        in.height_locktime = *v;
      }
      return util::OkStatus();
    }
    case kPsbtInTapKeySig: {
      if (util::Status s = e.RequireNoKeyData(); !s.ok()) return s;
      if (e.value.size() != 64 && e.value.size() != 65) {
        return e.Error("taproot key signature is " + std::to_string(e.value.size()) +
                       " bytes, expected 64 or 65");
      }
      in.tap_key_sig = std::vector<uint8_t>(e.value.begin(), e.value.end());
      return util::OkStatus();
    }
    case kPsbtInTapScriptSig: {
      if (util::Status s = e.RequireKeyDataSize(64); !s.ok()) return s;
      if (e.value.size() != 64 && e.value.size() != 65) {
        return e.Error("taproot script signature is " + std::to_string(e.value.size()) +
                       " bytes, expected 64 or 65");
      }
      in.tap_script_sigs.emplace(
          std::make_pair(Load32(e.key_data.first(32)), Load32(e.key_data.subspan(32))),
          std::vector<uint8_t>(e.value.begin(), e.value.end()));
      return util::OkStatus();
    }
    case kPsbtInTapLeafScript: {
      const size_t n = e.key_data.size();
      if (n < kTaprootControlBaseSize || (n - kTaprootControlBaseSize) % 32 != 0 ||
          (n - kTaprootControlBaseSize) / kTaprootControlNodeSize > kTaprootMaxDepth) {
        return e.Error("control block is " + std::to_string(n) +
                       " bytes, expected 33 + 32m with m <= 128");
      }
      if (e.value.empty()) return e.Error("leaf script value is empty (no leaf version)");
      in.tap_leaf_scripts.emplace(
          std::vector<uint8_t>(e.key_data.begin(), e.key_data.end()),
          std::make_pair(Script(e.value.first(e.value.size() - 1)), e.value.back()));
      return util::OkStatus();
    }
    case kPsbtInTapBip32Derivation: {
      if (util::Status s = e.RequireKeyDataSize(32); !s.ok()) return s;
      util::Result<TapBip32Derivation> d = ParseTapBip32(e);
      if (!d.ok()) return d.status();
      in.tap_bip32_derivations.emplace(Load32(e.key_data), std::move(*d));
      return util::OkStatus();
    }
    case kPsbtInTapInternalKey:
    case kPsbtInTapMerkleRoot: {
      if (util::Status s = e.RequireNoKeyData(); !s.ok()) return s;
      if (util::Status s = e.RequireValueSize(32); !s.ok()) return s;
      (e.type == kPsbtInTapInternalKey ? in.tap_internal_key : in.tap_merkle_root) =
          Load32(e.value);
      return util::OkStatus();
    }
  }
  return AddUnknown(e, in.unknown);
}

util::Status ParseOutputEntry(const Entry& e, PsbtOutput& out) {
  switch (e.type) {
    case kPsbtOutRedeemScript:
    case kPsbtOutWitnessScript:
    case kPsbtOutScript: {
      if (util::Status s = e.RequireNoKeyData(); !s.ok()) return s;
      Script script(e.value);
      if (e.type == kPsbtOutRedeemScript) out.redeem_script = std::move(script);
      if (e.type == kPsbtOutWitnessScript) out.witness_script = std::move(script);
      if (e.type == kPsbtOutScript) out.script = std::move(script);
      return util::OkStatus();
    }
    case kPsbtOutBip32Derivation: {
      if (util::Status s = CheckPubkeyKeyData(e); !s.ok()) return s;
      util::Result<KeyOrigin> origin = ParseKeyOrigin(e, e.value);
      if (!origin.ok()) return origin.status();
      out.bip32_derivations.emplace(std::vector<uint8_t>(e.key_data.begin(), e.key_data.end()),
                                    std::move(*origin));
      return util::OkStatus();
    }
    case kPsbtOutAmount: {
      if (util::Status s = e.RequireNoKeyData(); !s.ok()) return s;
      if (util::Status s = e.RequireValueSize(8); !s.ok()) return s;
      Reader r(e.value);
      util::Result<int64_t> v = r.ReadI64("amount");
      if (!v.ok()) return e.Wrap(v.status());
      out.amount = *v;
      return util::OkStatus();
    }
    case kPsbtOutTapInternalKey: {
      if (util::Status s = e.RequireNoKeyData(); !s.ok()) return s;
      if (util::Status s = e.RequireValueSize(32); !s.ok()) return s;
      out.tap_internal_key = Load32(e.value);
      return util::OkStatus();
    }
    case kPsbtOutTapTree: {
      if (util::Status s = e.RequireNoKeyData(); !s.ok()) return s;
      return ParseTapTree(e, out.tap_tree);
    }
    case kPsbtOutTapBip32Derivation: {
      if (util::Status s = e.RequireKeyDataSize(32); !s.ok()) return s;
      util::Result<TapBip32Derivation> d = ParseTapBip32(e);
      if (!d.ok()) return d.status();
      out.tap_bip32_derivations.emplace(Load32(e.key_data), std::move(*d));
      return util::OkStatus();
    }
  }
  return AddUnknown(e, out.unknown);
}

util::Status MapError(const std::string& map, size_t offset, std::string_view what) {
  return util::InvalidArgumentError("psbt " + map + " (map ending at byte " +
                                    std::to_string(offset) + "): " + std::string(what));
}

// Bitcoin Core's order of global xpubs: by origin (fingerprint, path length, path), then by
// public key and chain code; the whole key breaks remaining ties.
bool XpubLess(const std::pair<std::vector<uint8_t>, KeyOrigin>* a,
              const std::pair<std::vector<uint8_t>, KeyOrigin>* b) {
  const KeyOrigin& oa = a->second;
  const KeyOrigin& ob = b->second;
  if (oa.fingerprint != ob.fingerprint) return oa.fingerprint < ob.fingerprint;
  if (oa.path.steps.size() != ob.path.steps.size()) {
    return oa.path.steps.size() < ob.path.steps.size();
  }
  if (oa.path.steps != ob.path.steps) return oa.path.steps < ob.path.steps;
  const std::vector<uint8_t>& ka = a->first;
  const std::vector<uint8_t>& kb = b->first;
  if (ka.size() == 78 && kb.size() == 78) {
    auto pa = std::span(ka).subspan(45, 33);
    auto pb = std::span(kb).subspan(45, 33);
    if (!std::equal(pa.begin(), pa.end(), pb.begin())) {
      return std::lexicographical_compare(pa.begin(), pa.end(), pb.begin(), pb.end());
    }
    auto ca = std::span(ka).subspan(13, 32);
    auto cb = std::span(kb).subspan(13, 32);
    if (!std::equal(ca.begin(), ca.end(), cb.begin())) {
      return std::lexicographical_compare(ca.begin(), ca.end(), cb.begin(), cb.end());
    }
  }
  return ka < kb;
}

util::Status CheckNonWitnessUtxo(const std::string& map, size_t offset, const PsbtInput& in,
                                 const Outpoint& prevout) {
  if (!in.non_witness_utxo) return util::OkStatus();
  if (in.non_witness_utxo->ComputeTxid() != prevout.txid) {
    return MapError(map, offset, "non-witness utxo's txid differs from the spent outpoint's");
  }
  if (prevout.index >= in.non_witness_utxo->outputs.size()) {
    return MapError(map, offset, "non-witness utxo has no output " + std::to_string(prevout.index));
  }
  return util::OkStatus();
}

// --- Serialization ---

void WriteKey(std::vector<uint8_t>& out, uint8_t type, std::span<const uint8_t> key_data = {}) {
  internal::WriteCompactSize(out, 1 + key_data.size());
  out.push_back(type);
  internal::WriteBytes(out, key_data);
}

void WriteEntry(std::vector<uint8_t>& out, uint8_t type, std::span<const uint8_t> key_data,
                std::span<const uint8_t> value) {
  WriteKey(out, type, key_data);
  internal::WriteVarBytes(out, value);
}

void WriteU32Entry(std::vector<uint8_t>& out, uint8_t type, uint32_t v) {
  WriteKey(out, type);
  internal::WriteCompactSize(out, 4);
  internal::WriteU32(out, v);
}

void WriteDerivations(std::vector<uint8_t>& out, uint8_t type,
                      const std::map<std::vector<uint8_t>, KeyOrigin>& derivations) {
  for (const auto& [pubkey, origin] : derivations) {
    WriteKey(out, type, pubkey);
    internal::WriteCompactSize(out, KeyOriginSize(origin));
    WriteKeyOrigin(out, origin);
  }
}

void WriteTapDerivations(std::vector<uint8_t>& out, uint8_t type,
                         const std::map<XOnlyBytes, TapBip32Derivation>& derivations) {
  for (const auto& [xonly, derivation] : derivations) {
    const auto& [hashes, origin] = derivation;
    WriteKey(out, type, xonly);
    internal::WriteCompactSize(out, internal::CompactSizeLength(hashes.size()) +
                                        32 * hashes.size() + KeyOriginSize(origin));
    internal::WriteCompactSize(out, hashes.size());
    for (const TapLeafHash& h : hashes) internal::WriteBytes(out, h);
    WriteKeyOrigin(out, origin);
  }
}

void WritePreimages(std::vector<uint8_t>& out, uint8_t type,
                    const std::map<std::vector<uint8_t>, std::vector<uint8_t>>& preimages) {
  for (const auto& [hash, preimage] : preimages) WriteEntry(out, type, hash, preimage);
}

// Writes the proprietary keys (first = true) or the other unknown keys, in key order.
void WriteUnknown(std::vector<uint8_t>& out, const std::vector<PsbtUnknown>& unknown,
                  bool proprietary) {
  std::vector<const PsbtUnknown*> sorted;
  for (const PsbtUnknown& u : unknown) {
    const bool is_prop = !u.key.empty() && u.key[0] == kPsbtProprietary;
    if (is_prop == proprietary) sorted.push_back(&u);
  }
  std::sort(sorted.begin(), sorted.end(), UnknownLess);
  for (const PsbtUnknown* u : sorted) {
    internal::WriteVarBytes(out, u->key);
    internal::WriteVarBytes(out, u->value);
  }
}

void WriteInput(std::vector<uint8_t>& out, const PsbtInput& in) {
  if (in.non_witness_utxo) {
    WriteKey(out, kPsbtInNonWitnessUtxo);
    internal::WriteVarBytes(out, in.non_witness_utxo->Serialize(WitnessSerialization::kWith));
  }
  if (in.witness_utxo) {
    WriteKey(out, kPsbtInWitnessUtxo);
    const std::vector<uint8_t>& script = in.witness_utxo->script_pubkey.bytes();
    internal::WriteCompactSize(out, 8 + internal::CompactSizeLength(script.size()) + script.size());
    internal::WriteI64(out, in.witness_utxo->value);
    internal::WriteVarBytes(out, script);
  }
  // Bitcoin Core keys partial signatures by HASH160 of the public key and writes them in that
  // order.
  std::vector<std::pair<crypto::Hash160Bytes,
                        const std::pair<const std::vector<uint8_t>, std::vector<uint8_t>>*>>
      sigs;
  sigs.reserve(in.partial_sigs.size());
  for (const auto& entry : in.partial_sigs) sigs.emplace_back(crypto::Hash160(entry.first), &entry);
  std::sort(sigs.begin(), sigs.end(),
            [](const auto& a, const auto& b) { return a.first < b.first; });
  for (const auto& [id, entry] : sigs)
    WriteEntry(out, kPsbtInPartialSig, entry->first, entry->second);
  if (in.sighash_type) WriteU32Entry(out, kPsbtInSighashType, *in.sighash_type);
  if (in.redeem_script) WriteEntry(out, kPsbtInRedeemScript, {}, in.redeem_script->bytes());
  if (in.witness_script) WriteEntry(out, kPsbtInWitnessScript, {}, in.witness_script->bytes());
  WriteDerivations(out, kPsbtInBip32Derivation, in.bip32_derivations);
  WritePreimages(out, kPsbtInRipemd160, in.ripemd160_preimages);
  WritePreimages(out, kPsbtInSha256, in.sha256_preimages);
  WritePreimages(out, kPsbtInHash160, in.hash160_preimages);
  WritePreimages(out, kPsbtInHash256, in.hash256_preimages);
  if (in.previous_txid) WriteEntry(out, kPsbtInPreviousTxid, {}, in.previous_txid->span());
  if (in.output_index) WriteU32Entry(out, kPsbtInOutputIndex, *in.output_index);
  if (in.sequence) WriteU32Entry(out, kPsbtInSequence, *in.sequence);
  if (in.time_locktime) WriteU32Entry(out, kPsbtInRequiredTimeLocktime, *in.time_locktime);
  if (in.height_locktime) WriteU32Entry(out, kPsbtInRequiredHeightLocktime, *in.height_locktime);
  if (in.tap_key_sig) WriteEntry(out, kPsbtInTapKeySig, {}, *in.tap_key_sig);
  for (const auto& [key, sig] : in.tap_script_sigs) {
    std::array<uint8_t, 64> key_data;
    std::copy(key.first.begin(), key.first.end(), key_data.begin());
    std::copy(key.second.begin(), key.second.end(), key_data.begin() + 32);
    WriteEntry(out, kPsbtInTapScriptSig, key_data, sig);
  }
  // Bitcoin Core groups leaf scripts by (script, leaf version) and writes each group's control
  // blocks shortest first.
  std::vector<const std::pair<const std::vector<uint8_t>, std::pair<Script, uint8_t>>*> leaves;
  leaves.reserve(in.tap_leaf_scripts.size());
  for (const auto& entry : in.tap_leaf_scripts) leaves.push_back(&entry);
  std::sort(leaves.begin(), leaves.end(), [](const auto* a, const auto* b) {
    const auto& [sa, va] = a->second;
    const auto& [sb, vb] = b->second;
    if (sa.bytes() != sb.bytes()) return sa.bytes() < sb.bytes();
    if (va != vb) return va < vb;
    if (a->first.size() != b->first.size()) return a->first.size() < b->first.size();
    return a->first < b->first;
  });
  for (const auto* leaf : leaves) {
    const auto& [script, leaf_version] = leaf->second;
    WriteKey(out, kPsbtInTapLeafScript, leaf->first);
    internal::WriteCompactSize(out, script.size() + 1);
    internal::WriteBytes(out, script.bytes());
    out.push_back(leaf_version);
  }
  WriteTapDerivations(out, kPsbtInTapBip32Derivation, in.tap_bip32_derivations);
  if (in.tap_internal_key) WriteEntry(out, kPsbtInTapInternalKey, {}, *in.tap_internal_key);
  if (in.tap_merkle_root) WriteEntry(out, kPsbtInTapMerkleRoot, {}, *in.tap_merkle_root);
  if (in.final_script_sig) WriteEntry(out, kPsbtInFinalScriptSig, {}, in.final_script_sig->bytes());
  if (in.final_script_witness) {
    size_t size = internal::CompactSizeLength(in.final_script_witness->size());
    for (const auto& item : *in.final_script_witness) {
      size += internal::CompactSizeLength(item.size()) + item.size();
    }
    WriteKey(out, kPsbtInFinalScriptWitness);
    internal::WriteCompactSize(out, size);
    internal::WriteCompactSize(out, in.final_script_witness->size());
    for (const auto& item : *in.final_script_witness) internal::WriteVarBytes(out, item);
  }
  WriteUnknown(out, in.unknown, /*proprietary=*/true);
  WriteUnknown(out, in.unknown, /*proprietary=*/false);
  out.push_back(0x00);
}

void WriteOutput(std::vector<uint8_t>& out, const PsbtOutput& o) {
  if (o.redeem_script) WriteEntry(out, kPsbtOutRedeemScript, {}, o.redeem_script->bytes());
  if (o.witness_script) WriteEntry(out, kPsbtOutWitnessScript, {}, o.witness_script->bytes());
  WriteDerivations(out, kPsbtOutBip32Derivation, o.bip32_derivations);
  if (o.amount) {
    WriteKey(out, kPsbtOutAmount);
    internal::WriteCompactSize(out, 8);
    internal::WriteI64(out, *o.amount);
  }
  if (o.script) WriteEntry(out, kPsbtOutScript, {}, o.script->bytes());
  // Bitcoin Core writes an output's proprietary keys before its taproot fields.
  WriteUnknown(out, o.unknown, /*proprietary=*/true);
  if (o.tap_internal_key) WriteEntry(out, kPsbtOutTapInternalKey, {}, *o.tap_internal_key);
  if (!o.tap_tree.empty()) {
    size_t size = 0;
    for (const auto& [depth, leaf_version, script] : o.tap_tree) {
      size += 2 + internal::CompactSizeLength(script.size()) + script.size();
    }
    WriteKey(out, kPsbtOutTapTree);
    internal::WriteCompactSize(out, size);
    for (const auto& [depth, leaf_version, script] : o.tap_tree) {
      out.push_back(depth);
      out.push_back(leaf_version);
      internal::WriteVarBytes(out, script.bytes());
    }
  }
  WriteTapDerivations(out, kPsbtOutTapBip32Derivation, o.tap_bip32_derivations);
  WriteUnknown(out, o.unknown, /*proprietary=*/false);
  out.push_back(0x00);
}

}  // namespace

util::Result<Psbt> Psbt::Parse(std::span<const uint8_t> bytes) {
  Reader r(bytes);
  util::Result<std::span<const uint8_t>> magic = r.ReadBytes("psbt magic", sizeof(kMagic));
  if (!magic.ok()) return magic.status();
  if (!std::equal(magic->begin(), magic->end(), std::begin(kMagic))) {
    return util::InvalidArgumentError("psbt magic at byte 0: not \"psbt\\xff\"");
  }

  Psbt psbt;
  GlobalExtras extras;
  const std::string global = "global";
  util::Status s = ReadMap(r, global, MapKind::kGlobal,
                           [&](const Entry& e) { return ParseGlobalEntry(e, psbt, extras); });
  if (!s.ok()) return s;
  const size_t global_end = r.offset();
  psbt.version = extras.version.value_or(0);

  // BIP370's inclusion and exclusion rules for the global map.
  size_t input_count = 0;
  size_t output_count = 0;
  if (psbt.version == 0) {
    if (!psbt.unsigned_tx) return MapError(global, global_end, "missing unsigned transaction");
    const char* forbidden = psbt.tx_version                   ? "PSBT_GLOBAL_TX_VERSION"
                            : psbt.fallback_locktime          ? "PSBT_GLOBAL_FALLBACK_LOCKTIME"
                            : extras.input_count.has_value()  ? "PSBT_GLOBAL_INPUT_COUNT"
                            : extras.output_count.has_value() ? "PSBT_GLOBAL_OUTPUT_COUNT"
                            : psbt.tx_modifiable              ? "PSBT_GLOBAL_TX_MODIFIABLE"
                                                              : nullptr;
    if (forbidden != nullptr) {
      return MapError(global, global_end, std::string(forbidden) + " is not allowed in version 0");
    }
    input_count = psbt.unsigned_tx->inputs.size();
    output_count = psbt.unsigned_tx->outputs.size();
  } else {
    if (psbt.unsigned_tx) {
      return MapError(global, global_end, "PSBT_GLOBAL_UNSIGNED_TX is not allowed in version 2");
    }
    const char* missing = !psbt.tx_version                   ? "PSBT_GLOBAL_TX_VERSION"
                          : !extras.input_count.has_value()  ? "PSBT_GLOBAL_INPUT_COUNT"
                          : !extras.output_count.has_value() ? "PSBT_GLOBAL_OUTPUT_COUNT"
                                                             : nullptr;
    if (missing != nullptr) {
      return MapError(global, global_end, std::string(missing) + " is required in version 2");
    }
    // Every map takes at least its separator byte.
    if (*extras.input_count > r.remaining() || *extras.output_count > r.remaining()) {
      return MapError(global, global_end, "input or output count exceeds the remaining data");
    }
    input_count = static_cast<size_t>(*extras.input_count);
    output_count = static_cast<size_t>(*extras.output_count);
  }

  // Canonical order (see the header).
  SortUnknown(psbt.unknown);
  std::vector<const std::pair<std::vector<uint8_t>, KeyOrigin>*> xpubs;
  for (const auto& x : psbt.global_xpubs) xpubs.push_back(&x);
  std::stable_sort(xpubs.begin(), xpubs.end(), XpubLess);
  std::vector<std::pair<std::vector<uint8_t>, KeyOrigin>> sorted_xpubs;
  sorted_xpubs.reserve(xpubs.size());
  for (const auto* x : xpubs) sorted_xpubs.push_back(*x);
  psbt.global_xpubs = std::move(sorted_xpubs);

  psbt.inputs.reserve(std::min(input_count, r.remaining()));
  for (size_t i = 0; i < input_count; ++i) {
    const std::string map = "input " + std::to_string(i);
    if (r.AtEnd()) {
      return util::InvalidArgumentError("psbt at byte " + std::to_string(r.offset()) +
                                        ": data ends before " + map + " (" +
                                        std::to_string(input_count) + " inputs expected)");
    }
    PsbtInput in;
    s = ReadMap(r, map, MapKind::kInput, [&](const Entry& e) { return ParseInputEntry(e, in); });
    if (!s.ok()) return s;
    SortUnknown(in.unknown);
    Outpoint prevout;
    if (psbt.version == 0) {
      const char* forbidden = in.previous_txid     ? "PSBT_IN_PREVIOUS_TXID"
                              : in.output_index    ? "PSBT_IN_OUTPUT_INDEX"
                              : in.sequence        ? "PSBT_IN_SEQUENCE"
                              : in.time_locktime   ? "PSBT_IN_REQUIRED_TIME_LOCKTIME"
                              : in.height_locktime ? "PSBT_IN_REQUIRED_HEIGHT_LOCKTIME"
                                                   : nullptr;
      if (forbidden != nullptr) {
        return MapError(map, r.offset(), std::string(forbidden) + " is not allowed in version 0");
      }
      prevout = psbt.unsigned_tx->inputs[i].prevout;
    } else {
      const char* missing = !in.previous_txid  ? "PSBT_IN_PREVIOUS_TXID"
                            : !in.output_index ? "PSBT_IN_OUTPUT_INDEX"
                                               : nullptr;
      if (missing != nullptr) {
        return MapError(map, r.offset(), std::string(missing) + " is required in version 2");
      }
      prevout = Outpoint{*in.previous_txid, *in.output_index};
    }
    s = CheckNonWitnessUtxo(map, r.offset(), in, prevout);
    if (!s.ok()) return s;
    psbt.inputs.push_back(std::move(in));
  }

  psbt.outputs.reserve(std::min(output_count, r.remaining()));
  for (size_t i = 0; i < output_count; ++i) {
    const std::string map = "output " + std::to_string(i);
    if (r.AtEnd()) {
      return util::InvalidArgumentError("psbt at byte " + std::to_string(r.offset()) +
                                        ": data ends before " + map + " (" +
                                        std::to_string(output_count) + " outputs expected)");
    }
    PsbtOutput out;
    s = ReadMap(r, map, MapKind::kOutput, [&](const Entry& e) { return ParseOutputEntry(e, out); });
    if (!s.ok()) return s;
    SortUnknown(out.unknown);
    if (psbt.version == 0) {
      const char* forbidden = out.amount   ? "PSBT_OUT_AMOUNT"
                              : out.script ? "PSBT_OUT_SCRIPT"
                                           : nullptr;
      if (forbidden != nullptr) {
        return MapError(map, r.offset(), std::string(forbidden) + " is not allowed in version 0");
      }
    } else {
      const char* missing = !out.amount   ? "PSBT_OUT_AMOUNT"
                            : !out.script ? "PSBT_OUT_SCRIPT"
                                          : nullptr;
      if (missing != nullptr) {
        return MapError(map, r.offset(), std::string(missing) + " is required in version 2");
      }
    }
    psbt.outputs.push_back(std::move(out));
  }

  if (!r.AtEnd()) {
    return util::InvalidArgumentError("psbt at byte " + std::to_string(r.offset()) + ": " +
                                      std::to_string(r.remaining()) +
                                      " bytes after the last output map");
  }
  return psbt;
}

util::Result<Psbt> Psbt::ParseBase64(std::string_view text) {
  util::Result<std::vector<uint8_t>> bytes = DecodeBase64(text);
  if (!bytes.ok()) return bytes.status().WithPrefix("psbt");
  return Parse(*bytes);
}

std::vector<uint8_t> Psbt::Serialize() const {
  std::vector<uint8_t> out(std::begin(kMagic), std::end(kMagic));
  if (unsigned_tx) {
    WriteKey(out, kPsbtGlobalUnsignedTx);
    internal::WriteVarBytes(out, unsigned_tx->Serialize(WitnessSerialization::kWithout));
  }
  std::vector<const std::pair<std::vector<uint8_t>, KeyOrigin>*> xpubs;
  xpubs.reserve(global_xpubs.size());
  for (const auto& x : global_xpubs) xpubs.push_back(&x);
  std::stable_sort(xpubs.begin(), xpubs.end(), XpubLess);
  for (const auto* x : xpubs) {
    WriteKey(out, kPsbtGlobalXpub, x->first);
    internal::WriteCompactSize(out, KeyOriginSize(x->second));
    WriteKeyOrigin(out, x->second);
  }
  if (version >= 2) {
    if (tx_version) WriteU32Entry(out, kPsbtGlobalTxVersion, *tx_version);
    if (fallback_locktime) WriteU32Entry(out, kPsbtGlobalFallbackLocktime, *fallback_locktime);
    WriteKey(out, kPsbtGlobalInputCount);
    internal::WriteCompactSize(out, internal::CompactSizeLength(inputs.size()));
    internal::WriteCompactSize(out, inputs.size());
    WriteKey(out, kPsbtGlobalOutputCount);
    internal::WriteCompactSize(out, internal::CompactSizeLength(outputs.size()));
    internal::WriteCompactSize(out, outputs.size());
    if (tx_modifiable) {
      WriteKey(out, kPsbtGlobalTxModifiable);
      internal::WriteCompactSize(out, 1);
      out.push_back(*tx_modifiable);
    }
  }
  // Bitcoin Core writes the version only when it is not 0.
  if (version != 0) WriteU32Entry(out, kPsbtGlobalVersion, version);
  WriteUnknown(out, unknown, /*proprietary=*/true);
  WriteUnknown(out, unknown, /*proprietary=*/false);
  out.push_back(0x00);
  for (const PsbtInput& in : inputs) WriteInput(out, in);
  for (const PsbtOutput& o : outputs) WriteOutput(out, o);
  return out;
}

std::string Psbt::ToBase64() const { return EncodeBase64(Serialize()); }

util::Result<Transaction> Psbt::GetUnsignedTx() const {
  if (version == 0) {
    if (!unsigned_tx) return util::InvalidArgumentError("psbt: missing unsigned transaction");
    return *unsigned_tx;
  }
  if (!tx_version) return util::InvalidArgumentError("psbt: missing PSBT_GLOBAL_TX_VERSION");
  Transaction tx;
  tx.version = *tx_version;
  // BIP370 "Determining Lock Time".
  bool any_lock = false;
  bool all_allow_height = true;
  bool all_allow_time = true;
  uint32_t max_height = 0;
  uint32_t max_time = 0;
  for (size_t i = 0; i < inputs.size(); ++i) {
    const PsbtInput& in = inputs[i];
    if (!in.previous_txid || !in.output_index) {
      return util::InvalidArgumentError("psbt input " + std::to_string(i) +
                                        ": missing previous txid or output index");
    }
    TxIn txin;
    txin.prevout = Outpoint{*in.previous_txid, *in.output_index};
    txin.sequence = in.sequence.value_or(0xffffffff);
    tx.inputs.push_back(std::move(txin));
    if (!in.time_locktime && !in.height_locktime) continue;
    any_lock = true;
    if (in.height_locktime) {
      max_height = std::max(max_height, *in.height_locktime);
    } else {
      all_allow_height = false;
    }
    if (in.time_locktime) {
      max_time = std::max(max_time, *in.time_locktime);
    } else {
      all_allow_time = false;
    }
  }
  if (!any_lock) {
    tx.lock_time = fallback_locktime.value_or(0);
  } else if (all_allow_height) {
    tx.lock_time = max_height;
  } else if (all_allow_time) {
    tx.lock_time = max_time;
  } else {
    return util::InvalidArgumentError(
        "psbt: inputs require both a height and a time lock; no lock time satisfies all");
  }
  for (size_t i = 0; i < outputs.size(); ++i) {
    const PsbtOutput& o = outputs[i];
    if (!o.amount || !o.script) {
      return util::InvalidArgumentError("psbt output " + std::to_string(i) +
                                        ": missing amount or script");
    }
    tx.outputs.push_back(TxOut{*o.amount, *o.script});
  }
  return tx;
}

util::Result<TxOut> Psbt::GetInputUtxo(size_t index) const {
  if (index >= inputs.size()) {
    return util::InvalidArgumentError("psbt input " + std::to_string(index) + ": out of range");
  }
  const PsbtInput& in = inputs[index];
  if (in.witness_utxo) return *in.witness_utxo;
  if (!in.non_witness_utxo) {
    return util::NotFoundError("psbt input " + std::to_string(index) + ": no utxo");
  }
  std::optional<uint32_t> spent;
  if (version == 0 && unsigned_tx && index < unsigned_tx->inputs.size()) {
    spent = unsigned_tx->inputs[index].prevout.index;
  } else if (version != 0) {
    spent = in.output_index;
  }
  if (!spent || *spent >= in.non_witness_utxo->outputs.size()) {
    return util::InvalidArgumentError("psbt input " + std::to_string(index) +
                                      ": spent output not in the non-witness utxo");
  }
  return in.non_witness_utxo->outputs[*spent];
}

// --- Base64 (RFC 4648 section 4) ---

namespace {
constexpr char kBase64Alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

int Base64Value(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+') return 62;
  if (c == '/') return 63;
  return -1;
}
}  // namespace

std::string EncodeBase64(std::span<const uint8_t> bytes) {
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  size_t i = 0;
  for (; i + 3 <= bytes.size(); i += 3) {
    const uint32_t v = static_cast<uint32_t>(bytes[i]) << 16 |
                       static_cast<uint32_t>(bytes[i + 1]) << 8 | bytes[i + 2];
    out.push_back(kBase64Alphabet[(v >> 18) & 63]);
    out.push_back(kBase64Alphabet[(v >> 12) & 63]);
    out.push_back(kBase64Alphabet[(v >> 6) & 63]);
    out.push_back(kBase64Alphabet[v & 63]);
  }
  const size_t rest = bytes.size() - i;
  if (rest == 1) {
    const uint32_t v = static_cast<uint32_t>(bytes[i]) << 16;
    out.push_back(kBase64Alphabet[(v >> 18) & 63]);
    out.push_back(kBase64Alphabet[(v >> 12) & 63]);
    out += "==";
  } else if (rest == 2) {
    const uint32_t v = static_cast<uint32_t>(bytes[i]) << 16 | static_cast<uint32_t>(bytes[i + 1])
                                                                   << 8;
    out.push_back(kBase64Alphabet[(v >> 18) & 63]);
    out.push_back(kBase64Alphabet[(v >> 12) & 63]);
    out.push_back(kBase64Alphabet[(v >> 6) & 63]);
    out.push_back('=');
  }
  return out;
}

util::Result<std::vector<uint8_t>> DecodeBase64(std::string_view text) {
  if (text.size() % 4 != 0) {
    return util::InvalidArgumentError("base64: length " + std::to_string(text.size()) +
                                      " is not a multiple of 4");
  }
  std::vector<uint8_t> out;
  out.reserve(text.size() / 4 * 3);
  for (size_t i = 0; i < text.size(); i += 4) {
    const bool last = i + 4 == text.size();
    size_t pad = 0;
    if (last && text[i + 3] == '=') pad = text[i + 2] == '=' ? 2 : 1;
    uint32_t v = 0;
    for (size_t j = 0; j < 4; ++j) {
      const char c = text[i + j];
      int d = 0;
      if (j >= 4 - pad) {
        d = 0;  // The '=' padding checked above.
      } else {
        d = Base64Value(c);
        if (d < 0) {
          return util::InvalidArgumentError("base64 at character " + std::to_string(i + j) +
                                            ": invalid character");
        }
      }
      v = v << 6 | static_cast<uint32_t>(d);
    }
    out.push_back(static_cast<uint8_t>(v >> 16));
    if (pad < 2) out.push_back(static_cast<uint8_t>(v >> 8));
    if (pad < 1) out.push_back(static_cast<uint8_t>(v));
    // Canonical encoding: the bits the padding leaves over must be zero.
    if ((pad == 1 && (v & 0xff) != 0) || (pad == 2 && (v & 0xffff) != 0)) {
      return util::InvalidArgumentError("base64 at character " + std::to_string(i) +
                                        ": non-zero bits before the padding");
    }
  }
  return out;
}

}  // namespace kinko::btc
