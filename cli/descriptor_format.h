// The "desc" field of Bitcoin Core's scriptPubKey JSON: the output descriptor (BIP380-386)
// Core infers for an output script when it knows nothing else about it (InferDescriptor with
// no signing provider), with its checksum.
//
// Thread-safe: pure functions.
#ifndef KINKO_CLI_DESCRIPTOR_FORMAT_H_
#define KINKO_CLI_DESCRIPTOR_FORMAT_H_

#include <string>

#include "btc/address.h"
#include "btc/script.h"

namespace kinko::cli {

// Core's InferDescriptor(script, no provider) with "#checksum": pk(KEY) for a bare public key
// (not hybrid), multi(k,KEY,...) for a bare multisig whose keys are all valid, rawtr(XONLY) for
// P2TR with a valid x-only key, addr(ADDRESS) for every other script with an address on
// `network`, and raw(HEX) for the rest.
std::string InferDescriptor(const btc::Script& script, btc::Network network);

}  // namespace kinko::cli

#endif  // KINKO_CLI_DESCRIPTOR_FORMAT_H_
