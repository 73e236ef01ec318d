// Transactions and output scripts in the JSON shape of Bitcoin Core's RPCs, shared by the `tx`
// and `psbt` command groups (defined in tx_commands.cc).
//
// Thread-safe: pure functions.
#ifndef KINKO_CLI_TX_FORMAT_H_
#define KINKO_CLI_TX_FORMAT_H_

#include "btc/address.h"
#include "btc/script.h"
#include "btc/transaction.h"
#include "cli/json_output.h"

namespace kinko::cli {

// Bitcoin Core's ScriptToUniv(script, include_hex=true, include_address=true): asm, desc, hex,
// address (when the script has one and is not a bare public key) and type.
Json ScriptPubKeyJson(const btc::Script& script, btc::Network network);

// Bitcoin Core's TxToUniv as decoderawtransaction calls it (no block hash, no hex).
Json TransactionJson(const btc::Transaction& tx, btc::Network network);

}  // namespace kinko::cli

#endif  // KINKO_CLI_TX_FORMAT_H_
