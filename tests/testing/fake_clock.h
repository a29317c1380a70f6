#pragma once

#include <mutex>

#include "absl/time/time.h"

#include "common/clock.h"

namespace accord::testing {

// A clock that moves only when told to. Thread-safe.
class FakeClock final : public Clock {
 public:
  absl::Time Now() const override {
    std::lock_guard lock(mu_);
    return now_;
  }
  void Advance(absl::Duration d) {
    std::lock_guard lock(mu_);
    now_ += d;
  }

 private:
  mutable std::mutex mu_;
  absl::Time now_ = absl::FromUnixSeconds(1700000000);
};

}  // namespace accord::testing
