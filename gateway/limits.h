#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <mutex>
#include <string>
#include <unordered_map>

#include "absl/strings/string_view.h"

// Load protection at the front door: per-principal token buckets and a global in-flight
// limit, both answering at once (never queueing).
namespace accord::gateway {

struct QuotaOptions {
  double rate_per_second = 200;   // sustained requests per principal
  double burst = 400;             // bucket size
  size_t max_principals = 10000;  // bounded table; idle (full) buckets are evicted first
};

class Quotas final {
 public:
  explicit Quotas(QuotaOptions options) : options_(options) {}

  // True if `principal` may make one more request now; otherwise false and `retry_after`
  // (seconds until a token is available, at least 1) is set. Thread-safe.
  bool Admit(absl::string_view principal, int* retry_after);
  size_t size() const;

 private:
  struct Bucket {
    double tokens;
    std::chrono::steady_clock::time_point last;
  };
  struct Shard {
    mutable std::mutex mu;
    std::unordered_map<std::string, Bucket> buckets;
  };
  static constexpr size_t kShards = 16;

  void EvictLocked(Shard& shard, std::chrono::steady_clock::time_point now);

  QuotaOptions options_;
  std::array<Shard, kShards> shards_;
};

// A counting semaphore that refuses instead of waiting.
class InFlightLimit final {
 public:
  explicit InFlightLimit(int limit) : limit_(limit) {}
  bool TryAcquire() {
    if (in_flight_.fetch_add(1, std::memory_order_acq_rel) >= limit_) {
      in_flight_.fetch_sub(1, std::memory_order_acq_rel);
      return false;
    }
    return true;
  }
  void Release() { in_flight_.fetch_sub(1, std::memory_order_acq_rel); }
  int in_flight() const { return in_flight_.load(std::memory_order_relaxed); }
  int limit() const { return limit_; }

 private:
  const int limit_;
  std::atomic<int> in_flight_{0};
};

// How many calls each principal holds at once, each at most `limit`: one caller cannot take
// the whole of a shared limit (a client that never reads its responses holds its calls until
// their deadlines). Thread-safe.
class PrincipalLimit final {
 public:
  explicit PrincipalLimit(int limit) : limit_(limit) {}
  bool TryAcquire(const std::string& principal);
  void Release(const std::string& principal);
  int limit() const { return limit_; }

 private:
  struct Shard {
    std::mutex mu;
    std::unordered_map<std::string, int> held;  // only principals holding some
  };
  static constexpr size_t kShards = 16;
  Shard& ShardOf(const std::string& principal);

  const int limit_;
  std::array<Shard, kShards> shards_;
};

}  // namespace accord::gateway
