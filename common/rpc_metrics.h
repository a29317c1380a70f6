#pragma once

#include <array>
#include <atomic>
#include <memory>
#include <shared_mutex>
#include <string>
#include <unordered_map>

#include "absl/strings/string_view.h"
#include "prometheus/counter.h"
#include "prometheus/histogram.h"
#include "prometheus/registry.h"

// Per-method gRPC request counters (by status code) and latency histograms, created on first
// use, and the edge log line of a failed call: recorded by the server bootstrap's interceptor
// and by the gateway's HTTP/2 relay for the calls it forwards.
namespace accord {

class RpcMetrics final {
 public:
  explicit RpcMetrics(prometheus::Registry& registry);

  // One finished call of `method` ("/pkg.Service/Method"): counted under its code, timed, and
  // logged when it failed other than by cancellation. Thread-safe.
  void Record(const std::string& method, int code, absl::string_view message,
              absl::string_view trace_id, double seconds);

  static const char* CodeName(int code);

 private:
  struct Method {
    prometheus::Histogram* latency;
    std::array<std::atomic<prometheus::Counter*>, 17> codes{};
  };
  Method* Get(const std::string& method);
  prometheus::Counter& Count(Method* m, const std::string& method, int code);

  prometheus::Family<prometheus::Counter>& requests_;
  prometheus::Family<prometheus::Histogram>& latency_;
  std::shared_mutex mu_;
  std::unordered_map<std::string, std::unique_ptr<Method>> methods_;
};

}  // namespace accord
