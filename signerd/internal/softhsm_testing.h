// Test support, header only, for the PKCS#11 tests and benchmarks: a SoftHSM2 token of its own
// in a temporary directory (a softhsm2.conf naming a token directory, SOFTHSM2_CONF pointing at
// it, and `softhsm2-util --init-token`). SoftHSM2 is installed by scripts/install-deps --test;
// when it is missing, Create fails with a message saying so (tests must fail, not skip).
//
// Not thread-safe: sets the process's SOFTHSM2_CONF. One token per process at a time, created
// before the module is loaded (SoftHSM2 reads its configuration in C_Initialize).
#ifndef KINKO_SIGNERD_INTERNAL_SOFTHSM_TESTING_H_
#define KINKO_SIGNERD_INTERNAL_SOFTHSM_TESTING_H_

#include <stdlib.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>

#include "util/result.h"

namespace kinko::signerd::internal {

inline constexpr char kSoftHsmTokenLabel[] = "kinko-test";
inline constexpr char kSoftHsmUserPin[] = "1234";
inline constexpr char kSoftHsmSoPin[] = "5678";

// Where Debian's softhsm2 package puts the module, or "" when it is not installed.
inline std::string SoftHsmModulePath() {
  for (const char* path :
       {"/usr/lib/softhsm/libsofthsm2.so", "/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so"}) {
    if (access(path, R_OK) == 0) return path;
  }
  return "";
}

// Movable through std::unique_ptr only; removes its directory and SOFTHSM2_CONF when destroyed.
class SoftHsmToken final {
 public:
  // Creates the directory, the configuration and an initialised token labelled
  // kSoftHsmTokenLabel with the PINs above. Fails with kFailedPrecondition when SoftHSM2 is not
  // installed, kUnavailable when softhsm2-util fails (the message holds its output).
  static util::Result<std::unique_ptr<SoftHsmToken>> Create() {
    if (SoftHsmModulePath().empty() || std::system("command -v softhsm2-util >/dev/null") != 0) {
      return util::FailedPreconditionError(
          "softhsm2 is not installed: run scripts/install-deps --test");
    }
    std::string dir = (std::filesystem::temp_directory_path() / "kinko-softhsm-XXXXXX").string();
    if (mkdtemp(dir.data()) == nullptr) return util::UnavailableError("mkdtemp failed");
    std::unique_ptr<SoftHsmToken> token(new SoftHsmToken(dir));
    std::filesystem::create_directory(dir + "/tokens");
    std::ofstream(dir + "/softhsm2.conf") << "directories.tokendir = " << dir << "/tokens\n"
                                          << "objectstore.backend = file\n"
                                          << "log.level = ERROR\n";
    setenv("SOFTHSM2_CONF", (dir + "/softhsm2.conf").c_str(), 1);
    const std::string command = std::string("softhsm2-util --init-token --free --label ") +
                                kSoftHsmTokenLabel + " --pin " + kSoftHsmUserPin + " --so-pin " +
                                kSoftHsmSoPin + " >" + dir + "/init.log 2>&1";
    if (std::system(command.c_str()) != 0) {
      std::ifstream log(dir + "/init.log");
      std::stringstream text;
      text << log.rdbuf();
      return util::UnavailableError("softhsm2-util --init-token failed: " + text.str());
    }
    return token;
  }

  ~SoftHsmToken() {
    unsetenv("SOFTHSM2_CONF");
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
  }
  SoftHsmToken(const SoftHsmToken&) = delete;
  SoftHsmToken& operator=(const SoftHsmToken&) = delete;

 private:
  explicit SoftHsmToken(std::string dir) : dir_(std::move(dir)) {}
  std::string dir_;
};

}  // namespace kinko::signerd::internal

#endif  // KINKO_SIGNERD_INTERNAL_SOFTHSM_TESTING_H_
