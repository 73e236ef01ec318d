#include "storage/sqlite_store.h"

#include <gtest/gtest.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <utility>

#include "storage/storagetest/conformance.h"
#include "util/check.h"

namespace kinko::storage {
namespace {

// A fresh directory under the system's temporary directory, removed at exit.
const std::string& TestDirectory() {
  static const std::string* dir = [] {
    std::string pattern =
        (std::filesystem::temp_directory_path() / "kinko-sqlite-store-XXXXXX").string();
    CHECK(mkdtemp(pattern.data()) != nullptr);
    auto* path = new std::string(pattern);
    std::atexit([] { std::filesystem::remove_all(*dir); });
    return path;
  }();
  return *dir;
}

std::string NewDatabasePath() {
  static std::atomic<int> counter{0};
  return TestDirectory() + "/store-" + std::to_string(counter.fetch_add(1)) + ".db";
}

void RemoveDatabase(const std::string& path) {
  for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(path + suffix);
}

storagetest::StoreBackend SqliteBackend() {
  storagetest::StoreBackend backend;
  backend.create_database = []() -> util::Result<std::string> { return NewDatabasePath(); };
  backend.open = [](const std::string& path) -> util::Result<std::unique_ptr<Store>> {
    util::Result<std::unique_ptr<SqliteStore>> store = SqliteStore::Open(path);
    if (!store.ok()) return store.status();
    return std::unique_ptr<Store>(std::move(*store));
  };
  backend.drop_database = RemoveDatabase;
  return backend;
}

INSTANTIATE_STORE_CONFORMANCE(Sqlite, SqliteBackend());

}  // namespace
}  // namespace kinko::storage
