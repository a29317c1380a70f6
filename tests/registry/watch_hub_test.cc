// The watch hub in process, on a real SQLite store: the initial snapshot, resuming from a
// cursor, a cursor compacted away (resync or OUT_OF_RANGE), a cursor ahead of the replica, a
// different history, and a sink that refuses its messages.
#include "registry/watch_hub.h"

#include <filesystem>
#include <mutex>

#include "gtest/gtest.h"

#include "definitions/loader.h"
#include "registry/registry.h"
#include "registry/storage/sqlite_definition_store.h"
#include "tests/testing/sqlite_registry.h"
#include "tests/testing/status_matchers.h"

namespace accord::registry {
namespace {

using accord::testing::HasReason;
using accord::testing::StatusIs;

// Collects what the hub delivers; `refuse` makes it turn messages away.
class CollectingSink final : public WatchSink {
 public:
  bool Deliver(std::shared_ptr<const WatchMessage> message) override {
    std::lock_guard lock(mu_);
    if (refuse_) {
      return false;
    }
    messages_.push_back(message->message);
    return true;
  }
  void End(const absl::Status& status) override {
    std::lock_guard lock(mu_);
    ended_ = status;
  }
  bool Idle() const override { return true; }

  std::vector<v1::WatchDefinitionsResponse> messages() const {
    std::lock_guard lock(mu_);
    return messages_;
  }
  void set_refuse(bool refuse) {
    std::lock_guard lock(mu_);
    refuse_ = refuse;
  }

 private:
  mutable std::mutex mu_;
  std::vector<v1::WatchDefinitionsResponse> messages_;
  absl::Status ended_;
  bool refuse_ = false;
};

class WatchHubTest : public testing::SqliteRegistryTest {
 protected:
  void Publish(const std::string& id) { PublishPersona(id); }

  // The UPSERTed definition names in `messages`, in order.
  static std::vector<std::string> Upserts(
      const std::vector<v1::WatchDefinitionsResponse>& messages) {
    std::vector<std::string> names;
    for (const auto& m : messages) {
      for (const auto& e : m.changes().events()) {
        if (e.type() == v1::WatchEvent::UPSERT) {
          names.push_back(e.definition().substr(e.definition().rfind('/') + 1));
        }
      }
    }
    return names;
  }
};

TEST_F(WatchHubTest, FromZeroASnapshotThenLiveChanges) {
  Publish("a");
  Publish("b");
  auto sink = std::make_shared<CollectingSink>();
  ASSERT_TRUE(hub_->Subscribe(sink, WatchSpec{}).ok());
  auto messages = sink->messages();
  ASSERT_GE(messages.size(), 3u);
  EXPECT_EQ(messages.front().snapshot_begin().reason(), v1::SnapshotBegin::INITIAL);
  EXPECT_EQ(messages.back().snapshot_end().definition_count(), 2);
  EXPECT_EQ(Upserts(messages), (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(messages.back().history_id(), hub_->history_id());
  Publish("c");
  EXPECT_EQ(Upserts(sink->messages()), (std::vector<std::string>{"a", "b", "c"}))
      << "the live change follows the snapshot";
  EXPECT_EQ(hub_->watcher_count(), 1u);
  hub_->Unsubscribe(sink.get());
  EXPECT_EQ(hub_->watcher_count(), 0u);
}

TEST_F(WatchHubTest, ResumesAfterItsCursorWithoutASnapshot) {
  Publish("a");
  const int64_t cursor = hub_->applied_sequence();
  Publish("b");
  auto sink = std::make_shared<CollectingSink>();
  WatchSpec spec;
  spec.start_after_sequence = cursor;
  spec.history_id = hub_->history_id();
  ASSERT_TRUE(hub_->Subscribe(sink, spec).ok());
  auto messages = sink->messages();
  EXPECT_EQ(Upserts(messages), (std::vector<std::string>{"b"}));
  for (const auto& m : messages) {
    EXPECT_FALSE(m.has_snapshot_begin());
    EXPECT_GT(m.sequence(), cursor);
  }
}

TEST_F(WatchHubTest, ACompactedCursorResyncsOrFailsAsAsked) {
  Publish("a");
  Publish("b");
  ASSERT_TRUE(store_->CompactChanges(1).ok());
  // The hub's in-memory ring still has the changes: a fresh hub on the same store has not.
  hub_->Stop();
  hub_ = std::make_unique<WatchHub>(*store_, WatchHubOptions{});
  ASSERT_TRUE(hub_->Start().ok());
  WatchSpec spec;
  spec.start_after_sequence = 1;
  spec.history_id = hub_->history_id();
  spec.fail_if_too_old = true;
  EXPECT_THAT(hub_->Subscribe(std::make_shared<CollectingSink>(), spec),
              HasReason("SEQUENCE_COMPACTED"));
  spec.fail_if_too_old = false;
  auto sink = std::make_shared<CollectingSink>();
  ASSERT_TRUE(hub_->Subscribe(sink, spec).ok());
  auto messages = sink->messages();
  ASSERT_FALSE(messages.empty());
  EXPECT_EQ(messages.front().snapshot_begin().reason(), v1::SnapshotBegin::COMPACTED);
  EXPECT_EQ(Upserts(messages), (std::vector<std::string>{"a", "b"}));
}

TEST_F(WatchHubTest, ACursorAheadOrFromAnotherHistory) {
  Publish("a");
  WatchSpec ahead;
  ahead.start_after_sequence = hub_->applied_sequence() + 100;
  ahead.history_id = hub_->history_id();
  EXPECT_THAT(hub_->Subscribe(std::make_shared<CollectingSink>(), ahead),
              HasReason("REPLICA_BEHIND"));
  WatchSpec other;
  other.start_after_sequence = hub_->applied_sequence();
  other.history_id = "another-store";
  auto sink = std::make_shared<CollectingSink>();
  ASSERT_TRUE(hub_->Subscribe(sink, other).ok());
  auto messages = sink->messages();
  ASSERT_FALSE(messages.empty());
  EXPECT_EQ(messages.front().snapshot_begin().reason(), v1::SnapshotBegin::HISTORY_CHANGED);
  EXPECT_EQ(Upserts(messages), (std::vector<std::string>{"a"}));
}

TEST_F(WatchHubTest, ASinkThatRefusesIsForgotten) {
  Publish("a");
  auto sink = std::make_shared<CollectingSink>();
  ASSERT_TRUE(hub_->Subscribe(sink, WatchSpec{}).ok());
  ASSERT_EQ(hub_->watcher_count(), 1u);
  sink->set_refuse(true);
  Publish("b");
  EXPECT_EQ(hub_->watcher_count(), 0u);
}

}  // namespace
}  // namespace accord::registry
