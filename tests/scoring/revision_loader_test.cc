#include "scoring/revision_loader.h"

#include <atomic>
#include <condition_variable>
#include <mutex>

#include "gtest/gtest.h"

#include "tests/testing/fake_clock.h"
#include "tests/testing/status_matchers.h"

namespace accord::scoring {
namespace {

using accord::testing::FakeClock;
using accord::testing::HasReason;
using accord::testing::StatusIs;

// A registry that answers only when the test lets it (a hung registry until then).
class Registry {
 public:
  absl::StatusOr<rv1::Revision> Fetch(const std::string& definition, int64_t number) {
    ++calls_;
    std::unique_lock lock(mu_);
    cv_.wait(lock, [&] { return open_; });
    if (number > 10) {
      return absl::NotFoundError("no such revision");
    }
    rv1::Revision r;
    r.set_name(definition + "/revisions/" + std::to_string(number));
    r.set_revision_number(number);
    return r;
  }
  void Open() {
    std::lock_guard lock(mu_);
    open_ = true;
    cv_.notify_all();
  }
  int calls() const { return calls_.load(); }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool open_ = false;
  std::atomic<int> calls_{0};
};

RevisionLoader::Fetcher FetcherOf(Registry& registry) {
  return [&registry](const std::string& d, int64_t n) { return registry.Fetch(d, n); };
}

// Issue 13, case 7: with the registry hung, pinned requests held the serving thread 3 s each.
TEST(RevisionLoaderTest, AHungRegistryNeverHoldsTheCallerAndReadsAreBounded) {
  Registry registry;
  FakeClock clock;
  {
    RevisionLoader loader(FetcherOf(registry), clock, {});
    // The caller that starts a read waits first_wait (50 ms) at most, then is told to retry.
    EXPECT_THAT(loader.Get("m", 1), HasReason("REVISION_LOADING"));
    EXPECT_THAT(loader.Get("m", 1), HasReason("REVISION_LOADING"));
    EXPECT_THAT(loader.Get("m", 2), HasReason("REVISION_LOADING"));
    // Two reads run; a third revision is refused at once instead of queueing a third.
    EXPECT_THAT(loader.Get("m", 3), HasReason("REVISION_READS_BUSY"));
    EXPECT_THAT(loader.Get("m", 3), StatusIs(absl::StatusCode::kResourceExhausted));
    EXPECT_EQ(loader.fetches(), 2);
    registry.Open();
    // Once the registry answers, the revisions are served from memory.
    absl::StatusOr<std::shared_ptr<const rv1::Revision>> got;
    for (int i = 0; i < 200 && !(got = loader.Get("m", 1)).ok(); ++i) {
      absl::SleepFor(absl::Milliseconds(10));
    }
    ASSERT_TRUE(got.ok()) << got.status();
    EXPECT_EQ((*got)->revision_number(), 1);
    for (int i = 0; i < 200 && !(got = loader.Get("m", 3)).ok(); ++i) {
      absl::SleepFor(absl::Milliseconds(10));
    }
    ASSERT_TRUE(got.ok()) << "read while the registry answers: " << got.status();
    EXPECT_EQ(registry.calls(), 3);
  }
}

TEST(RevisionLoaderTest, MissesAreRememberedBriefly) {
  Registry registry;
  registry.Open();
  FakeClock clock;
  RevisionLoader loader(FetcherOf(registry), clock, {});
  EXPECT_THAT(loader.Get("m", 99), StatusIs(absl::StatusCode::kNotFound));
  for (int i = 0; i < 20; ++i) {
    EXPECT_THAT(loader.Get("m", 99), StatusIs(absl::StatusCode::kNotFound));
  }
  EXPECT_EQ(registry.calls(), 1) << "a missing revision is read once per 5 s";
  clock.Advance(absl::Seconds(6));
  EXPECT_THAT(loader.Get("m", 99), StatusIs(absl::StatusCode::kNotFound));
  EXPECT_EQ(registry.calls(), 2);
}

TEST(RevisionLoaderTest, EvictsTheLeastRecentlyUsedOneAtATime) {
  Registry registry;
  registry.Open();
  FakeClock clock;
  RevisionLoaderOptions options;
  options.capacity = 3;
  RevisionLoader loader(FetcherOf(registry), clock, options);
  for (int n = 1; n <= 3; ++n) {
    ASSERT_TRUE(loader.Get("m", n).ok());
  }
  ASSERT_TRUE(loader.Get("m", 1).ok());  // 2 is now the least recently used
  ASSERT_TRUE(loader.Get("m", 4).ok());  // evicts 2 only
  EXPECT_EQ(registry.calls(), 4);
  ASSERT_TRUE(loader.Get("m", 1).ok());
  ASSERT_TRUE(loader.Get("m", 3).ok());
  EXPECT_EQ(registry.calls(), 4) << "1 and 3 stayed";
  ASSERT_TRUE(loader.Get("m", 2).ok());
  EXPECT_EQ(registry.calls(), 5) << "2 was read again";
}

}  // namespace
}  // namespace accord::scoring
