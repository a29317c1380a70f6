#pragma once

#include <sys/epoll.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "absl/time/time.h"

#include "common/clock.h"

// One thread's event loop: file descriptors watched with epoll, each with its handler; jobs
// posted from other threads (woken through an eventfd, every job of a wake-up run in one
// turn); and a tick at a fixed interval for timeouts. No protocol: the HTTP/1.1 server
// (http1_server.h) is built on it.
namespace accord::frontdoor {

class EventLoop final {
 public:
  using Handler = std::function<void(uint32_t events)>;

  // `clock`: where Now() reads time (null: the system's).
  explicit EventLoop(const Clock* clock = nullptr);
  // Stops and joins the thread; then closes nothing it was given (its owners close their fds).
  ~EventLoop();
  EventLoop(const EventLoop&) = delete;
  EventLoop& operator=(const EventLoop&) = delete;

  // On the loop's thread (or before Start): watches `fd` for `events` (EPOLLIN, EPOLLOUT, ...);
  // `handler` runs on the loop's thread with the events that came.
  void Add(int fd, uint32_t events, Handler handler);
  void Modify(int fd, uint32_t events);
  // Stops watching `fd` (before its owner closes it). The handler may be the one running.
  void Remove(int fd);

  // Runs `job` on the loop's thread, in the order posted. Thread-safe. A job posted after Stop
  // is dropped (destroyed on the posting thread or the loop's). Posted from the loop's own
  // thread it wakes nothing: it runs at the end of the current turn, before `after`.
  void Post(std::function<void()> job);
  // Runs `tick` on the loop's thread about every `every`, until RemoveTick with the id it
  // returns. On the loop's thread (or before Start); several owners may each have theirs.
  int AddTick(absl::Duration every, std::function<void()> tick);
  void RemoveTick(int id);
  // Before Start: `before` runs at the start of each turn (after epoll_wait returns), `after`
  // at its end (after every handler and job of the turn).
  void SetTurn(std::function<void()> before, std::function<void()> after);
  // Before Start: `on_wake` runs on the loop's thread after each Wake (several Wakes before
  // the loop gets to it: once). For owners that keep their own queue of work from other
  // threads and want one wake-up for many items.
  void SetOnWake(std::function<void()> on_wake);
  // Wakes the loop (on_wake runs, posted jobs run). Thread-safe.
  void Wake();

  // Runs the loop on a thread of its own.
  void Start();
  // Ends the loop after its current turn and joins its thread (from the loop's own thread: it
  // only ends the loop). Thread-safe; idempotent.
  void Stop();
  // Waits for the loop's thread to end by itself (after a Stop from the loop's thread).
  void Join();

  absl::Time Now() const { return clock_->Now(); }
  bool OnLoopThread() const { return std::this_thread::get_id() == loop_thread_.load(); }

 private:
  struct Tick {
    int id;
    std::chrono::milliseconds every;
    std::chrono::steady_clock::time_point next;
    std::function<void()> run;
    bool removed;
  };

  void Run();
  void RunJobs();
  bool HasJobs();
  // Runs the ticks that are due; returns the time until the next one (at most 100 ms: the
  // loop looks at the clock at least that often).
  std::chrono::milliseconds RunTicks();

  const Clock* clock_;
  int epoll_ = -1;
  int wake_fd_ = -1;
  std::unordered_map<int, std::unique_ptr<Handler>> handlers_;
  std::vector<std::unique_ptr<Handler>> removed_;  // freed after the turn that removed them
  std::vector<std::unique_ptr<Tick>> ticks_;
  int next_tick_id_ = 0;
  std::function<void()> turn_before_;
  std::function<void()> turn_after_;
  std::function<void()> on_wake_;
  std::mutex mu_;
  std::vector<std::function<void()>> jobs_;  // guarded by mu_
  bool woken_ = false;                       // guarded by mu_: a wake-up is on its way
  bool stopped_ = false;                     // guarded by mu_
  std::atomic<bool> stopping_{false};
  std::atomic<std::thread::id> loop_thread_{};
  std::thread thread_;
};

}  // namespace accord::frontdoor
