#pragma once

#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <utility>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

#include "accord/registry/v1/registry.pb.h"
#include "common/clock.h"
#include "common/executor.h"
#include "scoring/lru_cache.h"

// Revisions that requests pin (selector.model_revision), read from the registry off the
// serving threads: a serving thread never waits for the registry longer than `first_wait`,
// at most `max_fetches` reads run at once, and failures are remembered briefly so that a
// request that keeps asking for a missing revision costs nothing.
namespace accord::scoring {

namespace rv1 = ::accord::registry::v1;

struct RevisionLoaderOptions {
  int max_fetches = 2;                                 // reads of the registry at once
  size_t capacity = 64;                                // revisions (and failures) remembered
  absl::Duration not_found_ttl = absl::Seconds(5);     // a revision that does not exist
  absl::Duration failure_ttl = absl::Seconds(1);       // the registry failed or timed out
  absl::Duration first_wait = absl::Milliseconds(50);  // the caller that starts a read waits
};

class RevisionLoader {
 public:
  // Reads one revision; blocking, with its own short deadline. Called on the loader's threads.
  using Fetcher =
      std::function<absl::StatusOr<rv1::Revision>(const std::string& definition, int64_t number)>;

  RevisionLoader(Fetcher fetcher, const Clock& clock, RevisionLoaderOptions options = {});
  // Waits for the reads in flight.
  ~RevisionLoader();
  RevisionLoader(const RevisionLoader&) = delete;
  RevisionLoader& operator=(const RevisionLoader&) = delete;

  // The revision, from memory, or read now: the caller that starts the read waits up to
  // `first_wait` for it. Errors: what the registry said (NOT_FOUND, UNAVAILABLE...) while it
  // is remembered; UNAVAILABLE with ErrorInfo reason REVISION_LOADING while a read runs
  // (retry shortly); RESOURCE_EXHAUSTED (REVISION_READS_BUSY) when `max_fetches` reads run
  // already. Thread-safe.
  absl::StatusOr<std::shared_ptr<const rv1::Revision>> Get(const std::string& definition,
                                                           int64_t number);

  // Reads started so far (for tests and metrics).
  int64_t fetches() const;

 private:
  using Key = std::pair<std::string, int64_t>;
  struct Entry {
    bool loading = false;
    std::shared_ptr<const rv1::Revision> revision;  // set once read
    absl::Status failure;                           // set when the read failed
    absl::Time expires = absl::InfiniteFuture();    // when a failure is forgotten
  };

  void Fetch(Key key);

  Fetcher fetcher_;
  const Clock& clock_;
  RevisionLoaderOptions options_;
  mutable std::mutex mu_;
  std::condition_variable done_;
  LruCache<Key, Entry> entries_;
  int loading_ = 0;
  int64_t fetches_ = 0;
  Executor executor_;  // last: joined first, while the rest is alive
};

}  // namespace accord::scoring
