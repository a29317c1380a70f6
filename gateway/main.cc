// accord-gateway: wiring only. Flags -> catalog -> gate -> backends -> gRPC and HTTP fronts.
#include <algorithm>
#include <iostream>
#include <optional>
#include <thread>

#include "CLI/CLI.hpp"
#include "absl/strings/str_cat.h"

#include "common/call_auth.h"
#include "common/log.h"
#include "common/server.h"
#include "frontdoor/fronted_server.h"
#include "frontdoor/h2_relay.h"
#include "gateway/backends.h"
#include "gateway/catalog.h"
#include "gateway/gate.h"
#include "gateway/http_rules.h"
#include "gateway/http_server.h"
#include "gateway/listed_service.h"

namespace {

struct Options {
  std::string listen = "127.0.0.1:7400";
  std::string http_listen = "127.0.0.1:7480";
  std::string console_dir;  // the built review console; empty: not served
  std::string health_listen;
  std::string admin_listen = "127.0.0.1:9400";
  accord::gateway::BackendOptions backends;
  accord::SecurityOptions security;
  accord::gateway::GateOptions gate;
  double default_deadline_seconds = 5;
  double max_deadline_seconds = 30;
  int http_threads = 0;
  bool rpc_metrics = true;
  int relay_threads = 0;
};

int Run(Options& o) {
  using namespace accord;
  using namespace accord::gateway;
  SetLogComponent("gateway");
  absl::StatusOr<Authenticators> keys = LoadAuthenticators(o.security, o.listen);
  if (!keys.ok()) {
    Log(LogLevel::kError, "cannot authenticate callers", {{"error", keys.status().ToString()}});
    return 2;
  }
  absl::StatusOr<Catalog> catalog = Catalog::Build();
  if (!catalog.ok()) {
    Log(LogLevel::kError, "no service descriptors", {{"error", catalog.status().ToString()}});
    return 1;
  }
  absl::StatusOr<Router> router = Router::Build(*catalog);
  if (!router.ok()) {
    Log(LogLevel::kError, "bad HTTP rules", {{"error", router.status().ToString()}});
    return 1;
  }

  ServerOptions server_options;
  server_options.component = "gateway";
  server_options.listen = o.listen;
  server_options.admin_listen = o.admin_listen;
  server_options.health_listen = o.health_listen;
  server_options.health_services = {"accord.gateway.v1.Gateway"};
  server_options.tls = o.security.tls;
  server_options.allow_plaintext = o.security.allow_plaintext;
  server_options.max_concurrent_streams = 100;
  server_options.rpc_metrics = o.rpc_metrics;
  // The HTTP/2 relay owns the public address (and its TLS) and relays what is not a backend
  // method to the gRPC server, which then listens on loopback only, in plaintext.
  FrontedServer::PutBehindFront(server_options);
  if (absl::Status s = server_options.Validate(); !s.ok()) {
    Log(LogLevel::kError, "invalid options", {{"error", s.ToString()}});
    return 2;
  }
  if (absl::Status s = CheckPlaintext("--http_listen", o.http_listen, o.security.allow_plaintext);
      !s.ok()) {
    Log(LogLevel::kError, "invalid options", {{"error", s.ToString()}});
    return 2;
  }
  o.gate.default_deadline = absl::Seconds(o.default_deadline_seconds);
  o.gate.max_deadline = absl::Seconds(o.max_deadline_seconds);
  Server server(server_options);
  CallAuthorizer authorizer(*std::move(keys));
  Gate gate(*catalog, authorizer, o.gate, server.metrics());
  o.backends.tls = o.security.tls;
  o.backends.allow_plaintext = o.security.allow_plaintext;
  if (absl::Status s = ConnectBackends(o.backends, gate); !s.ok()) {
    Log(LogLevel::kError, "invalid backend options", {{"error", s.ToString()}});
    return 2;
  }
  // The backend services are listed for reflection; the front door relays their calls.
  std::vector<std::unique_ptr<ListedService>> listed;
  for (const std::string& service : catalog->services()) {
    listed.push_back(std::make_unique<ListedService>(*catalog, service));
    server.AddService(listed.back().get());
  }
  GateRoutes routes(gate);
  // An event loop per CPU (unless set): client connections are dealt to them in turn.
  RelayOptions relay_options = FrontedServer::FrontOptions(server_options, o.relay_threads);
  relay_options.backends = {{"registry", o.backends.registry}, {"scoring", o.backends.scoring}};
  relay_options.backend_tls = o.backends.tls;
  absl::StatusOr<std::unique_ptr<H2Relay>> started =
      FrontedServer::Start(server, routes, std::move(relay_options));
  if (!started.ok()) {
    Log(LogLevel::kError, "cannot start", {{"error", started.status().ToString()}});
    return 1;
  }
  std::unique_ptr<H2Relay> relay = *std::move(started);
  HttpOptions http_options;
  http_options.listen = o.http_listen;
  http_options.threads = o.http_threads;
  std::optional<ConsoleFiles> console;
  if (!o.console_dir.empty()) {
    absl::StatusOr<ConsoleFiles> loaded = ConsoleFiles::Load(o.console_dir);
    if (!loaded.ok()) {
      Log(LogLevel::kError, "cannot load the console", {{"error", loaded.status().ToString()}});
      return 1;
    }
    console = *std::move(loaded);
    http_options.console = &*console;
  }
  HttpServer http(gate, *relay, *router, http_options);
  if (absl::Status s = http.Start(); !s.ok()) {
    Log(LogLevel::kError, "cannot start HTTP", {{"error", s.ToString()}});
    return 1;
  }
  BackendHealth health(gate, server, server.metrics());
  server.SetServing(true);
  health.Start();
  Log(LogLevel::kInfo, "gateway ready",
      {{"registry", o.backends.registry},
       {"scoring", o.backends.scoring},
       {"http_port", http.port()},
       {"methods", static_cast<int64_t>(catalog->methods().size())},
       {"routes", static_cast<int64_t>(router->routes().size())}});
  server.WaitForShutdownSignal();
  health.Stop();
  http.Stop();
  relay->Shutdown(absl::Seconds(10));
  server.Shutdown();
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  accord::BlockShutdownSignals();
  Options o;
  CLI::App app{"accord-gateway: the one front door (gRPC and HTTP/JSON) to registry and scoring"};
  // A later flag overrides an earlier one (scripts append overrides).
  app.option_defaults()->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);
  app.add_option("--listen", o.listen, "gRPC address HOST:PORT")
      ->envname("ACCORD_GATEWAY_LISTEN")
      ->capture_default_str();
  app.add_option("--http_listen", o.http_listen, "HTTP/JSON address HOST:PORT")
      ->envname("ACCORD_GATEWAY_HTTP_LISTEN")
      ->capture_default_str();
  app.add_option("--health_listen", o.health_listen,
                 "plaintext grpc.health.v1-only address (Kubernetes probes when --listen is TLS)")
      ->envname("ACCORD_GATEWAY_HEALTH_LISTEN");
  app.add_option("--admin_listen", o.admin_listen, "Prometheus /metrics address")
      ->envname("ACCORD_GATEWAY_ADMIN_LISTEN")
      ->capture_default_str();
  app.add_option("--registry", o.backends.registry, "registry HOST:PORT (DNS: all addresses)")
      ->envname("ACCORD_GATEWAY_REGISTRY")
      ->capture_default_str();
  app.add_option("--scoring", o.backends.scoring, "scoring HOST:PORT (DNS: all addresses)")
      ->envname("ACCORD_GATEWAY_SCORING")
      ->capture_default_str();
  accord::AddSecurityFlags(app, o.security);
  app.add_option("--quota_rps", o.gate.quota.rate_per_second, "requests per second per caller")
      ->check(CLI::Range(0.001, 1e9))
      ->envname("ACCORD_GATEWAY_QUOTA_RPS")
      ->capture_default_str();
  app.add_option("--quota_burst", o.gate.quota.burst, "burst per caller")
      ->check(CLI::Range(1.0, 1e9))
      ->envname("ACCORD_GATEWAY_QUOTA_BURST")
      ->capture_default_str();
  app.add_option("--max_in_flight", o.gate.max_in_flight, "unary calls at once")
      ->check(CLI::Range(1, 1000000))
      ->envname("ACCORD_GATEWAY_MAX_IN_FLIGHT")
      ->capture_default_str();
  app.add_option("--max_streams", o.gate.max_streams, "streaming calls at once")
      ->check(CLI::Range(1, 1000000))
      ->envname("ACCORD_GATEWAY_MAX_STREAMS")
      ->capture_default_str();
  app.add_option("--principal_share", o.gate.principal_share,
                 "the share of --max_in_flight and of --max_streams one principal may hold")
      ->check(CLI::Range(0.01, 1.0))
      ->envname("ACCORD_GATEWAY_PRINCIPAL_SHARE")
      ->capture_default_str();
  app.add_option("--default_deadline", o.default_deadline_seconds,
                 "seconds given to unary calls without a deadline")
      ->check(CLI::Range(0.01, 3600.0))
      ->capture_default_str();
  app.add_option("--max_deadline", o.max_deadline_seconds, "cap on unary deadlines, seconds")
      ->check(CLI::Range(0.01, 3600.0))
      ->capture_default_str();
  app.add_option("--console_dir", o.console_dir,
                 "serve the review console built here (build/console) at /console/")
      ->envname("ACCORD_GATEWAY_CONSOLE_DIR");
  app.add_option("--http_threads", o.http_threads,
                 "HTTP/JSON event loops of its own, connections dealt in turn (0: the gRPC "
                 "front end's loops, each request made on one thread)")
      ->check(CLI::Range(0, 64))
      ->capture_default_str();
  app.add_flag("!--no_rpc_metrics", o.rpc_metrics, "skip per-method metrics (benchmarks)");
  app.add_option("--relay_threads", o.relay_threads,
                 "event loops of the relay, client connections dealt in turn (0: one per CPU)")
      ->envname("ACCORD_GATEWAY_RELAY_THREADS")
      ->check(CLI::Range(0, 256))
      ->capture_default_str();
  CLI11_PARSE(app, argc, argv);
  return Run(o);
}
