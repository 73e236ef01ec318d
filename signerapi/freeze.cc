#include "signerapi/freeze.h"

#include <algorithm>
#include <utility>

#include "crypto/hash.h"
#include "policy/intent.h"
#include "util/hex.h"

namespace kinko::signerapi {
namespace {

using policy::CborReader;
using policy::CborWriter;
using policy::Digest;

// DO NOT CHANGE: the map keys of the freeze and unfreeze encodings (doc/signer-api.md).
enum FreezeKey : uint64_t {
  kKeyVersion = 0,
  kKeyScopeKind = 1,
  kKeySigner = 2,
  kKeyReason = 3,
  kKeyTime = 4,
  kKeyNonce = 5,
  kKeyFreezeDigest = 6,  // Unfreeze only.
};

// DO NOT CHANGE: these numbers are part of signed freezes and unfreezes.
enum class ScopeKind : uint8_t {
  kAllSigners = 1,
  kOneSigner = 2,
};

// The fields a freeze and an unfreeze share.
struct CommonFields {
  FreezeScope scope;
  std::string reason;
  uint64_t time = 0;
  FreezeNonce nonce{};
};

util::Status CheckCommon(std::string_view object, const CommonFields& fields) {
  const std::string prefix = std::string(object) + " ";
  if (fields.reason.empty() || fields.reason.size() > kMaxFreezeReasonSize) {
    return util::InvalidArgumentError(prefix + "reason: must be 1.." +
                                      std::to_string(kMaxFreezeReasonSize) + " bytes");
  }
  if (!policy::IsDisplaySafeText(fields.reason)) {
    return util::InvalidArgumentError(
        prefix + "reason: not utf-8, or contains control or bidirectional characters");
  }
  if (fields.time > policy::kMaxTime) {
    return util::InvalidArgumentError(prefix + "time: after year 9999");
  }
  return util::OkStatus();
}

// Writes the map header (with `extra` entries after the common ones) and the common fields.
void WriteCommon(const CommonFields& fields, uint64_t extra, CborWriter& writer) {
  const bool one_signer = fields.scope.signer.has_value();
  writer.MapHeader(5 + (one_signer ? 1 : 0) + extra);
  writer.Uint(kKeyVersion);
  writer.Uint(kFreezeVersion);
  writer.Uint(kKeyScopeKind);
  writer.Uint(static_cast<uint8_t>(one_signer ? ScopeKind::kOneSigner : ScopeKind::kAllSigners));
  if (one_signer) {
    writer.Uint(kKeySigner);
    writer.Bytes(*fields.scope.signer);
  }
  writer.Uint(kKeyReason);
  writer.Text(fields.reason);
  writer.Uint(kKeyTime);
  writer.Uint(fields.time);
  writer.Uint(kKeyNonce);
  writer.Bytes(fields.nonce);
}

struct ReadResult {
  CommonFields common;
  Digest freeze_digest{};  // Read when `with_freeze_digest`.
};

template <size_t N>
util::Result<std::array<uint8_t, N>> ReadFixed(CborReader& reader, std::string_view what) {
  util::Result<std::vector<uint8_t>> bytes = reader.BytesExact(what, N);
  if (!bytes.ok()) return bytes.status();
  std::array<uint8_t, N> out{};
  std::copy(bytes->begin(), bytes->end(), out.begin());
  return out;
}

// Reads the map of a freeze (`with_freeze_digest` false) or an unfreeze (true). `object` names
// it in errors. Checks the structure, not the rules of Create.
util::Result<ReadResult> ReadFields(CborReader& reader, std::string_view object,
                                    bool with_freeze_digest) {
  const uint64_t max_key = with_freeze_digest ? kKeyFreezeDigest : kKeyNonce;
  // Keys 0..max_key, of which key 2 (the signer) is present only for one signer.
  util::Result<uint64_t> count = reader.MapHeader(object, max_key, max_key + 1);
  if (!count.ok()) return count.status();
  const std::string key_what = std::string(object) + " key";
  ReadResult out;
  std::optional<ScopeKind> kind;
  uint32_t present = 0;  // Bit k set when key k was read.
  int64_t previous = -1;
  for (uint64_t i = 0; i < *count; ++i) {
    util::Result<uint64_t> key = reader.MapKey(key_what, previous, max_key);
    if (!key.ok()) return key.status();
    previous = static_cast<int64_t>(*key);
    present |= 1u << *key;
    switch (static_cast<FreezeKey>(*key)) {
      case kKeyVersion: {
        util::Result<uint64_t> version = reader.Uint("version");
        if (!version.ok()) return version.status();
        if (*version != kFreezeVersion) {
          return reader.Error("version", "unknown version " + std::to_string(*version));
        }
        break;
      }
      case kKeyScopeKind: {
        util::Result<uint64_t> value = reader.Uint("scope");
        if (!value.ok()) return value.status();
        if (*value == static_cast<uint8_t>(ScopeKind::kAllSigners)) {
          kind = ScopeKind::kAllSigners;
        } else if (*value == static_cast<uint8_t>(ScopeKind::kOneSigner)) {
          kind = ScopeKind::kOneSigner;
        } else {
          return reader.Error("scope", "unknown scope kind " + std::to_string(*value));
        }
        break;
      }
      case kKeySigner: {
        if (kind != ScopeKind::kOneSigner) {
          return reader.Error("signer", "present without scope kind 2 (one signer)");
        }
        util::Result<policy::KeyId> signer = ReadFixed<32>(reader, "signer");
        if (!signer.ok()) return signer.status();
        out.common.scope.signer = *signer;
        break;
      }
      case kKeyReason: {
        util::Result<std::string> reason = reader.Text("reason", kMaxFreezeReasonSize);
        if (!reason.ok()) return reason.status();
        out.common.reason = std::move(*reason);
        break;
      }
      case kKeyTime: {
        util::Result<uint64_t> time = reader.Uint("time");
        if (!time.ok()) return time.status();
        out.common.time = *time;
        break;
      }
      case kKeyNonce: {
        util::Result<FreezeNonce> nonce = ReadFixed<16>(reader, "nonce");
        if (!nonce.ok()) return nonce.status();
        out.common.nonce = *nonce;
        break;
      }
      case kKeyFreezeDigest: {
        util::Result<Digest> digest = ReadFixed<32>(reader, "freeze digest");
        if (!digest.ok()) return digest.status();
        out.freeze_digest = *digest;
        break;
      }
    }
  }
  // Every key up to max_key is required, except the signer, which is required exactly when the
  // scope is one signer.
  for (uint64_t key = 0; key <= max_key; ++key) {
    const bool required = key != kKeySigner || kind == ScopeKind::kOneSigner;
    if (required && (present & (1u << key)) == 0) {
      return reader.Error(object, "missing map key " + std::to_string(key));
    }
  }
  return out;
}

}  // namespace

util::Result<Freeze> Freeze::Create(FreezeFields fields) {
  const CommonFields common{
      .scope = fields.scope, .reason = fields.reason, .time = fields.time, .nonce = fields.nonce};
  if (util::Status s = CheckCommon("freeze", common); !s.ok()) return s;
  CborWriter writer;
  WriteCommon(common, 0, writer);
  Freeze freeze;
  freeze.fields_ = std::move(fields);
  freeze.encoding_ = writer.bytes();
  freeze.digest_ = crypto::TaggedHash(kFreezeTag, freeze.encoding_);
  return freeze;
}

util::Result<Freeze> Freeze::Decode(std::span<const uint8_t> bytes) {
  CborReader reader(bytes, "freeze");
  util::Result<Freeze> freeze = DecodeFrom(reader);
  if (!freeze.ok()) return freeze;
  if (util::Status end = reader.ExpectEnd(); !end.ok()) return end;
  return freeze;
}

util::Result<Freeze> Freeze::DecodeFrom(CborReader& reader) {
  const size_t start = reader.offset();
  util::Result<ReadResult> read = ReadFields(reader, "freeze", /*with_freeze_digest=*/false);
  if (!read.ok()) return read.status();
  util::Result<Freeze> freeze = Create(FreezeFields{.scope = read->common.scope,
                                                    .reason = std::move(read->common.reason),
                                                    .time = read->common.time,
                                                    .nonce = read->common.nonce});
  if (!freeze.ok()) return freeze;
  // Invariant: the reader accepts only canonical forms, so the bytes read are the encoding.
  CHECK(freeze->encoding_.size() == reader.offset() - start);
  return freeze;
}

SignedFreeze SignedFreeze::Sign(Freeze freeze, const crypto::Ed25519PrivateKey& key) {
  const policy::Signature signature = policy::SignDigest(key, freeze.digest());
  return SignedFreeze(std::move(freeze), signature);
}

std::vector<uint8_t> SignedFreeze::Encode() const {
  CborWriter head;
  head.MapHeader(2);
  head.Uint(0);
  std::vector<uint8_t> out = head.bytes();
  out.insert(out.end(), freeze_.Encode().begin(), freeze_.Encode().end());
  CborWriter tail;
  tail.Uint(1);
  policy::EncodeSignature(signature_, tail);
  out.insert(out.end(), tail.bytes().begin(), tail.bytes().end());
  return out;
}

util::Result<SignedFreeze> SignedFreeze::Decode(std::span<const uint8_t> bytes) {
  CborReader reader(bytes, "signed freeze");
  if (util::Result<uint64_t> n = reader.MapHeader("signed freeze", 2, 2); !n.ok()) {
    return n.status();
  }
  if (util::Result<uint64_t> k = reader.MapKey("signed freeze key", -1, 0); !k.ok()) {
    return k.status();
  }
  util::Result<Freeze> freeze = Freeze::DecodeFrom(reader);
  if (!freeze.ok()) return freeze.status();
  if (util::Result<uint64_t> k = reader.MapKey("signed freeze key", 0, 1); !k.ok()) {
    return k.status();
  }
  util::Result<policy::Signature> signature = policy::DecodeSignature(reader);
  if (!signature.ok()) return signature.status();
  if (util::Status end = reader.ExpectEnd(); !end.ok()) return end;
  // The freeze names no author: the signature's own key is the author, and the signer checks
  // that it is a registered watcher or admin.
  if (util::Status verified = policy::VerifySignature(*signature, policy::SignerKeyId(*signature),
                                                      freeze->digest(), "freeze");
      !verified.ok()) {
    return verified;
  }
  return SignedFreeze(std::move(*freeze), *signature);
}

util::Result<Unfreeze> Unfreeze::Create(UnfreezeFields fields) {
  const CommonFields common{
      .scope = fields.scope, .reason = fields.reason, .time = fields.time, .nonce = fields.nonce};
  if (util::Status s = CheckCommon("unfreeze", common); !s.ok()) return s;
  CborWriter writer;
  WriteCommon(common, 1, writer);
  writer.Uint(kKeyFreezeDigest);
  writer.Bytes(fields.freeze_digest);
  Unfreeze unfreeze;
  unfreeze.fields_ = std::move(fields);
  unfreeze.encoding_ = writer.bytes();
  unfreeze.digest_ = crypto::TaggedHash(kUnfreezeTag, unfreeze.encoding_);
  return unfreeze;
}

util::Result<Unfreeze> Unfreeze::Decode(std::span<const uint8_t> bytes) {
  CborReader reader(bytes, "unfreeze");
  util::Result<Unfreeze> unfreeze = DecodeFrom(reader);
  if (!unfreeze.ok()) return unfreeze;
  if (util::Status end = reader.ExpectEnd(); !end.ok()) return end;
  return unfreeze;
}

util::Result<Unfreeze> Unfreeze::DecodeFrom(CborReader& reader) {
  const size_t start = reader.offset();
  util::Result<ReadResult> read = ReadFields(reader, "unfreeze", /*with_freeze_digest=*/true);
  if (!read.ok()) return read.status();
  util::Result<Unfreeze> unfreeze = Create(UnfreezeFields{.scope = read->common.scope,
                                                          .reason = std::move(read->common.reason),
                                                          .time = read->common.time,
                                                          .nonce = read->common.nonce,
                                                          .freeze_digest = read->freeze_digest});
  if (!unfreeze.ok()) return unfreeze;
  // Invariant: the reader accepts only canonical forms, so the bytes read are the encoding.
  CHECK(unfreeze->encoding_.size() == reader.offset() - start);
  return unfreeze;
}

SignedUnfreeze SignedUnfreeze::Sign(Unfreeze unfreeze, const crypto::Ed25519PrivateKey& key) {
  const policy::Signature signature = policy::SignDigest(key, unfreeze.digest());
  return SignedUnfreeze(std::move(unfreeze), {signature});
}

util::Result<SignedUnfreeze> SignedUnfreeze::AddSignature(
    const crypto::Ed25519PrivateKey& key) const {
  const policy::KeyId id = policy::Ed25519KeyId(key.public_key());
  std::vector<policy::Signature> signatures = signatures_;
  const auto at = std::lower_bound(signatures.begin(), signatures.end(), id,
                                   [](const policy::Signature& s, const policy::KeyId& k) {
                                     return policy::SignerKeyId(s) < k;
                                   });
  if (at != signatures.end() && policy::SignerKeyId(*at) == id) {
    return util::AlreadyExistsError("unfreeze: key " + util::HexEncode(id) + " has signed already");
  }
  if (signatures.size() >= kMaxUnfreezeSignatures) {
    return util::InvalidArgumentError("unfreeze: already " +
                                      std::to_string(kMaxUnfreezeSignatures) + " signatures");
  }
  signatures.insert(at, policy::SignDigest(key, unfreeze_.digest()));
  return SignedUnfreeze(unfreeze_, std::move(signatures));
}

std::vector<uint8_t> SignedUnfreeze::Encode() const {
  CborWriter head;
  head.MapHeader(2);
  head.Uint(0);
  std::vector<uint8_t> out = head.bytes();
  out.insert(out.end(), unfreeze_.Encode().begin(), unfreeze_.Encode().end());
  CborWriter tail;
  tail.Uint(1);
  tail.ArrayHeader(signatures_.size());
  for (const policy::Signature& signature : signatures_) policy::EncodeSignature(signature, tail);
  out.insert(out.end(), tail.bytes().begin(), tail.bytes().end());
  return out;
}

util::Result<SignedUnfreeze> SignedUnfreeze::Decode(std::span<const uint8_t> bytes) {
  CborReader reader(bytes, "signed unfreeze");
  if (util::Result<uint64_t> n = reader.MapHeader("signed unfreeze", 2, 2); !n.ok()) {
    return n.status();
  }
  if (util::Result<uint64_t> k = reader.MapKey("signed unfreeze key", -1, 0); !k.ok()) {
    return k.status();
  }
  util::Result<Unfreeze> unfreeze = Unfreeze::DecodeFrom(reader);
  if (!unfreeze.ok()) return unfreeze.status();
  if (util::Result<uint64_t> k = reader.MapKey("signed unfreeze key", 0, 1); !k.ok()) {
    return k.status();
  }
  util::Result<uint64_t> count = reader.ArrayHeader("signatures", 1, kMaxUnfreezeSignatures);
  if (!count.ok()) return count.status();
  std::vector<policy::Signature> signatures;
  for (uint64_t i = 0; i < *count; ++i) {
    util::Result<policy::Signature> signature = policy::DecodeSignature(reader);
    if (!signature.ok()) return signature.status();
    // Strictly increasing key ids: one encoding per set of signatures, and no key counted twice.
    if (!signatures.empty() &&
        !(policy::SignerKeyId(signatures.back()) < policy::SignerKeyId(*signature))) {
      return reader.Error("signatures",
                          "signature " + std::to_string(i) +
                              " is not in increasing key id order (or repeats a key)");
    }
    signatures.push_back(*signature);
  }
  if (util::Status end = reader.ExpectEnd(); !end.ok()) return end;
  for (size_t i = 0; i < signatures.size(); ++i) {
    if (util::Status verified =
            policy::VerifySignature(signatures[i], policy::SignerKeyId(signatures[i]),
                                    unfreeze->digest(), "unfreeze signer " + std::to_string(i));
        !verified.ok()) {
      return verified;
    }
  }
  return SignedUnfreeze(std::move(*unfreeze), std::move(signatures));
}

std::vector<policy::KeyId> SignedUnfreeze::signers() const {
  std::vector<policy::KeyId> out;
  out.reserve(signatures_.size());
  for (const policy::Signature& signature : signatures_) {
    out.push_back(policy::SignerKeyId(signature));
  }
  return out;
}

}  // namespace kinko::signerapi
