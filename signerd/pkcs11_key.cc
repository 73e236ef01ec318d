#include "signerd/pkcs11_key.h"

#include <dlfcn.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <mutex>
#include <span>
#include <utility>

// The GNU names (struct ck_attribute, ck_rv_t, ...): the header's default compatibility mode
// #defines common words such as `value`, which would rename members throughout kinko.
#define CRYPTOKI_GNU 1
#include <p11-kit/pkcs11.h>

#include "signerd/internal/ecdsa_encoding.h"
#include "util/hex.h"

namespace kinko::signerd {
namespace {

// DER of the secp256k1 curve's OID 1.3.132.0.10 (SEC 2), the value of CKA_EC_PARAMS.
constexpr std::array<uint8_t, 7> kSecp256k1Oid = {0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x0a};

// The names of the return values kinko may meet; others print as hex.
std::string RvName(ck_rv_t rv) {
  struct Name {
    ck_rv_t rv;
    const char* name;
  };
  static constexpr Name kNames[] = {
      {CKR_OK, "CKR_OK"},
      {CKR_CANCEL, "CKR_CANCEL"},
      {CKR_HOST_MEMORY, "CKR_HOST_MEMORY"},
      {CKR_SLOT_ID_INVALID, "CKR_SLOT_ID_INVALID"},
      {CKR_GENERAL_ERROR, "CKR_GENERAL_ERROR"},
      {CKR_FUNCTION_FAILED, "CKR_FUNCTION_FAILED"},
      {CKR_ARGUMENTS_BAD, "CKR_ARGUMENTS_BAD"},
      {CKR_ATTRIBUTE_SENSITIVE, "CKR_ATTRIBUTE_SENSITIVE"},
      {CKR_ATTRIBUTE_TYPE_INVALID, "CKR_ATTRIBUTE_TYPE_INVALID"},
      {CKR_ATTRIBUTE_VALUE_INVALID, "CKR_ATTRIBUTE_VALUE_INVALID"},
      {CKR_DATA_LEN_RANGE, "CKR_DATA_LEN_RANGE"},
      {CKR_DEVICE_ERROR, "CKR_DEVICE_ERROR"},
      {CKR_DEVICE_MEMORY, "CKR_DEVICE_MEMORY"},
      {CKR_DEVICE_REMOVED, "CKR_DEVICE_REMOVED"},
      {CKR_FUNCTION_NOT_SUPPORTED, "CKR_FUNCTION_NOT_SUPPORTED"},
      {CKR_KEY_HANDLE_INVALID, "CKR_KEY_HANDLE_INVALID"},
      {CKR_KEY_TYPE_INCONSISTENT, "CKR_KEY_TYPE_INCONSISTENT"},
      {CKR_KEY_FUNCTION_NOT_PERMITTED, "CKR_KEY_FUNCTION_NOT_PERMITTED"},
      {CKR_MECHANISM_INVALID, "CKR_MECHANISM_INVALID"},
      {CKR_MECHANISM_PARAM_INVALID, "CKR_MECHANISM_PARAM_INVALID"},
      {CKR_OBJECT_HANDLE_INVALID, "CKR_OBJECT_HANDLE_INVALID"},
      {CKR_OPERATION_ACTIVE, "CKR_OPERATION_ACTIVE"},
      {CKR_OPERATION_NOT_INITIALIZED, "CKR_OPERATION_NOT_INITIALIZED"},
      {CKR_PIN_INCORRECT, "CKR_PIN_INCORRECT"},
      {CKR_PIN_INVALID, "CKR_PIN_INVALID"},
      {CKR_PIN_LEN_RANGE, "CKR_PIN_LEN_RANGE"},
      {CKR_PIN_EXPIRED, "CKR_PIN_EXPIRED"},
      {CKR_PIN_LOCKED, "CKR_PIN_LOCKED"},
      {CKR_SESSION_CLOSED, "CKR_SESSION_CLOSED"},
      {CKR_SESSION_COUNT, "CKR_SESSION_COUNT"},
      {CKR_SESSION_HANDLE_INVALID, "CKR_SESSION_HANDLE_INVALID"},
      {CKR_SESSION_READ_ONLY, "CKR_SESSION_READ_ONLY"},
      {CKR_TEMPLATE_INCOMPLETE, "CKR_TEMPLATE_INCOMPLETE"},
      {CKR_TEMPLATE_INCONSISTENT, "CKR_TEMPLATE_INCONSISTENT"},
      {CKR_TOKEN_NOT_PRESENT, "CKR_TOKEN_NOT_PRESENT"},
      {CKR_TOKEN_NOT_RECOGNIZED, "CKR_TOKEN_NOT_RECOGNIZED"},
      {CKR_TOKEN_WRITE_PROTECTED, "CKR_TOKEN_WRITE_PROTECTED"},
      {CKR_USER_ALREADY_LOGGED_IN, "CKR_USER_ALREADY_LOGGED_IN"},
      {CKR_USER_NOT_LOGGED_IN, "CKR_USER_NOT_LOGGED_IN"},
      {CKR_USER_PIN_NOT_INITIALIZED, "CKR_USER_PIN_NOT_INITIALIZED"},
      {CKR_USER_TYPE_INVALID, "CKR_USER_TYPE_INVALID"},
      {CKR_DOMAIN_PARAMS_INVALID, "CKR_DOMAIN_PARAMS_INVALID"},
      {CKR_CURVE_NOT_SUPPORTED, "CKR_CURVE_NOT_SUPPORTED"},
      {CKR_BUFFER_TOO_SMALL, "CKR_BUFFER_TOO_SMALL"},
      {CKR_CRYPTOKI_NOT_INITIALIZED, "CKR_CRYPTOKI_NOT_INITIALIZED"},
      {CKR_CRYPTOKI_ALREADY_INITIALIZED, "CKR_CRYPTOKI_ALREADY_INITIALIZED"},
  };
  for (const Name& name : kNames) {
    if (name.rv == rv) return name.name;
  }
  std::array<char, 32> hex{};
  std::snprintf(hex.data(), hex.size(), "CKR_0x%08lx", rv);
  return hex.data();
}

// "pkcs11: C_Login: CKR_PIN_INCORRECT", with the code that tells the caller what to do.
util::Status RvError(const char* function, ck_rv_t rv) {
  std::string message = std::string("pkcs11: ") + function + ": " + RvName(rv);
  switch (rv) {
    case CKR_PIN_INCORRECT:
    case CKR_PIN_INVALID:
    case CKR_PIN_LEN_RANGE:
    case CKR_PIN_EXPIRED:
    case CKR_PIN_LOCKED:
    case CKR_USER_NOT_LOGGED_IN:
    case CKR_USER_PIN_NOT_INITIALIZED:
      return util::PermissionDeniedError(std::move(message));
    case CKR_MECHANISM_INVALID:
    case CKR_DOMAIN_PARAMS_INVALID:
    case CKR_CURVE_NOT_SUPPORTED:
    case CKR_TOKEN_WRITE_PROTECTED:
    case CKR_CRYPTOKI_ALREADY_INITIALIZED:
      return util::FailedPreconditionError(std::move(message));
    default:
      return util::UnavailableError(std::move(message));
  }
}

ck_attribute Attribute(ck_attribute_type_t type, void* value, unsigned long size) {
  return ck_attribute{.type = type, .value = value, .value_len = size};
}

// The token label as given (32 bytes, blank-padded, not NUL-terminated), without the padding.
std::string TokenLabel(const ck_token_info& info) {
  std::string label(reinterpret_cast<const char*>(info.label), sizeof(info.label));
  label.erase(label.find_last_not_of(' ') + 1);
  return label;
}

// The slot holding the initialised token labelled `label`.
util::Result<ck_slot_id_t> FindSlot(const ck_function_list& p11, const std::string& label) {
  unsigned long count = 0;
  if (ck_rv_t rv = p11.C_GetSlotList(1, nullptr, &count); rv != CKR_OK) {
    return RvError("C_GetSlotList", rv);
  }
  std::vector<ck_slot_id_t> slots(count);
  if (ck_rv_t rv = p11.C_GetSlotList(1, slots.data(), &count); rv != CKR_OK) {
    return RvError("C_GetSlotList", rv);
  }
  slots.resize(count);
  std::vector<ck_slot_id_t> found;
  for (ck_slot_id_t slot : slots) {
    ck_token_info info{};
    if (p11.C_GetTokenInfo(slot, &info) != CKR_OK) continue;  // Removed meanwhile.
    if ((info.flags & CKF_TOKEN_INITIALIZED) != 0 && TokenLabel(info) == label) {
      found.push_back(slot);
    }
  }
  if (found.empty()) return util::NotFoundError("pkcs11: no token labelled '" + label + "'");
  if (found.size() > 1) {
    return util::FailedPreconditionError("pkcs11: several tokens are labelled '" + label + "'");
  }
  return found[0];
}

// The objects of class `object_class` labelled `label`.
util::Result<std::vector<ck_object_handle_t>> FindObjects(const ck_function_list& p11,
                                                          ck_session_handle_t session,
                                                          ck_object_class_t object_class,
                                                          const std::string& label) {
  std::string label_copy = label;
  std::array<ck_attribute, 2> search = {Attribute(CKA_CLASS, &object_class, sizeof(object_class)),
                                        Attribute(CKA_LABEL, label_copy.data(), label_copy.size())};
  if (ck_rv_t rv = p11.C_FindObjectsInit(session, search.data(), search.size()); rv != CKR_OK) {
    return RvError("C_FindObjectsInit", rv);
  }
  std::vector<ck_object_handle_t> found;
  std::array<ck_object_handle_t, 8> batch{};
  for (;;) {
    unsigned long count = 0;
    if (ck_rv_t rv = p11.C_FindObjects(session, batch.data(), batch.size(), &count); rv != CKR_OK) {
      p11.C_FindObjectsFinal(session);
      return RvError("C_FindObjects", rv);
    }
    if (count == 0) break;
    found.insert(found.end(), batch.begin(), batch.begin() + static_cast<std::ptrdiff_t>(count));
  }
  if (ck_rv_t rv = p11.C_FindObjectsFinal(session); rv != CKR_OK) {
    return RvError("C_FindObjectsFinal", rv);
  }
  return found;
}

// The one object of `object_class` labelled `label`.
util::Result<ck_object_handle_t> FindOneObject(const ck_function_list& p11,
                                               ck_session_handle_t session,
                                               ck_object_class_t object_class,
                                               const std::string& label, const char* what) {
  util::Result<std::vector<ck_object_handle_t>> found =
      FindObjects(p11, session, object_class, label);
  if (!found.ok()) return found.status();
  if (found->empty()) {
    return util::NotFoundError(std::string("pkcs11: no ") + what + " labelled '" + label + "'");
  }
  if (found->size() > 1) {
    return util::FailedPreconditionError(std::string("pkcs11: several ") + what +
                                         "s are labelled '" + label + "'");
  }
  return (*found)[0];
}

// The value of attribute `type` of `object` (at most 1024 bytes).
util::Result<std::vector<uint8_t>> GetAttribute(const ck_function_list& p11,
                                                ck_session_handle_t session,
                                                ck_object_handle_t object,
                                                ck_attribute_type_t type) {
  std::vector<uint8_t> value(1024);
  ck_attribute attribute = Attribute(type, value.data(), value.size());
  if (ck_rv_t rv = p11.C_GetAttributeValue(session, object, &attribute, 1); rv != CKR_OK) {
    return RvError("C_GetAttributeValue", rv);
  }
  if (attribute.value_len > value.size()) {
    return util::DataLossError("pkcs11: C_GetAttributeValue: unavailable or oversized attribute");
  }
  value.resize(attribute.value_len);
  return value;
}

util::Result<bool> GetBoolAttribute(const ck_function_list& p11, ck_session_handle_t session,
                                    ck_object_handle_t object, ck_attribute_type_t type) {
  util::Result<std::vector<uint8_t>> value = GetAttribute(p11, session, object, type);
  if (!value.ok()) return value.status();
  if (value->size() != 1) return util::DataLossError("pkcs11: boolean attribute is not one byte");
  return (*value)[0] != 0;
}

// A session that is closed when this goes out of scope, unless released. Not copyable.
class SessionGuard final {
 public:
  SessionGuard(const ck_function_list& p11, ck_session_handle_t session)
      : p11_(p11), session_(session) {}
  ~SessionGuard() {
    if (session_ != CK_INVALID_HANDLE) p11_.C_CloseSession(session_);
  }
  SessionGuard(const SessionGuard&) = delete;
  SessionGuard& operator=(const SessionGuard&) = delete;
  ck_session_handle_t get() const { return session_; }
  ck_session_handle_t Release() { return std::exchange(session_, CK_INVALID_HANDLE); }

 private:
  const ck_function_list& p11_;
  ck_session_handle_t session_;
};

}  // namespace

// Pkcs11Module

util::Result<std::shared_ptr<const Pkcs11Module>> Pkcs11Module::Load(const std::string& path) {
  void* library = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (library == nullptr) {
    return util::NotFoundError("pkcs11: cannot load module " + path);
  }
  auto get_function_list =
      reinterpret_cast<CK_C_GetFunctionList>(dlsym(library, "C_GetFunctionList"));
  ck_function_list* functions = nullptr;
  if (get_function_list == nullptr || get_function_list(&functions) != CKR_OK ||
      functions == nullptr) {
    dlclose(library);
    return util::NotFoundError("pkcs11: module " + path + " has no C_GetFunctionList");
  }
  // The module makes its own locks with the operating system's primitives (PKCS#11 section
  // 5.4: CKF_OS_LOCKING_OK, no mutex callbacks), so sessions may be used from several threads.
  ck_c_initialize_args args{};
  args.flags = CKF_OS_LOCKING_OK;
  if (ck_rv_t rv = functions->C_Initialize(&args); rv != CKR_OK) {
    dlclose(library);
    return RvError("C_Initialize", rv);
  }
  return std::shared_ptr<const Pkcs11Module>(new Pkcs11Module(library, functions));
}

Pkcs11Module::~Pkcs11Module() {
  functions_->C_Finalize(nullptr);
  dlclose(library_);
}

// Pkcs11Session: a logged-in session and the key pair's private key handle.
// Invariant: `public_key_` is the public key of the private key `private_key_` (checked by Open
// with a test signature). Not copyable; shared by the Pkcs11Key copies and the PSBT signing
// keys.
class Pkcs11Session final : public btc::ExternalEcdsaKey {
 public:
  Pkcs11Session(const crypto::Secp256k1Context& ctx, std::shared_ptr<const Pkcs11Module> module,
                ck_session_handle_t session, ck_object_handle_t private_key,
                crypto::PublicKey public_key, std::string name)
      : ctx_(ctx),
        module_(std::move(module)),
        session_(session),
        private_key_(private_key),
        public_key_(std::move(public_key)),
        name_(std::move(name)) {}
  // Closing the last session of the application on the token also logs the user out (PKCS#11
  // C_CloseSession); an explicit C_Logout would log out every other session of this module on
  // the token as well.
  ~Pkcs11Session() override { module_->functions().C_CloseSession(session_); }
  Pkcs11Session(const Pkcs11Session&) = delete;
  Pkcs11Session& operator=(const Pkcs11Session&) = delete;

  const crypto::PublicKey& public_key() const override { return public_key_; }
  std::string name() const override { return name_; }

  util::Result<std::vector<uint8_t>> SignDigest(const crypto::Hash256Bytes& digest) const override {
    util::Result<std::vector<uint8_t>> compact = SignInToken(digest);
    if (!compact.ok()) return compact.status();
    util::Result<std::vector<uint8_t>> der = internal::CompactSignatureToLowSDer(*compact);
    if (!der.ok()) return util::InternalError(der.status().message());
    // The token is outside kinko's control: nothing it returns is used unverified.
    if (!crypto::EcdsaVerify(ctx_, public_key_, digest, *der, crypto::DerParsing::kStrict) ||
        !crypto::EcdsaIsLowS(ctx_, *der, crypto::DerParsing::kStrict)) {
      return util::InternalError("pkcs11: C_Sign: the signature does not verify for key '" + name_ +
                                 "'");
    }
    return der;
  }

 private:
  // CKM_ECDSA over the 32-byte digest as is (no hashing in the token): r || s, 64 bytes.
  util::Result<std::vector<uint8_t>> SignInToken(const crypto::Hash256Bytes& digest) const {
    const ck_function_list& p11 = module_->functions();
    ck_mechanism mechanism{.mechanism = CKM_ECDSA, .parameter = nullptr, .parameter_len = 0};
    std::array<uint8_t, 32> data = digest;
    std::vector<uint8_t> signature(64);
    unsigned long size = signature.size();
    // One operation at a time per session (PKCS#11 section 5.6).
    std::lock_guard<std::mutex> lock(mutex_);
    if (ck_rv_t rv = p11.C_SignInit(session_, &mechanism, private_key_); rv != CKR_OK) {
      return RvError("C_SignInit", rv);
    }
    // C_Sign ends the operation whatever it returns, except CKR_BUFFER_TOO_SMALL, which a
    // 64-byte buffer never gets for a 256-bit curve.
    if (ck_rv_t rv = p11.C_Sign(session_, data.data(), data.size(), signature.data(), &size);
        rv != CKR_OK) {
      return RvError("C_Sign", rv);
    }
    signature.resize(std::min<size_t>(size, signature.size()));
    return signature;
  }

  const crypto::Secp256k1Context& ctx_;
  const std::shared_ptr<const Pkcs11Module> module_;
  const ck_session_handle_t session_;
  const ck_object_handle_t private_key_;
  const crypto::PublicKey public_key_;
  const std::string name_;
  mutable std::mutex mutex_;
};

namespace {

util::Status GenerateKeyPair(const ck_function_list& p11, ck_session_handle_t session,
                             const std::string& label) {
  util::Result<std::vector<ck_object_handle_t>> existing =
      FindObjects(p11, session, CKO_PRIVATE_KEY, label);
  if (!existing.ok()) return existing.status();
  if (!existing->empty()) {
    return util::AlreadyExistsError("pkcs11: a private key labelled '" + label +
                                    "' exists already");
  }
  unsigned char yes = 1;
  unsigned char no = 0;
  std::array<uint8_t, 7> oid = kSecp256k1Oid;
  std::string label_copy = label;
  std::array<ck_attribute, 6> public_template = {
      Attribute(CKA_TOKEN, &yes, 1),
      Attribute(CKA_PRIVATE, &no, 1),
      Attribute(CKA_VERIFY, &yes, 1),
      Attribute(CKA_EC_PARAMS, oid.data(), oid.size()),
      Attribute(CKA_LABEL, label_copy.data(), label_copy.size()),
      Attribute(CKA_ID, label_copy.data(), label_copy.size())};
  // Sensitive and not extractable: the private key never leaves the token, even wrapped.
  std::array<ck_attribute, 9> private_template = {
      Attribute(CKA_TOKEN, &yes, 1),
      Attribute(CKA_PRIVATE, &yes, 1),
      Attribute(CKA_SENSITIVE, &yes, 1),
      Attribute(CKA_EXTRACTABLE, &no, 1),
      Attribute(CKA_SIGN, &yes, 1),
      Attribute(CKA_DECRYPT, &no, 1),
      Attribute(CKA_DERIVE, &no, 1),
      Attribute(CKA_LABEL, label_copy.data(), label_copy.size()),
      Attribute(CKA_ID, label_copy.data(), label_copy.size())};
  ck_mechanism mechanism{
      .mechanism = CKM_EC_KEY_PAIR_GEN, .parameter = nullptr, .parameter_len = 0};
  ck_object_handle_t public_key = CK_INVALID_HANDLE;
  ck_object_handle_t private_key = CK_INVALID_HANDLE;
  if (ck_rv_t rv = p11.C_GenerateKeyPair(session, &mechanism, public_template.data(),
                                         public_template.size(), private_template.data(),
                                         private_template.size(), &public_key, &private_key);
      rv != CKR_OK) {
    return RvError("C_GenerateKeyPair", rv);
  }
  return util::OkStatus();
}

// Checks that `private_key` is a secp256k1 key that cannot leave the token.
util::Status CheckPrivateKey(const ck_function_list& p11, ck_session_handle_t session,
                             ck_object_handle_t private_key, const std::string& label) {
  const std::string where = "pkcs11: key '" + label + "': ";
  util::Result<std::vector<uint8_t>> key_type =
      GetAttribute(p11, session, private_key, CKA_KEY_TYPE);
  if (!key_type.ok()) return key_type.status();
  ck_key_type_t type = 0;
  if (key_type->size() != sizeof(type)) return util::DataLossError(where + "bad CKA_KEY_TYPE");
  std::copy(key_type->begin(), key_type->end(), reinterpret_cast<uint8_t*>(&type));
  if (type != CKK_EC) return util::FailedPreconditionError(where + "not an EC key");
  util::Result<std::vector<uint8_t>> params =
      GetAttribute(p11, session, private_key, CKA_EC_PARAMS);
  if (!params.ok()) return params.status();
  if (!std::ranges::equal(*params, kSecp256k1Oid)) {
    return util::FailedPreconditionError(where + "not on the secp256k1 curve");
  }
  util::Result<bool> sensitive = GetBoolAttribute(p11, session, private_key, CKA_SENSITIVE);
  if (!sensitive.ok()) return sensitive.status();
  util::Result<bool> extractable = GetBoolAttribute(p11, session, private_key, CKA_EXTRACTABLE);
  if (!extractable.ok()) return extractable.status();
  if (!*sensitive || *extractable) {
    return util::FailedPreconditionError(where + "the private key is extractable or not sensitive");
  }
  return util::OkStatus();
}

}  // namespace

util::Result<Pkcs11Key> Pkcs11Key::Generate(const crypto::Secp256k1Context& ctx,
                                            std::shared_ptr<const Pkcs11Module> module,
                                            const Pkcs11KeyConfig& config, const TokenPin& pin) {
  return Create(ctx, std::move(module), config, pin, /*generate=*/true);
}

util::Result<Pkcs11Key> Pkcs11Key::Open(const crypto::Secp256k1Context& ctx,
                                        std::shared_ptr<const Pkcs11Module> module,
                                        const Pkcs11KeyConfig& config, const TokenPin& pin) {
  return Create(ctx, std::move(module), config, pin, /*generate=*/false);
}

util::Result<Pkcs11Key> Pkcs11Key::Create(const crypto::Secp256k1Context& ctx,
                                          std::shared_ptr<const Pkcs11Module> module,
                                          const Pkcs11KeyConfig& config, const TokenPin& pin,
                                          bool generate) {
  const ck_function_list& p11 = module->functions();
  util::Result<ck_slot_id_t> slot = FindSlot(p11, config.token_label);
  if (!slot.ok()) return slot.status();
  ck_session_handle_t handle = CK_INVALID_HANDLE;
  if (ck_rv_t rv =
          p11.C_OpenSession(*slot, CKF_SERIAL_SESSION | CKF_RW_SESSION, nullptr, nullptr, &handle);
      rv != CKR_OK) {
    return RvError("C_OpenSession", rv);
  }
  SessionGuard session(p11, handle);
  // C_Login takes a non-const pointer; the PIN is copied into a buffer wiped right after.
  std::vector<uint8_t> pin_copy(pin.bytes().begin(), pin.bytes().end());
  const ck_rv_t login = p11.C_Login(session.get(), CKU_USER, pin_copy.data(), pin_copy.size());
  crypto::Wipe(pin_copy);
  // Another session of this module on the token logged in already: the login state is shared.
  if (login != CKR_OK && login != CKR_USER_ALREADY_LOGGED_IN) return RvError("C_Login", login);

  if (generate) {
    if (util::Status status = GenerateKeyPair(p11, session.get(), config.key_label); !status.ok()) {
      return status;
    }
  }
  util::Result<ck_object_handle_t> private_key =
      FindOneObject(p11, session.get(), CKO_PRIVATE_KEY, config.key_label, "private key");
  if (!private_key.ok()) return private_key.status();
  if (util::Status status = CheckPrivateKey(p11, session.get(), *private_key, config.key_label);
      !status.ok()) {
    return status;
  }
  util::Result<ck_object_handle_t> public_object =
      FindOneObject(p11, session.get(), CKO_PUBLIC_KEY, config.key_label, "public key");
  if (!public_object.ok()) return public_object.status();
  util::Result<std::vector<uint8_t>> point =
      GetAttribute(p11, session.get(), *public_object, CKA_EC_POINT);
  if (!point.ok()) return point.status();
  util::Result<crypto::PublicKey> public_key = internal::ParseEcPoint(*point);
  if (!public_key.ok()) {
    return util::DataLossError("pkcs11: key '" + config.key_label +
                               "': " + public_key.status().message());
  }

  const std::string name =
      "pkcs11 token '" + config.token_label + "' key '" + config.key_label + "'";
  auto key_session = std::make_shared<const Pkcs11Session>(
      ctx, std::move(module), session.Release(), *private_key, std::move(*public_key), name);
  // The private and public objects share a label, nothing more: a test signature shows that
  // they are one key pair before the public key is used anywhere.
  const crypto::Hash256Bytes test_digest = crypto::Sha256(
      std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(name.data()), name.size()));
  util::Result<std::vector<uint8_t>> test_signature = key_session->SignDigest(test_digest);
  if (!test_signature.ok()) {
    if (test_signature.status().code() != util::StatusCode::kInternal) {
      return test_signature.status();
    }
    return util::DataLossError("pkcs11: key '" + config.key_label +
                               "': the private key does not sign for CKA_EC_POINT's public key");
  }
  return Pkcs11Key(std::move(key_session));
}

std::string Pkcs11Key::descriptor_key() const {
  return util::HexEncode(session_->public_key().SerializeCompressed());
}

util::Status Pkcs11Key::AddTo(btc::PsbtSigningKeys& keys) const {
  keys.AddExternalKey(session_);
  return util::OkStatus();
}

const crypto::PublicKey& Pkcs11Key::public_key() const { return session_->public_key(); }

util::Result<std::vector<uint8_t>> Pkcs11Key::SignDigest(const crypto::Hash256Bytes& digest) const {
  return session_->SignDigest(digest);
}

}  // namespace kinko::signerd
