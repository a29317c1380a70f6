#pragma once

#include <functional>

#include "absl/status/status.h"
#include "absl/time/time.h"

// The deadline and cancellation of the call that the current thread is working for, so that
// long work deep inside a call (compiling a definition's patterns) can stop when the caller has
// gone, without every function in between taking a context. A scope lives on the stack of the
// thread doing the work; scopes nest (the innermost one counts).
namespace accord {

class CallScope {
 public:
  // `cancelled` may be empty; it is called from this thread only, during Check().
  CallScope(absl::Time deadline, std::function<bool()> cancelled);
  ~CallScope();
  CallScope(const CallScope&) = delete;
  CallScope& operator=(const CallScope&) = delete;

  // DEADLINE_EXCEEDED once the innermost scope's deadline has passed, CANCELLED once its caller
  // cancelled, OK otherwise (and outside any scope).
  static absl::Status Check();

 private:
  absl::Time deadline_;
  std::function<bool()> cancelled_;
  CallScope* outer_;
};

}  // namespace accord
