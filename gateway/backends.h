#pragma once

#include <atomic>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "absl/status/statusor.h"
#include "grpcpp/grpcpp.h"
#include "prometheus/registry.h"

#include "common/server.h"
#include "common/tls.h"
#include "gateway/gate.h"

// Channels to the registry and scoring backends (round_robin over DNS, keepalive, TLS/mTLS)
// and a health poller that publishes each backend's status.
namespace accord::gateway {

struct BackendOptions {
  std::string registry = "127.0.0.1:7401";
  std::string scoring = "127.0.0.1:7402";
  TlsFiles tls;  // with a CA: TLS to the backends (mTLS with cert and key)
  bool allow_plaintext = false;
};

// Installs a stub per backend into `gate`. INVALID_ARGUMENT / FAILED_PRECONDITION for
// unusable TLS options or plaintext to a non-loopback backend without --allow_plaintext.
absl::Status ConnectBackends(const BackendOptions& options, Gate& gate);

// Every 2 s asks each backend's grpc.health.v1 for its service; exports
// accord_gateway_backend_up{backend} and reports the backend's service name on the gateway's
// own health service (the gateway itself stays SERVING while a backend is down).
class BackendHealth final {
 public:
  BackendHealth(Gate& gate, Server& server, prometheus::Registry& metrics);
  ~BackendHealth();
  void Start();
  void Stop();

 private:
  void Run();
  bool Check(Backend backend);

  Gate& gate_;
  Server& server_;
  prometheus::Family<prometheus::Gauge>& up_;
  std::thread thread_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;
};

}  // namespace accord::gateway
