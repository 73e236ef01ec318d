// signer_http_bench [N]: the throughput of one `kinko-signer` process over loopback HTTP.
// Starts a signer (test/signer/signer_setup.h), sends N (default 1000) valid sign requests one
// after the other (each decided, logged with fsync and signed), then N GET /healthz requests as
// the baseline (the HTTP round trip alone), and prints requests per second and the p50 and p99
// latencies of both; first over one keep-alive connection (as a coordinator keeps one), then
// with a new connection per request. The requests are built before the clock starts.
#include <httplib.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <string>
#include <vector>

#include "signerapi/json_codec.h"
#include "test/signer/signer_process.h"
#include "test/signer/signer_setup.h"

namespace kinko::testing {
namespace {

using Clock = std::chrono::steady_clock;

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

// Runs `request` for 0..n-1, one after the other, timing each; stops at the first failure.
util::Result<Figures> Measure(size_t n, const std::function<util::Status(size_t)>& request) {
  std::vector<double> latencies_ms;
  const Clock::time_point all = Clock::now();
  for (size_t i = 0; i < n; ++i) {
    const Clock::time_point start = Clock::now();
    if (util::Status s = request(i); !s.ok()) return s.WithPrefix("request " + std::to_string(i));
    latencies_ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - start).count());
  }
  return Summarize(latencies_ms, std::chrono::duration<double>(Clock::now() - all).count());
}

void Print(const std::string& what, const Figures& figures) {
  std::printf("%-40s %10.1f %10.3f %10.3f\n", what.c_str(), figures.per_second, figures.p50_ms,
              figures.p99_ms);
}

int Run(size_t n) {
  const std::string root = MakeScratchDir("http-bench");
  util::Result<Deployment> deployment = Deployment::Create(root, /*signers=*/1);
  if (!deployment.ok()) {
    std::fprintf(stderr, "setup: %s\n", deployment.status().message().c_str());
    return 1;
  }
  // Requests 0..n-1 go over one keep-alive connection, n..2n-1 over a new connection each.
  std::vector<std::string> bodies;
  for (size_t i = 0; i < 2 * n; ++i) {
    bodies.push_back(signerapi::EncodeSignRequest(deployment->MakeSignRequest(i).request));
  }
  util::Result<std::unique_ptr<SignerProcess>> signer =
      SignerProcess::Start(deployment->dirs()[0], deployment->passphrase());
  if (!signer.ok()) {
    std::fprintf(stderr, "start: %s\n", signer.status().message().c_str());
    return 1;
  }
  const std::string url = (*signer)->url();
  const std::string title = "requests (N=" + std::to_string(n) + ")";
  std::printf("%-40s %10s %10s %10s\n", title.c_str(), "per second", "p50 ms", "p99 ms");
  for (const bool keep_alive : {true, false}) {
    httplib::Client client(url);
    client.set_keep_alive(keep_alive);
    client.set_tcp_nodelay(true);
    client.set_read_timeout(60, 0);
    const std::string connection = keep_alive ? "one connection" : "new connections";
    const size_t first = keep_alive ? 0 : n;
    util::Result<Figures> sign = Measure(n, [&](size_t i) -> util::Status {
      httplib::Result res = client.Post("/v1/sign", bodies[first + i], "application/json");
      if (!res) return util::UnavailableError(httplib::to_string(res.error()));
      if (res->status != 200) {
        return util::InternalError("HTTP " + std::to_string(res->status) + " " + res->body);
      }
      return util::OkStatus();
    });
    util::Result<Figures> health = Measure(n, [&](size_t) -> util::Status {
      httplib::Result res = client.Get("/healthz");
      if (!res || res->status != 200) return util::UnavailableError("GET /healthz failed");
      return util::OkStatus();
    });
    if (!sign.ok() || !health.ok()) {
      std::fprintf(stderr, "%s\n",
                   (!sign.ok() ? sign.status() : health.status()).message().c_str());
      return 1;
    }
    Print("POST /v1/sign, signed, " + connection, *sign);
    Print("GET /healthz (baseline), " + connection, *health);
  }
  (*signer)->Stop();
  return 0;
}

}  // namespace
}  // namespace kinko::testing

int main(int argc, char** argv) {
  const size_t n = argc > 1 ? static_cast<size_t>(std::strtoul(argv[1], nullptr, 10)) : 1000;
  if (n == 0) {
    std::fputs("usage: signer_http_bench [N > 0]\n", stderr);
    return 2;
  }
  return kinko::testing::Run(n);
}
