#include "signerd/key_backend.h"

#include <string>

namespace kinko::signerd {

util::Status CheckBackendSupportsWallet(const KeyBackend& backend, bool wallet_uses_taproot) {
  if (!wallet_uses_taproot || backend.can_sign_taproot()) return util::OkStatus();
  return util::FailedPreconditionError(
      "key backend '" + std::string(backend.kind()) +
      "': cannot sign taproot inputs (no BIP340 schnorr signatures); a taproot wallet needs the "
      "'file' key backend");
}

}  // namespace kinko::signerd
