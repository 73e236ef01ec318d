// Fuzz target for the velocity state file of `kinko policy check --state`: any bytes as its text.
// Properties: parsing never throws or crashes; a state that parses is written back
// (VelocityStateJson) and reads back equal.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "cli/json_output.h"
#include "cli/velocity_state.h"

namespace {

void Check(bool condition) {
  if (!condition) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  kinko::util::Result<kinko::policy::VelocityState> state =
      kinko::cli::ParseVelocityState(text, "fuzz");
  if (!state.ok()) return 0;
  const std::string written = kinko::cli::WriteJson(kinko::cli::VelocityStateJson(state->spends));
  kinko::util::Result<kinko::policy::VelocityState> again =
      kinko::cli::ParseVelocityState(written, "again");
  Check(again.ok());
  Check(again->spends == state->spends);
  return 0;
}
