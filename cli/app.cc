#include "cli/app.h"

#include <CLI/CLI.hpp>

namespace kinko::cli {

int Main(int argc, char** argv) {
  CLI::App app("kinko: authorize and sign Bitcoin transfers", "kinko");
  app.require_subcommand(1);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int rc = app.exit(e);
    return rc == 0 ? 0 : 2;
  }
  return 0;
}

}  // namespace kinko::cli
