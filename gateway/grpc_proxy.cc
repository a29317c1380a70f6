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

// Copies the backend's initial or trailing metadata to the client's call.
void CopyResponseMetadata(grpc::ClientContext& from, grpc::CallbackServerContext& to,
                          bool initial) {
  const auto& md = initial ? from.GetServerInitialMetadata() : from.GetServerTrailingMetadata();
  for (const auto& [key, value] : md) {
    if (Forwardable(key)) {
      std::string k(key.data(), key.size());
      std::string v(value.data(), value.size());
      initial ? to.AddInitialMetadata(k, v) : to.AddTrailingMetadata(k, v);
    }
  }
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

// One unary call: the request's bytes arrive with the call (a registered method), go to the
// backend as they are, and the backend's response bytes are the reply.
struct UnaryCall {
  Ticket ticket;
  std::unique_ptr<grpc::ClientContext> client;
};

grpc::ServerUnaryReactor* ForwardUnary(Gate& gate, const MethodInfo& method,
                                       grpc::CallbackServerContext* context,
                                       const grpc::ByteBuffer* request,
                                       grpc::ByteBuffer* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  if (!request->Valid()) {
    // The caller went away before its message arrived: gRPC still runs the handler, and a
    // backend call sending "no message" aborts the process.
    reactor->Finish(grpc::Status(grpc::StatusCode::CANCELLED, "no request message"));
    return reactor;
  }
  CallerHeaders headers = HeadersOf(*context);
  absl::StatusOr<Admission> admission = gate.Admit(method, headers);
  if (!admission.ok()) {
    reactor->Finish(ToGrpcStatus(admission.status()));
    return reactor;
  }
  // Propagates the caller's cancellation (and deadline) to the backend call.
  auto* call =
      new UnaryCall{std::move(admission->ticket), grpc::ClientContext::FromServerContext(*context)};
  gate.PrepareDownstream(*call->client, method, headers, DeadlineOf(*context));
  gate.CallUnary(method, call->client.get(), request, response,
                 [call, context, reactor](grpc::Status status) {
                   CopyResponseMetadata(*call->client, *context, /*initial=*/true);
                   CopyResponseMetadata(*call->client, *context, /*initial=*/false);
                   delete call;
                   reactor->Finish(status);
                 });
  return reactor;
}

// One streaming call (or an unknown method) from a client: admitted by the gate, then relayed
// message by message with one read and one write outstanding per direction (the HTTP/2 flow control
// of both ends does the back-pressure). Deleted when both the client call and the backend call are
// done.
class ProxyCall final : public grpc::ServerGenericBidiReactor {
 public:
  ProxyCall(Gate& gate, grpc::GenericCallbackServerContext* context)
      : gate_(gate), context_(context), downstream_(this) {
    method_ = gate_.catalog().Find(context->method());
    if (method_ == nullptr) {
      gate_.CountRejected("unknown_method");
      Finish(grpc::Status(grpc::StatusCode::UNIMPLEMENTED, "unknown method " + context->method()));
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
  void CopyTrailers() { CopyResponseMetadata(client_context_, *context_, /*initial=*/false); }

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

UnaryProxyService::UnaryProxyService(Gate& gate, const std::string& service) {
  for (const MethodInfo& m : gate.catalog().methods()) {
    if (!m.unary() || m.descriptor->service()->full_name() != service) {
      continue;
    }
    const MethodInfo* method = &m;
    AddMethod(new grpc::internal::RpcServiceMethod(m.path.c_str(),
                                                   grpc::internal::RpcMethod::NORMAL_RPC, nullptr));
    MarkMethodRawCallback(
        static_cast<int>(methods_added_++),
        new grpc::internal::CallbackUnaryHandler<grpc::ByteBuffer, grpc::ByteBuffer>(
            [&gate, method](grpc::CallbackServerContext* context, const grpc::ByteBuffer* request,
                            grpc::ByteBuffer* response) {
              return ForwardUnary(gate, *method, context, request, response);
            }));
  }
}

}  // namespace accord::gateway
