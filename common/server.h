#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "grpcpp/grpcpp.h"
#include "prometheus/registry.h"

#include "common/rpc_metrics.h"
#include "common/tls.h"

namespace prometheus {
class Exposer;
}

// The one server bootstrap of every Accord binary: binds (port 0 works; the bound port is
// logged), grpc.health.v1 per service, reflection, message limits, keepalive policy, RPC
// metrics and edge logging through an interceptor, Prometheus /metrics on the admin port, and
// graceful drain on SIGTERM/SIGINT.
namespace accord {

struct ServerOptions {
  std::string component;                     // "registry", "scoring", "gateway": logs and metrics
  std::string listen;                        // host:port of the gRPC server
  std::string admin_listen;                  // host:port of /metrics; empty = none
  std::vector<std::string> health_services;  // reported by grpc.health.v1
  int max_receive_message_bytes = 4 * 1024 * 1024;
  int max_concurrent_streams = 1000;
  absl::Duration drain_timeout = absl::Seconds(10);
  // Threads of the server's callback executor; 0 = gRPC's default.
  int max_threads = 0;
  // Per-method request counters and latency histograms, and edge logging of failed calls.
  bool rpc_metrics = true;
  // TLS (mTLS with a CA) on the gRPC port; plaintext otherwise, on loopback unless allowed.
  TlsFiles tls;
  bool allow_plaintext = false;
  // host:port of a plaintext server with grpc.health.v1 only, mirroring the main server's
  // statuses: Kubernetes gRPC probes cannot speak TLS. Empty = none.
  std::string health_listen;
  // A front end that owns the public gRPC address and relays to this server (the gateway's
  // HTTP/2 relay): the "listening" log reports its address and port as the gRPC ones, `tls`
  // is the front end's, and this server listens in plaintext on loopback.
  std::string front_listen;
  int front_port = 0;

  // INVALID_ARGUMENT naming the flag for an unusable option.
  absl::Status Validate() const;
};

// Blocks SIGTERM and SIGINT in the calling thread and every thread it creates later, so that
// WaitForShutdownSignal() can receive them. Call first thing in main().
void BlockShutdownSignals();

// True when `host_port`'s host is a loopback IP literal (127.0.0.0/8, "[::1]") or "localhost".
// Host names are never resolved: "127.internal" is not loopback.
bool IsLoopback(const std::string& host_port);

class Server final {
 public:
  explicit Server(ServerOptions options);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // The registry behind /metrics; services add their own families to it.
  prometheus::Registry& metrics() { return *metrics_; }
  // The per-method RPC metrics the interceptor records; null with rpc_metrics off.
  RpcMetrics* rpc_metrics() { return rpc_metrics_.get(); }
  const std::shared_ptr<prometheus::Registry>& metrics_ptr() const { return metrics_; }

  // Adds a service before Start(); not owned, must outlive the server.
  void AddService(grpc::Service* service);
  // Serves every method no added service has (the gateway's forwarding); not owned.
  void SetGenericService(grpc::CallbackGenericService* service) { generic_ = service; }

  // Binds and starts serving; health reports NOT_SERVING until SetServing(true).
  // UNAVAILABLE when a port cannot be bound.
  absl::Status Start();
  int port() const { return port_; }
  // The bound port of ServerOptions::front_listen, once the front end has it (before Start).
  void set_front_port(int port) { options_.front_port = port; }
  int admin_port() const { return admin_port_; }
  int health_port() const { return health_port_; }
  grpc::Server* grpc_server() { return server_.get(); }

  // Sets every health service (and the empty name) to SERVING or NOT_SERVING.
  void SetServing(bool serving);
  void SetServing(const std::string& service, bool serving);

  // Blocks until SIGTERM or SIGINT (see BlockShutdownSignals) or RequestShutdown().
  void WaitForShutdownSignal();
  void RequestShutdown();

  // Drains: health NOT_SERVING, `before_stop` (e.g. end long streams), then Shutdown with the
  // drain deadline (new RPCs refused, running ones finish or are cancelled at the deadline).
  void Shutdown(const std::function<void()>& before_stop = {});

 private:
  ServerOptions options_;
  std::shared_ptr<prometheus::Registry> metrics_;
  std::unique_ptr<RpcMetrics> rpc_metrics_;
  // Stops the /metrics endpoint promptly.
  void StopExposer();

  std::unique_ptr<prometheus::Exposer> exposer_;
  std::vector<grpc::Service*> services_;
  grpc::CallbackGenericService* generic_ = nullptr;
  std::unique_ptr<grpc::Server> server_;
  std::unique_ptr<grpc::Server> health_server_;
  int port_ = 0;
  int health_port_ = 0;
  int admin_port_ = 0;
  std::atomic<bool> shutdown_requested_{false};
  bool stopped_ = false;
};

}  // namespace accord
