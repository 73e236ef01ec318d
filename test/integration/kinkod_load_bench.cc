// kinkod_load_bench [N]: the throughput of one `kinkod` process over loopback HTTP, on SQLite
// and then on PostgreSQL (a server the benchmark starts, test/support/postgres_server.h).
// For each backend it starts three `kinko-signer` processes (test/signer/signer_setup.h) and
// kinkod with the offline chain backend, then:
//   1. submits N (default 10000) signed intents with POST /v1/intents, from one client thread,
//      then N other intents from four client threads (each with its own keep-alive connection),
//      and prints intents accepted per second and the p50 and p99 latencies; the baseline is N
//      GET /healthz requests on the same connections, sent first, while the store is empty
//      (the HTTP round trip and one small read of the store);
//   2. executes batches of 100 approved intents (POST /v1/wallets/W/execute, which answers once
//      the transaction is signed by two of the three signers, finalized and exported) and
//      prints the time from the request to the signed transaction.
// Every request body and Authorization header is made before the clock starts.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "test/integration/kinkod_process.h"
#include "test/signer/signer_process.h"
#include "test/signer/signer_setup.h"
#include "test/support/postgres_server.h"
#include "test/support/signer_fixture.h"
#include "util/hex.h"

namespace kinko::testing {
namespace {

using Clock = std::chrono::steady_clock;

constexpr char kWalletPath[] = "/v1/wallets/treasury-hot";
constexpr size_t kBatchIntents = 100;
constexpr size_t kBatchRounds = 3;

struct Figures {
  double per_second = 0;
  double p50_ms = 0;
  double p99_ms = 0;
};

Figures Summarize(std::vector<double> latencies_ms, double total_seconds) {
  std::sort(latencies_ms.begin(), latencies_ms.end());
  const auto at = [&](double q) {
    return latencies_ms[std::min(
        latencies_ms.size() - 1,
        static_cast<size_t>(q * static_cast<double>(latencies_ms.size())))];
  };
  return Figures{.per_second = static_cast<double>(latencies_ms.size()) / total_seconds,
                 .p50_ms = at(0.50),
                 .p99_ms = at(0.99)};
}

void Print(const std::string& what, const Figures& figures) {
  std::printf("%-56s %10.1f %10.3f %10.3f\n", what.c_str(), figures.per_second, figures.p50_ms,
              figures.p99_ms);
  std::fflush(stdout);
}

std::string Clients(size_t threads) {
  return std::to_string(threads) + (threads == 1 ? " client" : " clients");
}

// A request made before timing: its target, body and Authorization header.
struct PreparedRequest {
  std::string body;
  std::string authorization;
};

// Runs requests 0..n-1 over `clients` (client t sends requests t, t + clients.size(), ... from
// its own thread, on its own keep-alive connection), timing each; stops at the first failure.
// `expected_status` is what every answer must be.
util::Result<Figures> Measure(
    std::vector<KinkodClient>& clients, size_t n,
    const std::function<util::Result<ApiReply>(KinkodClient&, size_t)>& request,
    int expected_status) {
  const size_t threads = clients.size();
  std::vector<std::vector<double>> latencies(threads);
  std::vector<util::Status> failures(threads, util::OkStatus());
  const Clock::time_point all = Clock::now();
  std::vector<std::thread> workers;
  for (size_t t = 0; t < threads; ++t) {
    workers.emplace_back([&, t] {
      for (size_t i = t; i < n; i += threads) {
        const Clock::time_point start = Clock::now();
        util::Result<ApiReply> reply = request(clients[t], i);
        if (!reply.ok() || reply->status != expected_status) {
          failures[t] = util::InternalError(
              "request " + std::to_string(i) + ": " +
              (reply.ok() ? "HTTP " + std::to_string(reply->status) + " " + reply->text
                          : reply.status().message()));
          return;
        }
        latencies[t].push_back(
            std::chrono::duration<double, std::milli>(Clock::now() - start).count());
      }
    });
  }
  for (std::thread& worker : workers) worker.join();
  const double seconds = std::chrono::duration<double>(Clock::now() - all).count();
  for (const util::Status& failure : failures) {
    if (!failure.ok()) return failure;
  }
  std::vector<double> merged;
  for (const std::vector<double>& part : latencies) {
    merged.insert(merged.end(), part.begin(), part.end());
  }
  return Summarize(std::move(merged), seconds);
}

// The signed intent `seed` paying 10000 + seed % 1000 sat to a foreign address.
policy::SignedIntent BenchIntent(const Actors& actors, uint64_t seed) {
  IntentOptions options;
  options.id_seed = seed;
  return MakeIntent(actors,
                    {{ForeignAddress(static_cast<uint8_t>(seed % 251)),
                      10'000 + static_cast<int64_t>(seed % 1000)}},
                    Deployment::Now(), options);
}

// POST /v1/intents bodies for intents first..first+n-1, signed by the requester now.
std::vector<PreparedRequest> PrepareIntents(KinkodClient& requester, const Actors& actors,
                                            uint64_t first, size_t n) {
  std::vector<PreparedRequest> out;
  out.reserve(n);
  for (size_t i = 0; i < n; ++i) {
    const policy::SignedIntent intent = BenchIntent(actors, first + i);
    std::string body = nlohmann::json{{"signed_intent", util::HexEncode(intent.Encode())}}.dump();
    std::string authorization = requester.Authorization("POST", "/v1/intents", body);
    out.push_back({std::move(body), std::move(authorization)});
  }
  return out;
}

// One backend's run. Returns false (after printing why) on a failure.
bool RunBackend(const std::string& name, const std::string& root, KinkodSettings storage,
                size_t n) {
  std::filesystem::create_directories(root + "/signers");
  util::Result<Deployment> deployment = Deployment::Create(root + "/signers", 3);
  if (!deployment.ok()) {
    std::fprintf(stderr, "setup: %s\n", deployment.status().message().c_str());
    return false;
  }
  std::vector<std::unique_ptr<SignerProcess>> signers;
  for (const std::string& dir : deployment->dirs()) {
    util::Result<std::unique_ptr<SignerProcess>> signer =
        SignerProcess::Start(dir, deployment->passphrase());
    if (!signer.ok()) {
      std::fprintf(stderr, "signer: %s\n", signer.status().message().c_str());
      return false;
    }
    signers.push_back(*std::move(signer));
  }
  const std::string policy_file = root + "/policy.bin";
  const std::vector<uint8_t> policy = DeploymentPolicyEncoding();
  KinkodSettings settings = std::move(storage);
  settings.instance = "kinkod-bench";
  settings.descriptor = deployment->descriptor();
  settings.policy_file = policy_file;
  settings.signers = SignerEntries(*deployment, signers);
  settings.min_confirmations = 0;
  settings.chain_backend = "offline";
  settings.export_dir = root + "/out";
  std::filesystem::create_directories(settings.export_dir);
  const std::string config = root + "/kinkod.toml";
  if (!WriteFile(policy_file, std::string(policy.begin(), policy.end())).ok() ||
      !WriteFile(config, KinkodConfigToml(settings)).ok()) {
    std::fprintf(stderr, "cannot write the configuration in %s\n", root.c_str());
    return false;
  }
  util::Result<std::unique_ptr<KinkodProcess>> kinkod = KinkodProcess::Start(config, root);
  if (!kinkod.ok()) {
    std::fprintf(stderr, "kinkod: %s\n", kinkod.status().message().c_str());
    return false;
  }
  const std::string url = (*kinkod)->url();
  const Actors actors = MakeActors();
  KinkodClient requester = KinkodClient::Create(url, TestIdentityKey(0x29)).value();
  KinkodClient operator_client = KinkodClient::Create(url, OperatorKey()).value();

  const std::string title = name + " (N=" + std::to_string(n) + ")";
  std::printf("%-56s %10s %10s %10s\n", title.c_str(), "per second", "p50 ms", "p99 ms");
  // One keep-alive connection per client thread, used for the baseline and the intents. The
  // key signs nothing timed (the intents' headers are made in advance).
  std::map<size_t, std::vector<KinkodClient>> clients;
  for (const size_t threads : {size_t{1}, size_t{4}}) {
    for (size_t t = 0; t < threads; ++t) {
      clients[threads].push_back(KinkodClient::Create(url, OperatorKey()).value());
    }
  }
  // The baselines first, while the store holds no intent: GET /healthz counts the intents by
  // state (Store::CountIntents), which after 10,000 of them is a scan of the table rather than
  // the HTTP round trip.
  for (const size_t threads : {size_t{1}, size_t{4}}) {
    util::Result<Figures> health = Measure(
        clients[threads], n,
        [](KinkodClient& client, size_t) { return client.GetUnsigned("/healthz"); }, 200);
    if (!health.ok()) {
      std::fprintf(stderr, "%s\n", health.status().message().c_str());
      return false;
    }
    Print("GET /healthz (baseline, empty store), " + Clients(threads), *health);
  }
  for (const size_t threads : {size_t{1}, size_t{4}}) {
    // Intents 1.. for one thread, n+1.. for four: each run submits new intents.
    const uint64_t first = threads == 1 ? 1 : n + 1;
    const std::vector<PreparedRequest> requests = PrepareIntents(requester, actors, first, n);
    util::Result<Figures> accepted = Measure(
        clients[threads], n,
        [&](KinkodClient& client, size_t i) {
          return client.PostSigned("/v1/intents", requests[i].body, requests[i].authorization);
        },
        201);
    if (!accepted.ok()) {
      std::fprintf(stderr, "%s\n%s\n", accepted.status().message().c_str(),
                   (*kinkod)->LogTail().c_str());
      return false;
    }
    Print("POST /v1/intents, signed, " + Clients(threads), *accepted);
  }

  // Batches of 100 approved intents: the time of the execute request, which answers once the
  // transaction is signed, finalized and exported. One coin per batch.
  std::printf("%-56s %10s\n", "execute a 100-intent batch", "seconds");
  for (size_t round = 0; round < kBatchRounds; ++round) {
    const btc::Transaction funding =
        FundingTransaction(deployment->descriptor(), {5'000'000}, static_cast<uint32_t>(round),
                           static_cast<uint32_t>(round));
    util::Result<ApiReply> imported =
        operator_client.Post(std::string(kWalletPath) + "/utxos/import",
                             nlohmann::json{{"raw_tx", util::HexEncode(funding.Serialize())}});
    if (!imported.ok() || imported->status != 200) {
      std::fprintf(stderr, "import: %s\n",
                   imported.ok() ? imported->text.c_str() : imported.status().message().c_str());
      return false;
    }
    // The first intents of the one-thread run: already approved, not yet built.
    std::vector<std::string> ids;
    for (size_t i = 0; i < kBatchIntents; ++i) {
      ids.push_back(
          util::HexEncode(BenchIntent(actors, 1 + round * kBatchIntents + i).intent().fields().id));
    }
    const Clock::time_point start = Clock::now();
    util::Result<ApiReply> executed = operator_client.Post(std::string(kWalletPath) + "/execute",
                                                           nlohmann::json{{"intents", ids}});
    const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
    if (!executed.ok() || executed->status != 200 || executed->body["batches"].size() != 1 ||
        executed->body["batches"][0].value("state", "") != "broadcast") {
      std::fprintf(stderr, "execute: %s\n%s\n",
                   executed.ok() ? executed->text.c_str() : executed.status().message().c_str(),
                   (*kinkod)->LogTail().c_str());
      return false;
    }
    std::printf("%-56s %10.3f\n", ("  batch " + std::to_string(round + 1)).c_str(), seconds);
    std::fflush(stdout);
  }
  (*kinkod)->Stop();
  for (std::unique_ptr<SignerProcess>& signer : signers) signer->Stop();
  return true;
}

int Run(size_t n) {
  const std::string root = MakeScratchDir("kinkod-bench");
  KinkodSettings sqlite;
  sqlite.storage_backend = "sqlite";
  sqlite.storage_path = root + "/sqlite/kinkod.db";
  std::filesystem::create_directories(root + "/sqlite");
  if (!RunBackend("SQLite", root + "/sqlite", sqlite, n)) return 1;
  // The test server runs with fsync=off (test/support/postgres_server.h): its figures leave out
  // the disk flush that the SQLite run includes.
  util::Result<PostgresServer*> server = PostgresServer::Shared();
  if (!server.ok()) {
    std::printf("PostgreSQL: skipped (%s)\n", server.status().message().c_str());
  } else {
    util::Result<std::string> url =
        (*server)->CreateDatabase("kinkod_bench_" + std::to_string(getpid()));
    if (!url.ok()) {
      std::fprintf(stderr, "postgres: %s\n", url.status().message().c_str());
      return 1;
    }
    KinkodSettings postgres;
    postgres.storage_backend = "postgres";
    postgres.storage_url = *url;
    std::filesystem::create_directories(root + "/postgres");
    if (!RunBackend("PostgreSQL (fsync=off)", root + "/postgres", postgres, n)) return 1;
  }
  std::filesystem::remove_all(root);
  return 0;
}

}  // namespace
}  // namespace kinko::testing

int main(int argc, char** argv) {
  const size_t n = argc > 1 ? static_cast<size_t>(std::strtoul(argv[1], nullptr, 10)) : 10000;
  if (n < kinko::testing::kBatchIntents * kinko::testing::kBatchRounds) {
    std::fputs("usage: kinkod_load_bench [N >= 300]\n", stderr);
    return 2;
  }
  return kinko::testing::Run(n);
}
