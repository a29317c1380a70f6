#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

// A fixed pool of threads with a bounded queue, owned by the application, for work that may
// block (storage I/O) so that gRPC reactions never do.
namespace accord {

class Executor final {
 public:
  // Starts `threads` workers; at most `max_queued` tasks wait at once.
  Executor(size_t threads, size_t max_queued);
  // Runs every queued task, then joins the workers.
  ~Executor();
  Executor(const Executor&) = delete;
  Executor& operator=(const Executor&) = delete;

  // Queues `task`; false (and `task` is not run) when the queue is full or the executor is
  // shutting down. Thread-safe.
  bool TrySubmit(std::function<void()> task);

  size_t queued() const;

 private:
  void Work();

  const size_t max_queued_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> queue_;
  bool stopping_ = false;
  std::vector<std::thread> threads_;
};

}  // namespace accord
