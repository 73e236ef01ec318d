// kinko-signer: the signer daemon (doc/signer-daemon.md). Subcommands keygen, init, run.
#include <cstdio>

int main() {
  std::fputs("usage: kinko-signer keygen|init|run ... (see doc/signer-daemon.md)\n", stderr);
  return 2;
}
