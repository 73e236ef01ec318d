#include "signerd/internal/metrics.h"

#include <algorithm>
#include <cstdio>
#include <string>

namespace kinko::signerd::internal {
namespace {

// A refusal code as DecideSign makes them: 1..64 bytes of [a-z0-9_]. Anything else would be a
// bug upstream; it is counted as "other" so that no label can carry arbitrary text.
bool IsRefusalCode(std::string_view code) {
  if (code.empty() || code.size() > 64) return false;
  return std::all_of(code.begin(), code.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
  });
}

// A float as Prometheus reads it; %.17g keeps every bit of a double.
std::string FormatDouble(double value) {
  char buffer[32];
  std::snprintf(buffer, sizeof(buffer), "%.17g", value);
  return buffer;
}

// A bucket bound as written in "le": the shortest form ("0.005", "1", "10").
std::string FormatBound(double value) {
  char buffer[32];
  std::snprintf(buffer, sizeof(buffer), "%g", value);
  return buffer;
}

void AppendHeader(std::string& out, std::string_view name, std::string_view type,
                  std::string_view help) {
  out.append("# HELP ").append(name).append(" ").append(help).append("\n");
  out.append("# TYPE ").append(name).append(" ").append(type).append("\n");
}

// Label values here are route names, integers, snake_case codes and the pinned wallet id
// (policy::IsValidWalletId); the exposition format's escapes are applied anyway.
std::string EscapeLabel(std::string_view value) {
  std::string out;
  for (char c : value) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '"') {
      out += "\\\"";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

}  // namespace

std::string_view EndpointLabel(std::string_view path) {
  for (std::string_view endpoint : kEndpoints) {
    if (endpoint == path) return endpoint;
  }
  return kOtherEndpoint;
}

Metrics::Metrics() = default;

void Metrics::CountRequest(std::string_view endpoint, int status) {
  const std::string label(EndpointLabel(endpoint));
  std::lock_guard<std::mutex> lock(mutex_);
  ++requests_[{label, status}];
}

void Metrics::CountDecision(bool is_signed, std::string_view reason, double seconds) {
  const std::string result = is_signed ? "signed" : "refused";
  const std::string reason_label =
      is_signed ? "" : (IsRefusalCode(reason) ? std::string(reason) : "other");
  std::lock_guard<std::mutex> lock(mutex_);
  ++decisions_[{result, reason_label}];
  Histogram& histogram = is_signed ? signed_seconds_ : refused_seconds_;
  for (size_t i = 0; i < kDecisionBuckets.size(); ++i) {
    if (seconds <= kDecisionBuckets[i]) ++histogram.buckets[i];
  }
  ++histogram.count;
  histogram.sum += seconds;
}

std::string Metrics::Render(const Gauges& gauges) const {
  std::string out;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    AppendHeader(out, "kinko_signer_decisions_total", "counter", "Sign decisions logged.");
    for (const auto& [labels, count] : decisions_) {
      out.append("kinko_signer_decisions_total{result=\"")
          .append(labels.first)
          .append("\",reason=\"")
          .append(EscapeLabel(labels.second))
          .append("\"} ")
          .append(std::to_string(count))
          .append("\n");
    }

    AppendHeader(out, "kinko_signer_decision_seconds", "histogram",
                 "Time from a decoded sign request to its logged decision.");
    for (const auto& [result, histogram] :
         {std::pair<std::string_view, const Histogram&>{"signed", signed_seconds_},
          std::pair<std::string_view, const Histogram&>{"refused", refused_seconds_}}) {
      const std::string prefix =
          "kinko_signer_decision_seconds_bucket{result=\"" + std::string(result) + "\",le=\"";
      for (size_t i = 0; i < kDecisionBuckets.size(); ++i) {
        out.append(prefix)
            .append(FormatBound(kDecisionBuckets[i]))
            .append("\"} ")
            .append(std::to_string(histogram.buckets[i]))
            .append("\n");
      }
      out.append(prefix).append("+Inf\"} ").append(std::to_string(histogram.count)).append("\n");
      out.append("kinko_signer_decision_seconds_sum{result=\"")
          .append(result)
          .append("\"} ")
          .append(FormatDouble(histogram.sum))
          .append("\n");
      out.append("kinko_signer_decision_seconds_count{result=\"")
          .append(result)
          .append("\"} ")
          .append(std::to_string(histogram.count))
          .append("\n");
    }

    AppendHeader(out, "kinko_signer_requests_total", "counter",
                 "HTTP requests answered, by endpoint and status.");
    for (const auto& [labels, count] : requests_) {
      out.append("kinko_signer_requests_total{endpoint=\"")
          .append(EscapeLabel(labels.first))
          .append("\",status=\"")
          .append(std::to_string(labels.second))
          .append("\"} ")
          .append(std::to_string(count))
          .append("\n");
    }
  }

  AppendHeader(out, "kinko_signer_frozen", "gauge", "1 when the signer is frozen.");
  out.append("kinko_signer_frozen ").append(gauges.frozen ? "1" : "0").append("\n");

  AppendHeader(out, "kinko_signer_window_used_sats", "gauge",
               "Satoshi spent within the rolling window.");
  for (const WindowGauge& window : gauges.windows) {
    out.append("kinko_signer_window_used_sats{wallet=\"")
        .append(EscapeLabel(window.wallet))
        .append("\",window=\"")
        .append(std::to_string(window.duration))
        .append("\"} ")
        .append(std::to_string(window.used_sats))
        .append("\n");
  }
  AppendHeader(out, "kinko_signer_window_limit_sats", "gauge",
               "The policy's limit for the rolling window, in satoshi.");
  for (const WindowGauge& window : gauges.windows) {
    out.append("kinko_signer_window_limit_sats{wallet=\"")
        .append(EscapeLabel(window.wallet))
        .append("\",window=\"")
        .append(std::to_string(window.duration))
        .append("\"} ")
        .append(std::to_string(window.limit_sats))
        .append("\n");
  }

  AppendHeader(out, "kinko_signer_policy_sequence", "gauge", "Sequence of the policy in force.");
  out.append("kinko_signer_policy_sequence ")
      .append(std::to_string(gauges.policy_sequence))
      .append("\n");
  AppendHeader(out, "kinko_signer_audit_tree_size", "gauge", "Entries in the audit log.");
  out.append("kinko_signer_audit_tree_size ")
      .append(std::to_string(gauges.audit_tree_size))
      .append("\n");
  return out;
}

}  // namespace kinko::signerd::internal
