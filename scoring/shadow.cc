#include "scoring/shadow.h"

#include <time.h>

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "google/protobuf/util/time_util.h"

#include "common/log.h"
#include "common/status.h"
#include "scoring/engine.h"
#include "scoring/wire/lead_decoder.h"

namespace accord::scoring {
namespace {

using google::protobuf::util::TimeUtil;

int64_t ThreadCpuNs() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1000000000 + ts.tv_nsec;
}

// Whether this request is sampled: a per-thread generator, so the serving path shares nothing.
bool Sampled(double rate) {
  if (rate >= 1) {
    return true;
  }
  thread_local std::mt19937_64 rng(std::random_device{}());
  return std::uniform_real_distribution<double>(0, 1)(rng) < rate;
}

void AddCells(const std::map<std::pair<std::string, std::string>,
                             std::pair<int64_t, std::vector<std::string>>>& cells,
              google::protobuf::RepeatedPtrField<sv1::ShadowCell>* out) {
  for (const auto& [key, value] : cells) {
    sv1::ShadowCell* cell = out->Add();
    cell->set_published(key.first);
    cell->set_proposed(key.second);
    cell->set_leads(value.first);
    for (const std::string& id : value.second) {
      cell->add_example_lead_ids(id);
    }
  }
}

}  // namespace

ShadowScorer::ShadowScorer(const Scorer& scorer, ShadowOptions options, ProposedLister lister)
    : scorer_(scorer), options_(std::move(options)), lister_(std::move(lister)) {}

ShadowScorer::~ShadowScorer() { Stop(); }

void ShadowScorer::Start() {
  started_ = absl::Now();
  worker_ = std::thread([this] { Work(); });
  if (lister_ != nullptr) {
    poller_ = std::thread([this] { Poll(); });
  }
}

void ShadowScorer::Stop() {
  {
    std::lock_guard lock(queue_mu_);
    if (stopping_) {
      return;
    }
    stopping_ = true;
  }
  cv_.notify_all();
  idle_cv_.notify_all();
  stop_cv_.notify_all();
  if (worker_.joinable()) {
    worker_.join();
  }
  if (poller_.joinable()) {
    poller_.join();
  }
}

bool ShadowScorer::Sample() const {
  return active_.load(std::memory_order_relaxed) && Sampled(options_.sample_rate);
}

void ShadowScorer::Offer(absl::string_view request, bool single,
                         const sv1::Selector* stream_selector, Served served) {
  Job job;
  job.served = std::move(served);
  job.bytes.assign(request.data(), request.size());
  job.single = single;
  if (stream_selector != nullptr) {
    job.has_stream_selector = true;
    job.stream_selector = *stream_selector;
  }
  job.received = absl::Now();
  bool wake = false;
  {
    // The worker holds this lock only to take a request or set a flag.
    std::lock_guard lock(queue_mu_);
    if (queue_.size() >= options_.max_queue) {
      dropped_.fetch_add(1, std::memory_order_relaxed);
      return;
    }
    queue_.push_back(std::move(job));
    wake = waiting_;
  }
  if (wake) {
    cv_.notify_one();
  }
}

void ShadowScorer::Work() {
  for (;;) {
    // Everything queued at once: one wake-up (and one rest) per batch, not per request.
    std::deque<Job> jobs;
    {
      std::unique_lock lock(queue_mu_);
      waiting_ = true;
      cv_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
      waiting_ = false;
      if (stopping_) {
        return;
      }
      jobs.swap(queue_);
      busy_ = true;
    }
    const int64_t before = ThreadCpuNs();
    for (const Job& job : jobs) {
      Evaluate(job);
    }
    const int64_t used = ThreadCpuNs() - before;
    cpu_ns_ += used;
    {
      std::lock_guard lock(queue_mu_);
      busy_ = false;
    }
    idle_cv_.notify_all();
    // Held to its share of one CPU: after `used` of work, rest used * (1 / share - 1). Offer
    // does not wake it while it rests (waiting_ is false); only Stop does.
    if (options_.cpu_share < 1) {
      const absl::Duration rest =
          absl::Nanoseconds(used) * ((1 - options_.cpu_share) / options_.cpu_share);
      std::unique_lock lock(queue_mu_);
      if (cv_.wait_for(lock, absl::ToChronoNanoseconds(rest), [this] { return stopping_; })) {
        return;
      }
    }
  }
}

void ShadowScorer::Evaluate(const Job& job) {
  LeadSet leads;
  LeadRequest request;
  if (!DecodeLeadRequest(job.bytes, job.single, "leads", leads, &request).ok()) {
    return;
  }
  const sv1::Selector& selector =
      request.has_selector || !job.has_stream_selector ? request.selector : job.stream_selector;
  const std::string ns = selector.namespace_().empty() ? "default" : selector.namespace_();
  std::shared_ptr<Shadowed> shadowed;
  {
    std::lock_guard lock(mu_);
    auto it = namespaces_.find(ns);
    if (it == namespaces_.end() || it->second.reports.empty() ||
        !it->second.reports.front()->active) {
      return;
    }
    shadowed = it->second.reports.front();
    ++it->second.sampled;
  }
  std::shared_ptr<const Snapshot> snapshot = scorer_.Current();
  if (snapshot == nullptr || selector.model_revision() != 0) {
    return;  // a request pinning a revision is not compared
  }
  absl::StatusOr<Evaluation> published = scorer_.Resolve(*snapshot, selector, "selector");
  absl::StatusOr<Evaluation> proposed = scorer_.ResolveIn(*shadowed->set, selector, "selector");
  if (!published.ok() || !proposed.ok() || job.served.size() != leads.size() ||
      published->set->models[published->model].name != shadowed->model) {
    return;
  }
  proposed->reasons = false;
  const absl::Time as_of =
      request.as_of.seconds() == 0 && request.as_of.nanos() == 0
          ? job.received
          : absl::FromUnixNanos(TimeUtil::TimestampToNanoseconds(request.as_of));
  // The published side is what the request was answered with; only the proposed one is scored.
  std::vector<sv1::LeadScore> after(leads.size());
  for (size_t i = 0; i < leads.size(); ++i) {
    ScoreInto(*proposed, leads, i, as_of, &after[i]);
  }
  std::lock_guard lock(mu_);
  for (size_t i = 0; i < leads.size(); ++i) {
    const auto& [level, grade] = job.served[i];
    const absl::string_view id = leads.lead(i).id;
    ++shadowed->leads;
    Count(shadowed->levels, level, after[i].level(), id);
    Count(shadowed->grades, grade, after[i].grade(), id);
  }
}

void ShadowScorer::Count(Cells& cells, const std::string& published, const std::string& proposed,
                         absl::string_view lead_id) const {
  auto& [leads, examples] = cells.cells[{published, proposed}];
  ++leads;
  if (published != proposed) {
    ++cells.changes;
    if (examples.size() < static_cast<size_t>(options_.examples_per_cell)) {
      examples.emplace_back(lead_id);
    }
  }
}

absl::Status ShadowScorer::Shadow(const std::string& namespace_id, const std::string& model,
                                  int64_t revision) {
  std::shared_ptr<const Snapshot> snapshot = scorer_.Current();
  if (snapshot == nullptr) {
    return absl::UnavailableError("no definitions loaded yet");
  }
  auto published = snapshot->published.find(model);
  absl::StatusOr<std::shared_ptr<const CompiledSet>> set =
      scorer_.PinnedSet(namespace_id, model, revision);
  if (!set.ok()) {
    return set.status();
  }
  auto shadowed = std::make_shared<Shadowed>();
  shadowed->model = model;
  shadowed->revision = revision;
  shadowed->published_revision =
      published == snapshot->published.end() ? 0 : published->second.revision_number();
  shadowed->since = absl::Now();
  shadowed->set = *std::move(set);
  std::lock_guard lock(mu_);
  NamespaceState& state = namespaces_[namespace_id];
  for (auto& r : state.reports) {
    r->active = false;
  }
  state.reports.insert(state.reports.begin(), std::move(shadowed));
  if (state.reports.size() > options_.max_reports) {
    state.reports.resize(options_.max_reports);
  }
  UpdateActive();
  return absl::OkStatus();
}

void ShadowScorer::Unshadow(const std::string& namespace_id) {
  std::lock_guard lock(mu_);
  auto it = namespaces_.find(namespace_id);
  if (it != namespaces_.end()) {
    for (auto& r : it->second.reports) {
      r->active = false;
    }
  }
  UpdateActive();
}

void ShadowScorer::UpdateActive() {
  bool any = false;
  for (const auto& [ns, state] : namespaces_) {
    any = any || (!state.reports.empty() && state.reports.front()->active);
  }
  active_ = any;
}

void ShadowScorer::Drain() {
  std::unique_lock lock(queue_mu_);
  idle_cv_.wait(lock, [this] { return stopping_ || (queue_.empty() && !busy_); });
}

void ShadowScorer::Poll() {
  for (;;) {
    for (const std::string& ns : options_.namespaces) {
      absl::StatusOr<std::vector<std::pair<std::string, int64_t>>> pending = lister_(ns);
      if (!pending.ok()) {
        continue;  // the registry is away: keep what is shadowed
      }
      std::shared_ptr<Shadowed> current;
      {
        std::lock_guard lock(mu_);
        auto it = namespaces_.find(ns);
        if (it != namespaces_.end() && !it->second.reports.empty() &&
            it->second.reports.front()->active) {
          current = it->second.reports.front();
        }
      }
      if (pending->empty()) {
        if (current != nullptr) {
          Unshadow(ns);
        }
        continue;
      }
      // One proposal at a time per namespace: the first model's (by name).
      std::sort(pending->begin(), pending->end());
      const auto& [model, revision] = pending->front();
      if (current != nullptr && current->model == model && current->revision == revision) {
        continue;
      }
      absl::Status s = Shadow(ns, model, revision);
      Log(s.ok() ? LogLevel::kInfo : LogLevel::kWarning,
          s.ok() ? "shadow scoring a proposed revision" : "cannot shadow a proposed revision",
          {{"definition", model}, {"revision", revision}, {"error", s.ToString()}});
    }
    std::unique_lock lock(queue_mu_);
    if (stop_cv_.wait_for(lock, absl::ToChronoNanoseconds(options_.poll_interval),
                          [this] { return stopping_; })) {
      return;
    }
  }
}

sv1::ShadowReport ShadowScorer::Report(const std::string& namespace_id) const {
  sv1::ShadowReport out;
  out.set_namespace_(namespace_id);
  out.set_sample_rate(options_.sample_rate);
  std::lock_guard lock(mu_);
  auto it = namespaces_.find(namespace_id);
  if (it == namespaces_.end()) {
    return out;
  }
  out.set_requests_sampled(it->second.sampled);
  out.set_requests_dropped(dropped_.load());
  for (const auto& r : it->second.reports) {
    sv1::ShadowRevisionReport* rr = out.add_revisions();
    rr->set_definition(r->model);
    rr->set_revision(r->revision);
    rr->set_published_revision(r->published_revision);
    *rr->mutable_since() = TimeUtil::NanosecondsToTimestamp(absl::ToUnixNanos(r->since));
    rr->set_active(r->active);
    rr->set_leads(r->leads);
    rr->set_level_changes(r->levels.changes);
    rr->set_grade_changes(r->grades.changes);
    AddCells(r->levels.cells, rr->mutable_levels());
    AddCells(r->grades.cells, rr->mutable_grades());
  }
  return out;
}

absl::Duration ShadowScorer::worker_cpu() const { return absl::Nanoseconds(cpu_ns_.load()); }

absl::Duration ShadowScorer::worker_elapsed() const { return absl::Now() - started_; }

}  // namespace accord::scoring
