// `kinko audit verify` and `kinko audit show` against a real `kinko-signer` process and its state
// directory: a log that verifies, a saved head that a later log extends, a state directory
// restored from an older copy (a rollback, then a rewritten history), and a database entry
// edited in place.
#include <gtest/gtest.h>
#include <httplib.h>
#include <sqlite3.h>

#include <algorithm>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "signerapi/json_codec.h"
#include "signerd/setup.h"
#include "signerd/state_store.h"
#include "test/signer/signer_process.h"
#include "test/signer/signer_setup.h"
#include "util/hex.h"

namespace kinko::testing {
namespace {

class AuditCliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = MakeScratchDir("audit-cli");
    util::Result<Deployment> deployment = Deployment::Create(root_, /*signers=*/1);
    ASSERT_TRUE(deployment.ok()) << deployment.status();
    deployment_.emplace(*std::move(deployment));
    dir_ = deployment_->dirs()[0];
  }

  void StartSigner() {
    util::Result<std::unique_ptr<SignerProcess>> process =
        SignerProcess::Start(dir_, deployment_->passphrase());
    ASSERT_TRUE(process.ok()) << process.status();
    signer_ = *std::move(process);
  }

  void StopSigner() {
    ASSERT_NE(signer_, nullptr);
    EXPECT_EQ(signer_->Stop(), 0);
    signer_.reset();
  }

  // Sends `count` new sign requests; each must be signed.
  void Sign(size_t count) {
    for (size_t i = 0; i < count; ++i) {
      const SignRequestCase request = deployment_->MakeSignRequest(next_request_++);
      httplib::Client client(signer_->url());
      httplib::Result res = client.Post("/v1/sign", signerapi::EncodeSignRequest(request.request),
                                        "application/json");
      ASSERT_TRUE(res);
      ASSERT_EQ(res->status, 200) << res->body;
    }
  }

  ProcessOutput Kinko(const std::vector<std::string>& args) { return RunKinko(args, root_); }

  std::string root_;
  std::string dir_;
  std::optional<Deployment> deployment_;
  std::unique_ptr<SignerProcess> signer_;
  size_t next_request_ = 0;
};

TEST_F(AuditCliTest, VerifiesALiveSignerAndItsDirectoryAndExtendsASavedHead) {
  StartSigner();
  Sign(3);
  const std::string older = root_ + "/older.head";
  const std::string key = util::HexEncode(deployment_->keys()[0].identity_public_key);

  ProcessOutput live = Kinko(
      {"audit", "verify", "--signer", signer_->url(), "--signer-key", key, "--save-head", older});
  EXPECT_EQ(live.exit_code, 0) << live.out << live.err;
  EXPECT_NE(live.out.find("3 signed, 0 refused"), std::string::npos) << live.out;
  EXPECT_NE(live.out.find("audit log verified"), std::string::npos) << live.out;
  EXPECT_EQ(std::filesystem::file_size(older), 145u);

  // The directory, read while the signer runs.
  ProcessOutput dir = Kinko({"audit", "verify", "--dir", dir_, "--json"});
  EXPECT_EQ(dir.exit_code, 0) << dir.out << dir.err;
  EXPECT_NE(dir.out.find("\"verified\": true"), std::string::npos) << dir.out;
  EXPECT_NE(dir.out.find("\"head_key_source\": \"startup_entry\""), std::string::npos);

  Sign(2);
  ProcessOutput extended =
      Kinko({"audit", "verify", "--signer", signer_->url(), "--from-head", older});
  EXPECT_EQ(extended.exit_code, 0) << extended.out << extended.err;
  EXPECT_NE(extended.out.find("5 signed, 0 refused"), std::string::npos) << extended.out;
  EXPECT_NE(extended.out.find("from head"), std::string::npos) << extended.out;
  ProcessOutput extended_dir = Kinko({"audit", "verify", "--dir", dir_, "--from-head", older});
  EXPECT_EQ(extended_dir.exit_code, 0) << extended_dir.out << extended_dir.err;

  // Another key is not this signer's.
  const std::string other_key(64, 'a');
  ProcessOutput wrong_key =
      Kinko({"audit", "verify", "--signer", signer_->url(), "--signer-key", other_key});
  EXPECT_EQ(wrong_key.exit_code, 1) << wrong_key.out << wrong_key.err;

  // show: one line per entry, prefixed by its index; the same from the signer and the directory.
  ProcessOutput shown = Kinko({"audit", "show", "--signer", signer_->url()});
  EXPECT_EQ(shown.exit_code, 0) << shown.err;
  EXPECT_EQ(shown.out.rfind("0 ", 0), 0u) << shown.out;
  EXPECT_NE(shown.out.find(" startup "), std::string::npos) << shown.out;
  EXPECT_NE(shown.out.find(" decision signed "), std::string::npos) << shown.out;
  ProcessOutput shown_dir = Kinko({"audit", "show", "--dir", dir_});
  EXPECT_EQ(shown_dir.out, shown.out);
  ProcessOutput page = Kinko({"audit", "show", "--dir", dir_, "--from", "2", "--count", "2"});
  EXPECT_EQ(page.exit_code, 0) << page.err;
  EXPECT_EQ(std::count(page.out.begin(), page.out.end(), '\n'), 2);
  EXPECT_EQ(page.out.rfind("2 ", 0), 0u) << page.out;
  StopSigner();
}

TEST_F(AuditCliTest, UsageAndUnreachableSignerAreExitTwo) {
  ProcessOutput neither = Kinko({"audit", "verify"});
  EXPECT_EQ(neither.exit_code, 2);
  EXPECT_TRUE(neither.out.empty());
  ProcessOutput both = Kinko({"audit", "verify", "--dir", dir_, "--signer", "http://127.0.0.1:1"});
  EXPECT_EQ(both.exit_code, 2);
  ProcessOutput unreachable = Kinko({"audit", "verify", "--signer", "http://127.0.0.1:1"});
  EXPECT_EQ(unreachable.exit_code, 2) << unreachable.out;
  ProcessOutput bad_url = Kinko({"audit", "verify", "--signer", "ftp://127.0.0.1:1"});
  EXPECT_EQ(bad_url.exit_code, 2) << bad_url.out;
  ProcessOutput missing = Kinko({"audit", "verify", "--dir", root_ + "/missing"});
  EXPECT_EQ(missing.exit_code, 2) << missing.out;
}

TEST_F(AuditCliTest, RestoredOlderStateIsARollbackThenARewrite) {
  StartSigner();
  Sign(2);
  StopSigner();
  const std::string backup = root_ + "/backup";
  std::filesystem::copy(dir_, backup, std::filesystem::copy_options::recursive);

  StartSigner();
  Sign(3);
  const std::string newer = root_ + "/newer.head";
  ProcessOutput saved =
      Kinko({"audit", "verify", "--signer", signer_->url(), "--save-head", newer});
  ASSERT_EQ(saved.exit_code, 0) << saved.out << saved.err;
  StopSigner();

  // The operator (or an attacker) restores the older copy: the saved head is not in it.
  std::filesystem::remove_all(dir_);
  std::filesystem::copy(backup, dir_, std::filesystem::copy_options::recursive);
  StartSigner();
  ProcessOutput rolled_back =
      Kinko({"audit", "verify", "--signer", signer_->url(), "--from-head", newer});
  EXPECT_EQ(rolled_back.exit_code, 1) << rolled_back.out << rolled_back.err;
  EXPECT_NE(rolled_back.out.find("audit log rolled back or rewritten: "), std::string::npos)
      << rolled_back.out;
  // On its own, the restored log is consistent: only the saved head shows the rollback.
  ProcessOutput alone = Kinko({"audit", "verify", "--signer", signer_->url()});
  EXPECT_EQ(alone.exit_code, 0) << alone.out << alone.err;

  // New requests make the restored log longer than the saved head, with another history.
  Sign(3);
  ProcessOutput rewritten =
      Kinko({"audit", "verify", "--signer", signer_->url(), "--from-head", newer, "--json"});
  EXPECT_EQ(rewritten.exit_code, 1) << rewritten.out << rewritten.err;
  EXPECT_NE(rewritten.out.find("audit log rolled back or rewritten: "), std::string::npos)
      << rewritten.out;
  EXPECT_NE(rewritten.out.find("\"verified\": false"), std::string::npos) << rewritten.out;
  StopSigner();
  ProcessOutput rewritten_dir = Kinko({"audit", "verify", "--dir", dir_, "--from-head", newer});
  EXPECT_EQ(rewritten_dir.exit_code, 1) << rewritten_dir.out << rewritten_dir.err;
  EXPECT_NE(rewritten_dir.out.find("audit log rolled back or rewritten: "), std::string::npos);
}

// Replaces, in every BLOB column of every table of the database at `path`, the value `from` by
// `to`; returns the number of rows changed. Written against no particular schema, so that the
// test does not depend on the store's table names.
int ReplaceBlob(const std::string& path, const std::vector<uint8_t>& from,
                const std::vector<uint8_t>& to) {
  sqlite3* db = nullptr;
  if (sqlite3_open(path.c_str(), &db) != SQLITE_OK) return -1;
  std::vector<std::pair<std::string, std::string>> columns;
  sqlite3_stmt* tables = nullptr;
  sqlite3_prepare_v2(db,
                     "SELECT t.name, c.name FROM sqlite_master t, pragma_table_info(t.name) c "
                     "WHERE t.type = 'table'",
                     -1, &tables, nullptr);
  while (sqlite3_step(tables) == SQLITE_ROW) {
    columns.emplace_back(reinterpret_cast<const char*>(sqlite3_column_text(tables, 0)),
                         reinterpret_cast<const char*>(sqlite3_column_text(tables, 1)));
  }
  sqlite3_finalize(tables);
  int changed = 0;
  for (const auto& [table, column] : columns) {
    const std::string sql =
        "UPDATE \"" + table + "\" SET \"" + column + "\" = ?1 WHERE \"" + column + "\" = ?2";
    sqlite3_stmt* update = nullptr;
    if (sqlite3_prepare_v2(db, sql.c_str(), -1, &update, nullptr) != SQLITE_OK) continue;
    sqlite3_bind_blob(update, 1, to.data(), static_cast<int>(to.size()), SQLITE_STATIC);
    sqlite3_bind_blob(update, 2, from.data(), static_cast<int>(from.size()), SQLITE_STATIC);
    if (sqlite3_step(update) == SQLITE_DONE) changed += sqlite3_changes(db);
    sqlite3_finalize(update);
  }
  sqlite3_close(db);
  return changed;
}

TEST_F(AuditCliTest, AnEditedDatabaseEntryFailsVerification) {
  StartSigner();
  Sign(3);
  StopSigner();
  const std::string db_path = dir_ + "/" + std::string(signerd::kStateDatabaseFile);
  std::vector<uint8_t> original;
  {
    util::Result<signerd::StateStore> store = signerd::StateStore::OpenReadOnly(db_path);
    ASSERT_TRUE(store.ok()) << store.status();
    util::Result<std::vector<std::vector<uint8_t>>> entries = store->ReadEntries(0, 100);
    ASSERT_TRUE(entries.ok()) << entries.status();
    // The last decision (an entry of kind 3): its request digest is changed below, so that it
    // still decodes and only the tree shows the edit.
    for (const std::vector<uint8_t>& entry : *entries) {
      if (entry.size() > 10 && entry[1] == 3) original = entry;
    }
  }
  ASSERT_FALSE(original.empty());
  std::vector<uint8_t> edited = original;
  edited[10 + 3] ^= 0x01;  // The first byte of the request digest (after its tag and length).
  ASSERT_GE(ReplaceBlob(db_path, original, edited), 1);

  ProcessOutput verify = Kinko({"audit", "verify", "--dir", dir_});
  EXPECT_EQ(verify.exit_code, 1) << verify.out << verify.err;
  EXPECT_EQ(verify.out.find("audit log verified"), std::string::npos) << verify.out;
}

}  // namespace
}  // namespace kinko::testing
