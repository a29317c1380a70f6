#include "frontdoor/memory.h"

#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <fstream>
#include <vector>

#include "gtest/gtest.h"

namespace accord::frontdoor {
namespace {

size_t ResidentBytes() {
  std::ifstream statm("/proc/self/statm");
  size_t pages = 0, resident = 0;
  statm >> pages >> resident;
  return resident * static_cast<size_t>(sysconf(_SC_PAGESIZE));
}

TEST(MemoryTest, FreedMemoryGoesBackToTheSystem) {
  // 64 MB in blocks below the allocator's mmap threshold, all freed but the last (which pins
  // the top of the heap): the allocator keeps them until asked.
  std::vector<char*> blocks;
  for (int i = 0; i < 1024; ++i) {
    char* b = static_cast<char*>(std::malloc(64 * 1024));
    std::memset(b, 1, 64 * 1024);
    blocks.push_back(b);
  }
  for (size_t i = 0; i + 1 < blocks.size(); ++i) {
    std::free(blocks[i]);
  }
  const size_t before = ResidentBytes();
  ReleaseFreeMemory();
  const size_t after = ResidentBytes();
  std::free(blocks.back());
  EXPECT_LT(after + (32u << 20), before) << before << " -> " << after;
}

TEST(MemoryTest, ReleaseAfterWaitsForEnoughBytesAndTheInterval) {
  ReleaseAfter release(1000, absl::Seconds(2));
  const absl::Time t0 = absl::FromUnixSeconds(100);
  release.Freed(999);
  EXPECT_FALSE(release.MaybeRelease(t0));
  release.Freed(1);
  EXPECT_TRUE(release.MaybeRelease(t0));
  release.Freed(5000);
  EXPECT_FALSE(release.MaybeRelease(t0 + absl::Seconds(1)));  // too soon
  EXPECT_TRUE(release.MaybeRelease(t0 + absl::Seconds(2)));
  EXPECT_FALSE(release.MaybeRelease(t0 + absl::Seconds(10)));  // nothing freed since
}

}  // namespace
}  // namespace accord::frontdoor
