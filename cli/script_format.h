// Script text for people, as Bitcoin Core's decoderawtransaction prints it.
//
// Thread-safe: pure functions.
#ifndef KINKO_CLI_SCRIPT_FORMAT_H_
#define KINKO_CLI_SCRIPT_FORMAT_H_

#include <cstdint>
#include <span>
#include <string>

#include "btc/script.h"

namespace kinko::cli {

// Bitcoin Core's ScriptToAsmStr(script, fAttemptSighashDecode=true), used for scriptSigs: like
// btc::ToAsm, except that a push of more than 4 bytes that is a strictly DER-encoded signature
// with a defined sighash type (ALL, NONE, SINGLE, optionally |ANYONECANPAY) prints its type in
// brackets instead of the last byte ("3044...01" -> "3044...[ALL]"), unless the script starts
// with OP_RETURN or is longer than 10,000 bytes (Core's IsUnspendable).
std::string ScriptSigToAsm(const btc::Script& script);

// BIP66: true when `signature` (with its sighash byte) is a strict DER encoding
// (Bitcoin Core's IsValidSignatureEncoding).
bool IsStrictDerSignature(std::span<const uint8_t> signature);

}  // namespace kinko::cli

#endif  // KINKO_CLI_SCRIPT_FORMAT_H_
