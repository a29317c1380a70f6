#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"

#include "common/executor.h"
#include "registry/storage/definition_store.h"

namespace prometheus {
class Gauge;
}

namespace accord::registry {

// The etag of a definition at `sequence`.
std::string EtagFor(int64_t sequence);

// One watch message, serialized once for every watcher that receives it.
struct WatchMessage {
  explicit WatchMessage(v1::WatchDefinitionsResponse m)
      : message(std::move(m)), bytes(message.SerializeAsString()) {}
  v1::WatchDefinitionsResponse message;
  std::string bytes;
};

// Receives one watcher's messages. Implementations are thread-safe and never block.
class WatchSink {
 public:
  virtual ~WatchSink() = default;
  // Queues `message` for sending; false when the watcher is gone or over its queue budget
  // (the sink then ends its stream and the hub forgets it).
  virtual bool Deliver(std::shared_ptr<const WatchMessage> message) = 0;
  // Ends the stream with `status` (at shutdown, or when the hub has to drop the watcher).
  virtual void End(const absl::Status& status) = 0;
  // True when nothing is queued or being written.
  virtual bool Idle() const = 0;
};

struct WatchSpec {
  std::string namespace_id;               // "" = every namespace
  std::vector<v1::DefinitionKind> kinds;  // empty = every kind
  int64_t start_after_sequence = 0;
  std::string history_id;
  bool fail_if_too_old = false;
  absl::Duration progress_interval = absl::Seconds(10);
};

// The spec a WatchDefinitionsRequest asks for; INVALID_ARGUMENT naming the field otherwise.
absl::StatusOr<WatchSpec> WatchSpecOf(const v1::WatchDefinitionsRequest& request);

struct WatchHubOptions {
  // How often the store is polled for changes committed elsewhere (another replica); local
  // commits call Notify() and are seen at once.
  absl::Duration poll_interval = absl::Seconds(1);
  size_t ring_capacity = 4096;  // recent change records kept in memory for resumes
  prometheus::Gauge* watchers_gauge = nullptr;
  prometheus::Gauge* sequence_gauge = nullptr;
  // Runs each fan-out of changes to the watchers (given as a function); null: as it is. The
  // registry's front end wraps it in an H2Relay::PushBatch, so that a change reaches each
  // event loop in one wake-up and each connection in one write.
  std::function<void(const std::function<void()>& fan_out)> around_fan_out;
};

// The registry replica's in-memory view of the store, kept current from the change log, and
// the fan-out of published changes to watchers. Reads are served from the view; watchers
// resume from the in-memory ring, or from the store's change log when further behind.
// Thread-safe.
class WatchHub final {
 public:
  using StatePtr = std::shared_ptr<const records::DefinitionState>;

  WatchHub(DefinitionStore& store, WatchHubOptions options);
  ~WatchHub();
  WatchHub(const WatchHub&) = delete;
  WatchHub& operator=(const WatchHub&) = delete;

  // Loads the whole store and starts following its change log. UNAVAILABLE if the store
  // cannot be read.
  absl::Status Start();
  // Ends every watcher with UNAVAILABLE and stops following the store.
  void Stop();

  // Reads new changes now (after a local commit) and waits until `sequence` is applied.
  // DEADLINE_EXCEEDED after `timeout`.
  absl::Status WaitForSequence(int64_t sequence, absl::Duration timeout);
  // Wakes the follower thread.
  void Notify();

  int64_t applied_sequence() const;
  const std::string& history_id() const { return history_id_; }
  size_t watcher_count() const;

  // The current state of `name`, or null.
  StatePtr Get(const std::string& name) const;
  // The serialized Definition of `name` (etag set), as GetDefinition returns it, or null.
  // Built once per change, so reads only copy a pointer.
  std::shared_ptr<const std::string> GetSerialized(const std::string& name) const;
  // States whose names start with `prefix` and sort after `after`, in name order, that
  // satisfy `keep`, at most `limit`.
  std::vector<StatePtr> List(
      const std::string& prefix, const std::string& after, size_t limit,
      const std::function<bool(const records::DefinitionState&)>& keep) const;

  // Registers `sink` for `spec`: sends the snapshot or the missed changes first, then live
  // changes. Blocks on store reads: call it from an executor. OUT_OF_RANGE (reason
  // SEQUENCE_COMPACTED) for a too-old cursor with fail_if_too_old, UNAVAILABLE for a cursor
  // ahead of this replica, RESOURCE_EXHAUSTED when the sink refused the backlog.
  absl::Status Subscribe(const std::shared_ptr<WatchSink>& sink, const WatchSpec& spec);
  void Unsubscribe(const WatchSink* sink);

 private:
  struct Watcher {
    std::shared_ptr<WatchSink> sink;
    WatchSpec spec;
    absl::Time last_sent;
  };
  using MessagePtr = std::shared_ptr<const WatchMessage>;

  void Follow();
  absl::Status CatchUp();
  void Apply(const records::ChangeRecord& record, std::vector<std::shared_ptr<WatchSink>>& dropped);
  absl::Status Reload();
  // The message `spec` should get for `record`, or null when no event matches.
  MessagePtr MessageFor(const records::ChangeRecord& record, const WatchSpec& spec) const;
  // Sends a snapshot of the published state (caller holds mu_ exclusively).
  bool SendSnapshotLocked(WatchSink& sink, const WatchSpec& spec, v1::SnapshotBegin::Reason reason,
                          int64_t compacted_sequence);
  void SendProgress();
  void EndAll(const absl::Status& status);

  DefinitionStore& store_;
  const WatchHubOptions options_;
  std::string history_id_;

  mutable std::shared_mutex mu_;
  std::map<std::string, StatePtr> states_;
  std::unordered_map<std::string, std::shared_ptr<const std::string>> serialized_;
  std::deque<std::shared_ptr<const records::ChangeRecord>> ring_;
  int64_t ring_base_ = 0;  // the ring holds every record with sequence > ring_base_
  int64_t applied_ = 0;
  std::unordered_map<const WatchSink*, Watcher> watchers_;

  std::mutex catch_up_mu_;
  std::mutex wake_mu_;
  std::condition_variable wake_cv_;
  bool wake_ = false;
  bool stopping_ = false;
  std::thread follower_;
};

// Subscribes `sink` on `executor` (the first snapshot may be large): the sink is ended with the
// hub's refusal, or RESOURCE_EXHAUSTED (SERVER_BUSY) when the executor's queue is full.
void SubscribeOn(Executor& executor, WatchHub& hub, std::shared_ptr<WatchSink> sink,
                 WatchSpec spec);

}  // namespace accord::registry
