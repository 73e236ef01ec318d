// kinkod's request-body decoders (coordinator/api.h): arbitrary bytes never crash or throw; a
// body that decodes re-encodes (as the client would send it) to a body that decodes to the same
// value, and a decoded hex field is never empty.
#include <cstddef>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "coordinator/api.h"
#include "util/hex.h"

namespace {

using kinko::coordinator::DecodeApprovalRequest;
using kinko::coordinator::DecodeExecuteRequest;
using kinko::coordinator::DecodeImportRequest;
using kinko::coordinator::DecodeIntentRequest;

template <typename Decode>
void CheckHexBody(std::string_view body, Decode decode, const char* field) {
  kinko::util::Result<std::vector<uint8_t>> bytes = decode(body);
  if (!bytes.ok()) return;
  if (bytes->empty()) __builtin_trap();
  const std::string again = nlohmann::json{{field, kinko::util::HexEncode(*bytes)}}.dump();
  kinko::util::Result<std::vector<uint8_t>> round = decode(again);
  if (!round.ok() || *round != *bytes) __builtin_trap();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view body(reinterpret_cast<const char*>(data), size);
  CheckHexBody(body, DecodeIntentRequest, "signed_intent");
  CheckHexBody(body, DecodeApprovalRequest, "signed_approval");
  CheckHexBody(body, DecodeImportRequest, "raw_tx");
  kinko::util::Result<std::vector<kinko::storage::IntentId>> ids = DecodeExecuteRequest(body);
  if (ids.ok()) {
    nlohmann::json list = nlohmann::json::array();
    for (const kinko::storage::IntentId& id : *ids) list.push_back(kinko::util::HexEncode(id));
    kinko::util::Result<std::vector<kinko::storage::IntentId>> round =
        DecodeExecuteRequest(nlohmann::json{{"intents", list}}.dump());
    if (!round.ok() || *round != *ids) __builtin_trap();
  }
  return 0;
}
