#include "common/call_scope.h"

namespace accord {
namespace {

thread_local CallScope* current_scope = nullptr;

}  // namespace

CallScope::CallScope(absl::Time deadline, std::function<bool()> cancelled)
    : deadline_(deadline), cancelled_(std::move(cancelled)), outer_(current_scope) {
  current_scope = this;
}

CallScope::~CallScope() { current_scope = outer_; }

absl::Status CallScope::Check() {
  const CallScope* scope = current_scope;
  if (scope == nullptr) {
    return absl::OkStatus();
  }
  if (scope->cancelled_ && scope->cancelled_()) {
    return absl::CancelledError("the caller cancelled the call");
  }
  if (absl::Now() >= scope->deadline_) {
    return absl::DeadlineExceededError("the call's deadline passed");
  }
  return absl::OkStatus();
}

}  // namespace accord
