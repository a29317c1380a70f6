#include "registry/registry_front.h"

#include <mutex>

#include "common/status.h"

namespace accord::registry {
namespace {

// GetDefinition: the bytes the registry serialized once per change.
class GetDefinitionCall final : public LocalCall {
 public:
  explicit GetDefinitionCall(Registry& registry) : registry_(registry) {}
  absl::Status OnMessage(absl::string_view message, std::string& out) override {
    v1::GetDefinitionRequest request;
    if (!request.ParseFromArray(message.data(), static_cast<int>(message.size()))) {
      return InvalidField("", "the request is not a GetDefinitionRequest");
    }
    absl::StatusOr<std::shared_ptr<const std::string>> definition =
        registry_.GetDefinitionSerialized(request);
    if (!definition.ok()) {
      return definition.status();
    }
    AppendMessage(out, [&](std::string& payload) { payload.append(**definition); });
    return absl::OkStatus();
  }
  absl::Status OnHalfClose() override { return absl::OkStatus(); }

 private:
  Registry& registry_;
};

// The hub's side of one watch: each message framed and pushed to the watcher's loop.
class PushSink final : public WatchSink {
 public:
  explicit PushSink(std::shared_ptr<LocalPush> push) : push_(std::move(push)) {}

  bool Deliver(std::shared_ptr<const WatchMessage> message) override {
    std::lock_guard lock(mu_);
    if (ended_) {
      return false;
    }
    std::string framed;
    framed.reserve(message->bytes.size() + 5);
    AppendMessage(framed, [&](std::string& payload) { payload.append(message->bytes); });
    if (!push_->Write(std::move(framed))) {
      ended_ = true;  // the call has ended: the hub forgets this watcher
      return false;
    }
    return true;
  }
  void End(const absl::Status& status) override {
    std::lock_guard lock(mu_);
    if (!ended_) {
      ended_ = true;
      push_->Finish(status);
    }
  }
  // The relay bounds what a watcher leaves unread (RelayOptions::max_push_backlog); progress
  // messages are small.
  bool Idle() const override { return true; }

 private:
  std::mutex mu_;
  std::shared_ptr<LocalPush> push_;
  bool ended_ = false;
};

// WatchDefinitions: subscribes on its request message; the hub feeds it from then on. Leaving
// the hub is on destruction, when the call ends for any reason.
class WatchCall final : public LocalCall {
 public:
  WatchCall(WatchHub& hub, Executor& executor) : hub_(hub), executor_(executor) {}
  ~WatchCall() override {
    if (sink_ != nullptr) {
      hub_.Unsubscribe(sink_.get());
    }
  }
  bool Attach(std::shared_ptr<LocalPush> push) override {
    push_ = std::move(push);
    return true;
  }
  absl::Status OnMessage(absl::string_view message, std::string& /*out*/) override {
    v1::WatchDefinitionsRequest request;
    if (!request.ParseFromArray(message.data(), static_cast<int>(message.size()))) {
      return InvalidField("", "the request is not a WatchDefinitionsRequest");
    }
    ACCORD_ASSIGN_OR_RETURN(WatchSpec spec, WatchSpecOf(request));
    sink_ = std::make_shared<PushSink>(push_);
    SubscribeOn(executor_, hub_, sink_, std::move(spec));
    return absl::OkStatus();
  }
  absl::Status OnHalfClose() override { return absl::OkStatus(); }

 private:
  WatchHub& hub_;
  Executor& executor_;
  std::shared_ptr<LocalPush> push_;
  std::shared_ptr<PushSink> sink_;
};

class GetDefinitionMethod final : public LocalMethod {
 public:
  explicit GetDefinitionMethod(Registry& registry) : registry_(registry) {}
  std::unique_ptr<LocalCall> Begin() override {
    return std::make_unique<GetDefinitionCall>(registry_);
  }

 private:
  Registry& registry_;
};

class WatchMethod final : public LocalMethod {
 public:
  WatchMethod(WatchHub& hub, Executor& executor) : hub_(hub), executor_(executor) {}
  std::unique_ptr<LocalCall> Begin() override {
    return std::make_unique<WatchCall>(hub_, executor_);
  }

 private:
  WatchHub& hub_;
  Executor& executor_;
};

}  // namespace

RegistryRoutes::RegistryRoutes(Registry& registry, WatchHub& hub, Executor& executor,
                               const CallAuthorizer& authorizer)
    : LocalRoutes(authorizer) {
  Add("/accord.registry.v1.Registry/GetDefinition", std::make_unique<GetDefinitionMethod>(registry),
      true);
  Add("/accord.registry.v1.Registry/WatchDefinitions", std::make_unique<WatchMethod>(hub, executor),
      false);
}

}  // namespace accord::registry
