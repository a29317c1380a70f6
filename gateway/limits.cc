#include "gateway/limits.h"

#include <algorithm>
#include <cmath>

#include "absl/hash/hash.h"

namespace accord::gateway {

bool Quotas::Admit(absl::string_view principal, int* retry_after) {
  auto now = std::chrono::steady_clock::now();
  Shard& shard = shards_[absl::Hash<absl::string_view>()(principal) % kShards];
  std::lock_guard lock(shard.mu);
  auto it = shard.buckets.find(std::string(principal));
  if (it == shard.buckets.end()) {
    if (shard.buckets.size() >= std::max<size_t>(1, options_.max_principals / kShards)) {
      EvictLocked(shard, now);
    }
    it = shard.buckets.emplace(std::string(principal), Bucket{options_.burst, now}).first;
  }
  Bucket& b = it->second;
  double elapsed = std::chrono::duration<double>(now - b.last).count();
  b.tokens = std::min(options_.burst, b.tokens + elapsed * options_.rate_per_second);
  b.last = now;
  if (b.tokens >= 1) {
    b.tokens -= 1;
    return true;
  }
  if (retry_after != nullptr) {
    *retry_after =
        std::max(1, static_cast<int>(std::ceil((1 - b.tokens) / options_.rate_per_second)));
  }
  return false;
}

void Quotas::EvictLocked(Shard& shard, std::chrono::steady_clock::time_point now) {
  // A bucket that has refilled completely is indistinguishable from a new one: drop those.
  // If none has, drop the least recently used, so the table stays bounded either way.
  auto oldest = shard.buckets.end();
  for (auto it = shard.buckets.begin(); it != shard.buckets.end();) {
    double elapsed = std::chrono::duration<double>(now - it->second.last).count();
    if (it->second.tokens + elapsed * options_.rate_per_second >= options_.burst) {
      it = shard.buckets.erase(it);
      continue;
    }
    if (oldest == shard.buckets.end() || it->second.last < oldest->second.last) {
      oldest = it;
    }
    ++it;
  }
  if (shard.buckets.size() >= std::max<size_t>(1, options_.max_principals / kShards) &&
      oldest != shard.buckets.end()) {
    shard.buckets.erase(oldest);
  }
}

PrincipalLimit::Shard& PrincipalLimit::ShardOf(const std::string& principal) {
  return shards_[absl::Hash<std::string>()(principal) % kShards];
}

bool PrincipalLimit::TryAcquire(const std::string& principal) {
  Shard& shard = ShardOf(principal);
  std::lock_guard lock(shard.mu);
  int& held = shard.held[principal];
  if (held >= limit_) {
    if (held == 0) {
      shard.held.erase(principal);
    }
    return false;
  }
  ++held;
  return true;
}

void PrincipalLimit::Release(const std::string& principal) {
  Shard& shard = ShardOf(principal);
  std::lock_guard lock(shard.mu);
  auto it = shard.held.find(principal);
  if (it != shard.held.end() && --it->second <= 0) {
    shard.held.erase(it);
  }
}

size_t Quotas::size() const {
  size_t n = 0;
  for (const Shard& s : shards_) {
    std::lock_guard lock(s.mu);
    n += s.buckets.size();
  }
  return n;
}

}  // namespace accord::gateway
