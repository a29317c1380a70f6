// accord-scoring: wiring only. Flags -> options -> scorer (+ cache) -> watcher -> service.
#include <algorithm>
#include <fstream>
#include <map>
#include <thread>

#include "CLI/CLI.hpp"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "prometheus/counter.h"
#include "prometheus/gauge.h"

#include "common/call_auth.h"
#include "common/log.h"
#include "common/server.h"
#include "frontdoor/fronted_server.h"
#include "frontdoor/h2_relay.h"
#include "scoring/cache_file.h"
#include "scoring/registry_watcher.h"
#include "scoring/scorer.h"
#include "scoring/scoring_front.h"
#include "scoring/scoring_service.h"
#include "scoring/shadow.h"

namespace {

struct Options {
  std::string listen = "127.0.0.1:7402";
  std::string health_listen;
  std::string admin_listen = "127.0.0.1:9402";
  std::string registry = "127.0.0.1:7401";
  std::string cache_dir = "var/scoring-cache";
  std::string token_file;
  int front_threads = 0;
  accord::SecurityOptions security;
  std::vector<std::string> shadow_namespaces;
  double shadow_sample_rate = 0.05;
  double shadow_cpu_share = 0.05;
  double shadow_poll_seconds = 10;
};

int Run(const Options& o) {
  using namespace accord;
  using namespace accord::scoring;
  SetLogComponent("scoring");
  std::string token;
  if (!o.token_file.empty()) {
    std::ifstream in(o.token_file);
    if (!in || !std::getline(in, token) || absl::StripAsciiWhitespace(token).empty()) {
      Log(LogLevel::kError, "cannot read --token_file", {{"path", o.token_file}});
      return 2;
    }
    token = std::string(absl::StripAsciiWhitespace(token));
  }
  absl::StatusOr<Authenticators> keys = LoadAuthenticators(o.security, o.listen);
  if (!keys.ok()) {
    Log(LogLevel::kError, "cannot authenticate callers", {{"error", keys.status().ToString()}});
    return 2;
  }

  ServerOptions server_options;
  server_options.component = "scoring";
  server_options.listen = o.listen;
  server_options.admin_listen = o.admin_listen;
  server_options.health_listen = o.health_listen;
  server_options.health_services = {"accord.scoring.v1.Scoring"};
  server_options.tls = o.security.tls;
  server_options.allow_plaintext = o.security.allow_plaintext;
  // The HTTP/2 front end owns the public address (and its TLS), answers the scoring methods
  // itself and relays the others to the gRPC server, which then listens on loopback only.
  FrontedServer::PutBehindFront(server_options);
  if (absl::Status s = server_options.Validate(); !s.ok()) {
    Log(LogLevel::kError, "invalid options", {{"error", s.ToString()}});
    return 2;
  }
  Server server(server_options);
  auto& rejected = prometheus::BuildCounter()
                       .Name("accord_scoring_rejected_definitions_total")
                       .Help("published definitions rejected because they do not compile")
                       .Register(server.metrics())
                       .Add({});
  auto& staleness = prometheus::BuildGauge()
                        .Name("accord_scoring_registry_staleness_seconds")
                        .Help("seconds since the registry was last heard from")
                        .Register(server.metrics())
                        .Add({});
  auto& sequence = prometheus::BuildGauge()
                       .Name("accord_scoring_applied_sequence")
                       .Help("registry sequence of the definitions in use")
                       .Register(server.metrics())
                       .Add({});

  SystemClock clock;
  Scorer scorer(clock);
  const std::string cache_path = o.cache_dir.empty() ? "" : o.cache_dir + "/definitions.cache";
  if (!cache_path.empty()) {
    absl::StatusOr<storage::v1::DefinitionCache> cache = ReadCacheFile(cache_path);
    if (cache.ok()) {
      absl::Status s = scorer.Load(*cache);
      Log(s.ok() ? LogLevel::kInfo : LogLevel::kError,
          s.ok() ? "serving the cached definitions" : "the cached definitions are unusable",
          {{"sequence", cache->sequence()}, {"error", s.ToString()}});
    } else if (cache.status().code() != absl::StatusCode::kNotFound) {
      Log(LogLevel::kError,
          "the definition cache is corrupt; not serving until the registry "
          "answers",
          {{"error", cache.status().ToString()}});
    }
  }
  CallAuthorizer authorizer(*std::move(keys));
  ScoringServiceImpl service(scorer, authorizer);
  server.AddService(&service);
  RegistryWatcherOptions watcher_options;
  watcher_options.registry = o.registry;
  if (!o.security.tls.ca.empty()) {
    if (absl::Status s = ValidateClientTls(o.security.tls); !s.ok()) {
      Log(LogLevel::kError, "invalid TLS options", {{"error", s.ToString()}});
      return 2;
    }
    watcher_options.credentials = MakeChannelCredentials(o.security.tls);
  } else if (absl::Status s = CheckPlaintext("--registry", o.registry, o.security.allow_plaintext);
             !s.ok()) {
    Log(LogLevel::kError, "invalid options", {{"error", s.ToString()}});
    return 2;
  }
  watcher_options.token = token;
  watcher_options.cache_path = cache_path;
  watcher_options.rejected_counter = &rejected;
  RegistryWatcher watcher(scorer, watcher_options);
  // Requests pinning an older model revision read it from the registry once.
  scorer.SetRevisionFetcher([&watcher](const std::string& definition, int64_t number) {
    return watcher.FetchRevision(definition, number);
  });
  // Sales' verdicts, re-scored here, are stored by the registry (this service's key needs the
  // scorer role).
  service.SetVerdictStore(
      [&watcher](const rv1::StoreVerdictsRequest& request, absl::Time deadline, auto done) {
        watcher.StoreVerdicts(request, deadline, std::move(done));
      });
  // Shadow scoring of proposed models, for the namespaces that enable it.
  ShadowOptions shadow_options;
  shadow_options.namespaces.insert(o.shadow_namespaces.begin(), o.shadow_namespaces.end());
  shadow_options.sample_rate = o.shadow_sample_rate;
  shadow_options.cpu_share = o.shadow_cpu_share;
  shadow_options.poll_interval = absl::Seconds(o.shadow_poll_seconds);
  ShadowScorer shadow(scorer, shadow_options,
                      [&watcher](const std::string& ns) { return watcher.PendingModels(ns); });
  if (!shadow_options.namespaces.empty()) {
    scorer.SetShadow(&shadow);
    shadow.Start();
  }
  ScoringRoutes routes(scorer, authorizer);
  // A loop per core for many connections, and a worker per core for one connection's batches
  // and streams.
  RelayOptions front_options = FrontedServer::FrontOptions(server_options, o.front_threads);
  front_options.workers = front_options.threads;
  // As a gRPC server: idle connections stay open (a gateway's connection may be quiet for long,
  // and closing it under a new call would fail that call).
  front_options.idle_timeout = absl::InfiniteDuration();
  absl::StatusOr<std::unique_ptr<H2Relay>> started =
      FrontedServer::Start(server, routes, std::move(front_options));
  if (!started.ok()) {
    Log(LogLevel::kError, "cannot start", {{"error", started.status().ToString()}});
    return 1;
  }
  std::unique_ptr<H2Relay> front = *std::move(started);

  watcher.Start();

  std::atomic<bool> stop{false};
  auto& shadow_leads = prometheus::BuildGauge()
                           .Name("accord_scoring_shadow_leads")
                           .Help("live leads scored with a proposed revision beside the published")
                           .Register(server.metrics());
  auto& shadow_level_changes = prometheus::BuildGauge()
                                   .Name("accord_scoring_shadow_level_changes")
                                   .Help("of those, leads whose level the proposal changes")
                                   .Register(server.metrics());
  auto& shadow_grade_changes = prometheus::BuildGauge()
                                   .Name("accord_scoring_shadow_grade_changes")
                                   .Help("of those, leads whose grade the proposal changes")
                                   .Register(server.metrics());
  auto& shadow_dropped = prometheus::BuildGauge()
                             .Name("accord_scoring_shadow_dropped_requests")
                             .Help("sampled requests the shadow worker could not take")
                             .Register(server.metrics());
  std::thread ticker([&] {
    bool serving = false;
    int64_t ticks = 0;
    while (!stop.load()) {
      if (scorer.ready() != serving) {
        serving = scorer.ready();
        server.SetServing(serving);
        Log(LogLevel::kInfo, serving ? "scoring ready" : "scoring not ready");
      }
      absl::Time contact = watcher.last_contact();
      staleness.Set(contact == absl::InfinitePast() ? -1
                                                    : absl::ToDoubleSeconds(absl::Now() - contact));
      if (auto snapshot = scorer.Current()) {
        sequence.Set(static_cast<double>(snapshot->sequence));
      }
      if (++ticks % 10 == 0) {
        // The shadow reports as metrics, per proposed revision, once a second.
        for (const std::string& ns : shadow_options.namespaces) {
          const sv1::ShadowReport report = shadow.Report(ns);
          shadow_dropped.Add({{"namespace", ns}})
              .Set(static_cast<double>(report.requests_dropped()));
          for (const sv1::ShadowRevisionReport& r : report.revisions()) {
            const std::map<std::string, std::string> labels = {
                {"namespace", ns},
                {"definition", r.definition()},
                {"revision", absl::StrCat(r.revision())}};
            shadow_leads.Add(labels).Set(static_cast<double>(r.leads()));
            shadow_level_changes.Add(labels).Set(static_cast<double>(r.level_changes()));
            shadow_grade_changes.Add(labels).Set(static_cast<double>(r.grade_changes()));
          }
        }
      }
      absl::SleepFor(absl::Milliseconds(100));
    }
  });
  server.WaitForShutdownSignal();
  stop = true;
  ticker.join();
  shadow.Stop();
  watcher.Stop();
  Log(LogLevel::kInfo, "registry watch stopped");
  if (front != nullptr) {
    front->Shutdown(absl::Seconds(10));
    Log(LogLevel::kInfo, "front end drained");
  }
  server.Shutdown();
  scorer.StopLoadingRevisions();  // before the watcher its reads use goes away
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  accord::BlockShutdownSignals();
  Options o;
  CLI::App app{"accord-scoring: scores leads with the published definitions"};
  // A later flag overrides an earlier one (scripts append overrides).
  app.option_defaults()->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);
  app.add_option("--listen", o.listen, "gRPC address")
      ->envname("ACCORD_SCORING_LISTEN")
      ->capture_default_str();
  app.add_option("--health_listen", o.health_listen,
                 "plaintext grpc.health.v1-only address (Kubernetes probes when --listen is TLS)")
      ->envname("ACCORD_SCORING_HEALTH_LISTEN");
  app.add_option("--admin_listen", o.admin_listen, "Prometheus /metrics address")
      ->envname("ACCORD_SCORING_ADMIN_LISTEN")
      ->capture_default_str();
  app.add_option("--registry", o.registry, "registry HOST:PORT")
      ->envname("ACCORD_SCORING_REGISTRY")
      ->capture_default_str();
  app.add_option("--cache_dir", o.cache_dir, "where the last good set is kept")
      ->envname("ACCORD_SCORING_CACHE_DIR")
      ->capture_default_str();
  app.add_option("--shadow_namespaces", o.shadow_namespaces,
                 "namespaces whose proposed models are shadow-scored on sampled live traffic")
      ->envname("ACCORD_SCORING_SHADOW_NAMESPACES")
      ->delimiter(',')
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
  app.add_option("--shadow_sample_rate", o.shadow_sample_rate,
                 "share of scoring requests shadow-scored")
      ->check(CLI::Range(0.0, 1.0))
      ->capture_default_str();
  app.add_option("--shadow_cpu_share", o.shadow_cpu_share,
                 "CPU the shadow worker may use, as a share of one CPU")
      ->check(CLI::Range(0.001, 1.0))
      ->capture_default_str();
  app.add_option("--shadow_poll_seconds", o.shadow_poll_seconds,
                 "seconds between looks for proposed revisions to shadow")
      ->check(CLI::Range(0.1, 3600.0))
      ->capture_default_str();
  app.add_option("--token_file", o.token_file, "API key for the registry (service role)")
      ->envname("ACCORD_SCORING_TOKEN_FILE");
  app.add_option("--front_threads", o.front_threads,
                 "event loops of the h2 front end, and workers for its large messages (0: one "
                 "per CPU)")
      ->envname("ACCORD_SCORING_FRONT_THREADS")
      ->check(CLI::Range(0, 256))
      ->capture_default_str();
  accord::AddSecurityFlags(app, o.security);
  CLI11_PARSE(app, argc, argv);
  return Run(o);
}
