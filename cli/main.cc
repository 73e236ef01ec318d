// kinko: the command-line tools. See cli/app.h.
#include "cli/app.h"

int main(int argc, char** argv) { return kinko::cli::Main(argc, argv); }
