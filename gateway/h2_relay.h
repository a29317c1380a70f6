#pragma once

#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/time/time.h"

#include "common/rpc_metrics.h"
#include "common/tls.h"
#include "gateway/gate.h"

// The gRPC front end: an HTTP/2 relay (libnghttp2, OpenSSL for TLS) that forwards the frames
// of every registry and scoring call to a backend connection after the gate admits it,
// without a gRPC call object on either side. Everything else (health, reflection, the gateway's own
// service, unknown methods) is relayed unchanged to the gateway's own gRPC server on loopback.
// docs/gateway.md, "The gRPC front end", describes what it checks and why.
namespace accord::gateway {

struct RelayOptions {
  std::string listen;    // the public gRPC address, HOST:PORT (port 0: any)
  std::string registry;  // backends, HOST:PORT (DNS: every address, round robin)
  std::string scoring;
  TlsFiles server_tls;   // enabled: clients speak TLS (mTLS with a CA)
  TlsFiles backend_tls;  // with a CA: TLS to the backends (the gateway's own server: never)
  int max_concurrent_streams = 100;            // per client connection
  size_t max_header_bytes = 16 * 1024;         // a request's headers, names and values
  size_t max_message_bytes = 4 * 1024 * 1024;  // one gRPC message of a request
  absl::Duration connect_timeout = absl::Seconds(5);
  absl::Duration keepalive_time = absl::Seconds(30);     // a backend connection quiet this long
  absl::Duration keepalive_timeout = absl::Seconds(10);  // is PINGed, and closed without answer
  absl::Duration handshake_timeout = absl::Seconds(10);  // client preface and settings
  absl::Duration idle_timeout = absl::Minutes(5);        // a client connection with no calls
};

class H2Relay final {
 public:
  // Backend calls are recorded in `rpc_metrics` (null: not at all), as the gRPC server's
  // interceptor records the calls it serves.
  H2Relay(Gate& gate, RelayOptions options, RpcMetrics* rpc_metrics);
  ~H2Relay();
  H2Relay(const H2Relay&) = delete;
  H2Relay& operator=(const H2Relay&) = delete;

  // Binds the public address: UNAVAILABLE when it cannot.
  absl::Status Listen();
  int port() const;
  // Starts relaying, to `internal` (HOST:PORT of the gateway's own gRPC server) for what is
  // not a backend method.
  void Start(const std::string& internal);
  // Stops accepting, tells clients to go away (GOAWAY), lets running calls finish for up to
  // `grace`, then closes every connection.
  void Shutdown(absl::Duration grace);

  class Loop;

 private:
  std::unique_ptr<Loop> loop_;
};

}  // namespace accord::gateway
