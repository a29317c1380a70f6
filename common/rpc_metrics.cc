#include "common/rpc_metrics.h"

#include <mutex>

#include "common/log.h"

namespace accord {

RpcMetrics::RpcMetrics(prometheus::Registry& registry)
    : requests_(prometheus::BuildCounter()
                    .Name("accord_grpc_requests_total")
                    .Help("gRPC requests handled, by method and status code")
                    .Register(registry)),
      latency_(prometheus::BuildHistogram()
                   .Name("accord_grpc_request_duration_seconds")
                   .Help("gRPC request latency, by method")
                   .Register(registry)) {}

RpcMetrics::Method* RpcMetrics::Get(const std::string& method) {
  {
    std::shared_lock lock(mu_);
    auto it = methods_.find(method);
    if (it != methods_.end()) {
      return it->second.get();
    }
  }
  std::unique_lock lock(mu_);
  auto& slot = methods_[method];
  if (!slot) {
    slot = std::make_unique<Method>();
    slot->latency = &latency_.Add(
        {{"method", method}},
        prometheus::Histogram::BucketBoundaries{0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01,
                                                0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5});
  }
  return slot.get();
}

prometheus::Counter& RpcMetrics::Count(Method* m, const std::string& method, int code) {
  if (code < 0 || code > 16) {
    code = 2;
  }
  prometheus::Counter* counter = m->codes[code].load(std::memory_order_acquire);
  if (counter == nullptr) {
    std::unique_lock lock(mu_);
    counter = &requests_.Add({{"method", method}, {"code", CodeName(code)}});
    m->codes[code].store(counter, std::memory_order_release);
  }
  return *counter;
}

void RpcMetrics::Record(const std::string& method, int code, absl::string_view message,
                        absl::string_view trace_id, double seconds) {
  Method* m = Get(method);
  m->latency->Observe(seconds);
  Count(m, method, code).Increment();
  if (code != 0 && code != 1) {  // OK and CANCELLED are not failures of the service
    Log(LogLevel::kInfo, "rpc failed",
        {{"method", method},
         {"code", CodeName(code)},
         {"error", std::string(message)},
         {"trace_id", std::string(trace_id)},
         {"duration_ms", seconds * 1000}});
  }
}

const char* RpcMetrics::CodeName(int code) {
  static constexpr std::array<const char*, 17> kNames = {"OK",
                                                         "CANCELLED",
                                                         "UNKNOWN",
                                                         "INVALID_ARGUMENT",
                                                         "DEADLINE_EXCEEDED",
                                                         "NOT_FOUND",
                                                         "ALREADY_EXISTS",
                                                         "PERMISSION_DENIED",
                                                         "RESOURCE_EXHAUSTED",
                                                         "FAILED_PRECONDITION",
                                                         "ABORTED",
                                                         "OUT_OF_RANGE",
                                                         "UNIMPLEMENTED",
                                                         "INTERNAL",
                                                         "UNAVAILABLE",
                                                         "DATA_LOSS",
                                                         "UNAUTHENTICATED"};
  return code >= 0 && code <= 16 ? kNames[code] : "UNKNOWN";
}

}  // namespace accord
