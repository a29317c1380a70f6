#pragma once

#include <atomic>
#include <cstddef>
#include <utility>

// The bytes of request messages under way that a whole process may hold. A large message
// reserves its whole length before the front end credits (lets the client send) more than a
// stream's first window of it, and gives it back once the message is taken whole or its call
// ends. So clients that send most of many large messages and stop hold at most this much (and
// their windows) across every connection, and a message that got its reservation always
// completes.
namespace accord::frontdoor {

class BufferBudget final {
 public:
  explicit BufferBudget(size_t limit) : limit_(limit) {}

  // Takes `bytes` if they fit under the limit. Thread-safe.
  bool TryTake(size_t bytes) {
    size_t held = held_.load(std::memory_order_relaxed);
    do {
      if (held + bytes > limit_) {
        return false;
      }
    } while (!held_.compare_exchange_weak(held, held + bytes, std::memory_order_relaxed));
    return true;
  }
  void Give(size_t bytes) { held_.fetch_sub(bytes, std::memory_order_relaxed); }
  size_t held() const { return held_.load(std::memory_order_relaxed); }

 private:
  const size_t limit_;
  std::atomic<size_t> held_{0};
};

// What one call holds of a BufferBudget: given back when released or destroyed.
class BufferReservation final {
 public:
  BufferReservation() = default;
  ~BufferReservation() { Release(); }
  BufferReservation(const BufferReservation&) = delete;
  BufferReservation& operator=(const BufferReservation&) = delete;

  // Reserves `bytes` of `budget` (after releasing what was held). False when they do not fit.
  bool Reserve(BufferBudget& budget, size_t bytes) {
    Release();
    if (!budget.TryTake(bytes)) {
      return false;
    }
    budget_ = &budget;
    bytes_ = bytes;
    return true;
  }
  void Release() {
    if (budget_ != nullptr) {
      budget_->Give(std::exchange(bytes_, 0));
      budget_ = nullptr;
    }
  }
  size_t bytes() const { return bytes_; }

 private:
  BufferBudget* budget_ = nullptr;
  size_t bytes_ = 0;
};

}  // namespace accord::frontdoor
