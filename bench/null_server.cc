// The null-RPC baseline: accord.bench.v1.Null/Ping answered inline, on the same bootstrap
// (common/server) as the real servers, so that a benchmark's ratio isolates the service's
// own work.
#include <chrono>

#include "CLI/CLI.hpp"
#include "grpcpp/generic/async_generic_service.h"

#include "accord/bench/v1/null.grpc.pb.h"
#include "common/log.h"
#include "common/server.h"

namespace {

class NullServiceImpl final : public accord::bench::v1::Null::CallbackService {
 public:
  // Every response carries `response_bytes` bytes of payload (0: an empty message); every
  // call first keeps its thread busy for `work` (a stand-in for a handler's own work).
  NullServiceImpl(size_t response_bytes, std::chrono::microseconds work)
      : payload_(response_bytes, 'x'), work_(work) {}

  grpc::ServerUnaryReactor* Ping(grpc::CallbackServerContext* context,
                                 const accord::bench::v1::PingRequest* /*request*/,
                                 accord::bench::v1::PingResponse* response) override {
    grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
    if (work_.count() > 0) {
      const auto until = std::chrono::steady_clock::now() + work_;
      while (std::chrono::steady_clock::now() < until) {
      }
    }
    if (!payload_.empty()) {
      response->set_payload(payload_);
    }
    reactor->Finish(grpc::Status::OK);
    return reactor;
  }

 private:
  const std::string payload_;
  const std::chrono::microseconds work_;
};

// Every other method: an empty response, so that a proxy benchmark can send the real paths
// (/accord.registry.v1.Registry/GetDefinition) to a backend that does no work.
class AnyMethod final : public grpc::ServerGenericBidiReactor {
 public:
  AnyMethod() {
    grpc::Slice empty;
    response_ = grpc::ByteBuffer(&empty, 1);
    StartRead(&request_);
  }
  void OnReadDone(bool ok) override {
    if (!ok) {
      Finish(grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "no request"));
      return;
    }
    StartWriteAndFinish(&response_, grpc::WriteOptions(), grpc::Status::OK);
  }
  void OnDone() override { delete this; }

 private:
  grpc::ByteBuffer request_;
  grpc::ByteBuffer response_;
};

class AnyMethodService final : public grpc::CallbackGenericService {
 public:
  grpc::ServerGenericBidiReactor* CreateReactor(grpc::GenericCallbackServerContext*) override {
    return new AnyMethod();
  }
};

}  // namespace

int main(int argc, char** argv) {
  accord::BlockShutdownSignals();
  accord::ServerOptions options;
  options.component = "bench-null";
  options.listen = "127.0.0.1:0";
  CLI::App app{"accord-bench-null: null-RPC baseline server"};
  app.add_option("--listen", options.listen);
  bool no_metrics = false;
  size_t response_bytes = 0;
  app.add_option("--response_bytes", response_bytes, "payload bytes in every response");
  app.add_flag("--no_rpc_metrics", no_metrics, "skip the metrics interceptor");
  int64_t work_us = 0;
  app.add_option("--work_us", work_us, "microseconds of busy work in every Ping");
  CLI11_PARSE(app, argc, argv);
  options.rpc_metrics = !no_metrics;
  accord::SetLogComponent("bench-null");
  accord::Server server(options);
  NullServiceImpl service(response_bytes, std::chrono::microseconds(work_us));
  server.AddService(&service);
  AnyMethodService any_method;
  server.SetGenericService(&any_method);
  if (absl::Status s = server.Start(); !s.ok()) {
    accord::Log(accord::LogLevel::kError, "cannot start", {{"error", s.ToString()}});
    return 1;
  }
  server.SetServing(true);
  server.WaitForShutdownSignal();
  server.Shutdown();
  return 0;
}
