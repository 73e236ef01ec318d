// A Bitcoin Core regtest node for `kinko demo --regtest`: started in a directory of its own,
// reachable only on loopback (no P2P listening, no DNS seeds, no fixed seeds, no NAT-PMP, no
// onion), RPC on a free port with cookie authentication, and stopped at the end.
//
// Not thread-safe; one owner.
#ifndef KINKO_CLI_INTERNAL_REGTEST_NODE_H_
#define KINKO_CLI_INTERNAL_REGTEST_NODE_H_

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "cli/internal/process.h"
#include "cli/json_output.h"
#include "net/http_client.h"
#include "util/result.h"

namespace kinko::cli::internal {

// Not copyable or movable (the RPC client refers to the node's cookie).
class RegtestNode final {
 public:
  // Starts `bitcoind` (a path) with -datadir=`dir` (created if missing) and waits, up to
  // `timeout`, until its RPC answers. Fails with kUnavailable quoting the node's log when it
  // exits or does not answer in time.
  static util::Result<std::unique_ptr<RegtestNode>> Start(const std::string& bitcoind,
                                                          const std::string& dir,
                                                          std::chrono::milliseconds timeout);

  RegtestNode(const RegtestNode&) = delete;
  RegtestNode& operator=(const RegtestNode&) = delete;
  // Stops the node if Stop was not called.
  ~RegtestNode();

  // "http://127.0.0.1:PORT".
  const std::string& rpc_url() const { return rpc_url_; }
  // The cookie file the node wrote (what kinkod's rpc_cookie_file names).
  const std::string& cookie_file() const { return cookie_file_; }

  // Calls the RPC `method` with `params` (a JSON array) and returns its "result". Fails with
  // kUnavailable when the node cannot be reached, and kFailedPrecondition
  // "<method>: <code> <message>" for an RPC error.
  util::Result<Json> Call(std::string_view method, const Json& params);

  // Asks the node to stop (RPC "stop"), waits up to 15 s, then kills it. Returns its exit
  // status, or minus the signal that ended it.
  int Stop();

 private:
  RegtestNode(ChildProcess process, std::string dir, uint16_t port);

  ChildProcess process_;
  std::string dir_;
  std::string rpc_url_;
  std::string cookie_file_;
  std::optional<net::HttpClient> client_;  // Made once the cookie exists.
  bool stopped_ = false;
};

}  // namespace kinko::cli::internal

#endif  // KINKO_CLI_INTERNAL_REGTEST_NODE_H_
