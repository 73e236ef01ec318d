// The parsed tree of a descriptor (btc/descriptor.h). Internal to btc/.
//
// Thread-safe: immutable after parsing.
#ifndef KINKO_BTC_INTERNAL_DESCRIPTOR_NODE_H_
#define KINKO_BTC_INTERNAL_DESCRIPTOR_NODE_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "btc/bip32.h"
#include "btc/script.h"
#include "crypto/secp256k1.h"

namespace kinko::btc::internal {

// The "*" of a key expression.
enum class DeriveKind { kNone, kUnhardened, kHardened };

// One key expression.
// Movable, not copyable; Clone() copies.
struct KeyExpr {
  KeyExpr() = default;
  KeyExpr(KeyExpr&&) = default;
  KeyExpr& operator=(KeyExpr&&) = default;
  KeyExpr(const KeyExpr&) = delete;
  KeyExpr& operator=(const KeyExpr&) = delete;

  std::optional<KeyOrigin> origin;
  // Either a constant key (pubkey set) or an extended key (xkey set).
  std::optional<crypto::PublicKey> pubkey;
  bool xonly = false;                         // Written as 32 hex digits or WIF inside tr().
  std::optional<crypto::PrivateKey> wif_key;  // With pubkey: the WIF key it came from.
  std::optional<ExtendedKey> xkey;
  // Steps after the extended key. When multipath_values is not empty, steps[multipath_pos] is a
  // placeholder replaced by each value.
  std::vector<uint32_t> steps;
  size_t multipath_pos = 0;
  std::vector<uint32_t> multipath_values;
  DeriveKind derive = DeriveKind::kNone;
  bool apostrophe = false;  // Print hardened steps with ' (else 'h').
  // The public extended key at xkey/steps, derived once when the descriptor is parsed, so that
  // expanding the descriptor at an index costs one child derivation per key instead of one per
  // step: one key per multipath alternative, in the order of multipath_values (one key without
  // multipath). Empty when there is no xkey, when the last step is hardened ("*'": the child
  // needs the private key), or when the steps do not derive (a hardened step below an xpub,
  // depth 255): expansion then derives the whole path from xkey and fails as it would anyway.
  // Invariant: empty, or as many keys as alternatives; each is xkey derived along steps.
  std::vector<ExtendedKey> prefix_keys;

  KeyExpr Clone() const;
};

enum class Fn {
  kPk,
  kPkh,
  kWpkh,
  kCombo,
  kSh,
  kWsh,
  kMulti,
  kSortedMulti,
  kMultiA,
  kSortedMultiA,
  kTr,
  kRawTr,
  kAddr,
  kRaw,
};

// Where an expression sits (Bitcoin Core's ParseScriptContext).
enum class Context { kTop, kP2sh, kP2wpkh, kP2wsh, kP2tr };

// One script expression.
// Movable, not copyable; Clone() copies.
struct DescriptorNode {
  DescriptorNode() = default;
  DescriptorNode(DescriptorNode&&) = default;
  DescriptorNode& operator=(DescriptorNode&&) = default;
  DescriptorNode(const DescriptorNode&) = delete;
  DescriptorNode& operator=(const DescriptorNode&) = delete;

  Fn fn = Fn::kRaw;
  Context context = Context::kTop;
  std::vector<KeyExpr> keys;  // tr: the internal key; multi*: all keys.
  int threshold = 0;
  std::vector<DescriptorNode> subs;  // sh, wsh: one; tr: the leaves in order.
  std::vector<int> depths;           // tr: the depth of each leaf.
  Script raw;                        // raw(), addr(): the script.

  DescriptorNode Clone() const;
};

}  // namespace kinko::btc::internal

#endif  // KINKO_BTC_INTERNAL_DESCRIPTOR_NODE_H_
