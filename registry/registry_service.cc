#include "registry/registry_service.h"

#include <deque>
#include <mutex>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"

#include "common/call_scope.h"
#include "common/status.h"

namespace accord::registry {
namespace {

constexpr absl::string_view kPrefix = "/accord.registry.v1.Registry/";

grpc::Status Overloaded() {
  return ToGrpcStatus(ErrorWithReason(absl::StatusCode::kResourceExhausted, "SERVER_BUSY",
                                      "the registry is busy; retry with back-off"));
}

// Parses a raw request; false if the bytes are not an `out`.
bool ParseRequest(const grpc::ByteBuffer& buffer, google::protobuf::Message* out) {
  std::vector<grpc::Slice> slices;
  if (!buffer.Dump(&slices).ok()) {
    return false;
  }
  std::string bytes;
  for (const grpc::Slice& slice : slices) {
    bytes.append(reinterpret_cast<const char*>(slice.begin()), slice.size());
  }
  return out->ParseFromString(bytes);
}

// One WatchDefinitions stream. The sink half is shared with the hub; the reactor deletes
// itself in OnDone after detaching the sink, so the hub never touches a dead reactor.
class WatchStream final : public grpc::ServerWriteReactor<grpc::ByteBuffer> {
 public:
  class Sink final : public WatchSink {
   public:
    Sink(WatchStream* stream, size_t max_queue) : stream_(stream), max_queue_(max_queue) {}

    bool Deliver(std::shared_ptr<const WatchMessage> message) override {
      std::lock_guard lock(mu_);
      if (stream_ == nullptr || ending_) {
        return false;
      }
      if (queue_.size() >= max_queue_) {
        EndLocked(
            ToGrpcStatus(ErrorWithReason(absl::StatusCode::kResourceExhausted, "WATCHER_TOO_SLOW",
                                         "the watcher fell too far behind; resume from "
                                         "your last sequence")));
        return false;
      }
      queue_.push_back(std::move(message));
      WriteNextLocked();
      return true;
    }

    void End(const absl::Status& status) override {
      std::lock_guard lock(mu_);
      EndLocked(ToGrpcStatus(status));
    }

    bool Idle() const override {
      std::lock_guard lock(mu_);
      return !writing_ && queue_.empty();
    }

    void OnWriteDone(bool ok) {
      std::lock_guard lock(mu_);
      writing_ = false;
      current_.reset();
      if (!ok) {
        EndLocked(grpc::Status(grpc::StatusCode::CANCELLED, "the client went away"));
        return;
      }
      if (pending_finish_.has_value()) {
        FinishLocked();
        return;
      }
      WriteNextLocked();
    }

    void Detach() {
      std::lock_guard lock(mu_);
      stream_ = nullptr;
    }

   private:
    void WriteNextLocked() {
      if (writing_ || queue_.empty() || stream_ == nullptr || ending_) {
        return;
      }
      writing_ = true;
      current_ = std::move(queue_.front());
      queue_.pop_front();
      grpc::Slice slice(current_->bytes.data(), current_->bytes.size(), grpc::Slice::STATIC_SLICE);
      buffer_ = grpc::ByteBuffer(&slice, 1);
      stream_->StartWrite(&buffer_);
    }
    void EndLocked(grpc::Status status) {
      if (ending_ || stream_ == nullptr) {
        return;
      }
      ending_ = true;
      queue_.clear();
      pending_finish_ = std::move(status);
      if (!writing_) {
        FinishLocked();
      }
    }
    void FinishLocked() {
      if (stream_ != nullptr && pending_finish_.has_value() && !finished_) {
        finished_ = true;
        stream_->Finish(*pending_finish_);
      }
    }

    mutable std::mutex mu_;
    WatchStream* stream_;
    const size_t max_queue_;
    std::deque<std::shared_ptr<const WatchMessage>> queue_;
    std::shared_ptr<const WatchMessage> current_;  // kept alive until its write is done
    grpc::ByteBuffer buffer_;
    bool writing_ = false;
    bool ending_ = false;
    bool finished_ = false;
    std::optional<grpc::Status> pending_finish_;
  };

  WatchStream(WatchHub& hub, size_t max_queue)
      : hub_(hub), sink_(std::make_shared<Sink>(this, max_queue)) {}

  const std::shared_ptr<Sink>& sink() const { return sink_; }

  void OnWriteDone(bool ok) override { sink_->OnWriteDone(ok); }
  void OnCancel() override { sink_->End(absl::CancelledError("cancelled by the client")); }
  void OnDone() override {
    sink_->Detach();
    hub_.Unsubscribe(sink_.get());
    delete this;
  }

 private:
  WatchHub& hub_;
  std::shared_ptr<Sink> sink_;
};

}  // namespace

v1::Caller DescribeCaller(const Principal& principal) {
  v1::Caller caller;
  caller.set_principal(principal.name);
  for (Role role : principal.roles) {
    caller.add_roles(std::string(RoleName(role)));
  }
  for (const std::string& team : principal.ApproverTeams()) {
    caller.add_approver_teams(team);
  }
  for (Permission p :
       {Permission::kRead, Permission::kWatch, Permission::kEdit, Permission::kReview,
        Permission::kPublish, Permission::kManage, Permission::kScore, Permission::kRecordVerdicts,
        Permission::kStoreVerdicts, Permission::kErase}) {
    if (Allows(principal, p)) {
      caller.add_permissions(std::string(PermissionName(p)));
    }
  }
  return caller;
}

RegistryServiceImpl::RegistryServiceImpl(Registry& registry, WatchHub& hub, Executor& executor,
                                         const CallAuthorizer& authorizer,
                                         RegistryServiceOptions options)
    : registry_(registry),
      hub_(hub),
      executor_(executor),
      authorizer_(authorizer),
      options_(options) {}

template <typename Request, typename Response, typename Fn>
grpc::ServerUnaryReactor* RegistryServiceImpl::Handle(grpc::CallbackServerContext* context,
                                                      absl::string_view method,
                                                      const Request* request, Response* response,
                                                      bool inline_ok, Fn fn) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  absl::StatusOr<Principal> principal =
      authorizer_.Authorize(*context, absl::StrCat(kPrefix, method));
  if (!principal.ok()) {
    reactor->Finish(ToGrpcStatus(principal.status()));
    return reactor;
  }
  auto run = [fn, request, response, reactor, context, caller = *std::move(principal)]() {
    // A call that waited past its deadline in the queue, or whose caller left, is not run;
    // one that passes them while validating stops there (CallScope).
    CallScope scope(absl::FromChrono(context->deadline()),
                    [context] { return context->IsCancelled(); });
    if (absl::Status ended = CallScope::Check(); !ended.ok()) {
      reactor->Finish(ToGrpcStatus(ended));
      return;
    }
    auto result = fn(caller, *request);
    if (result.ok()) {
      *response = *std::move(result);
    }
    reactor->Finish(ToGrpcStatus(result.status()));
  };
  if (inline_ok) {
    run();
  } else if (!executor_.TrySubmit(run)) {
    reactor->Finish(Overloaded());
  }
  return reactor;
}

grpc::ServerUnaryReactor* RegistryServiceImpl::CreateDefinition(
    grpc::CallbackServerContext* context, const v1::CreateDefinitionRequest* request,
    v1::Definition* response) {
  return Handle(
      context, "CreateDefinition", request, response, false,
      [this](const Principal& p, const auto& r) { return registry_.CreateDefinition(p, r); });
}

grpc::ServerUnaryReactor* RegistryServiceImpl::GetDefinition(grpc::CallbackServerContext* context,
                                                             const grpc::ByteBuffer* request,
                                                             grpc::ByteBuffer* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  absl::StatusOr<Principal> principal =
      authorizer_.Authorize(*context, absl::StrCat(kPrefix, "GetDefinition"));
  if (!principal.ok()) {
    reactor->Finish(ToGrpcStatus(principal.status()));
    return reactor;
  }
  v1::GetDefinitionRequest parsed;
  if (!ParseRequest(*request, &parsed)) {
    reactor->Finish(ToGrpcStatus(InvalidField("", "the request is not a GetDefinitionRequest")));
    return reactor;
  }
  absl::StatusOr<std::shared_ptr<const std::string>> definition =
      registry_.GetDefinitionSerialized(parsed);
  if (!definition.ok()) {
    reactor->Finish(ToGrpcStatus(definition.status()));
    return reactor;
  }
  // Zero-copy: the slice keeps the shared bytes alive until gRPC has sent them.
  auto* keep = new std::shared_ptr<const std::string>(*std::move(definition));
  grpc::Slice slice(
      const_cast<char*>((*keep)->data()), (*keep)->size(),
      [](void* p) { delete static_cast<std::shared_ptr<const std::string>*>(p); }, keep);
  *response = grpc::ByteBuffer(&slice, 1);
  reactor->Finish(grpc::Status::OK);
  return reactor;
}

grpc::ServerUnaryReactor* RegistryServiceImpl::ListDefinitions(
    grpc::CallbackServerContext* context, const v1::ListDefinitionsRequest* request,
    v1::ListDefinitionsResponse* response) {
  return Handle(context, "ListDefinitions", request, response, true,
                [this](const Principal&, const auto& r) { return registry_.ListDefinitions(r); });
}

grpc::ServerUnaryReactor* RegistryServiceImpl::UpdateDefinition(
    grpc::CallbackServerContext* context, const v1::UpdateDefinitionRequest* request,
    v1::Definition* response) {
  return Handle(
      context, "UpdateDefinition", request, response, false,
      [this](const Principal& p, const auto& r) { return registry_.UpdateDefinition(p, r); });
}

grpc::ServerUnaryReactor* RegistryServiceImpl::DeleteDefinition(
    grpc::CallbackServerContext* context, const v1::DeleteDefinitionRequest* request,
    v1::Definition* response) {
  return Handle(
      context, "DeleteDefinition", request, response, false,
      [this](const Principal& p, const auto& r) { return registry_.DeleteDefinition(p, r); });
}

grpc::ServerUnaryReactor* RegistryServiceImpl::UndeleteDefinition(
    grpc::CallbackServerContext* context, const v1::UndeleteDefinitionRequest* request,
    v1::Definition* response) {
  return Handle(
      context, "UndeleteDefinition", request, response, false,
      [this](const Principal& p, const auto& r) { return registry_.UndeleteDefinition(p, r); });
}

grpc::ServerUnaryReactor* RegistryServiceImpl::GetRevision(grpc::CallbackServerContext* context,
                                                           const v1::GetRevisionRequest* request,
                                                           v1::Revision* response) {
  return Handle(context, "GetRevision", request, response, false,
                [this](const Principal&, const auto& r) { return registry_.GetRevision(r); });
}

grpc::ServerUnaryReactor* RegistryServiceImpl::ListRevisions(
    grpc::CallbackServerContext* context, const v1::ListRevisionsRequest* request,
    v1::ListRevisionsResponse* response) {
  return Handle(context, "ListRevisions", request, response, false,
                [this](const Principal&, const auto& r) { return registry_.ListRevisions(r); });
}

grpc::ServerUnaryReactor* RegistryServiceImpl::ProposeRevision(
    grpc::CallbackServerContext* context, const v1::ProposeRevisionRequest* request,
    v1::Revision* response) {
  return Handle(
      context, "ProposeRevision", request, response, false,
      [this](const Principal& p, const auto& r) { return registry_.ProposeRevision(p, r); });
}

grpc::ServerUnaryReactor* RegistryServiceImpl::ApproveRevision(
    grpc::CallbackServerContext* context, const v1::ReviewRevisionRequest* request,
    v1::Revision* response) {
  return Handle(
      context, "ApproveRevision", request, response, false,
      [this](const Principal& p, const auto& r) { return registry_.ApproveRevision(p, r); });
}

grpc::ServerUnaryReactor* RegistryServiceImpl::RejectRevision(
    grpc::CallbackServerContext* context, const v1::ReviewRevisionRequest* request,
    v1::Revision* response) {
  return Handle(
      context, "RejectRevision", request, response, false,
      [this](const Principal& p, const auto& r) { return registry_.RejectRevision(p, r); });
}

grpc::ServerUnaryReactor* RegistryServiceImpl::PublishRevision(
    grpc::CallbackServerContext* context, const v1::PublishRevisionRequest* request,
    v1::Revision* response) {
  return Handle(
      context, "PublishRevision", request, response, false,
      [this](const Principal& p, const auto& r) { return registry_.PublishRevision(p, r); });
}

grpc::ServerUnaryReactor* RegistryServiceImpl::RollbackDefinition(
    grpc::CallbackServerContext* context, const v1::RollbackDefinitionRequest* request,
    v1::Revision* response) {
  return Handle(
      context, "RollbackDefinition", request, response, false,
      [this](const Principal& p, const auto& r) { return registry_.RollbackDefinition(p, r); });
}

grpc::ServerUnaryReactor* RegistryServiceImpl::ListAuditEvents(
    grpc::CallbackServerContext* context, const v1::ListAuditEventsRequest* request,
    v1::ListAuditEventsResponse* response) {
  return Handle(context, "ListAuditEvents", request, response, false,
                [this](const Principal&, const auto& r) { return registry_.ListAuditEvents(r); });
}

grpc::ServerUnaryReactor* RegistryServiceImpl::GetCaller(grpc::CallbackServerContext* context,
                                                         const v1::GetCallerRequest* request,
                                                         v1::Caller* response) {
  return Handle(context, "GetCaller", request, response, true,
                [](const Principal& caller, const auto&) -> absl::StatusOr<v1::Caller> {
                  return DescribeCaller(caller);
                });
}

grpc::ServerUnaryReactor* RegistryServiceImpl::DiffDefinition(
    grpc::CallbackServerContext* context, const v1::DiffDefinitionRequest* request,
    v1::DefinitionDiff* response) {
  return Handle(context, "DiffDefinition", request, response, false,
                [this](const Principal&, const auto& r) { return registry_.DiffDefinition(r); });
}

template <typename Request, typename Response, typename Fn>
grpc::ServerUnaryReactor* RegistryServiceImpl::HandleVerdicts(grpc::CallbackServerContext* context,
                                                              absl::string_view method,
                                                              const Request* request,
                                                              Response* response, Fn fn) {
  if (options_.verdicts == nullptr) {
    grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
    reactor->Finish(
        grpc::Status(grpc::StatusCode::UNIMPLEMENTED,
                     "this registry keeps no verdicts (its store has no verdict tables)"));
    return reactor;
  }
  return Handle(
      context, method, request, response, false,
      [this, fn](const Principal& p, const Request& r) { return fn(*options_.verdicts, p, r); });
}

grpc::ServerUnaryReactor* RegistryServiceImpl::StoreVerdicts(
    grpc::CallbackServerContext* context, const v1::StoreVerdictsRequest* request,
    v1::StoreVerdictsResponse* response) {
  return HandleVerdicts(
      context, "StoreVerdicts", request, response,
      [](Verdicts& v, const Principal&, const auto& r) { return v.StoreVerdicts(r); });
}

grpc::ServerUnaryReactor* RegistryServiceImpl::ListVerdicts(grpc::CallbackServerContext* context,
                                                            const v1::ListVerdictsRequest* request,
                                                            v1::ListVerdictsResponse* response) {
  return HandleVerdicts(
      context, "ListVerdicts", request, response,
      [](Verdicts& v, const Principal&, const auto& r) { return v.ListVerdicts(r); });
}

grpc::ServerUnaryReactor* RegistryServiceImpl::GetQualityReport(
    grpc::CallbackServerContext* context, const v1::GetQualityReportRequest* request,
    v1::QualityReport* response) {
  return HandleVerdicts(
      context, "GetQualityReport", request, response,
      [](Verdicts& v, const Principal&, const auto& r) { return v.GetQualityReport(r); });
}

grpc::ServerUnaryReactor* RegistryServiceImpl::EraseLeadVerdicts(
    grpc::CallbackServerContext* context, const v1::EraseLeadVerdictsRequest* request,
    v1::EraseLeadVerdictsResponse* response) {
  return HandleVerdicts(
      context, "EraseLeadVerdicts", request, response,
      [](Verdicts& v, const Principal& p, const auto& r) { return v.EraseLeadVerdicts(p, r); });
}

grpc::ServerWriteReactor<grpc::ByteBuffer>* RegistryServiceImpl::WatchDefinitions(
    grpc::CallbackServerContext* context, const grpc::ByteBuffer* raw_request) {
  auto* stream = new WatchStream(hub_, options_.max_watch_queue);
  std::shared_ptr<WatchStream::Sink> sink = stream->sink();
  v1::WatchDefinitionsRequest parsed;
  if (!ParseRequest(*raw_request, &parsed)) {
    sink->End(InvalidField("", "the request is not a WatchDefinitionsRequest"));
    return stream;
  }
  const v1::WatchDefinitionsRequest* request = &parsed;
  absl::StatusOr<Principal> principal =
      authorizer_.Authorize(*context, absl::StrCat(kPrefix, "WatchDefinitions"));
  if (!principal.ok()) {
    sink->End(principal.status());
    return stream;
  }
  absl::StatusOr<WatchSpec> spec = WatchSpecOf(*request);
  if (!spec.ok()) {
    sink->End(spec.status());
    return stream;
  }
  SubscribeOn(executor_, hub_, sink, *std::move(spec));
  return stream;
}

}  // namespace accord::registry
