#include "btc/descriptor.h"

#include <algorithm>
#include <charconv>
#include <cstddef>
#include <set>
#include <utility>

#include "btc/internal/descriptor_node.h"
#include "btc/internal/serialize.h"
#include "btc/sighash.h"
#include "btc/standard.h"
#include "crypto/hash.h"
#include "crypto/key_export.h"
#include "util/check.h"
#include "util/hex.h"

namespace kinko::btc {

using internal::Context;
using internal::DeriveKind;
using internal::DescriptorNode;
using internal::Fn;
using internal::KeyExpr;

namespace internal {

KeyExpr KeyExpr::Clone() const {
  KeyExpr out;
  out.origin = origin;
  out.pubkey = pubkey;
  out.xonly = xonly;
  if (wif_key.has_value()) out.wif_key = crypto::CopyPrivateKey(*wif_key);
  if (xkey.has_value()) out.xkey = xkey->Clone();
  out.steps = steps;
  out.multipath_pos = multipath_pos;
  out.multipath_values = multipath_values;
  out.derive = derive;
  out.apostrophe = apostrophe;
  for (const ExtendedKey& key : prefix_keys) out.prefix_keys.push_back(key.Clone());
  return out;
}

DescriptorNode DescriptorNode::Clone() const {
  DescriptorNode out;
  out.fn = fn;
  out.context = context;
  for (const KeyExpr& key : keys) out.keys.push_back(key.Clone());
  out.threshold = threshold;
  for (const DescriptorNode& sub : subs) out.subs.push_back(sub.Clone());
  out.depths = depths;
  out.raw = raw;
  return out;
}

}  // namespace internal

namespace {

// BIP380 checksum.
constexpr std::string_view kInputCharset =
    "0123456789()[],'/*abcdefgh@:$%{}"
    "IJKLMNOPQRSTUVWXYZ&+-.;<=>?!^_|~"
    "ijklmnopqrstuvwxyzABCDEFGH`#\"\\ ";
constexpr std::string_view kChecksumCharset = "qpzry9x8gf2tvdw0s3jn54khce6mua7l";

uint64_t PolyMod(uint64_t c, int value) {
  const uint8_t c0 = static_cast<uint8_t>(c >> 35);
  c = ((c & 0x7ffffffffULL) << 5) ^ static_cast<uint64_t>(value);
  if (c0 & 1) c ^= 0xf5dee51989ULL;
  if (c0 & 2) c ^= 0xa9fdca3312ULL;
  if (c0 & 4) c ^= 0x1bab10e32dULL;
  if (c0 & 8) c ^= 0x3706b1677aULL;
  if (c0 & 16) c ^= 0x644d626ffdULL;
  return c;
}

// BIP341: the largest depth of a script tree (TAPROOT_CONTROL_MAX_NODE_COUNT).
constexpr size_t kMaxTapTreeDepth = 128;
// Largest script element (the P2SH redeem script).
constexpr size_t kMaxScriptElementSize = 520;
constexpr uint8_t kTapLeafVersion = 0xc0;

std::string_view Trim(std::string_view s, size_t max) {
  return s.size() <= max ? s : s.substr(0, max);
}

// --- Expression scanning (the grammar of BIP380: nested parentheses and braces). ---

// Returns the text up to the next ',', ')' or '}' at nesting level 0 and removes it from `sp`.
std::string_view Expr(std::string_view& sp) {
  int level = 0;
  size_t i = 0;
  for (; i < sp.size(); ++i) {
    const char c = sp[i];
    if (c == '(' || c == '{') {
      ++level;
    } else if (level > 0 && (c == ')' || c == '}')) {
      --level;
    } else if (level == 0 && (c == ')' || c == '}' || c == ',')) {
      break;
    }
  }
  std::string_view ret = sp.substr(0, i);
  sp.remove_prefix(i);
  return ret;
}

// When `sp` is "name(...)", replaces it with the text inside the parentheses.
bool Func(std::string_view name, std::string_view& sp) {
  if (sp.size() >= name.size() + 2 && sp.substr(0, name.size()) == name && sp[name.size()] == '(' &&
      sp.back() == ')') {
    sp = sp.substr(name.size() + 1, sp.size() - name.size() - 2);
    return true;
  }
  return false;
}

// When `sp` starts with `prefix`, removes it.
bool Const(std::string_view prefix, std::string_view& sp) {
  if (sp.substr(0, prefix.size()) == prefix) {
    sp.remove_prefix(prefix.size());
    return true;
  }
  return false;
}

std::vector<std::string_view> Split(std::string_view s, char sep) {
  std::vector<std::string_view> out;
  size_t start = 0;
  while (true) {
    const size_t pos = s.find(sep, start);
    if (pos == std::string_view::npos) {
      out.push_back(s.substr(start));
      return out;
    }
    out.push_back(s.substr(start, pos - start));
    start = pos + 1;
  }
}

// Decimal digits only (leading zeros allowed, as Bitcoin Core's ToIntegral), value < 2^32.
std::optional<uint32_t> ParseUint32(std::string_view s) {
  if (s.empty()) return std::nullopt;
  uint64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return std::nullopt;
    v = v * 10 + static_cast<uint64_t>(c - '0');
    if (v > 0xffffffffULL) return std::nullopt;
  }
  return static_cast<uint32_t>(v);
}

bool IsHexString(std::string_view s) {
  if (s.empty() || s.size() % 2 != 0) return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
  });
}

// One path step: decimal index below 2^31 with an optional ' or h. Updates `apostrophe` when
// the step is hardened (Bitcoin Core's ParseKeyPathNum).
util::Result<uint32_t> ParseStep(std::string_view elem, bool& apostrophe) {
  bool hardened = false;
  std::string_view num = elem;
  if (!num.empty() && (num.back() == '\'' || num.back() == 'h')) {
    apostrophe = num.back() == '\'';
    num.remove_suffix(1);
    hardened = true;
  }
  const std::optional<uint32_t> v = ParseUint32(num);
  if (!v.has_value()) {
    return util::InvalidArgumentError("key path value '" + std::string(Trim(elem, 20)) +
                                      "' is not a valid uint32");
  }
  if (*v >= kHardened) {
    return util::InvalidArgumentError("key path value " + std::to_string(*v) + " is out of range");
  }
  return hardened ? (*v | kHardened) : *v;
}

std::string FormatStep(uint32_t step, bool apostrophe) {
  std::string s = std::to_string(step & ~kHardened);
  if (step & kHardened) s += apostrophe ? '\'' : 'h';
  return s;
}

std::string FormatSteps(const std::vector<uint32_t>& steps, bool apostrophe) {
  std::string s;
  for (uint32_t step : steps) s += "/" + FormatStep(step, apostrophe);
  return s;
}

struct ParseState {
  const crypto::Secp256k1Context& ctx;
  Network network;
  size_t key_count = 0;
};

// Parses a key expression without its origin (Bitcoin Core's ParsePubkeyInner).
util::Status ParseKeyInner(ParseState& state, std::string_view text, Context context,
                           KeyExpr& key) {
  const bool permit_uncompressed = context == Context::kTop || context == Context::kP2sh;
  std::vector<std::string_view> split = Split(text, '/');
  const std::string_view str = split[0];
  if (str.empty()) return util::InvalidArgumentError("no key provided");
  auto is_space = [](char c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
  };
  if (is_space(str.front()) || is_space(str.back())) {
    return util::InvalidArgumentError("key is invalid due to whitespace");
  }
  if (split.size() == 1) {
    if (IsHexString(str)) {
      util::Result<std::vector<uint8_t>> data = util::HexDecode(str);
      if (!data.ok()) return data.status();
      const std::vector<uint8_t>& bytes = data.value();
      if (bytes.size() == 65 && (bytes[0] == 0x06 || bytes[0] == 0x07)) {
        return util::InvalidArgumentError("hybrid public keys are not allowed");
      }
      util::Result<crypto::PublicKey> pubkey = crypto::PublicKey::Parse(bytes);
      if (pubkey.ok()) {
        if (!permit_uncompressed && !pubkey.value().IsCompressed()) {
          return util::InvalidArgumentError("uncompressed keys are not allowed");
        }
        key.pubkey = pubkey.value();
        return util::OkStatus();
      }
      if (bytes.size() == 32 && context == Context::kP2tr) {
        std::vector<uint8_t> full(1, 0x02);
        full.insert(full.end(), bytes.begin(), bytes.end());
        util::Result<crypto::PublicKey> even = crypto::PublicKey::Parse(full);
        if (even.ok()) {
          key.pubkey = even.value();
          key.xonly = true;
          return util::OkStatus();
        }
      }
      // Not echoed: 64 hex digits may be a private key written in the wrong place.
      return util::InvalidArgumentError("pubkey of " + std::to_string(bytes.size()) +
                                        " bytes is invalid");
    }
    util::Result<WifKey> wif = DecodeWif(str);
    if (wif.ok() &&
        (wif.value().network == Network::kMainnet) == (state.network == Network::kMainnet)) {
      if (!permit_uncompressed && !wif.value().compressed) {
        return util::InvalidArgumentError("uncompressed keys are not allowed");
      }
      crypto::PublicKey pub = crypto::DerivePublicKey(state.ctx, wif.value().key);
      if (!wif.value().compressed) {
        util::Result<crypto::PublicKey> unc = crypto::PublicKey::Parse(pub.SerializeUncompressed());
        if (!unc.ok()) return util::InternalError("uncompressed encoding of a derived key");
        pub = unc.value();
      }
      key.pubkey = pub;
      key.xonly = context == Context::kP2tr;
      key.wif_key = std::move(wif.value().key);
      return util::OkStatus();
    }
  }
  util::Result<ExtendedKey> xkey = ExtendedKey::Parse(state.ctx, str);
  if (!xkey.ok() || xkey.value().IsMainnet() != (state.network == Network::kMainnet)) {
    // The text may be a private key: never echo it.
    return util::InvalidArgumentError("not a valid key for network " +
                                      std::string(NetworkName(state.network)));
  }
  // Bitcoin Core's ParseDeriveType, then ParseKeyPath (the apostrophe flag follows the order).
  if (split.back() == "*") {
    split.pop_back();
    key.derive = DeriveKind::kUnhardened;
  } else if (split.back() == "*'" || split.back() == "*h") {
    key.apostrophe = split.back() == "*'";
    split.pop_back();
    key.derive = DeriveKind::kHardened;
  }
  bool has_multipath = false;
  for (size_t i = 1; i < split.size(); ++i) {
    const std::string_view elem = split[i];
    if (!elem.empty() && elem.front() == '<' && elem.back() == '>') {
      if (has_multipath) {
        return util::InvalidArgumentError("multiple multipath key path specifiers found");
      }
      has_multipath = true;
      const std::vector<std::string_view> nums = Split(elem.substr(1, elem.size() - 2), ';');
      if (nums.size() < 2) {
        return util::InvalidArgumentError(
            "multipath key path specifiers must have at least two items");
      }
      for (std::string_view num : nums) {
        util::Result<uint32_t> step = ParseStep(num, key.apostrophe);
        if (!step.ok()) return step.status();
        if (std::find(key.multipath_values.begin(), key.multipath_values.end(), step.value()) !=
            key.multipath_values.end()) {
          return util::InvalidArgumentError("duplicated key path value " +
                                            std::to_string(step.value() & ~kHardened) +
                                            " in multipath specifier");
        }
        key.multipath_values.push_back(step.value());
      }
      key.multipath_pos = key.steps.size();
      key.steps.push_back(0);  // Placeholder.
    } else {
      util::Result<uint32_t> step = ParseStep(elem, key.apostrophe);
      if (!step.ok()) return step.status();
      key.steps.push_back(step.value());
    }
  }
  key.xkey = std::move(xkey.value());
  return util::OkStatus();
}

// Fills in key.prefix_keys (see KeyExpr): derives the public key at xkey/steps for each
// multipath alternative, or leaves it empty when one of them does not derive. The steps before
// the multipath step are derived once for all alternatives, so that this costs what expanding
// each alternative once would.
void DerivePrefixKeys(const crypto::Secp256k1Context& ctx, KeyExpr& key) {
  if (!key.xkey.has_value() || key.derive == DeriveKind::kHardened) return;
  if (key.multipath_values.empty()) {
    util::Result<ExtendedKey> prefix = key.xkey->DerivePath(ctx, KeyPath{key.steps});
    if (prefix.ok()) key.prefix_keys.push_back(prefix.value().Neuter());
    return;
  }
  const auto multipath_step = key.steps.begin() + static_cast<std::ptrdiff_t>(key.multipath_pos);
  util::Result<ExtendedKey> common =
      key.xkey->DerivePath(ctx, KeyPath{{key.steps.begin(), multipath_step}});
  if (!common.ok()) return;
  std::vector<ExtendedKey> prefix_keys;
  for (uint32_t value : key.multipath_values) {
    KeyPath rest{{value}};
    rest.steps.insert(rest.steps.end(), multipath_step + 1, key.steps.end());
    util::Result<ExtendedKey> prefix = common.value().DerivePath(ctx, rest);
    if (!prefix.ok()) return;
    prefix_keys.push_back(prefix.value().Neuter());
  }
  key.prefix_keys = std::move(prefix_keys);
}

// Parses a key expression with its optional origin (Bitcoin Core's ParsePubkey).
util::Result<KeyExpr> ParseKey(ParseState& state, std::string_view text, Context context) {
  const size_t index = state.key_count;
  KeyExpr key;
  auto fail = [&](const util::Status& status) -> util::Result<KeyExpr> {
    return status.WithPrefix("key " + std::to_string(index));
  };
  const std::vector<std::string_view> origin_split = Split(text, ']');
  if (origin_split.size() > 2) {
    return fail(util::InvalidArgumentError("multiple ']' characters found for a single pubkey"));
  }
  std::string_view inner = text;
  if (origin_split.size() == 2) {
    if (origin_split[0].empty() || origin_split[0][0] != '[') {
      return fail(util::InvalidArgumentError("key origin start '[' character expected"));
    }
    const std::vector<std::string_view> slash = Split(origin_split[0].substr(1), '/');
    if (slash[0].size() != 8 || !IsHexString(slash[0])) {
      return fail(util::InvalidArgumentError("fingerprint is not 8 hex characters"));
    }
    util::Result<std::vector<uint8_t>> fpr = util::HexDecode(slash[0]);
    if (!fpr.ok()) return fail(fpr.status());
    KeyOrigin origin;
    std::copy(fpr.value().begin(), fpr.value().end(), origin.fingerprint.begin());
    for (size_t i = 1; i < slash.size(); ++i) {
      util::Result<uint32_t> step = ParseStep(slash[i], key.apostrophe);
      if (!step.ok()) return fail(step.status());
      origin.path.steps.push_back(step.value());
    }
    key.origin = std::move(origin);
    inner = origin_split[1];
  }
  util::Status status = ParseKeyInner(state, inner, context, key);
  if (!status.ok()) return fail(status);
  DerivePrefixKeys(state.ctx, key);
  ++state.key_count;
  return key;
}

std::string FnName(Fn fn) {
  switch (fn) {
    case Fn::kPk:
      return "pk";
    case Fn::kPkh:
      return "pkh";
    case Fn::kWpkh:
      return "wpkh";
    case Fn::kCombo:
      return "combo";
    case Fn::kSh:
      return "sh";
    case Fn::kWsh:
      return "wsh";
    case Fn::kMulti:
      return "multi";
    case Fn::kSortedMulti:
      return "sortedmulti";
    case Fn::kMultiA:
      return "multi_a";
    case Fn::kSortedMultiA:
      return "sortedmulti_a";
    case Fn::kTr:
      return "tr";
    case Fn::kRawTr:
      return "rawtr";
    case Fn::kAddr:
      return "addr";
    case Fn::kRaw:
      return "raw";
  }
  return "";
}

size_t KeySize(const KeyExpr& key) {
  if (key.xkey.has_value()) return 33;
  return key.xonly ? 32 : key.pubkey->Serialize().size();
}

util::Status CheckMultipathCounts(const std::vector<KeyExpr>& keys, std::string_view what) {
  size_t count = 1;
  for (const KeyExpr& key : keys) {
    const size_t n = key.multipath_values.empty() ? 1 : key.multipath_values.size();
    if (n == 1) continue;
    if (count != 1 && n != count) {
      return util::InvalidArgumentError(std::string(what) +
                                        ": multipath derivation paths have mismatched lengths");
    }
    count = n;
  }
  return util::OkStatus();
}

void CollectKeys(const DescriptorNode& node, std::vector<const KeyExpr*>& out) {
  for (const KeyExpr& key : node.keys) out.push_back(&key);
  for (const DescriptorNode& sub : node.subs) CollectKeys(sub, out);
}

// Parses one script expression in `context` (Bitcoin Core's ParseScript). On success `sp` holds
// what follows the expression.
util::Result<DescriptorNode> ParseScript(ParseState& state, std::string_view& sp, Context context) {
  std::string_view expr = Expr(sp);
  DescriptorNode node;
  node.context = context;
  const bool top = context == Context::kTop;

  auto single_key = [&](Fn fn, Context key_context) -> util::Result<DescriptorNode> {
    util::Result<KeyExpr> key = ParseKey(state, expr, key_context);
    if (!key.ok()) return key.status().WithPrefix(FnName(fn) + "()");
    node.fn = fn;
    node.keys.push_back(std::move(key.value()));
    return std::move(node);
  };

  if (Func("pk", expr)) return single_key(Fn::kPk, context);
  if (Func("pkh", expr)) return single_key(Fn::kPkh, context);
  if (Func("combo", expr)) {
    if (!top) return util::InvalidArgumentError("can only have combo() at top level");
    return single_key(Fn::kCombo, context);
  }
  const bool multi = Func("multi", expr);
  const bool sortedmulti = !multi && Func("sortedmulti", expr);
  const bool multi_a = !multi && !sortedmulti && Func("multi_a", expr);
  const bool sortedmulti_a = !multi && !sortedmulti && !multi_a && Func("sortedmulti_a", expr);
  if (multi || sortedmulti || multi_a || sortedmulti_a) {
    const bool is_a = multi_a || sortedmulti_a;
    node.fn = multi         ? Fn::kMulti
              : sortedmulti ? Fn::kSortedMulti
              : multi_a     ? Fn::kMultiA
                            : Fn::kSortedMultiA;
    if (!is_a && context == Context::kP2tr) {
      return util::InvalidArgumentError(
          "can only have multi/sortedmulti at top level, in sh(), or in wsh()");
    }
    if (is_a && context != Context::kP2tr) {
      return util::InvalidArgumentError("can only have multi_a/sortedmulti_a inside tr()");
    }
    const std::string name = FnName(node.fn) + "()";
    const std::string_view threshold_text = Expr(expr);
    const std::optional<uint32_t> threshold = ParseUint32(threshold_text);
    if (!threshold.has_value()) {
      return util::InvalidArgumentError(name + ": threshold '" +
                                        std::string(Trim(threshold_text, 20)) + "' is not valid");
    }
    size_t script_size = 0;
    while (!expr.empty()) {
      if (!Const(",", expr)) {
        return util::InvalidArgumentError(name + ": expected ','");
      }
      const std::string_view arg = Expr(expr);
      util::Result<KeyExpr> key = ParseKey(state, arg, context);
      if (!key.ok()) return key.status().WithPrefix(name);
      script_size += KeySize(key.value()) + 1;
      node.keys.push_back(std::move(key.value()));
      // Stop early on absurd inputs (the count is checked below).
      if (node.keys.size() > static_cast<size_t>(kMaxMultiAKeys)) break;
    }
    const size_t max_keys = is_a ? kMaxMultiAKeys : kMaxMultisigKeys;
    if (node.keys.empty() || node.keys.size() > max_keys) {
      return util::InvalidArgumentError(name + ": cannot have " + std::to_string(node.keys.size()) +
                                        " keys; must have between 1 and " +
                                        std::to_string(max_keys) + " keys, inclusive");
    }
    if (*threshold < 1) {
      return util::InvalidArgumentError(name + ": threshold cannot be 0, must be at least 1");
    }
    if (*threshold > node.keys.size()) {
      return util::InvalidArgumentError(
          name + ": threshold cannot be larger than the number of keys; threshold is " +
          std::to_string(*threshold) + " but only " + std::to_string(node.keys.size()) +
          " keys specified");
    }
    if (top && node.keys.size() > 3) {
      return util::InvalidArgumentError(name + ": cannot have " + std::to_string(node.keys.size()) +
                                        " pubkeys in bare multisig; only at most 3 pubkeys");
    }
    if (context == Context::kP2sh && script_size + 3 > kMaxScriptElementSize) {
      return util::InvalidArgumentError("p2sh script is too large, " +
                                        std::to_string(script_size + 3) +
                                        " bytes is larger than 520 bytes");
    }
    util::Status counts = CheckMultipathCounts(node.keys, name);
    if (!counts.ok()) return counts;
    node.threshold = static_cast<int>(*threshold);
    return node;
  }
  if (Func("wpkh", expr)) {
    if (context != Context::kTop && context != Context::kP2sh) {
      return util::InvalidArgumentError("can only have wpkh() at top level or inside sh()");
    }
    return single_key(Fn::kWpkh, Context::kP2wpkh);
  }
  const bool is_sh = Func("sh", expr);
  const bool is_wsh = !is_sh && Func("wsh", expr);
  if (is_sh || is_wsh) {
    if (is_sh && !top) return util::InvalidArgumentError("can only have sh() at top level");
    if (is_wsh && context != Context::kTop && context != Context::kP2sh) {
      return util::InvalidArgumentError("can only have wsh() at top level or inside sh()");
    }
    node.fn = is_sh ? Fn::kSh : Fn::kWsh;
    util::Result<DescriptorNode> sub =
        ParseScript(state, expr, is_sh ? Context::kP2sh : Context::kP2wsh);
    if (!sub.ok()) return sub.status().WithPrefix(FnName(node.fn) + "()");
    if (!expr.empty()) {
      return util::InvalidArgumentError(FnName(node.fn) + "(): expected ')'");
    }
    node.subs.push_back(std::move(sub.value()));
    return node;
  }
  if (Func("addr", expr)) {
    if (!top) return util::InvalidArgumentError("can only have addr() at top level");
    util::Result<DecodedAddress> address = DecodeAddress(expr, state.network);
    if (!address.ok()) return address.status().WithPrefix("addr(): address is not valid");
    node.fn = Fn::kAddr;
    node.raw = address.value().script_pubkey;
    return node;
  }
  if (Func("tr", expr)) {
    if (!top) return util::InvalidArgumentError("can only have tr at top level");
    node.fn = Fn::kTr;
    std::string_view arg = Expr(expr);
    util::Result<KeyExpr> internal_key = ParseKey(state, arg, Context::kP2tr);
    if (!internal_key.ok()) return internal_key.status().WithPrefix("tr()");
    node.keys.push_back(std::move(internal_key.value()));
    if (!expr.empty()) {
      if (!Const(",", expr)) return util::InvalidArgumentError("tr(): expected ','");
      // branches[i]: false while in the left branch of the i-th level, true in the right one.
      std::vector<bool> branches;
      do {
        while (Const("{", expr)) {
          branches.push_back(false);
          if (branches.size() > kMaxTapTreeDepth) {
            return util::InvalidArgumentError("tr() supports at most 128 nesting levels");
          }
        }
        std::string_view leaf_text = Expr(expr);
        util::Result<DescriptorNode> leaf = ParseScript(state, leaf_text, Context::kP2tr);
        if (!leaf.ok()) return leaf.status().WithPrefix("tr()");
        if (!leaf_text.empty()) {
          return util::InvalidArgumentError("tr(): unexpected text after a leaf script");
        }
        node.subs.push_back(std::move(leaf.value()));
        node.depths.push_back(static_cast<int>(branches.size()));
        while (!branches.empty() && branches.back()) {
          if (!Const("}", expr)) {
            return util::InvalidArgumentError("tr(): expected '}' after script expression");
          }
          branches.pop_back();
        }
        if (!branches.empty() && !branches.back()) {
          if (!Const(",", expr)) {
            return util::InvalidArgumentError("tr(): expected ',' after script expression");
          }
          branches.back() = true;
        }
      } while (!branches.empty());
      if (!expr.empty()) {
        return util::InvalidArgumentError("tr(): expected ')' after script expression");
      }
    }
    std::vector<const KeyExpr*> keys;
    CollectKeys(node, keys);
    std::vector<KeyExpr> copies;
    for (const KeyExpr* key : keys) {
      KeyExpr k;
      k.multipath_values = key->multipath_values;
      copies.push_back(std::move(k));
    }
    util::Status counts = CheckMultipathCounts(copies, "tr()");
    if (!counts.ok()) return counts;
    return node;
  }
  if (Func("rawtr", expr)) {
    if (!top) return util::InvalidArgumentError("can only have rawtr at top level");
    std::string_view arg = Expr(expr);
    if (!expr.empty()) return util::InvalidArgumentError("rawtr(): only one key expected");
    util::Result<KeyExpr> key = ParseKey(state, arg, Context::kP2tr);
    if (!key.ok()) return key.status().WithPrefix("rawtr()");
    node.fn = Fn::kRawTr;
    node.keys.push_back(std::move(key.value()));
    return node;
  }
  if (Func("raw", expr)) {
    if (!top) return util::InvalidArgumentError("can only have raw() at top level");
    if (!IsHexString(expr)) return util::InvalidArgumentError("raw script is not hex");
    util::Result<std::vector<uint8_t>> bytes = util::HexDecode(expr);
    if (!bytes.ok()) return bytes.status();
    node.fn = Fn::kRaw;
    node.raw = Script(std::move(bytes.value()));
    return node;
  }
  if (context == Context::kP2sh) {
    return util::InvalidArgumentError("a function is needed within p2sh");
  }
  if (context == Context::kP2wsh) {
    return util::InvalidArgumentError("a function is needed within p2wsh");
  }
  // Names the function only when it looks like one: the text may be a key (never echoed).
  const std::string_view name = expr.substr(0, expr.find('('));
  const bool is_name = !name.empty() && name.size() <= 20 &&
                       std::all_of(name.begin(), name.end(),
                                   [](char c) { return (c >= 'a' && c <= 'z') || c == '_'; });
  return util::InvalidArgumentError(
      (is_name ? "'" + std::string(name) + "' is not a valid descriptor function"
               : std::string("not a valid descriptor function")) +
      (context == Context::kP2tr ? " in a tr() leaf" : ""));
}

// --- Printing ---

std::string KeyToString(const KeyExpr& key, bool priv, Network network) {
  std::string s;
  if (key.origin.has_value()) {
    s += "[" + util::HexEncode(key.origin->fingerprint) +
         FormatSteps(key.origin->path.steps, key.apostrophe) + "]";
  }
  if (key.pubkey.has_value()) {
    if (priv && key.wif_key.has_value()) {
      s += EncodeWif(*key.wif_key, key.pubkey->IsCompressed(), network);
    } else if (key.xonly) {
      const std::array<uint8_t, 33> c = key.pubkey->SerializeCompressed();
      s += util::HexEncode(std::span<const uint8_t>(c).subspan(1));
    } else {
      s += util::HexEncode(key.pubkey->Serialize());
    }
    return s;
  }
  s += (priv && key.xkey->IsPrivate()) ? key.xkey->ToString() : key.xkey->Neuter().ToString();
  for (size_t i = 0; i < key.steps.size(); ++i) {
    if (!key.multipath_values.empty() && i == key.multipath_pos) {
      s += "/<";
      for (size_t j = 0; j < key.multipath_values.size(); ++j) {
        if (j > 0) s += ";";
        s += FormatStep(key.multipath_values[j], key.apostrophe);
      }
      s += ">";
    } else {
      s += "/" + FormatStep(key.steps[i], key.apostrophe);
    }
  }
  switch (key.derive) {
    case DeriveKind::kNone:
      break;
    case DeriveKind::kUnhardened:
      s += "/*";
      break;
    case DeriveKind::kHardened:
      s += key.apostrophe ? "/*'" : "/*h";
      break;
  }
  return s;
}

std::string NodeToString(const DescriptorNode& node, bool priv, Network network) {
  std::string s = FnName(node.fn) + "(";
  switch (node.fn) {
    case Fn::kPk:
    case Fn::kPkh:
    case Fn::kWpkh:
    case Fn::kCombo:
    case Fn::kRawTr:
      s += KeyToString(node.keys[0], priv, network);
      break;
    case Fn::kSh:
    case Fn::kWsh:
      s += NodeToString(node.subs[0], priv, network);
      break;
    case Fn::kMulti:
    case Fn::kSortedMulti:
    case Fn::kMultiA:
    case Fn::kSortedMultiA:
      s += std::to_string(node.threshold);
      for (const KeyExpr& key : node.keys) s += "," + KeyToString(key, priv, network);
      break;
    case Fn::kTr: {
      s += KeyToString(node.keys[0], priv, network);
      if (node.subs.empty()) break;
      s += ",";
      // path[i]: whether the i-th level is in its right branch.
      std::vector<bool> path;
      for (size_t pos = 0; pos < node.depths.size(); ++pos) {
        if (pos > 0) s += ",";
        while (path.size() <= static_cast<size_t>(node.depths[pos])) {
          if (!path.empty()) s += "{";
          path.push_back(false);
        }
        s += NodeToString(node.subs[pos], priv, network);
        while (!path.empty() && path.back()) {
          if (path.size() > 1) s += "}";
          path.pop_back();
        }
        if (!path.empty()) path.back() = true;
      }
      break;
    }
    case Fn::kAddr: {
      util::Result<std::string> address = EncodeAddress(node.raw, network);
      CHECK(address.ok());  // Invariant: parsed from an address of `network`.
      s += address.value();
      break;
    }
    case Fn::kRaw:
      s += util::HexEncode(node.raw.bytes());
      break;
  }
  return s + ")";
}

std::string WithChecksum(const std::string& text) {
  const std::string checksum = DescriptorChecksum(text);
  CHECK(!checksum.empty());  // Invariant: printed descriptors use the BIP380 character set.
  return text + "#" + checksum;
}

// --- Expansion ---

struct DerivedKey {
  crypto::PublicKey pubkey;
  bool xonly = false;
  KeyOrigin origin;

  std::array<uint8_t, 32> XOnly() const {
    std::array<uint8_t, 32> out{};
    const std::array<uint8_t, 33> c = pubkey.SerializeCompressed();
    std::copy(c.begin() + 1, c.end(), out.begin());
    return out;
  }
};

// key.xkey derived along `path`, which is key.steps and, for a ranged key, the index: from the
// key at key.steps derived at parse time when there is one (BIP32 CKDpub of the public parent
// gives the public key of CKDpriv's child), otherwise step by step from key.xkey.
util::Result<ExtendedKey> DeriveAlong(const crypto::Secp256k1Context& ctx, const KeyExpr& key,
                                      const KeyPath& path) {
  if (key.prefix_keys.empty()) return key.xkey->DerivePath(ctx, path);
  // Invariant: a single-path key (the callers' check) has at most one prefix key.
  CHECK(key.prefix_keys.size() == 1);
  const ExtendedKey& prefix = key.prefix_keys[0];
  if (path.steps.size() == key.steps.size()) return prefix.Clone();
  CHECK(path.steps.size() == key.steps.size() + 1);
  util::Result<ExtendedKey> child = prefix.Derive(ctx, path.steps.back());
  if (!child.ok()) {
    // The message DerivePath gives for a failing last step.
    return child.status().WithPrefix("key path step " + std::to_string(path.steps.size()));
  }
  return child;
}

util::Result<DerivedKey> DeriveKey(const crypto::Secp256k1Context& ctx, const KeyExpr& key,
                                   uint32_t index) {
  if (key.pubkey.has_value()) {
    DerivedKey out{*key.pubkey, key.xonly, {}};
    if (key.origin.has_value()) {
      out.origin = *key.origin;
    } else {
      const crypto::Hash160Bytes id = crypto::Hash160(key.pubkey->Serialize());
      std::copy(id.begin(), id.begin() + 4, out.origin.fingerprint.begin());
    }
    return out;
  }
  CHECK(key.multipath_values.empty());  // Invariant: checked by the callers.
  KeyPath path{key.steps};
  switch (key.derive) {
    case DeriveKind::kNone:
      break;
    case DeriveKind::kUnhardened:
    case DeriveKind::kHardened:
      if (index >= kHardened) {
        return util::InvalidArgumentError("index " + std::to_string(index) + " is not below 2^31");
      }
      path.steps.push_back(key.derive == DeriveKind::kHardened ? (index | kHardened) : index);
      break;
  }
  const bool hardened = std::any_of(path.steps.begin(), path.steps.end(),
                                    [](uint32_t s) { return (s & kHardened) != 0; });
  if (hardened && !key.xkey->IsPrivate()) {
    return util::InvalidArgumentError(
        "hardened derivation needs the private key (xprv), the descriptor has an xpub");
  }
  util::Result<ExtendedKey> child = DeriveAlong(ctx, key, path);
  if (!child.ok()) return child.status();
  DerivedKey out{child.value().public_key(), false, {}};
  if (key.origin.has_value()) {
    out.origin = *key.origin;
  } else {
    out.origin.fingerprint = key.xkey->Fingerprint();
  }
  out.origin.path.steps.insert(out.origin.path.steps.end(), path.steps.begin(), path.steps.end());
  return out;
}

void AddDerivation(ScriptInfo& info, const DerivedKey& key) {
  std::vector<uint8_t> bytes = key.pubkey.Serialize();
  for (const auto& entry : info.bip32_derivations) {
    if (entry.first == bytes) return;
  }
  info.bip32_derivations.emplace_back(std::move(bytes), key.origin);
}

void AddTapDerivation(ScriptInfo& info, const DerivedKey& key,
                      std::optional<std::array<uint8_t, 32>> leaf_hash) {
  const std::array<uint8_t, 32> xonly = key.XOnly();
  for (TapKeyOrigin& entry : info.tap_bip32_derivations) {
    if (entry.xonly_key == xonly) {
      if (leaf_hash.has_value() && std::find(entry.leaf_hashes.begin(), entry.leaf_hashes.end(),
                                             *leaf_hash) == entry.leaf_hashes.end()) {
        entry.leaf_hashes.push_back(*leaf_hash);
      }
      return;
    }
  }
  TapKeyOrigin entry;
  entry.xonly_key = xonly;
  if (leaf_hash.has_value()) entry.leaf_hashes.push_back(*leaf_hash);
  entry.origin = key.origin;
  info.tap_bip32_derivations.push_back(std::move(entry));
}

util::Result<std::vector<DerivedKey>> DeriveKeys(const crypto::Secp256k1Context& ctx,
                                                 const std::vector<KeyExpr>& keys, uint32_t index) {
  std::vector<DerivedKey> out;
  out.reserve(keys.size());
  for (const KeyExpr& key : keys) {
    util::Result<DerivedKey> derived = DeriveKey(ctx, key, index);
    if (!derived.ok()) return derived.status();
    out.push_back(std::move(derived.value()));
  }
  return out;
}

Script PkhScript(std::span<const uint8_t> key_bytes) {
  const crypto::Hash160Bytes h = crypto::Hash160(key_bytes);
  return P2pkhScript(h);
}

// The script of a tr() leaf at `index`; adds the leaf's keys to `leaf_keys`.
util::Result<Script> LeafScript(const crypto::Secp256k1Context& ctx, const DescriptorNode& node,
                                uint32_t index, std::vector<DerivedKey>& leaf_keys) {
  util::Result<std::vector<DerivedKey>> keys = DeriveKeys(ctx, node.keys, index);
  if (!keys.ok()) return keys.status();
  std::vector<std::array<uint8_t, 32>> xonly;
  for (const DerivedKey& key : keys.value()) xonly.push_back(key.XOnly());
  leaf_keys.insert(leaf_keys.end(), keys.value().begin(), keys.value().end());
  switch (node.fn) {
    case Fn::kPk: {
      Script s;
      s.PushData(xonly[0]);
      s.PushOpcode(static_cast<uint8_t>(Opcode::kCheckSig));
      return s;
    }
    case Fn::kPkh:
      // Miniscript pkh() in tapscript hashes the 32-byte x-only key.
      return PkhScript(xonly[0]);
    case Fn::kMultiA:
      return MultiAScript(node.threshold, xonly);
    case Fn::kSortedMultiA:
      return SortedMultiAScript(node.threshold, xonly);
    case Fn::kWpkh:
    case Fn::kCombo:
    case Fn::kSh:
    case Fn::kWsh:
    case Fn::kMulti:
    case Fn::kSortedMulti:
    case Fn::kTr:
    case Fn::kRawTr:
    case Fn::kAddr:
    case Fn::kRaw:
      break;
  }
  return util::InternalError("unexpected expression in a tr() leaf");
}

// BIP341 script tree from leaves in depth-first order with their depths (Bitcoin Core's
// TaprootBuilder): sets the merkle root and each leaf's sibling path.
struct TreeResult {
  std::array<uint8_t, 32> root{};
  std::vector<std::vector<std::array<uint8_t, 32>>> paths;  // Per leaf, leaf to root.
};

TreeResult BuildTree(const std::vector<std::array<uint8_t, 32>>& leaf_hashes,
                     const std::vector<int>& depths) {
  struct Entry {
    int depth;
    std::array<uint8_t, 32> hash;
    std::vector<size_t> leaves;
  };
  TreeResult result;
  result.paths.resize(leaf_hashes.size());
  std::vector<Entry> stack;
  for (size_t i = 0; i < leaf_hashes.size(); ++i) {
    Entry entry{depths[i], leaf_hashes[i], {i}};
    while (!stack.empty() && stack.back().depth == entry.depth && entry.depth > 0) {
      Entry left = std::move(stack.back());
      stack.pop_back();
      for (size_t leaf : left.leaves) result.paths[leaf].push_back(entry.hash);
      for (size_t leaf : entry.leaves) result.paths[leaf].push_back(left.hash);
      entry.hash = ComputeTapBranchHash(left.hash, entry.hash);
      entry.leaves.insert(entry.leaves.end(), left.leaves.begin(), left.leaves.end());
      entry.depth -= 1;
    }
    stack.push_back(std::move(entry));
  }
  // Invariant: the parser only builds complete trees.
  CHECK(stack.size() == 1 && stack[0].depth == 0);
  result.root = stack[0].hash;
  return result;
}

util::Result<Script> BuildTr(const crypto::Secp256k1Context& ctx, const DescriptorNode& node,
                             uint32_t index, ScriptInfo& info) {
  util::Result<DerivedKey> internal_key = DeriveKey(ctx, node.keys[0], index);
  if (!internal_key.ok()) return internal_key.status();
  const std::array<uint8_t, 32> internal_xonly = internal_key.value().XOnly();
  AddTapDerivation(info, internal_key.value(), std::nullopt);
  std::vector<Script> scripts;
  std::vector<std::array<uint8_t, 32>> leaf_hashes;
  std::vector<std::vector<DerivedKey>> leaf_keys(node.subs.size());
  for (size_t i = 0; i < node.subs.size(); ++i) {
    util::Result<Script> leaf = LeafScript(ctx, node.subs[i], index, leaf_keys[i]);
    if (!leaf.ok()) return leaf.status();
    leaf_hashes.push_back(ComputeTapleafHash(kTapLeafVersion, leaf.value()));
    scripts.push_back(std::move(leaf.value()));
  }
  std::optional<std::array<uint8_t, 32>> merkle_root;
  TreeResult tree;
  if (!scripts.empty()) {
    tree = BuildTree(leaf_hashes, node.depths);
    merkle_root = tree.root;
  }
  util::Result<crypto::XOnlyPublicKey> internal_parsed =
      crypto::XOnlyPublicKey::Parse(internal_xonly);
  if (!internal_parsed.ok()) return internal_parsed.status();
  util::Result<crypto::TweakedPublicKey> output =
      crypto::TaprootTweakPublicKey(ctx, internal_parsed.value(), merkle_root);
  if (!output.ok()) return output.status();
  info.tap_internal_key = internal_xonly;
  info.tap_merkle_root = merkle_root;
  for (size_t i = 0; i < scripts.size(); ++i) {
    TapLeafInfo leaf;
    leaf.leaf_version = kTapLeafVersion;
    leaf.control_block.push_back(
        static_cast<uint8_t>(kTapLeafVersion | (output.value().parity_odd ? 1 : 0)));
    leaf.control_block.insert(leaf.control_block.end(), internal_xonly.begin(),
                              internal_xonly.end());
    for (const auto& h : tree.paths[i]) {
      leaf.control_block.insert(leaf.control_block.end(), h.begin(), h.end());
    }
    leaf.script = scripts[i];
    info.tap_leaves.push_back(std::move(leaf));
    for (const DerivedKey& key : leaf_keys[i]) AddTapDerivation(info, key, leaf_hashes[i]);
  }
  return P2trScript(output.value().key.bytes());
}

// The script of `node` (not combo) at `index`, filling in `info`.
util::Result<Script> BuildScript(const crypto::Secp256k1Context& ctx, const DescriptorNode& node,
                                 uint32_t index, ScriptInfo& info) {
  switch (node.fn) {
    case Fn::kPk:
    case Fn::kPkh:
    case Fn::kWpkh:
    case Fn::kMulti:
    case Fn::kSortedMulti: {
      util::Result<std::vector<DerivedKey>> keys = DeriveKeys(ctx, node.keys, index);
      if (!keys.ok()) return keys.status();
      std::vector<std::vector<uint8_t>> bytes;
      for (const DerivedKey& key : keys.value()) {
        AddDerivation(info, key);
        bytes.push_back(key.pubkey.Serialize());
      }
      if (node.fn == Fn::kPk) return P2pkScript(bytes[0]);
      if (node.fn == Fn::kPkh) return PkhScript(bytes[0]);
      if (node.fn == Fn::kWpkh) return P2wpkhScript(crypto::Hash160(bytes[0]));
      if (node.fn == Fn::kMulti) return MultisigScript(node.threshold, bytes);
      return SortedMultisigScript(node.threshold, std::move(bytes));
    }
    case Fn::kSh: {
      util::Result<Script> inner = BuildScript(ctx, node.subs[0], index, info);
      if (!inner.ok()) return inner.status();
      info.redeem_script = inner.value();
      return P2shScript(crypto::Hash160(inner.value().bytes()));
    }
    case Fn::kWsh: {
      util::Result<Script> inner = BuildScript(ctx, node.subs[0], index, info);
      if (!inner.ok()) return inner.status();
      info.witness_script = inner.value();
      return P2wshScript(crypto::Sha256(inner.value().bytes()));
    }
    case Fn::kTr:
      return BuildTr(ctx, node, index, info);
    case Fn::kRawTr: {
      util::Result<DerivedKey> key = DeriveKey(ctx, node.keys[0], index);
      if (!key.ok()) return key.status();
      AddTapDerivation(info, key.value(), std::nullopt);
      return P2trScript(key.value().XOnly());
    }
    case Fn::kAddr:
    case Fn::kRaw:
      return node.raw;
    case Fn::kCombo:
    case Fn::kMultiA:
    case Fn::kSortedMultiA:
      break;
  }
  return util::InternalError("unexpected expression " + FnName(node.fn));
}

util::Result<std::vector<ScriptInfo>> ExpandAll(const crypto::Secp256k1Context& ctx,
                                                const DescriptorNode& root, uint32_t index) {
  std::vector<ScriptInfo> out;
  if (root.fn != Fn::kCombo) {
    ScriptInfo info;
    util::Result<Script> script = BuildScript(ctx, root, index, info);
    if (!script.ok()) return script.status();
    info.script_pubkey = std::move(script.value());
    out.push_back(std::move(info));
    return out;
  }
  // BIP384: P2PK, P2PKH, and for a compressed key P2WPKH and P2SH-P2WPKH.
  util::Result<DerivedKey> key = DeriveKey(ctx, root.keys[0], index);
  if (!key.ok()) return key.status();
  const std::vector<uint8_t> bytes = key.value().pubkey.Serialize();
  const crypto::Hash160Bytes h = crypto::Hash160(bytes);
  auto add = [&](Script script, std::optional<Script> redeem) {
    ScriptInfo info;
    info.script_pubkey = std::move(script);
    info.redeem_script = std::move(redeem);
    AddDerivation(info, key.value());
    out.push_back(std::move(info));
  };
  add(P2pkScript(bytes), std::nullopt);
  add(P2pkhScript(h), std::nullopt);
  if (key.value().pubkey.IsCompressed()) {
    const Script wpkh = P2wpkhScript(h);
    add(wpkh, std::nullopt);
    add(P2shScript(crypto::Hash160(wpkh.bytes())), wpkh);
  }
  return out;
}

// Sizes for MaxSatisfactionSize. A satisfaction is a list of stack item sizes (0 for an empty
// item), pushed in a scriptSig or written as witness items.

// Bytes of the minimal push of an item of `n` bytes (BIP62): OP_0 for the empty item, else a
// direct push or OP_PUSHDATA1/2/4 with its length. Items here are signatures, keys and scripts,
// never one-byte numbers 1..16 (which would be pushed as OP_1..OP_16).
size_t PushSize(size_t n) {
  if (n == 0) return 1;
  if (n < 0x4c) return 1 + n;
  if (n <= 0xff) return 2 + n;
  if (n <= 0xffff) return 3 + n;
  return 5 + n;
}

// Bytes Script::PushInt(n) writes for 1 <= n: OP_1..OP_16, or a push of the script number.
size_t PushIntSize(int64_t n) { return n <= 16 ? 1 : 1 + EncodeScriptNum(n).size(); }

size_t ScriptSigSize(const std::vector<size_t>& items) {
  size_t size = 0;
  for (size_t item : items) size += PushSize(item);
  return size;
}

size_t WitnessSize(const std::vector<size_t>& items) {
  size_t size = internal::CompactSizeLength(items.size());
  for (size_t item : items) size += internal::CompactSizeLength(item) + item;
  return size;
}

// Bytes of the script `node` (pk, pkh, wpkh, wsh, multi, sortedmulti) writes as a scriptPubKey,
// redeem script or witness script.
size_t ScriptSize(const DescriptorNode& node) {
  switch (node.fn) {
    case Fn::kPk:
      return PushSize(KeySize(node.keys[0])) + 1;  // <key> OP_CHECKSIG
    case Fn::kPkh:
      return 25;  // OP_DUP OP_HASH160 <20> OP_EQUALVERIFY OP_CHECKSIG
    case Fn::kWpkh:
      return 22;  // OP_0 <20>
    case Fn::kWsh:
      return 34;  // OP_0 <32>
    case Fn::kMulti:
    case Fn::kSortedMulti: {
      // <k> <key>... <n> OP_CHECKMULTISIG
      size_t size = PushIntSize(node.threshold) + PushIntSize(std::ssize(node.keys)) + 1;
      for (const KeyExpr& key : node.keys) size += PushSize(KeySize(key));
      return size;
    }
    case Fn::kCombo:
    case Fn::kSh:
    case Fn::kMultiA:
    case Fn::kSortedMultiA:
    case Fn::kTr:
    case Fn::kRawTr:
    case Fn::kAddr:
    case Fn::kRaw:
      break;
  }
  // Invariant: the parser places only the expressions above inside sh() and wsh().
  CHECK(false);
  return 0;
}

// The stack items of the largest satisfaction of `node` (pk, pkh, multi, sortedmulti), bottom
// first, without the script itself.
std::vector<size_t> ScriptItems(const DescriptorNode& node, const SignatureSizes& sizes) {
  switch (node.fn) {
    case Fn::kPk:
      return {sizes.ecdsa};
    case Fn::kPkh:
      return {sizes.ecdsa, KeySize(node.keys[0])};
    case Fn::kMulti:
    case Fn::kSortedMulti: {
      // The empty dummy item CHECKMULTISIG pops, then `threshold` signatures.
      std::vector<size_t> items = {0};
      items.insert(items.end(), static_cast<size_t>(node.threshold), sizes.ecdsa);
      return items;
    }
    case Fn::kWpkh:
    case Fn::kCombo:
    case Fn::kSh:
    case Fn::kWsh:
    case Fn::kMultiA:
    case Fn::kSortedMultiA:
    case Fn::kTr:
    case Fn::kRawTr:
    case Fn::kAddr:
    case Fn::kRaw:
      break;
  }
  // Invariant: callers pass only the expressions above.
  CHECK(false);
  return {};
}

// The witness of the largest spend of tr() leaf `node` at `depth`: BIP342 satisfaction, then
// the leaf script and the BIP341 control block (33 + 32 * depth bytes).
size_t TapLeafWitnessSize(const DescriptorNode& node, int depth, const SignatureSizes& sizes) {
  std::vector<size_t> items;
  size_t script_size = 0;
  switch (node.fn) {
    case Fn::kPk:
      items = {sizes.schnorr};
      script_size = 34;  // <32-byte key> OP_CHECKSIG
      break;
    case Fn::kPkh:
      items = {sizes.schnorr, 32};
      script_size = 25;  // OP_DUP OP_HASH160 <20> OP_EQUALVERIFY OP_CHECKSIG
      break;
    case Fn::kMultiA:
    case Fn::kSortedMultiA: {
      // One item per key: `threshold` signatures and empty items for the others.
      const size_t keys = node.keys.size();
      const size_t threshold = static_cast<size_t>(node.threshold);
      items.insert(items.end(), threshold, sizes.schnorr);
      items.insert(items.end(), keys - threshold, 0);
      // <key> OP_CHECKSIG <key> OP_CHECKSIGADD ... <k> OP_NUMEQUAL
      script_size = keys * (PushSize(32) + 1) + PushIntSize(node.threshold) + 1;
      break;
    }
    case Fn::kWpkh:
    case Fn::kCombo:
    case Fn::kSh:
    case Fn::kWsh:
    case Fn::kMulti:
    case Fn::kSortedMulti:
    case Fn::kTr:
    case Fn::kRawTr:
    case Fn::kAddr:
    case Fn::kRaw:
      // Invariant: the parser places only the expressions above in tr() leaves.
      CHECK(false);
  }
  items.push_back(script_size);
  items.push_back(33 + 32 * static_cast<size_t>(depth));
  return WitnessSize(items);
}

std::optional<SatisfactionSize> MaxSatisfaction(const DescriptorNode& node,
                                                const SignatureSizes& sizes) {
  switch (node.fn) {
    case Fn::kPk:
    case Fn::kPkh:
    case Fn::kMulti:
    case Fn::kSortedMulti:
      return SatisfactionSize{.script_sig_size = ScriptSigSize(ScriptItems(node, sizes))};
    case Fn::kWpkh:
      // BIP141: <signature> <key>; segwit keys are compressed.
      return SatisfactionSize{.witness_size = WitnessSize({sizes.ecdsa, 33})};
    case Fn::kWsh: {
      std::vector<size_t> items = ScriptItems(node.subs[0], sizes);
      items.push_back(ScriptSize(node.subs[0]));
      return SatisfactionSize{.witness_size = WitnessSize(items)};
    }
    case Fn::kSh: {
      const DescriptorNode& sub = node.subs[0];
      const size_t redeem_push = PushSize(ScriptSize(sub));
      if (sub.fn == Fn::kWpkh || sub.fn == Fn::kWsh) {
        // BIP141 P2SH-wrapped segwit: the scriptSig pushes only the redeem script.
        std::optional<SatisfactionSize> inner = MaxSatisfaction(sub, sizes);
        if (!inner.has_value()) return std::nullopt;
        inner->script_sig_size = redeem_push;
        return inner;
      }
      return SatisfactionSize{.script_sig_size =
                                  ScriptSigSize(ScriptItems(sub, sizes)) + redeem_push};
    }
    case Fn::kTr: {
      // BIP341 key path: one signature. Whether the internal key can sign is not known here
      // (it may be unspendable), so every path counts.
      size_t largest = WitnessSize({sizes.schnorr});
      for (size_t i = 0; i < node.subs.size(); ++i) {
        largest = std::max(largest, TapLeafWitnessSize(node.subs[i], node.depths[i], sizes));
      }
      return SatisfactionSize{.witness_size = largest};
    }
    case Fn::kRawTr:
      return SatisfactionSize{.witness_size = WitnessSize({sizes.schnorr})};
    case Fn::kCombo:
    case Fn::kAddr:
    case Fn::kRaw:
    case Fn::kMultiA:
    case Fn::kSortedMultiA:
      break;
  }
  return std::nullopt;
}

void CollectKeysMutable(DescriptorNode& node, std::vector<KeyExpr*>& out) {
  for (KeyExpr& key : node.keys) out.push_back(&key);
  for (DescriptorNode& sub : node.subs) CollectKeysMutable(sub, out);
}

}  // namespace

std::string DescriptorChecksum(std::string_view descriptor) {
  uint64_t c = 1;
  int cls = 0;
  int clscount = 0;
  for (char ch : descriptor) {
    const size_t pos = kInputCharset.find(ch);
    if (pos == std::string_view::npos || ch == '\0') return "";
    c = PolyMod(c, static_cast<int>(pos & 31));
    cls = cls * 3 + static_cast<int>(pos >> 5);
    if (++clscount == 3) {
      c = PolyMod(c, cls);
      cls = 0;
      clscount = 0;
    }
  }
  if (clscount > 0) c = PolyMod(c, cls);
  for (int j = 0; j < 8; ++j) c = PolyMod(c, 0);
  c ^= 1;
  std::string ret(8, ' ');
  for (int j = 0; j < 8; ++j) ret[j] = kChecksumCharset[(c >> (5 * (7 - j))) & 31];
  return ret;
}

Descriptor::Descriptor(std::unique_ptr<internal::DescriptorNode> root, Network network)
    : root_(std::move(root)), network_(network) {}
Descriptor::Descriptor(Descriptor&&) noexcept = default;
Descriptor& Descriptor::operator=(Descriptor&&) noexcept = default;
Descriptor::~Descriptor() = default;

util::Result<Descriptor> Descriptor::Parse(const crypto::Secp256k1Context& ctx,
                                           std::string_view text, Network network) {
  std::string_view payload = text;
  const size_t hash = text.find('#');
  if (hash != std::string_view::npos) {
    if (text.find('#', hash + 1) != std::string_view::npos) {
      return util::InvalidArgumentError("descriptor: multiple '#' symbols");
    }
    payload = text.substr(0, hash);
    const std::string_view given = text.substr(hash + 1);
    if (given.size() != 8) {
      return util::InvalidArgumentError("descriptor: expected 8 character checksum, not " +
                                        std::to_string(given.size()) + " characters");
    }
    const std::string computed = DescriptorChecksum(payload);
    if (computed.empty()) {
      return util::InvalidArgumentError("descriptor: invalid characters in payload");
    }
    if (computed != given) {
      // Not echoing the checksum: the payload may contain private keys.
      return util::InvalidArgumentError("descriptor: checksum does not match (computed '" +
                                        computed + "')");
    }
  } else if (DescriptorChecksum(payload).empty()) {
    return util::InvalidArgumentError("descriptor: invalid characters in payload");
  }
  ParseState state{ctx, network};
  std::string_view sp = payload;
  util::Result<DescriptorNode> node = ParseScript(state, sp, Context::kTop);
  if (!node.ok()) return node.status().WithPrefix("descriptor");
  if (!sp.empty()) {
    return util::InvalidArgumentError("descriptor: unexpected text after the expression");
  }
  return Descriptor(std::make_unique<DescriptorNode>(std::move(node.value())), network);
}

Descriptor Descriptor::Clone() const {
  return Descriptor(std::make_unique<DescriptorNode>(root_->Clone()), network_);
}

std::string Descriptor::ToString() const {
  return WithChecksum(NodeToString(*root_, /*priv=*/false, network_));
}

std::string Descriptor::ToPrivateString() const {
  return WithChecksum(NodeToString(*root_, /*priv=*/true, network_));
}

bool Descriptor::IsRange() const {
  std::vector<const KeyExpr*> keys;
  CollectKeys(*root_, keys);
  return std::any_of(keys.begin(), keys.end(),
                     [](const KeyExpr* k) { return k->derive != DeriveKind::kNone; });
}

bool Descriptor::IsSolvable() const { return root_->fn != Fn::kAddr && root_->fn != Fn::kRaw; }

bool Descriptor::HasPrivateKeys() const {
  std::vector<const KeyExpr*> keys;
  CollectKeys(*root_, keys);
  return std::any_of(keys.begin(), keys.end(), [](const KeyExpr* k) {
    return k->wif_key.has_value() || (k->xkey.has_value() && k->xkey->IsPrivate());
  });
}

size_t Descriptor::MultipathCount() const {
  std::vector<const KeyExpr*> keys;
  CollectKeys(*root_, keys);
  size_t count = 1;
  for (const KeyExpr* key : keys) count = std::max(count, key->multipath_values.size());
  return count;
}

std::vector<Descriptor> Descriptor::SplitMultipath() const {
  std::vector<Descriptor> out;
  const size_t count = MultipathCount();
  for (size_t i = 0; i < count; ++i) {
    auto root = std::make_unique<DescriptorNode>(root_->Clone());
    std::vector<KeyExpr*> keys;
    CollectKeysMutable(*root, keys);
    for (KeyExpr* key : keys) {
      if (key->multipath_values.empty()) continue;
      key->steps[key->multipath_pos] = key->multipath_values[i];
      key->multipath_values.clear();
      key->multipath_pos = 0;
      if (!key->prefix_keys.empty()) {
        ExtendedKey prefix = std::move(key->prefix_keys[i]);
        key->prefix_keys.clear();
        key->prefix_keys.push_back(std::move(prefix));
      }
    }
    out.push_back(Descriptor(std::move(root), network_));
  }
  return out;
}

util::Result<std::vector<Script>> Descriptor::ExpandScripts(const crypto::Secp256k1Context& ctx,
                                                            uint32_t index) const {
  if (MultipathCount() != 1) {
    return util::InvalidArgumentError("descriptor: multipath; split it before expanding");
  }
  util::Result<std::vector<ScriptInfo>> infos = ExpandAll(ctx, *root_, IsRange() ? index : 0);
  if (!infos.ok()) return infos.status().WithPrefix("descriptor");
  std::vector<Script> out;
  for (ScriptInfo& info : infos.value()) out.push_back(std::move(info.script_pubkey));
  return out;
}

util::Result<ScriptInfo> Descriptor::Expand(const crypto::Secp256k1Context& ctx,
                                            uint32_t index) const {
  if (MultipathCount() != 1) {
    return util::InvalidArgumentError("descriptor: multipath; split it before expanding");
  }
  if (root_->fn == Fn::kCombo) {
    return util::InvalidArgumentError("descriptor: combo() expands to several scripts");
  }
  util::Result<std::vector<ScriptInfo>> infos = ExpandAll(ctx, *root_, IsRange() ? index : 0);
  if (!infos.ok()) return infos.status().WithPrefix("descriptor");
  return std::move(infos.value()[0]);
}

std::optional<SatisfactionSize> Descriptor::MaxSatisfactionSize(const SignatureSizes& sizes) const {
  return MaxSatisfaction(*root_, sizes);
}

std::vector<std::pair<const ExtendedKey*, KeyOrigin>> Descriptor::PrivateExtendedKeys() const {
  std::vector<const KeyExpr*> keys;
  CollectKeys(*root_, keys);
  std::vector<std::pair<const ExtendedKey*, KeyOrigin>> out;
  for (const KeyExpr* key : keys) {
    if (!key->xkey.has_value() || !key->xkey->IsPrivate()) continue;
    KeyOrigin origin;
    if (key->origin.has_value()) {
      origin = *key->origin;
    } else {
      origin.fingerprint = key->xkey->Fingerprint();
    }
    out.emplace_back(&*key->xkey, std::move(origin));
  }
  return out;
}

std::optional<ScriptMatch> MatchScriptInfo(const crypto::Secp256k1Context& ctx,
                                           const Descriptor& descriptor,
                                           const Script& script_pubkey,
                                           std::span<const KeyOrigin> origins) {
  if (descriptor.MultipathCount() != 1) return std::nullopt;
  std::vector<uint32_t> candidates;
  if (!descriptor.IsRange()) {
    candidates.push_back(0);
  } else {
    std::vector<const KeyExpr*> keys;
    CollectKeys(*descriptor.root_, keys);
    for (const KeyExpr* key : keys) {
      if (key->derive == DeriveKind::kNone || !key->xkey.has_value()) continue;
      KeyOrigin prefix;
      if (key->origin.has_value()) {
        prefix = *key->origin;
      } else {
        prefix.fingerprint = key->xkey->Fingerprint();
      }
      prefix.path.steps.insert(prefix.path.steps.end(), key->steps.begin(), key->steps.end());
      const std::vector<uint32_t>& want = prefix.path.steps;
      for (const KeyOrigin& origin : origins) {
        const std::vector<uint32_t>& have = origin.path.steps;
        if (origin.fingerprint != prefix.fingerprint || have.size() != want.size() + 1 ||
            !std::equal(want.begin(), want.end(), have.begin())) {
          continue;
        }
        const uint32_t last = have.back();
        const bool hardened = (last & kHardened) != 0;
        if (hardened != (key->derive == DeriveKind::kHardened)) continue;
        const uint32_t index = last & ~kHardened;
        if (std::find(candidates.begin(), candidates.end(), index) == candidates.end()) {
          candidates.push_back(index);
        }
      }
    }
  }
  // The expansion of ExpandScripts, keeping each script's ScriptInfo.
  const bool ranged = descriptor.IsRange();
  for (uint32_t index : candidates) {
    util::Result<std::vector<ScriptInfo>> infos =
        ExpandAll(ctx, *descriptor.root_, ranged ? index : 0);
    if (!infos.ok()) continue;
    for (ScriptInfo& info : infos.value()) {
      if (info.script_pubkey == script_pubkey) {
        return ScriptMatch{.index = index, .info = std::move(info)};
      }
    }
  }
  return std::nullopt;
}

std::optional<uint32_t> MatchScriptPubKey(const crypto::Secp256k1Context& ctx,
                                          const Descriptor& descriptor, const Script& script_pubkey,
                                          std::span<const KeyOrigin> origins) {
  std::optional<ScriptMatch> match = MatchScriptInfo(ctx, descriptor, script_pubkey, origins);
  if (!match.has_value()) return std::nullopt;
  return match->index;
}

}  // namespace kinko::btc
