// The signer's Prometheus metrics (doc/signer-api.md, "GET /metrics"): the counters and the
// decision-time histogram that the service adds to as it answers, and the text exposition
// (format version 0.0.4) of those and of the gauges the service reads from its state.
//
// Labels never carry request data: endpoints come from a fixed route list (anything else is
// "other"), statuses are integers, results are "signed" or "refused", and reasons are refusal
// codes (a fixed set of snake_case names; anything else is counted as "other").
//
// Thread-safe: the counters are under their own mutex, independent of the service's.
#ifndef KINKO_SIGNERD_INTERNAL_METRICS_H_
#define KINKO_SIGNERD_INTERNAL_METRICS_H_

#include <array>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace kinko::signerd::internal {

// The endpoint labels of kinko_signer_requests_total: the paths of doc/signer-api.md, and
// "other" for any other path.
inline constexpr std::array<std::string_view, 11> kEndpoints = {"/v1/sign",
                                                                "/v1/policy",
                                                                "/v1/freeze",
                                                                "/v1/unfreeze",
                                                                "/v1/status",
                                                                "/v1/audit/head",
                                                                "/v1/audit/proof/inclusion",
                                                                "/v1/audit/proof/consistency",
                                                                "/v1/audit/entries",
                                                                "/healthz",
                                                                "/metrics"};
inline constexpr std::string_view kOtherEndpoint = "other";

// `path` when it is one of kEndpoints, else kOtherEndpoint.
std::string_view EndpointLabel(std::string_view path);

// The upper bounds (seconds) of kinko_signer_decision_seconds's buckets, besides +Inf.
inline constexpr std::array<double, 12> kDecisionBuckets = {
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0};

// A velocity window's gauges: kinko_signer_window_used_sats and kinko_signer_window_limit_sats.
struct WindowGauge {
  std::string wallet;
  uint64_t duration = 0;  // Seconds.
  uint64_t used_sats = 0;
  uint64_t limit_sats = 0;
};

// The gauges, read from the service's state when the metrics are rendered.
struct Gauges {
  bool frozen = false;
  std::vector<WindowGauge> windows;
  uint64_t policy_sequence = 0;
  uint64_t audit_tree_size = 0;
};

// Not copyable or movable (it holds a mutex).
class Metrics final {
 public:
  Metrics();
  Metrics(const Metrics&) = delete;
  Metrics& operator=(const Metrics&) = delete;

  // Counts one answered HTTP request. `endpoint` is mapped with EndpointLabel.
  void CountRequest(std::string_view endpoint, int status);

  // Counts one logged sign decision: signed (`reason` ignored) or refused with refusal code
  // `reason`, which took `seconds` from the decoded request to the committed decision.
  void CountDecision(bool is_signed, std::string_view reason, double seconds);

  // The Prometheus text exposition of every metric: the counters, the histogram and `gauges`.
  std::string Render(const Gauges& gauges) const;

 private:
  struct Histogram {
    std::array<uint64_t, kDecisionBuckets.size()> buckets{};  // Cumulative counts.
    uint64_t count = 0;
    double sum = 0;
  };

  mutable std::mutex mutex_;
  // (endpoint, status) -> count.
  std::map<std::pair<std::string, int>, uint64_t> requests_;
  // (result, reason) -> count.
  std::map<std::pair<std::string, std::string>, uint64_t> decisions_;
  Histogram signed_seconds_;
  Histogram refused_seconds_;
};

}  // namespace kinko::signerd::internal

#endif  // KINKO_SIGNERD_INTERNAL_METRICS_H_
