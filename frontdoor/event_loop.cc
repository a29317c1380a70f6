#include "frontdoor/event_loop.h"

#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>

namespace accord::frontdoor {
namespace {

const Clock& SystemTime() {
  static const SystemClock clock;
  return clock;
}

}  // namespace

EventLoop::EventLoop(const Clock* clock)
    : clock_(clock != nullptr ? clock : &SystemTime()),
      epoll_(epoll_create1(EPOLL_CLOEXEC)),
      wake_fd_(eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) {
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.fd = wake_fd_;
  epoll_ctl(epoll_, EPOLL_CTL_ADD, wake_fd_, &ev);
}

EventLoop::~EventLoop() {
  Stop();
  close(wake_fd_);
  close(epoll_);
}

void EventLoop::Add(int fd, uint32_t events, Handler handler) {
  epoll_event ev{};
  ev.events = events;
  ev.data.fd = fd;
  epoll_ctl(epoll_, EPOLL_CTL_ADD, fd, &ev);
  handlers_[fd] = std::make_unique<Handler>(std::move(handler));
}

void EventLoop::Modify(int fd, uint32_t events) {
  epoll_event ev{};
  ev.events = events;
  ev.data.fd = fd;
  epoll_ctl(epoll_, EPOLL_CTL_MOD, fd, &ev);
}

void EventLoop::Remove(int fd) {
  epoll_ctl(epoll_, EPOLL_CTL_DEL, fd, nullptr);
  auto it = handlers_.find(fd);
  if (it != handlers_.end()) {
    removed_.push_back(std::move(it->second));
    handlers_.erase(it);
  }
}

void EventLoop::Post(std::function<void()> job) {
  const bool here = OnLoopThread();  // the turn runs it before it ends: no wake-up
  bool wake = false;
  {
    std::lock_guard lock(mu_);
    if (stopped_) {
      return;
    }
    jobs_.push_back(std::move(job));
    wake = !here && !std::exchange(woken_, true);
  }
  if (wake) {
    uint64_t one = 1;
    [[maybe_unused]] ssize_t n = write(wake_fd_, &one, sizeof one);
  }
}

int EventLoop::AddTick(absl::Duration every, std::function<void()> tick) {
  const auto ms = std::max(absl::ToChronoMilliseconds(every), std::chrono::milliseconds(1));
  ticks_.push_back(std::make_unique<Tick>(
      Tick{++next_tick_id_, ms, std::chrono::steady_clock::now(), std::move(tick), false}));
  return next_tick_id_;
}

void EventLoop::RemoveTick(int id) {
  for (const auto& tick : ticks_) {
    if (tick->id == id) {
      tick->removed = true;  // erased after the ticks have run: it may be the one running
    }
  }
}

std::chrono::milliseconds EventLoop::RunTicks() {
  const auto now = std::chrono::steady_clock::now();
  auto wake = now + std::chrono::milliseconds(100);
  for (size_t i = 0; i < ticks_.size(); ++i) {  // a tick may add ticks
    Tick& tick = *ticks_[i];
    if (!tick.removed && now >= tick.next) {
      tick.next = now + tick.every;
      tick.run();
    }
  }
  std::erase_if(ticks_, [](const std::unique_ptr<Tick>& t) { return t->removed; });
  for (const auto& tick : ticks_) {
    wake = std::min(wake, tick->next);
  }
  return std::chrono::duration_cast<std::chrono::milliseconds>(wake - now);
}

void EventLoop::SetTurn(std::function<void()> before, std::function<void()> after) {
  turn_before_ = std::move(before);
  turn_after_ = std::move(after);
}

void EventLoop::SetOnWake(std::function<void()> on_wake) { on_wake_ = std::move(on_wake); }

void EventLoop::Wake() {
  uint64_t one = 1;
  [[maybe_unused]] ssize_t n = write(wake_fd_, &one, sizeof one);
}

void EventLoop::Join() {
  if (thread_.joinable() && !OnLoopThread()) {
    thread_.join();
  }
}

void EventLoop::Start() {
  thread_ = std::thread([this] {
    loop_thread_ = std::this_thread::get_id();
    Run();
  });
}

void EventLoop::Stop() {
  {
    std::lock_guard lock(mu_);
    stopped_ = true;
  }
  stopping_ = true;
  Wake();
  Join();
  std::vector<std::function<void()>> dropped;
  std::lock_guard lock(mu_);
  dropped.swap(jobs_);
}

void EventLoop::RunJobs() {
  std::vector<std::function<void()>> jobs;
  {
    std::lock_guard lock(mu_);
    jobs.swap(jobs_);
    woken_ = false;
  }
  for (auto& job : jobs) {
    job();
  }
}

bool EventLoop::HasJobs() {
  std::lock_guard lock(mu_);
  return !jobs_.empty();
}

void EventLoop::Run() {
  constexpr int kEvents = 256;
  epoll_event events[kEvents];
  // Ticks are kept on the real clock's milliseconds (epoll's timeout), and run whenever that
  // much real time has passed, however busy the loop.
  while (!stopping_.load()) {
    const auto until_tick = RunTicks();
    // Jobs posted from this thread after the last turn's jobs ran (by `after`): no waiting.
    const int wait = HasJobs() ? 0 : static_cast<int>(std::max<int64_t>(until_tick.count(), 0));
    const int n = epoll_wait(epoll_, events, kEvents, wait);
    if (n < 0 && errno != EINTR) {
      break;
    }
    if (turn_before_) {
      turn_before_();
    }
    for (int i = 0; i < n; ++i) {
      const int fd = events[i].data.fd;
      if (fd == wake_fd_) {
        uint64_t count;
        [[maybe_unused]] ssize_t r = read(wake_fd_, &count, sizeof count);
        if (on_wake_) {
          on_wake_();
        }
        RunJobs();
        continue;
      }
      auto it = handlers_.find(fd);
      if (it != handlers_.end()) {
        Handler* handler = it->second.get();  // stays alive this turn even if removed
        (*handler)(events[i].events);
      }
    }
    if (HasJobs()) {  // posted by this turn's handlers
      RunJobs();
    }
    if (turn_after_) {
      turn_after_();
    }
    removed_.clear();
  }
}

}  // namespace accord::frontdoor
