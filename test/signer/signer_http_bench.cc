// signer_http_bench [N]: the throughput of one `kinko-signer` process over loopback HTTP.
// Starts a signer (test/signer/signer_setup.h), sends N (default 1000) valid sign requests one
// after the other (each decided, logged with fsync and signed), then N GET /healthz requests as
// the baseline (the HTTP round trip alone), and prints requests per second and the p50 and p99
// latencies of both. The requests are built before the clock starts.
#include <httplib.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
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

int Run(size_t n) {
  const std::string root = MakeScratchDir("http-bench");
  util::Result<Deployment> deployment = Deployment::Create(root, /*signers=*/1);
  if (!deployment.ok()) {
    std::fprintf(stderr, "setup: %s\n", deployment.status().message().c_str());
    return 1;
  }
  std::vector<std::string> bodies;
  for (size_t i = 0; i < n; ++i) {
    bodies.push_back(signerapi::EncodeSignRequest(deployment->MakeSignRequest(i).request));
  }
  util::Result<std::unique_ptr<SignerProcess>> signer =
      SignerProcess::Start(deployment->dirs()[0], deployment->passphrase());
  if (!signer.ok()) {
    std::fprintf(stderr, "start: %s\n", signer.status().message().c_str());
    return 1;
  }
  httplib::Client client((*signer)->url());  // One keep-alive connection, as a coordinator.
  client.set_keep_alive(true);
  client.set_read_timeout(60, 0);

  std::vector<double> sign_ms;
  const Clock::time_point sign_start = Clock::now();
  for (const std::string& body : bodies) {
    const Clock::time_point start = Clock::now();
    httplib::Result res = client.Post("/v1/sign", body, "application/json");
    sign_ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - start).count());
    if (!res || res->status != 200) {
      std::fprintf(stderr, "sign request %zu: %s\n", sign_ms.size() - 1,
                   res ? (std::to_string(res->status) + " " + res->body).c_str()
                       : httplib::to_string(res.error()).c_str());
      return 1;
    }
  }
  const double sign_seconds = std::chrono::duration<double>(Clock::now() - sign_start).count();

  std::vector<double> health_ms;
  const Clock::time_point health_start = Clock::now();
  for (size_t i = 0; i < n; ++i) {
    const Clock::time_point start = Clock::now();
    httplib::Result res = client.Get("/healthz");
    health_ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - start).count());
    if (!res || res->status != 200) {
      std::fprintf(stderr, "GET /healthz failed\n");
      return 1;
    }
  }
  const double health_seconds = std::chrono::duration<double>(Clock::now() - health_start).count();
  (*signer)->Stop();

  const Figures sign = Summarize(sign_ms, sign_seconds);
  const Figures health = Summarize(health_ms, health_seconds);
  const std::string title = "requests (N=" + std::to_string(n) + ")";
  std::printf("%-28s %10s %10s %10s\n", title.c_str(), "per second", "p50 ms", "p99 ms");
  std::printf("%-28s %10.1f %10.3f %10.3f\n", "POST /v1/sign (signed)", sign.per_second,
              sign.p50_ms, sign.p99_ms);
  std::printf("%-28s %10.1f %10.3f %10.3f\n", "GET /healthz (baseline)", health.per_second,
              health.p50_ms, health.p99_ms);
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
