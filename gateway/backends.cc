#include "gateway/backends.h"

#include <future>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "grpcpp/generic/generic_stub.h"
#include "prometheus/gauge.h"

#include "common/log.h"

namespace accord::gateway {
namespace {

constexpr absl::string_view kServiceNames[] = {"accord.registry.v1.Registry",
                                               "accord.scoring.v1.Scoring"};

std::shared_ptr<grpc::Channel> Channel(const std::string& address,
                                       const std::shared_ptr<grpc::ChannelCredentials>& creds) {
  grpc::ChannelArguments args;
  args.SetLoadBalancingPolicyName("round_robin");
  args.SetInt(GRPC_ARG_KEEPALIVE_TIME_MS, 30000);
  args.SetInt(GRPC_ARG_KEEPALIVE_TIMEOUT_MS, 10000);
  args.SetInt(GRPC_ARG_KEEPALIVE_PERMIT_WITHOUT_CALLS, 1);
  // A backend that is back is found within a second however long it was away (the HTTP/JSON
  // port's calls fail fast while the channel backs off; the gRPC port's relay has no back-off).
  args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 100);
  args.SetInt(GRPC_ARG_MIN_RECONNECT_BACKOFF_MS, 100);
  args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 1000);
  args.SetMaxReceiveMessageSize(-1);
  // No transparent retries: the caller decides (and writes carry request ids); the retry
  // filter would copy every request to be able to replay it.
  args.SetInt(GRPC_ARG_ENABLE_RETRIES, 0);
  args.SetInt(GRPC_ARG_HTTP2_BDP_PROBE, 0);  // our own backends; clients' limits apply at the edge
  std::string target = absl::StrContains(address, "://") || absl::StartsWith(address, "dns:")
                           ? address
                           : absl::StrCat("dns:///", address);
  return grpc::CreateCustomChannel(target, creds, args);
}

}  // namespace

absl::Status ConnectBackends(const BackendOptions& options, Gate& gate) {
  std::shared_ptr<grpc::ChannelCredentials> creds;
  if (!options.tls.ca.empty()) {
    if (absl::Status s = ValidateClientTls(options.tls); !s.ok()) {
      return s;
    }
    creds = MakeChannelCredentials(options.tls);
  } else {
    for (const std::string* address : {&options.registry, &options.scoring}) {
      if (absl::Status s = CheckPlaintext("backend", *address, options.allow_plaintext); !s.ok()) {
        return s;
      }
    }
    creds = grpc::InsecureChannelCredentials();
  }
  gate.SetChannel(Backend::kRegistry, Channel(options.registry, creds));
  gate.SetChannel(Backend::kScoring, Channel(options.scoring, creds));
  return absl::OkStatus();
}

BackendHealth::BackendHealth(Gate& gate, Server& server, prometheus::Registry& metrics)
    : gate_(gate),
      server_(server),
      up_(prometheus::BuildGauge()
              .Name("accord_gateway_backend_up")
              .Help("1 when the backend's health service reports SERVING")
              .Register(metrics)) {}

BackendHealth::~BackendHealth() { Stop(); }

void BackendHealth::Start() {
  thread_ = std::thread([this] { Run(); });
}

void BackendHealth::Stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) {
    thread_.join();
  }
}

bool BackendHealth::Check(Backend backend) {
  // grpc.health.v1.HealthCheckRequest{service} and HealthCheckResponse{status = SERVING}
  // encoded by hand: two bytes of protobuf do not need the generated classes.
  absl::string_view service = kServiceNames[static_cast<int>(backend)];
  std::string request =
      absl::StrCat("\x0a", std::string(1, static_cast<char>(service.size())), service);
  grpc::Slice slice(request);
  grpc::ByteBuffer request_buffer(&slice, 1);
  grpc::ByteBuffer response_buffer;
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(1));
  std::promise<grpc::Status> done;
  gate_.stub(backend).UnaryCall(&context, "/grpc.health.v1.Health/Check", grpc::StubOptions(),
                                &request_buffer, &response_buffer,
                                [&done](grpc::Status s) { done.set_value(std::move(s)); });
  if (!done.get_future().get().ok()) {
    return false;
  }
  std::vector<grpc::Slice> slices;
  (void)response_buffer.Dump(&slices);
  std::string response;
  for (const grpc::Slice& s : slices) {
    response.append(reinterpret_cast<const char*>(s.begin()), s.size());
  }
  return response == std::string("\x08\x01", 2);
}

void BackendHealth::Run() {
  std::optional<bool> last[2];
  while (true) {
    for (Backend backend : {Backend::kRegistry, Backend::kScoring}) {
      bool up = Check(backend);
      int i = static_cast<int>(backend);
      up_.Add({{"backend", std::string(BackendName(backend))}}).Set(up ? 1 : 0);
      server_.SetServing(std::string(kServiceNames[i]), up);
      if (last[i] != up) {
        Log(up ? LogLevel::kInfo : LogLevel::kWarning,
            up ? "backend serving" : "backend not serving",
            {{"backend", std::string(BackendName(backend))}});
        last[i] = up;
      }
    }
    std::unique_lock lock(mu_);
    if (cv_.wait_for(lock, std::chrono::seconds(2), [&] { return stopping_; })) {
      return;
    }
  }
}

}  // namespace accord::gateway
