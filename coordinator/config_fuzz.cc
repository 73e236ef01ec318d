// kinkod's configuration parser: arbitrary text never crashes or throws; a configuration that
// parses satisfies the invariants ParseConfig promises.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "coordinator/config.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  kinko::util::Result<kinko::coordinator::Config> config =
      kinko::coordinator::ParseConfig(text, "/etc/kinkod");
  if (!config.ok()) {
    if (config.status().message().rfind("config", 0) != 0) __builtin_trap();
    return 0;
  }
  if (config->wallets.empty()) __builtin_trap();
  for (const kinko::coordinator::WalletSettings& wallet : config->wallets) {
    if (wallet.signers.empty() || wallet.threshold == 0 ||
        wallet.threshold > wallet.signers.size() ||
        wallet.fee_rate_floor > wallet.fee_rate_ceiling) {
      __builtin_trap();
    }
    if (wallet.policy_file.empty() || wallet.policy_file.front() != '/') __builtin_trap();
  }
  if (config->storage.backend == "sqlite" && config->storage.path.empty()) __builtin_trap();
  return 0;
}
