#include "common/server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <chrono>
#include <cstdlib>
#include <mutex>
#include <shared_mutex>
#include <thread>
#include <unordered_map>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "grpcpp/ext/proto_server_reflection_plugin.h"
#include "grpcpp/health_check_service_interface.h"
#include "grpcpp/support/server_interceptor.h"
#include "prometheus/counter.h"
#include "prometheus/exposer.h"
#include "prometheus/histogram.h"

#include "common/host_port.h"
#include "common/log.h"
#include "common/rpc_metrics.h"
#include "common/trace.h"

namespace accord {
namespace {

absl::Status CheckHostPort(const std::string& flag, const std::string& value) {
  absl::StatusOr<HostPort> parsed = ParseHostPort(value);
  if (!parsed.ok() || parsed->host.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("--", flag, "=", value, ": expected HOST:PORT (port 0 picks a free one)"));
  }
  return absl::OkStatus();
}

class MetricsInterceptor final : public grpc::experimental::Interceptor {
 public:
  MetricsInterceptor(RpcMetrics& metrics, grpc::experimental::ServerRpcInfo* info)
      : metrics_(metrics), info_(info), start_(std::chrono::steady_clock::now()) {}

  void Intercept(grpc::experimental::InterceptorBatchMethods* methods) override {
    using grpc::experimental::InterceptionHookPoints;
    if (methods->QueryInterceptionHookPoint(InterceptionHookPoints::POST_RECV_INITIAL_METADATA)) {
      auto* md = methods->GetRecvInitialMetadata();
      auto it = md->find("traceparent");
      if (it != md->end()) {
        trace_id_ = TraceIdFromTraceparent(absl::string_view(it->second.data(), it->second.size()));
      }
    }
    if (methods->QueryInterceptionHookPoint(InterceptionHookPoints::PRE_SEND_STATUS)) {
      grpc::Status status = methods->GetSendStatus();
      metrics_.Record(
          info_->method(), status.error_code(), status.error_message(), trace_id_,
          std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count());
    }
    methods->Proceed();
  }

 private:
  RpcMetrics& metrics_;
  grpc::experimental::ServerRpcInfo* info_;
  std::chrono::steady_clock::time_point start_;
  std::string trace_id_;
};

class MetricsInterceptorFactory final
    : public grpc::experimental::ServerInterceptorFactoryInterface {
 public:
  explicit MetricsInterceptorFactory(RpcMetrics& metrics) : metrics_(metrics) {}
  grpc::experimental::Interceptor* CreateServerInterceptor(
      grpc::experimental::ServerRpcInfo* info) override {
    return new MetricsInterceptor(metrics_, info);
  }

 private:
  RpcMetrics& metrics_;
};

}  // namespace

absl::Status ServerOptions::Validate() const {
  if (absl::Status s = CheckHostPort("listen", listen); !s.ok()) {
    return s;
  }
  if (!admin_listen.empty()) {
    if (absl::Status s = CheckHostPort("admin_listen", admin_listen); !s.ok()) {
      return s;
    }
  }
  if (!front_listen.empty()) {
    // A front end owns the public address and its TLS; this server listens on loopback.
    if (absl::Status s = CheckHostPort("listen", front_listen); !s.ok()) {
      return s;
    }
    if (!IsLoopback(listen)) {
      return absl::InvalidArgumentError("behind a front end, the server listens on loopback");
    }
  }
  const std::string& public_listen = front_listen.empty() ? listen : front_listen;
  if (tls.enabled()) {
    if (absl::Status s = ValidateServerTls(tls); !s.ok()) {
      return s;
    }
  } else if (absl::Status s = CheckPlaintext("--listen", public_listen, allow_plaintext); !s.ok()) {
    return s;
  }
  if (!health_listen.empty()) {
    if (absl::Status s = CheckHostPort("health_listen", health_listen); !s.ok()) {
      return s;
    }
  }
  if (max_receive_message_bytes <= 0) {
    return absl::InvalidArgumentError("max_receive_message_bytes must be positive");
  }
  return absl::OkStatus();
}

void BlockShutdownSignals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
}

bool IsLoopback(const std::string& host_port) {
  // HOST:PORT (or a gRPC dns: target naming one), or a bare IPv4 host or name (a bare IPv6
  // literal is not accepted).
  const absl::string_view address = HostPortOfTarget(host_port);
  absl::StatusOr<HostPort> parsed = ParseHostPort(address);
  const bool bare = address.find_first_of(":[]") == absl::string_view::npos;
  if (!parsed.ok() && !bare) {
    return false;
  }
  const std::string host = parsed.ok() ? parsed->host : std::string(address);
  if (host == "localhost") {
    return true;
  }
  // IP literals only: a name such as "127.internal" may resolve to a routable address.
  in6_addr v6;
  if (inet_pton(AF_INET6, host.c_str(), &v6) == 1) {
    return IN6_IS_ADDR_LOOPBACK(&v6);
  }
  in_addr v4;
  return inet_pton(AF_INET, host.c_str(), &v4) == 1 && (ntohl(v4.s_addr) >> 24) == 127;
}

Server::Server(ServerOptions options)
    : options_(std::move(options)), metrics_(std::make_shared<prometheus::Registry>()) {
  if (options_.rpc_metrics) {
    rpc_metrics_ = std::make_unique<RpcMetrics>(*metrics_);
  }
}

Server::~Server() { Shutdown(); }

void Server::AddService(grpc::Service* service) { services_.push_back(service); }

absl::Status Server::Start() {
  // Debian's Abseil is built with Mutex deadlock detection on; gRPC's internal mutexes would
  // pay for its cycle graph on every lock. Our own code uses std::mutex.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  grpc::EnableDefaultHealthCheckService(true);
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  grpc::ServerBuilder builder;
  builder.AddListeningPort(options_.listen,
                           options_.tls.enabled() && options_.front_listen.empty()
                               ? MakeServerCredentials(options_.tls)
                               : grpc::InsecureServerCredentials(),
                           &port_);
  // Header lists (API keys, JWTs, trace context) are small; 16 KiB bounds what a caller can
  // make the server buffer before any handler runs.
  builder.AddChannelArgument(GRPC_ARG_MAX_METADATA_SIZE, 16 * 1024);
  builder.SetMaxReceiveMessageSize(options_.max_receive_message_bytes);
  builder.AddChannelArgument(GRPC_ARG_MAX_CONCURRENT_STREAMS, options_.max_concurrent_streams);
  // Keepalive: clients may ping every 10 s even without calls in flight (watchers do).
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_TIME_MS, 30000);
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_TIMEOUT_MS, 10000);
  builder.AddChannelArgument(GRPC_ARG_HTTP2_MIN_RECV_PING_INTERVAL_WITHOUT_DATA_MS, 10000);
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_PERMIT_WITHOUT_CALLS, 1);
  builder.AddChannelArgument(GRPC_ARG_HTTP2_MAX_PING_STRIKES, 3);
  if (options_.max_threads > 0) {
    grpc::ResourceQuota quota("accord-" + options_.component);
    quota.SetMaxThreads(options_.max_threads);
    builder.SetResourceQuota(quota);
  }
  for (grpc::Service* service : services_) {
    builder.RegisterService(service);
  }
  if (generic_ != nullptr) {
    builder.RegisterCallbackGenericService(generic_);
  }
  if (options_.rpc_metrics) {
    std::vector<std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>> factories;
    factories.push_back(std::make_unique<MetricsInterceptorFactory>(*rpc_metrics_));
    builder.experimental().SetInterceptorCreators(std::move(factories));
  }
  server_ = builder.BuildAndStart();
  if (server_ == nullptr || port_ == 0) {
    return absl::UnavailableError(absl::StrCat("cannot listen on ", options_.listen));
  }
  if (!options_.health_listen.empty()) {
    grpc::ServerBuilder health;
    health.AddListeningPort(options_.health_listen, grpc::InsecureServerCredentials(),
                            &health_port_);
    health_server_ = health.BuildAndStart();
    if (health_server_ == nullptr || health_port_ == 0) {
      return absl::UnavailableError(absl::StrCat("cannot listen on ", options_.health_listen));
    }
  }
  SetServing(false);
  if (!options_.admin_listen.empty()) {
    try {
      exposer_ = std::make_unique<prometheus::Exposer>(options_.admin_listen, 1);
      exposer_->RegisterCollectable(metrics_);
      std::vector<int> ports = exposer_->GetListeningPorts();
      admin_port_ = ports.empty() ? 0 : ports.front();
    } catch (const std::exception& e) {
      return absl::UnavailableError(
          absl::StrCat("cannot listen on ", options_.admin_listen, ": ", e.what()));
    }
  }
  // Behind a front end, its address is the gRPC one; this server's own port is reported too.
  const bool fronted = !options_.front_listen.empty();
  const std::string& listen = fronted ? options_.front_listen : options_.listen;
  const int port = fronted ? options_.front_port : port_;
  Log(LogLevel::kInfo, "listening",
      {{"grpc", absl::StrCat(listen.substr(0, listen.rfind(':')), ":", port)},
       {"port", port},
       {"server_port", port_},
       {"admin_port", admin_port_},
       {"health_port", health_port_}});
  return absl::OkStatus();
}

void Server::SetServing(bool serving) {
  if (server_ == nullptr) {
    return;
  }
  SetServing("", serving);
  for (const std::string& name : options_.health_services) {
    SetServing(name, serving);
  }
}

void Server::SetServing(const std::string& service, bool serving) {
  for (grpc::Server* s : {server_.get(), health_server_.get()}) {
    if (s != nullptr && s->GetHealthCheckService() != nullptr) {
      s->GetHealthCheckService()->SetServingStatus(service, serving);
    }
  }
}

void Server::WaitForShutdownSignal() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  while (!shutdown_requested_.load()) {
    timespec timeout{0, 200 * 1000 * 1000};
    int sig = sigtimedwait(&set, nullptr, &timeout);
    if (sig == SIGTERM || sig == SIGINT) {
      Log(LogLevel::kInfo, "shutdown signal received", {{"signal", sig}});
      return;
    }
  }
}

void Server::RequestShutdown() { shutdown_requested_ = true; }

void Server::StopExposer() {
  if (exposer_ == nullptr) {
    return;
  }
  // civetweb (behind prometheus::Exposer) sees that it must stop only when its listener's
  // poll() returns, up to 2 s later: connecting to the admin port wakes it at once.
  absl::StatusOr<HostPort> admin = ParseHostPort(options_.admin_listen);
  std::string host = admin.ok() ? admin->host : "";
  if (host.empty() || host == "0.0.0.0" || host == "::") {
    host = "127.0.0.1";
  }
  sockaddr_storage address{};
  socklen_t length = 0;
  auto* v4 = reinterpret_cast<sockaddr_in*>(&address);
  auto* v6 = reinterpret_cast<sockaddr_in6*>(&address);
  if (inet_pton(AF_INET, host.c_str(), &v4->sin_addr) == 1) {
    v4->sin_family = AF_INET;
    v4->sin_port = htons(static_cast<uint16_t>(admin_port_));
    length = sizeof(sockaddr_in);
  } else if (inet_pton(AF_INET6, host.c_str(), &v6->sin6_addr) == 1) {
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons(static_cast<uint16_t>(admin_port_));
    length = sizeof(sockaddr_in6);
  }
  std::atomic<bool> stopped{false};
  std::thread waker([&] {
    while (length > 0 && !stopped.load()) {
      int fd = socket(address.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
      if (fd >= 0) {
        (void)connect(fd, reinterpret_cast<const sockaddr*>(&address), length);
        close(fd);
      }
      absl::SleepFor(absl::Milliseconds(20));
    }
  });
  exposer_.reset();
  stopped.store(true);
  waker.join();
}

void Server::Shutdown(const std::function<void()>& before_stop) {
  if (stopped_ || server_ == nullptr) {
    return;
  }
  stopped_ = true;
  SetServing(false);
  for (grpc::Server* s : {server_.get(), health_server_.get()}) {
    if (s != nullptr && s->GetHealthCheckService() != nullptr) {
      s->GetHealthCheckService()->Shutdown();
    }
  }
  if (before_stop) {
    before_stop();
  }
  // A safety net: gRPC's Shutdown waits for every call's reactor even after the deadline has
  // cancelled it; a stuck one must not keep the process (and a rolling update) hanging.
  auto done = std::make_shared<std::atomic<bool>>(false);
  std::thread([done, limit = options_.drain_timeout + absl::Seconds(5)] {
    absl::Time until = absl::Now() + limit;
    while (!done->load() && absl::Now() < until) {
      absl::SleepFor(absl::Milliseconds(100));
    }
    if (!done->load()) {
      Log(LogLevel::kError, "drain did not finish; exiting", {});
      std::_Exit(1);
    }
  }).detach();
  server_->Shutdown(std::chrono::system_clock::now() +
                    absl::ToChronoMilliseconds(options_.drain_timeout));
  server_->Wait();
  if (health_server_ != nullptr) {
    health_server_->Shutdown(std::chrono::system_clock::now());
    health_server_->Wait();
  }
  done->store(true);
  StopExposer();
  Log(LogLevel::kInfo, "stopped");
}

}  // namespace accord
