#pragma once

#include <cstddef>

#include "absl/time/time.h"

// Giving freed memory back to the system. Allocators keep what a burst freed (tcmalloc in its
// page heap, glibc in its arenas), so a server's memory would stay at the peak of every attack
// and ratchet toward its pod's limit; after a burst is over the front end returns it.
namespace accord::frontdoor {

// Returns the allocator's free pages to the system: tcmalloc's when the process runs on it,
// glibc's otherwise. Costs about a millisecond; call it after large buffers were freed.
void ReleaseFreeMemory();

// Counts bytes freed and releases when enough were, at most once per `interval` (so that
// steady large traffic does not pay page faults for memory it would reuse). Not thread-safe:
// one per event loop.
class ReleaseAfter {
 public:
  ReleaseAfter(size_t bytes, absl::Duration interval) : bytes_(bytes), interval_(interval) {}
  void Freed(size_t bytes) { freed_ += bytes; }
  // Releases (ReleaseFreeMemory) when at least `bytes` were freed since the last release and
  // `interval` has passed since it. True when it did.
  bool MaybeRelease(absl::Time now);

 private:
  const size_t bytes_;
  const absl::Duration interval_;
  size_t freed_ = 0;
  absl::Time released_ = absl::InfinitePast();
};

}  // namespace accord::frontdoor
