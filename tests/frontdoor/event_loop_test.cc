// The event loop: jobs posted from other threads and from its own, turn hooks, and ticks of
// several owners added and removed while it runs.
#include "frontdoor/event_loop.h"

#include <atomic>
#include <chrono>
#include <future>
#include <mutex>
#include <thread>
#include <vector>

#include "gtest/gtest.h"

namespace accord::frontdoor {
namespace {

// Runs `job` on `loop` and waits for it.
void RunOn(EventLoop& loop, std::function<void()> job) {
  std::promise<void> done;
  loop.Post([&] {
    job();
    done.set_value();
  });
  done.get_future().wait();
}

TEST(EventLoopTest, JobsFromOtherThreadsRunInOrder) {
  EventLoop loop;
  loop.Start();
  std::vector<int> ran;
  for (int i = 0; i < 100; ++i) {
    loop.Post([&ran, i] { ran.push_back(i); });
  }
  RunOn(loop, [] {});
  ASSERT_EQ(ran.size(), 100u);
  for (int i = 0; i < 100; ++i) {
    EXPECT_EQ(ran[i], i);
  }
}

TEST(EventLoopTest, AJobPostedOnTheLoopRunsInTheSameTurnWithoutAWakeUp) {
  EventLoop loop;
  std::atomic<int> turns{0};
  std::atomic<int> wakes{0};
  std::mutex mu;
  std::vector<std::string> order;
  loop.SetTurn([&] { turns++; },
               [&] {
                 std::lock_guard lock(mu);
                 order.push_back("end of turn");
               });
  loop.SetOnWake([&] { wakes++; });
  loop.Start();
  RunOn(loop, [&] {
    loop.Post([&] {
      std::lock_guard lock(mu);
      order.push_back("posted on the loop");
    });
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  EXPECT_EQ(wakes.load(), 1);  // the RunOn from this thread only
  loop.Stop();
  ASSERT_GE(order.size(), 2u);
  EXPECT_EQ(order[0], "posted on the loop");  // before the turn that posted it ended
  EXPECT_EQ(order[1], "end of turn");
}

TEST(EventLoopTest, TicksOfSeveralOwnersRunUntilRemoved) {
  EventLoop loop;
  std::atomic<int> fast{0};
  std::atomic<int> slow{0};
  std::atomic<int> once{0};
  loop.Start();
  int fast_id = 0;
  RunOn(loop, [&] {
    fast_id = loop.AddTick(absl::Milliseconds(5), [&] { fast++; });
    loop.AddTick(absl::Milliseconds(50), [&] { slow++; });
    int* self = new int(0);
    *self = loop.AddTick(absl::Milliseconds(1), [&, self] {  // removes itself as it runs
      once++;
      loop.RemoveTick(*self);
    });
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  RunOn(loop, [&] { loop.RemoveTick(fast_id); });
  const int fast_then = fast.load();
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  loop.Stop();
  EXPECT_GE(fast_then, 10);
  EXPECT_LE(fast.load(), fast_then + 1);  // removed: at most the turn under way
  EXPECT_GE(slow.load(), 3);
  EXPECT_EQ(once.load(), 1);
}

}  // namespace
}  // namespace accord::frontdoor
