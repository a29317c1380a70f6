#pragma once

#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace accord {

// Time, injected so that tests are deterministic. Implementations are thread-safe.
class Clock {
 public:
  virtual ~Clock() = default;
  virtual absl::Time Now() const = 0;
};

class SystemClock final : public Clock {
 public:
  absl::Time Now() const override { return absl::Now(); }
};

}  // namespace accord
