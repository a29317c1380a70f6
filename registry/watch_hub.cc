#include "registry/watch_hub.h"

#include <algorithm>
#include <optional>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "prometheus/gauge.h"

#include "common/log.h"
#include "common/status.h"

namespace accord::registry {
namespace {

constexpr int kPageSize = 500;
constexpr int kSnapshotChunk = 100;

bool Matches(const WatchSpec& spec, const v1::WatchEvent& event) {
  if (!spec.namespace_id.empty() &&
      !absl::StartsWith(event.definition(), absl::StrCat("namespaces/", spec.namespace_id, "/"))) {
    return false;
  }
  return spec.kinds.empty() ||
         std::find(spec.kinds.begin(), spec.kinds.end(), event.kind()) != spec.kinds.end();
}

std::shared_ptr<const std::string> Serialize(const records::DefinitionState& state) {
  v1::Definition d = state.definition();
  d.set_etag(EtagFor(d.sequence()));
  return std::make_shared<const std::string>(d.SerializeAsString());
}

}  // namespace

std::string EtagFor(int64_t sequence) { return absl::StrCat("\"", sequence, "\""); }

WatchHub::WatchHub(DefinitionStore& store, WatchHubOptions options)
    : store_(store), options_(options), history_id_(store.history_id()) {}

WatchHub::~WatchHub() { Stop(); }

absl::Status WatchHub::Start() {
  ACCORD_RETURN_IF_ERROR(Reload());
  follower_ = std::thread([this] { Follow(); });
  return absl::OkStatus();
}

absl::Status WatchHub::Reload() {
  ACCORD_ASSIGN_OR_RETURN(StoreSnapshot snapshot, store_.LoadAll());
  std::unique_lock lock(mu_);
  states_.clear();
  serialized_.clear();
  for (records::DefinitionState& state : snapshot.states) {
    std::string name = state.definition().name();
    serialized_[name] = Serialize(state);
    states_[name] = std::make_shared<const records::DefinitionState>(std::move(state));
  }
  ring_.clear();
  ring_base_ = snapshot.sequence;
  applied_ = snapshot.sequence;
  return absl::OkStatus();
}

void WatchHub::Stop() {
  {
    std::lock_guard lock(wake_mu_);
    if (stopping_) {
      return;
    }
    stopping_ = true;
  }
  wake_cv_.notify_all();
  if (follower_.joinable()) {
    follower_.join();
  }
  EndAll(absl::UnavailableError("the registry is shutting down; resume from your last sequence"));
}

void WatchHub::EndAll(const absl::Status& status) {
  std::unordered_map<const WatchSink*, Watcher> watchers;
  {
    std::unique_lock lock(mu_);
    watchers.swap(watchers_);
  }
  for (auto& [ptr, watcher] : watchers) {
    watcher.sink->End(status);
  }
}

void WatchHub::Notify() {
  {
    std::lock_guard lock(wake_mu_);
    wake_ = true;
  }
  wake_cv_.notify_one();
}

void WatchHub::Follow() {
  const absl::Duration tick = std::min(options_.poll_interval, absl::Milliseconds(250));
  absl::Time next_poll = absl::Now();
  for (;;) {
    bool woken = false;
    {
      std::unique_lock lock(wake_mu_);
      wake_cv_.wait_for(lock, absl::ToChronoMilliseconds(tick),
                        [this] { return wake_ || stopping_; });
      if (stopping_) {
        return;
      }
      woken = wake_;
      wake_ = false;
    }
    if (woken || absl::Now() >= next_poll) {
      next_poll = absl::Now() + options_.poll_interval;
      if (absl::Status s = CatchUp(); !s.ok()) {
        Log(LogLevel::kWarning, "cannot read the change log", {{"error", s.ToString()}});
      }
    }
    SendProgress();
  }
}

absl::Status WatchHub::CatchUp() {
  std::lock_guard catch_up(catch_up_mu_);
  for (;;) {
    int64_t after = applied_sequence();
    absl::StatusOr<ChangePage> page = store_.ReadChanges(after, kPageSize);
    if (!page.ok()) {
      if (ErrorReason(page.status()) == "SEQUENCE_COMPACTED") {
        // This replica fell behind a compaction: rebuild the view; watchers resume (and
        // resync) on their own.
        ACCORD_RETURN_IF_ERROR(Reload());
        EndAll(absl::UnavailableError("the registry replica resynchronized; resume the watch"));
        continue;
      }
      return page.status();
    }
    if (page->records.empty()) {
      break;
    }
    std::vector<std::shared_ptr<WatchSink>> dropped;
    auto fan_out = [&] {
      for (const records::ChangeRecord& record : page->records) {
        Apply(record, dropped);
      }
    };
    if (options_.around_fan_out) {
      options_.around_fan_out(fan_out);
    } else {
      fan_out();
    }
    for (const auto& sink : dropped) {
      sink->End(ErrorWithReason(absl::StatusCode::kResourceExhausted, "WATCHER_TOO_SLOW",
                                "the watcher fell too far behind; resume from your last sequence"));
    }
  }
  if (options_.sequence_gauge != nullptr) {
    options_.sequence_gauge->Set(static_cast<double>(applied_sequence()));
  }
  return absl::OkStatus();
}

void WatchHub::Apply(const records::ChangeRecord& record,
                     std::vector<std::shared_ptr<WatchSink>>& dropped) {
  auto shared = std::make_shared<const records::ChangeRecord>(record);
  std::unique_lock lock(mu_);
  if (record.sequence() <= applied_) {
    return;  // already applied (a concurrent catch-up)
  }
  for (const records::DefinitionState& state : record.states()) {
    states_[state.definition().name()] = std::make_shared<const records::DefinitionState>(state);
    serialized_[state.definition().name()] = Serialize(state);
  }
  ring_.push_back(shared);
  while (ring_.size() > options_.ring_capacity) {
    ring_base_ = ring_.front()->sequence();
    ring_.pop_front();
  }
  applied_ = record.sequence();
  if (record.events_size() == 0) {
    return;
  }
  const absl::Time now = absl::Now();
  MessagePtr unfiltered;
  for (auto it = watchers_.begin(); it != watchers_.end();) {
    Watcher& w = it->second;
    MessagePtr message;
    if (w.spec.namespace_id.empty() && w.spec.kinds.empty()) {
      if (unfiltered == nullptr) {
        unfiltered = MessageFor(record, w.spec);
      }
      message = unfiltered;
    } else {
      message = MessageFor(record, w.spec);
    }
    if (message != nullptr) {
      if (!w.sink->Deliver(message)) {
        dropped.push_back(w.sink);
        it = watchers_.erase(it);
        continue;
      }
      w.last_sent = now;
    }
    ++it;
  }
}

WatchHub::MessagePtr WatchHub::MessageFor(const records::ChangeRecord& record,
                                          const WatchSpec& spec) const {
  v1::WatchDefinitionsResponse message;
  message.set_sequence(record.sequence());
  message.set_history_id(history_id_);
  auto* changes = message.mutable_changes();
  for (const v1::WatchEvent& event : record.events()) {
    if (Matches(spec, event)) {
      *changes->add_events() = event;
    }
  }
  if (changes->events_size() == 0) {
    return nullptr;
  }
  return std::make_shared<const WatchMessage>(std::move(message));
}

bool WatchHub::SendSnapshotLocked(WatchSink& sink, const WatchSpec& spec,
                                  v1::SnapshotBegin::Reason reason, int64_t compacted_sequence) {
  v1::WatchDefinitionsResponse begin;
  begin.set_sequence(applied_);
  begin.set_history_id(history_id_);
  begin.mutable_snapshot_begin()->set_reason(reason);
  begin.mutable_snapshot_begin()->set_compacted_sequence(compacted_sequence);
  if (!sink.Deliver(std::make_shared<const WatchMessage>(std::move(begin)))) {
    return false;
  }
  int64_t count = 0;
  std::optional<v1::WatchDefinitionsResponse> chunk;
  auto flush = [&] {
    bool ok =
        !chunk.has_value() || sink.Deliver(std::make_shared<const WatchMessage>(*std::move(chunk)));
    chunk.reset();
    return ok;
  };
  for (const auto& [name, state] : states_) {
    const v1::Definition& d = state->definition();
    if (d.state() != v1::Definition::ACTIVE || d.published_revision() == 0) {
      continue;
    }
    v1::WatchEvent event;
    event.set_type(v1::WatchEvent::UPSERT);
    event.set_definition(name);
    event.set_kind(d.kind());
    *event.mutable_revision() = state->published();
    event.set_sequence(state->published().sequence());
    if (!Matches(spec, event)) {
      continue;
    }
    if (!chunk.has_value()) {
      chunk.emplace();
      chunk->set_sequence(applied_);
      chunk->set_history_id(history_id_);
    }
    *chunk->mutable_changes()->add_events() = std::move(event);
    ++count;
    if (chunk->changes().events_size() >= kSnapshotChunk && !flush()) {
      return false;
    }
  }
  if (!flush()) {
    return false;
  }
  v1::WatchDefinitionsResponse end;
  end.set_sequence(applied_);
  end.set_history_id(history_id_);
  end.mutable_snapshot_end()->set_definition_count(count);
  return sink.Deliver(std::make_shared<const WatchMessage>(std::move(end)));
}

absl::Status WatchHub::Subscribe(const std::shared_ptr<WatchSink>& sink, const WatchSpec& spec) {
  const absl::Status too_slow = ErrorWithReason(absl::StatusCode::kResourceExhausted,
                                                "WATCHER_TOO_SLOW", "the watcher did not keep up");
  int64_t cursor = spec.start_after_sequence;
  if (cursor < 0) {
    return InvalidField("start_after_sequence", "must not be negative");
  }
  auto resync = [&](v1::SnapshotBegin::Reason reason, int64_t compacted) -> absl::Status {
    std::unique_lock lock(mu_);
    if (!SendSnapshotLocked(*sink, spec, reason, compacted)) {
      return too_slow;
    }
    watchers_[sink.get()] = Watcher{sink, spec, absl::Now()};
    return absl::OkStatus();
  };
  if (cursor == 0) {
    return resync(v1::SnapshotBegin::INITIAL, 0);
  }
  if (!spec.history_id.empty() && spec.history_id != history_id_) {
    return resync(v1::SnapshotBegin::HISTORY_CHANGED, 0);
  }
  if (cursor > applied_sequence()) {
    ACCORD_RETURN_IF_ERROR(CatchUp());
  }
  for (;;) {
    {
      std::unique_lock lock(mu_);
      if (cursor > applied_) {
        return ErrorWithReason(
            absl::StatusCode::kUnavailable, "REPLICA_BEHIND",
            absl::StrCat("start_after_sequence ", cursor, " is ahead of this registry (at ",
                         applied_, "); retry, or resume from 0 if the store was restored"),
            {{"replica_sequence", absl::StrCat(applied_)}});
      }
      if (cursor >= ring_base_) {
        for (const auto& record : ring_) {
          if (record->sequence() <= cursor) {
            continue;
          }
          MessagePtr message = MessageFor(*record, spec);
          if (message != nullptr && !sink->Deliver(message)) {
            return too_slow;
          }
        }
        watchers_[sink.get()] = Watcher{sink, spec, absl::Now()};
        return absl::OkStatus();
      }
    }
    absl::StatusOr<ChangePage> page = store_.ReadChanges(cursor, kPageSize);
    if (!page.ok() && ErrorReason(page.status()) != "SEQUENCE_COMPACTED") {
      return page.status();
    }
    if (!page.ok() || page->records.empty()) {
      int64_t compacted = 0;
      if (!page.ok()) {
        if (spec.fail_if_too_old) {
          return page.status();
        }
      } else {
        compacted = page->compacted_sequence;
      }
      return resync(v1::SnapshotBegin::COMPACTED, compacted);
    }
    for (const records::ChangeRecord& record : page->records) {
      MessagePtr message = MessageFor(record, spec);
      if (message != nullptr && !sink->Deliver(message)) {
        return too_slow;
      }
      cursor = record.sequence();
    }
  }
}

void WatchHub::Unsubscribe(const WatchSink* sink) {
  std::unique_lock lock(mu_);
  watchers_.erase(sink);
}

void WatchHub::SendProgress() {
  std::vector<std::shared_ptr<WatchSink>> dropped;
  size_t count = 0;
  {
    std::unique_lock lock(mu_);
    const absl::Time now = absl::Now();
    MessagePtr progress;
    for (auto it = watchers_.begin(); it != watchers_.end();) {
      Watcher& w = it->second;
      if (now - w.last_sent >= w.spec.progress_interval && w.sink->Idle()) {
        if (progress == nullptr) {
          v1::WatchDefinitionsResponse message;
          message.set_sequence(applied_);
          message.set_history_id(history_id_);
          message.mutable_progress();
          progress = std::make_shared<const WatchMessage>(std::move(message));
        }
        if (!w.sink->Deliver(progress)) {
          dropped.push_back(w.sink);
          it = watchers_.erase(it);
          continue;
        }
        w.last_sent = now;
      }
      ++it;
    }
    count = watchers_.size();
  }
  for (const auto& sink : dropped) {
    sink->End(absl::CancelledError("the watcher is gone"));
  }
  if (options_.watchers_gauge != nullptr) {
    options_.watchers_gauge->Set(static_cast<double>(count));
  }
}

absl::Status WatchHub::WaitForSequence(int64_t sequence, absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  for (;;) {
    ACCORD_RETURN_IF_ERROR(CatchUp());
    if (applied_sequence() >= sequence) {
      return absl::OkStatus();
    }
    if (absl::Now() >= deadline) {
      return absl::DeadlineExceededError(
          absl::StrCat("sequence ", sequence, " was not applied in time"));
    }
    absl::SleepFor(absl::Milliseconds(5));
  }
}

int64_t WatchHub::applied_sequence() const {
  std::shared_lock lock(mu_);
  return applied_;
}

size_t WatchHub::watcher_count() const {
  std::shared_lock lock(mu_);
  return watchers_.size();
}

WatchHub::StatePtr WatchHub::Get(const std::string& name) const {
  std::shared_lock lock(mu_);
  auto it = states_.find(name);
  return it == states_.end() ? nullptr : it->second;
}

std::shared_ptr<const std::string> WatchHub::GetSerialized(const std::string& name) const {
  std::shared_lock lock(mu_);
  auto it = serialized_.find(name);
  return it == serialized_.end() ? nullptr : it->second;
}

std::vector<WatchHub::StatePtr> WatchHub::List(
    const std::string& prefix, const std::string& after, size_t limit,
    const std::function<bool(const records::DefinitionState&)>& keep) const {
  std::vector<StatePtr> out;
  std::shared_lock lock(mu_);
  auto it = after.empty() ? states_.lower_bound(prefix) : states_.upper_bound(after);
  for (; it != states_.end() && out.size() < limit; ++it) {
    if (!absl::StartsWith(it->first, prefix)) {
      if (it->first > prefix) {
        break;
      }
      continue;
    }
    if (keep(*it->second)) {
      out.push_back(it->second);
    }
  }
  return out;
}

absl::StatusOr<WatchSpec> WatchSpecOf(const v1::WatchDefinitionsRequest& request) {
  WatchSpec spec;
  if (!request.parent().empty() && request.parent() != "namespaces/-") {
    absl::string_view parent = request.parent();
    if (parent.substr(0, 11) != "namespaces/" || parent.size() == 11 ||
        parent.find('/', 11) != absl::string_view::npos) {
      return InvalidField("parent", "must be namespaces/{namespace} or namespaces/-");
    }
    spec.namespace_id = std::string(parent.substr(11));
  }
  for (int kind : request.kinds()) {
    if (kind == v1::DEFINITION_KIND_UNSPECIFIED || !v1::DefinitionKind_IsValid(kind)) {
      return InvalidField("kinds", absl::StrCat("unknown kind ", kind));
    }
    spec.kinds.push_back(static_cast<v1::DefinitionKind>(kind));
  }
  if (request.start_after_sequence() < 0) {
    return InvalidField("start_after_sequence", "must not be negative");
  }
  spec.start_after_sequence = request.start_after_sequence();
  spec.history_id = request.history_id();
  spec.fail_if_too_old = request.too_old_policy() == v1::WatchDefinitionsRequest::FAIL;
  int interval = request.progress_interval_seconds();
  spec.progress_interval = absl::Seconds(interval <= 0 ? 10 : std::clamp(interval, 1, 300));
  return spec;
}

void SubscribeOn(Executor& executor, WatchHub& hub, std::shared_ptr<WatchSink> sink,
                 WatchSpec spec) {
  if (!executor.TrySubmit([&hub, sink, spec = std::move(spec)] {
        if (absl::Status s = hub.Subscribe(sink, spec); !s.ok()) {
          sink->End(s);
        }
      })) {
    sink->End(ErrorWithReason(absl::StatusCode::kResourceExhausted, "SERVER_BUSY",
                              "the registry is busy; retry with back-off"));
  }
}

}  // namespace accord::registry
