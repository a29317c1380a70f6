#include "gateway/grpc_proxy.h"

#include <atomic>
#include <mutex>

#include "absl/strings/match.h"
#include "absl/time/time.h"
#include "grpcpp/support/byte_buffer.h"

#include "common/status.h"

namespace accord::gateway {
namespace {

// Response metadata a proxy must not copy: gRPC's own and HTTP/2 transport headers.
bool Forwardable(const grpc::string_ref& key) {
  absl::string_view k(key.data(), key.size());
  return !absl::StartsWith(k, "grpc-") && !absl::StartsWith(k, ":") && k != "content-type" &&
         k != "te" && k != "user-agent";
}

absl::Time DeadlineOf(const grpc::CallbackServerContext& context) {
  auto deadline = context.deadline();
  if (deadline == std::chrono::system_clock::time_point::max()) {
    return absl::InfiniteFuture();
  }
  return absl::FromChrono(deadline);
}

class ProxyCall;

// The backend side of one proxied call.
class Downstream final : public grpc::ClientBidiReactor<grpc::ByteBuffer, grpc::ByteBuffer> {
 public:
  explicit Downstream(ProxyCall* call) : call_(call) {}
  void OnReadDone(bool ok) override;
  void OnWriteDone(bool ok) override;
  void OnDone(const grpc::Status& status) override;

 private:
  ProxyCall* call_;
};

// One call from a client: admitted by the gate, then relayed message by message with one
// read and one write outstanding per direction (the HTTP/2 flow control of both ends does
// the back-pressure). Deleted when both the client call and the backend call are done.
class ProxyCall final : public grpc::ServerGenericBidiReactor {
 public:
  ProxyCall(Gate& gate, grpc::GenericCallbackServerContext* context)
      : gate_(gate), context_(context), downstream_(this) {
    method_ = gate_.catalog().Find(context->method());
    if (method_ == nullptr) {
      gate_.CountRejected("unknown_method");
      Finish(grpc::Status(grpc::StatusCode::UNIMPLEMENTED,
                          "unknown method " + context->method()));
      return;
    }
    CallerHeaders headers = HeadersOf(*context);
    absl::StatusOr<Admission> admission = gate_.Admit(*method_, headers);
    if (!admission.ok()) {
      Finish(ToGrpcStatus(admission.status()));
      return;
    }
    ticket_ = std::move(admission->ticket);
    gate_.PrepareDownstream(client_context_, *method_, headers, DeadlineOf(*context));
    if (method_->unary()) {
      StartRead(&request_);
      return;
    }
    refs_.store(2);
    gate_.stub(method_->backend)
        .PrepareBidiStreamingCall(&client_context_, method_->path, grpc::StubOptions(),
                                  &downstream_);
    downstream_.StartRead(&response_);
    downstream_.StartCall();
    StartRead(&request_);
  }

  // Client -> gateway.
  void OnReadDone(bool ok) override {
    if (method_->unary()) {
      if (!ok) {
        Finish(grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "no request message"));
        return;
      }
      gate_.stub(method_->backend)
          .UnaryCall(&client_context_, method_->path, grpc::StubOptions(), &request_,
                     &response_, [this](grpc::Status status) { OnUnaryDone(status); });
      return;
    }
    if (ok) {
      downstream_.StartWrite(&request_);
    } else {
      downstream_.StartWritesDone();
    }
  }

  // Gateway -> client.
  void OnWriteDone(bool ok) override {
    bool finish = false;
    {
      std::lock_guard lock(mu_);
      writing_ = false;
      if (!ok) {
        client_context_.TryCancel();
      }
      finish = downstream_done_;
    }
    if (finish) {
      FinishWithBackendStatus();
    } else if (ok) {
      downstream_.StartRead(&response_);
    }
  }

  void OnCancel() override { client_context_.TryCancel(); }

  void OnDone() override { Unref(); }

  // Backend -> gateway.
  void OnDownstreamRead(bool ok) {
    if (!ok) {
      return;  // the status follows in OnDownstreamDone
    }
    {
      std::lock_guard lock(mu_);
      writing_ = true;
    }
    StartWrite(&response_);
  }

  void OnDownstreamWrite(bool ok) {
    if (ok) {
      StartRead(&request_);
    }
  }

  void OnDownstreamDone(const grpc::Status& status) {
    bool finish = false;
    {
      std::lock_guard lock(mu_);
      backend_status_ = status;
      downstream_done_ = true;
      finish = !writing_;
    }
    if (finish) {
      FinishWithBackendStatus();
    }
    Unref();
  }

 private:
  void OnUnaryDone(const grpc::Status& status) {
    for (const auto& [key, value] : client_context_.GetServerInitialMetadata()) {
      if (Forwardable(key)) {
        context_->AddInitialMetadata(std::string(key.data(), key.size()),
                                     std::string(value.data(), value.size()));
      }
    }
    CopyTrailers();
    if (status.ok()) {
      StartWriteAndFinish(&response_, grpc::WriteOptions(), status);
    } else {
      Finish(status);
    }
  }

  void CopyTrailers() {
    for (const auto& [key, value] : client_context_.GetServerTrailingMetadata()) {
      if (Forwardable(key)) {
        context_->AddTrailingMetadata(std::string(key.data(), key.size()),
                                      std::string(value.data(), value.size()));
      }
    }
  }

  // Exactly once per streaming call, after the backend's status and the last write.
  void FinishWithBackendStatus() {
    if (finished_.exchange(true)) {
      return;
    }
    CopyTrailers();
    Finish(backend_status_);
  }

  void Unref() {
    if (refs_.fetch_sub(1) == 1) {
      delete this;
    }
  }

  Gate& gate_;
  grpc::GenericCallbackServerContext* context_;
  const MethodInfo* method_ = nullptr;
  Ticket ticket_;
  grpc::ClientContext client_context_;
  Downstream downstream_;
  grpc::ByteBuffer request_;
  grpc::ByteBuffer response_;
  std::atomic<int> refs_{1};  // the client call, plus the backend stream when there is one
  std::atomic<bool> finished_{false};
  std::mutex mu_;
  bool writing_ = false;
  bool downstream_done_ = false;
  grpc::Status backend_status_;
};

void Downstream::OnReadDone(bool ok) { call_->OnDownstreamRead(ok); }
void Downstream::OnWriteDone(bool ok) { call_->OnDownstreamWrite(ok); }
void Downstream::OnDone(const grpc::Status& status) { call_->OnDownstreamDone(status); }

}  // namespace

grpc::ServerGenericBidiReactor* GrpcProxy::CreateReactor(
    grpc::GenericCallbackServerContext* context) {
  return new ProxyCall(gate_, context);
}

}  // namespace accord::gateway
