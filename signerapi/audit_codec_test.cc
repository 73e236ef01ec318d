#include "signerapi/audit_codec.h"

#include <gtest/gtest.h>

#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "util/hex.h"

namespace kinko::signerapi {
namespace {

using nlohmann::json;

policy::Digest Filled(uint8_t fill) {
  policy::Digest d;
  d.fill(fill);
  return d;
}

std::string Hex(uint8_t fill) { return util::HexEncode(Filled(fill)); }

AuditHead ValidHead() {
  return AuditHead{.tree_size = 42,
                   .root_hash = Filled(0x33),
                   .signed_tree_head = std::vector<uint8_t>(145, 0x5a)};
}

InclusionProofResponse ValidInclusion() {
  return InclusionProofResponse{
      .index = 41, .tree_size = 42, .hashes = {Filled(0x01), Filled(0x02), Filled(0x03)}};
}

ConsistencyProofResponse ValidConsistency() {
  return ConsistencyProofResponse{.from = 7, .to = 42, .hashes = {Filled(0x0a), Filled(0x0b)}};
}

EntriesResponse ValidEntries() {
  return EntriesResponse{
      .from = 5,
      .entries = {std::vector<uint8_t>{0x00, 0x01, 0x02}, std::vector<uint8_t>(300, 0xee)}};
}

TEST(AuditCodecTest, RoundTrips) {
  EXPECT_EQ(DecodeAuditHead(EncodeAuditHead(ValidHead())).value(), ValidHead());
  AuditHead unsigned_head = ValidHead();
  unsigned_head.signed_tree_head.clear();
  EXPECT_EQ(DecodeAuditHead(EncodeAuditHead(unsigned_head)).value(), unsigned_head);
  EXPECT_EQ(DecodeInclusionProof(EncodeInclusionProof(ValidInclusion())).value(), ValidInclusion());
  InclusionProofResponse no_hashes{.index = 0, .tree_size = 1, .hashes = {}};
  EXPECT_EQ(DecodeInclusionProof(EncodeInclusionProof(no_hashes)).value(), no_hashes);
  EXPECT_EQ(DecodeConsistencyProof(EncodeConsistencyProof(ValidConsistency())).value(),
            ValidConsistency());
  ConsistencyProofResponse same{.from = 3, .to = 3, .hashes = {}};
  EXPECT_EQ(DecodeConsistencyProof(EncodeConsistencyProof(same)).value(), same);
  EXPECT_EQ(DecodeEntries(EncodeEntries(ValidEntries())).value(), ValidEntries());
}

TEST(AuditCodecTest, EncodingsAreTheDocumentedJson) {
  EXPECT_EQ(json::parse(EncodeInclusionProof(ValidInclusion())),
            json::parse("{\"index\":41,\"tree_size\":42,\"hashes\":[\"" + Hex(1) + "\",\"" +
                        Hex(2) + "\",\"" + Hex(3) + "\"]}"));
  EXPECT_EQ(json::parse(EncodeConsistencyProof(ValidConsistency())),
            json::parse("{\"from\":7,\"to\":42,\"hashes\":[\"" + Hex(0x0a) + "\",\"" + Hex(0x0b) +
                        "\"]}"));
  EntriesResponse entries{.from = 9, .entries = {{'a', 'b', 'c'}}};
  EXPECT_EQ(json::parse(EncodeEntries(entries)),
            json::parse("{\"from\":9,\"entries\":[\"YWJj\"]}"));
  AuditHead head{.tree_size = 1, .root_hash = Filled(0x44), .signed_tree_head = {'a', 'b', 'c'}};
  EXPECT_EQ(json::parse(EncodeAuditHead(head)),
            json::parse("{\"tree_size\":1,\"root_hash\":\"" + Hex(0x44) +
                        "\",\"signed_tree_head\":\"YWJj\"}"));
}

TEST(AuditCodecTest, LimitsAreAccepted) {
  InclusionProofResponse inclusion = ValidInclusion();
  inclusion.hashes.assign(kMaxProofHashes, Filled(0x07));
  EXPECT_TRUE(DecodeInclusionProof(EncodeInclusionProof(inclusion)).ok());
  EntriesResponse entries{.from = 0, .entries = {}};
  entries.entries.assign(kMaxEntriesPerPage, std::vector<uint8_t>(16384, 0x01));
  EXPECT_EQ(DecodeEntries(EncodeEntries(entries)).value(), entries);
}

// One refusal: the body, the decoder to run, and a part of the expected message.
struct RefusalCase {
  std::string name;
  std::function<util::Status()> decode;
  std::string message;
};

// A decoder of `T` run on `body` with one change applied to the valid JSON.
template <typename Decode>
std::function<util::Status()> On(Decode decode, std::string body) {
  return [decode, body] { return decode(body).status(); };
}

template <typename Decode>
std::function<util::Status()> Changed(Decode decode, const std::string& valid,
                                      const std::function<void(json&)>& change) {
  json j = json::parse(valid);
  change(j);
  return On(decode, j.dump());
}

template <typename Decode>
std::function<util::Status()> Replaced(Decode decode, std::string valid, const std::string& from,
                                       const std::string& to) {
  const size_t at = valid.find(from);
  EXPECT_NE(at, std::string::npos) << from;
  valid.replace(at, from.size(), to);
  return On(decode, valid);
}

TEST(AuditCodecTest, RefusesEachProblemNamingIt) {
  const std::string head = EncodeAuditHead(ValidHead());
  const std::string inclusion = EncodeInclusionProof(ValidInclusion());
  const std::string consistency = EncodeConsistencyProof(ValidConsistency());
  const std::string entries = EncodeEntries(ValidEntries());
  const auto decode_head = DecodeAuditHead;
  const auto decode_inclusion = DecodeInclusionProof;
  const auto decode_consistency = DecodeConsistencyProof;
  const auto decode_entries = DecodeEntries;
  const std::vector<RefusalCase> cases = {
      // Audit head.
      {"head unknown field", Changed(decode_head, head, [](json& j) { j["extra"] = 1; }),
       "audit head: unknown field 'extra'"},
      {"head duplicate key", Replaced(decode_head, head, "{", "{\"tree_size\":1,"),
       "audit head: duplicate key 'tree_size'"},
      {"head size string", Changed(decode_head, head, [](json& j) { j["tree_size"] = "42"; }),
       "audit head: field 'tree_size': expected an unsigned integer, got string"},
      {"head root uppercase",
       Changed(decode_head, head, [](json& j) { j["root_hash"] = std::string(64, 'A'); }),
       "audit head: field 'root_hash': expected 64 lowercase hex characters"},
      {"head root short", Changed(decode_head, head, [](json& j) { j["root_hash"] = "3333"; }),
       "field 'root_hash': expected 64 lowercase hex characters"},
      {"head bad base64",
       Changed(decode_head, head, [](json& j) { j["signed_tree_head"] = "YWJ"; }),
       "audit head: field 'signed_tree_head'"},
      {"head missing root", Changed(decode_head, head, [](json& j) { j.erase("root_hash"); }),
       "audit head: missing field 'root_hash'"},
      {"head oversize", On(decode_head, head + std::string(kMaxAuditHeadResponseSize, ' ')),
       "larger than the limit"},
      {"head not json", On(decode_head, "{\"tree_size\":"), "audit head: malformed json"},
      // Inclusion proof.
      {"inclusion unknown field",
       Changed(decode_inclusion, inclusion, [](json& j) { j["size"] = 1; }),
       "inclusion proof: unknown field 'size'"},
      {"inclusion duplicate key", Replaced(decode_inclusion, inclusion, "{", "{\"index\":0,"),
       "inclusion proof: duplicate key 'index'"},
      {"inclusion index negative",
       Changed(decode_inclusion, inclusion, [](json& j) { j["index"] = -1; }),
       "inclusion proof: field 'index': expected an unsigned integer, got negative integer"},
      {"inclusion hashes object",
       Changed(decode_inclusion, inclusion, [](json& j) { j["hashes"] = json::object(); }),
       "inclusion proof: field 'hashes': expected an array"},
      {"inclusion hash number",
       Changed(decode_inclusion, inclusion, [](json& j) { j["hashes"][1] = 7; }),
       "inclusion proof: field 'hashes[1]': expected a hex string, got number"},
      {"inclusion hash uppercase",
       Changed(decode_inclusion, inclusion, [](json& j) { j["hashes"][0] = std::string(64, 'F'); }),
       "inclusion proof: field 'hashes[0]': expected 64 lowercase hex characters"},
      {"inclusion hash not hex",
       Changed(decode_inclusion, inclusion, [](json& j) { j["hashes"][2] = std::string(64, 'g'); }),
       "field 'hashes[2]': expected 64 lowercase hex characters"},
      {"inclusion hash short",
       Changed(decode_inclusion, inclusion, [](json& j) { j["hashes"][0] = std::string(62, 'a'); }),
       "field 'hashes[0]': expected 64 lowercase hex characters"},
      {"inclusion too many hashes",
       Changed(decode_inclusion, inclusion,
               [](json& j) {
                 j["hashes"] = json(std::vector<std::string>(kMaxProofHashes + 1, Hex(1)));
               }),
       "inclusion proof: field 'hashes'"},
      {"inclusion index at size",
       Changed(decode_inclusion, inclusion, [](json& j) { j["index"] = 42; }),
       "inclusion proof: index 42 is not below the tree size 42"},
      {"inclusion empty tree",
       Changed(decode_inclusion, inclusion,
               [](json& j) {
                 j["index"] = 0;
                 j["tree_size"] = 0;
               }),
       "inclusion proof: index 0 is not below the tree size 0"},
      {"inclusion oversize",
       On(decode_inclusion, inclusion + std::string(kMaxProofResponseSize, ' ')),
       "larger than the limit"},
      // Consistency proof.
      {"consistency unknown field",
       Changed(decode_consistency, consistency, [](json& j) { j["tree_size"] = 1; }),
       "consistency proof: unknown field 'tree_size'"},
      {"consistency duplicate key", Replaced(decode_consistency, consistency, "{", "{\"to\":50,"),
       "consistency proof: duplicate key 'to'"},
      {"consistency from fraction",
       Replaced(decode_consistency, consistency, "\"from\":7", "\"from\":7.5"),
       "consistency proof: field 'from': expected an unsigned integer"},
      {"consistency from 0",
       Changed(decode_consistency, consistency, [](json& j) { j["from"] = 0; }),
       "consistency proof: field 'from': must be at least 1"},
      {"consistency from above to",
       Changed(decode_consistency, consistency, [](json& j) { j["from"] = 43; }),
       "consistency proof: from 43 is above to 42"},
      {"consistency hash bad hex",
       Changed(decode_consistency, consistency, [](json& j) { j["hashes"][1] = "zz"; }),
       "consistency proof: field 'hashes[1]': expected 64 lowercase hex characters"},
      {"consistency too many hashes",
       Changed(decode_consistency, consistency,
               [](json& j) {
                 j["hashes"] = json(std::vector<std::string>(kMaxProofHashes + 1, Hex(1)));
               }),
       "consistency proof: field 'hashes'"},
      {"consistency missing hashes",
       Changed(decode_consistency, consistency, [](json& j) { j.erase("hashes"); }),
       "consistency proof: missing field 'hashes'"},
      // Entries.
      {"entries unknown field", Changed(decode_entries, entries, [](json& j) { j["count"] = 2; }),
       "audit entries: unknown field 'count'"},
      {"entries duplicate key", Replaced(decode_entries, entries, "{", "{\"from\":1,"),
       "audit entries: duplicate key 'from'"},
      {"entries from string", Changed(decode_entries, entries, [](json& j) { j["from"] = "5"; }),
       "audit entries: field 'from': expected an unsigned integer, got string"},
      {"entries empty list",
       Changed(decode_entries, entries, [](json& j) { j["entries"] = json::array(); }),
       "audit entries: field 'entries'"},
      {"entries too many",
       Changed(decode_entries, entries,
               [](json& j) {
                 j["entries"] = json(std::vector<std::string>(kMaxEntriesPerPage + 1, "AA=="));
               }),
       "audit entries: field 'entries'"},
      {"entries bad base64",
       Changed(decode_entries, entries, [](json& j) { j["entries"][1] = "A==="; }),
       "audit entries: field 'entries[1]'"},
      {"entries base64 whitespace",
       Changed(decode_entries, entries, [](json& j) { j["entries"][0] = "AA ="; }),
       "audit entries: field 'entries[0]'"},
      {"entries empty entry",
       Changed(decode_entries, entries, [](json& j) { j["entries"][0] = ""; }),
       "audit entries: field 'entries[0]'"},
      {"entries entry too large",  // 21848 base64 characters are 16386 bytes
       Changed(decode_entries, entries, [](json& j) { j["entries"][0] = std::string(21848, 'A'); }),
       "audit entries: field 'entries[0]': must be 1..16384 bytes, not 16386"},
      {"entries entry not a string",
       Changed(decode_entries, entries, [](json& j) { j["entries"][0] = json::array(); }),
       "audit entries: field 'entries[0]': expected a base64 string, got array"},
      {"entries oversize", On(decode_entries, entries + std::string(kMaxEntriesResponseSize, ' ')),
       "larger than the limit"},
  };
  for (const RefusalCase& c : cases) {
    const util::Status status = c.decode();
    EXPECT_EQ(status.code(), util::StatusCode::kInvalidArgument) << c.name << ": " << status;
    EXPECT_NE(status.message().find(c.message), std::string::npos)
        << c.name << ": " << status.message();
  }
}

}  // namespace
}  // namespace kinko::signerapi
