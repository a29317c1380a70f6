// accord-registry: wiring only. Flags -> options -> storage -> hub -> domain -> service.
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <optional>

#include "CLI/CLI.hpp"
#include "absl/strings/match.h"
#include "prometheus/gauge.h"

#include "common/call_auth.h"
#include "common/executor.h"
#include "common/log.h"
#include "common/server.h"
#include "common/status.h"
#include "frontdoor/fronted_server.h"
#include "frontdoor/h2_relay.h"
#include "registry/registry.h"
#include "registry/registry_front.h"
#include "registry/registry_service.h"
#include "registry/storage/postgres_definition_store.h"
#include "registry/storage/sqlite_definition_store.h"
#include "registry/verdicts.h"

namespace {

struct Options {
  std::string listen = "127.0.0.1:7401";
  std::string health_listen;
  std::string admin_listen = "127.0.0.1:9401";
  std::string store = "sqlite:var/registry.db";
  accord::SecurityOptions security;
  int executor_threads = 4;
  int front_threads = 0;
  int64_t change_retention = 100000;
  int verdict_retention_days = 0;  // 0: verdicts are kept
  double poll_interval_seconds = 1.0;
  int pg_connections = 4;
  bool allow_unsafe_durability = false;
};

// The --store value without a password ("postgres://app:secret@db/x" -> "postgres://app@db/x").
std::string RedactedStore(const std::string& store) {
  size_t scheme = store.find("://");
  size_t at = store.find('@');
  if (scheme == std::string::npos || at == std::string::npos || at < scheme) {
    return store;
  }
  size_t colon = store.find(':', scheme + 3);
  return colon != std::string::npos && colon < at ? store.substr(0, colon) + store.substr(at)
                                                  : store;
}

// --store: sqlite:PATH (one replica) or postgres://... / postgresql://... (any number).
absl::StatusOr<std::unique_ptr<accord::registry::DefinitionStore>> OpenStore(const Options& o) {
  using namespace accord::registry;
  if (absl::StartsWith(o.store, "postgres://") || absl::StartsWith(o.store, "postgresql://")) {
    PostgresStoreOptions options;
    options.dsn = o.store;
    options.connections = o.pg_connections;
    options.allow_unsafe_durability = o.allow_unsafe_durability;
    ACCORD_ASSIGN_OR_RETURN(std::unique_ptr<PostgresDefinitionStore> pg,
                            PostgresDefinitionStore::Open(options));
    return std::unique_ptr<DefinitionStore>(std::move(pg));
  }
  if (!absl::StartsWith(o.store, "sqlite:")) {
    return absl::InvalidArgumentError(
        "--store: expected sqlite:PATH or postgres://USER@HOST:PORT/DB");
  }
  std::string path = o.store.substr(7);
  std::filesystem::path parent = std::filesystem::path(path).parent_path();
  if (!parent.empty()) {
    std::error_code ec;
    std::filesystem::create_directories(parent, ec);
  }
  ACCORD_ASSIGN_OR_RETURN(std::unique_ptr<SqliteDefinitionStore> sqlite,
                          SqliteDefinitionStore::Open(path));
  return std::unique_ptr<DefinitionStore>(std::move(sqlite));
}

int Run(const Options& o) {
  using namespace accord;
  using namespace accord::registry;
  SetLogComponent("registry");
  absl::StatusOr<Authenticators> keys = LoadAuthenticators(o.security, o.listen);
  if (!keys.ok()) {
    Log(LogLevel::kError, "cannot authenticate callers", {{"error", keys.status().ToString()}});
    return 2;
  }
  absl::StatusOr<std::unique_ptr<DefinitionStore>> store = OpenStore(o);
  if (!store.ok()) {
    Log(LogLevel::kError, "cannot open the store", {{"error", store.status().ToString()}});
    return store.status().code() == absl::StatusCode::kInvalidArgument ? 2 : 1;
  }

  ServerOptions server_options;
  server_options.component = "registry";
  server_options.listen = o.listen;
  server_options.admin_listen = o.admin_listen;
  server_options.health_listen = o.health_listen;
  server_options.health_services = {"accord.registry.v1.Registry"};
  server_options.tls = o.security.tls;
  server_options.allow_plaintext = o.security.allow_plaintext;
  // The HTTP/2 front end owns the public address (and its TLS), answers GetDefinition and the
  // watches itself, and relays the other methods to the gRPC server on loopback.
  FrontedServer::PutBehindFront(server_options);
  if (absl::Status s = server_options.Validate(); !s.ok()) {
    Log(LogLevel::kError, "invalid options", {{"error", s.ToString()}});
    return 2;
  }
  Server server(server_options);
  auto& watchers = prometheus::BuildGauge()
                       .Name("accord_registry_watchers")
                       .Help("open WatchDefinitions streams")
                       .Register(server.metrics())
                       .Add({});
  auto& sequence = prometheus::BuildGauge()
                       .Name("accord_registry_store_sequence")
                       .Help("the store sequence applied by this replica")
                       .Register(server.metrics())
                       .Add({});
  WatchHubOptions hub_options;
  hub_options.poll_interval = absl::Seconds(o.poll_interval_seconds);
  hub_options.watchers_gauge = &watchers;
  hub_options.sequence_gauge = &sequence;
  // Watches are answered by the front end: a change wakes each of its loops once.
  hub_options.around_fan_out = [](const std::function<void()>& fan_out) {
    H2Relay::PushBatch batch;
    fan_out();
  };
  WatchHub hub(**store, hub_options);
  (*store)->SetChangeListener([&hub] { hub.Notify(); });
  if (absl::Status s = hub.Start(); !s.ok()) {
    Log(LogLevel::kError, "cannot load the store", {{"error", s.ToString()}});
    return 1;
  }
  SystemClock clock;
  Registry registry(**store, hub, clock);
  Executor executor(o.executor_threads, 10000);
  CallAuthorizer authorizer(*std::move(keys));
  // Both stores keep verdicts (registry/storage/verdict_store.h).
  auto* verdict_store = dynamic_cast<VerdictStore*>(store->get());
  std::optional<Verdicts> verdicts;
  RegistryServiceOptions service_options;
  if (verdict_store != nullptr) {
    verdicts.emplace(*verdict_store, registry, clock);
    service_options.verdicts = &*verdicts;
  }
  RegistryServiceImpl service(registry, hub, executor, authorizer, service_options);
  server.AddService(&service);
  RegistryRoutes routes(registry, hub, executor, authorizer);
  RelayOptions front_options = FrontedServer::FrontOptions(server_options, o.front_threads);
  // As a gRPC server: idle connections (quiet watchers' among them) stay open.
  front_options.idle_timeout = absl::InfiniteDuration();
  absl::StatusOr<std::unique_ptr<H2Relay>> front =
      FrontedServer::Start(server, routes, std::move(front_options));
  if (!front.ok()) {
    Log(LogLevel::kError, "cannot start", {{"error", front.status().ToString()}});
    return 1;
  }
  server.SetServing(true);
  Log(LogLevel::kInfo, "registry ready",
      {{"store", RedactedStore(o.store)},
       {"sequence", hub.applied_sequence()},
       {"history_id", hub.history_id()}});

  std::atomic<bool> stop{false};
  std::thread compactor([&] {
    while (!stop.load()) {
      for (int i = 0; i < 600 && !stop.load(); ++i) {
        absl::SleepFor(absl::Milliseconds(100));
      }
      if (absl::Status s = (*store)->CompactChanges(o.change_retention); !s.ok()) {
        Log(LogLevel::kWarning, "compaction failed", {{"error", s.ToString()}});
      }
      if (verdict_store != nullptr && o.verdict_retention_days > 0) {
        absl::StatusOr<int64_t> deleted = verdict_store->DeleteVerdictsBefore(
            clock.Now() - absl::Hours(24) * o.verdict_retention_days);
        if (!deleted.ok()) {
          Log(LogLevel::kWarning, "verdict retention failed",
              {{"error", deleted.status().ToString()}});
        } else if (*deleted > 0) {
          Log(LogLevel::kInfo, "verdicts past retention deleted", {{"verdicts", *deleted}});
        }
      }
    }
  });
  server.WaitForShutdownSignal();
  // Watches end at once with UNAVAILABLE (their clients resume elsewhere); calls in flight
  // finish within the grace.
  (*front)->Shutdown(absl::Seconds(10));
  Log(LogLevel::kInfo, "front end drained");
  server.Shutdown([&] { hub.Stop(); });
  stop = true;
  compactor.join();
  (*store)->SetChangeListener({});
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  accord::BlockShutdownSignals();
  Options o;
  CLI::App app{"accord-registry: canonical definitions with dual-approval revisions"};
  // A later flag overrides an earlier one (scripts append overrides).
  app.option_defaults()->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);
  app.add_option("--listen", o.listen, "gRPC address HOST:PORT")
      ->envname("ACCORD_REGISTRY_LISTEN")
      ->capture_default_str();
  app.add_option("--health_listen", o.health_listen,
                 "plaintext grpc.health.v1-only address (Kubernetes probes when --listen is TLS)")
      ->envname("ACCORD_REGISTRY_HEALTH_LISTEN");
  app.add_option("--admin_listen", o.admin_listen, "Prometheus /metrics address")
      ->envname("ACCORD_REGISTRY_ADMIN_LISTEN")
      ->capture_default_str();
  app.add_option("--pg_connections", o.pg_connections, "PostgreSQL connections per replica")
      ->check(CLI::Range(1, 64))
      ->capture_default_str();
  app.add_flag("--allow_unsafe_durability", o.allow_unsafe_durability,
               "start even if PostgreSQL has synchronous_commit=off or fsync=off");
  app.add_option("--store", o.store, "storage: sqlite:PATH or postgres://USER@HOST:PORT/DB")
      ->envname("ACCORD_REGISTRY_STORE")
      ->capture_default_str();
  accord::AddSecurityFlags(app, o.security);
  app.add_option("--executor_threads", o.executor_threads, "threads for storage work")
      ->check(CLI::Range(1, 64))
      ->capture_default_str();
  app.add_option("--front_threads", o.front_threads,
                 "event loops of the HTTP/2 front end (0: one per CPU)")
      ->envname("ACCORD_REGISTRY_FRONT_THREADS")
      ->check(CLI::Range(0, 256))
      ->capture_default_str();
  app.add_option("--change_retention", o.change_retention, "change records kept for watch resumes")
      ->check(CLI::Range(int64_t{100}, int64_t{1} << 40))
      ->capture_default_str();
  app.add_option("--verdict_retention_days", o.verdict_retention_days,
                 "delete sales' verdicts older than this many days (0: keep them)")
      ->envname("ACCORD_REGISTRY_VERDICT_RETENTION_DAYS")
      ->check(CLI::Range(0, 36500))
      ->capture_default_str();
  app.add_option("--poll_interval", o.poll_interval_seconds, "seconds between change-log polls")
      ->check(CLI::Range(0.01, 60.0))
      ->capture_default_str();
  CLI11_PARSE(app, argc, argv);
  return Run(o);
}
