#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

#include "accord/scoring/v1/scoring.pb.h"
#include "scoring/scorer.h"

// Shadow scoring (docs/feedback.md): while a qualification model has a proposed revision, a
// sample of the scoring requests of the namespaces that enable it is scored again, off the
// serving threads, with the proposed revision beside the published one, and the disagreements
// (published level x proposed level, and the same for grades, with a few example leads per
// changed cell) are kept per proposed revision. Responses never change: the serving path only
// samples and copies the request bytes into a bounded queue; one worker thread, held to a share
// of one CPU, does the rest.
namespace accord::scoring {

struct ShadowOptions {
  std::set<std::string> namespaces;  // shadowed namespaces; empty: shadow scoring is off
  double sample_rate = 0.05;         // of scoring requests (a batch is sampled whole)
  // The worker's CPU, at most this share of one CPU. 0.05 evaluates some 1,500 leads a second,
  // plenty for a disagreement estimate; 0.10 cost single-lead ScoreLead up to 30 % of its
  // throughput on one busy core (bench/RESULTS.md, "Shadow scoring").
  double cpu_share = 0.05;
  size_t max_queue = 64;  // sampled requests waiting; more are dropped (counted)
  int examples_per_cell = 5;
  size_t max_reports = 8;  // proposed revisions remembered per namespace
  absl::Duration poll_interval = absl::Seconds(10);
};

class ShadowScorer final {
 public:
  // The pending (proposed or approved) qualification-model revisions of a namespace, as
  // (definition name, revision number).
  using ProposedLister = std::function<absl::StatusOr<std::vector<std::pair<std::string, int64_t>>>(
      const std::string& namespace_id)>;

  // `scorer` must have a revision fetcher (Scorer::SetRevisionFetcher): proposed revisions are
  // read and compiled through it.
  ShadowScorer(const Scorer& scorer, ShadowOptions options, ProposedLister lister = nullptr);
  ~ShadowScorer();
  ShadowScorer(const ShadowScorer&) = delete;
  ShadowScorer& operator=(const ShadowScorer&) = delete;

  // Starts the worker and, with a lister, the poller that follows proposed revisions.
  void Start();
  void Stop();

  // What a request was answered with, lead by lead: (level, grade).
  using Served = std::vector<std::pair<std::string, std::string>>;
  // The serving path, before scoring: whether to shadow this request. An atomic load when no
  // namespace has a proposed revision shadowed.
  bool Sample() const;
  // The serving path, after a sampled request was answered: queues a copy of its bytes (a
  // ScoreLeadRequest when `single`, a BatchScoreLeadsRequest, or a stream's message scored with
  // `stream_selector` when it names none) with what it was answered (`served`), for the worker
  // to score with the proposed revision. Never waits for the worker.
  void Offer(absl::string_view request, bool single, const sv1::Selector* stream_selector,
             Served served);

  // Shadows `model` at `revision` in `namespace_id` from now on (what the poller does when a
  // revision is proposed). FAILED_PRECONDITION when it does not compile with the published set
  // (it is then not shadowed), the fetcher's errors otherwise.
  absl::Status Shadow(const std::string& namespace_id, const std::string& model, int64_t revision);
  // Stops shadowing in `namespace_id` (the proposal was published, rejected or withdrawn); its
  // report is kept.
  void Unshadow(const std::string& namespace_id);
  // Waits until every queued request is evaluated (tests).
  void Drain();

  sv1::ShadowReport Report(const std::string& namespace_id) const;
  bool Shadows(const std::string& namespace_id) const {
    return options_.namespaces.count(namespace_id) > 0;
  }

  // The worker's CPU time and the time since it started (its share is their ratio).
  absl::Duration worker_cpu() const;
  absl::Duration worker_elapsed() const;

 private:
  struct Job {
    std::string bytes;
    bool single = false;
    bool has_stream_selector = false;
    sv1::Selector stream_selector;
    absl::Time received;
    Served served;
  };
  struct Cells {
    std::map<std::pair<std::string, std::string>, std::pair<int64_t, std::vector<std::string>>>
        cells;
    int64_t changes = 0;
  };
  struct Shadowed {
    std::string model;
    int64_t revision = 0;
    int64_t published_revision = 0;
    absl::Time since;
    bool active = true;
    std::shared_ptr<const CompiledSet> set;
    int64_t leads = 0;
    Cells levels;
    Cells grades;
  };
  struct NamespaceState {
    std::vector<std::shared_ptr<Shadowed>> reports;  // newest first; the first may be active
    int64_t sampled = 0;
  };

  void Work();
  void Poll();
  void Evaluate(const Job& job);
  void Count(Cells& cells, const std::string& published, const std::string& proposed,
             absl::string_view lead_id) const;  // caller holds mu_
  void UpdateActive();                          // caller holds mu_

  const Scorer& scorer_;
  const ShadowOptions options_;
  ProposedLister lister_;

  std::atomic<bool> active_{false};  // some namespace has a proposed revision shadowed
  // The queue, apart from the reports: the worker holds it only to take a request or set a flag,
  // so a serving thread never waits for the worker's work.
  mutable std::mutex queue_mu_;
  std::condition_variable cv_;       // work arrived, or stopping
  std::condition_variable idle_cv_;  // the worker is idle (Drain)
  std::condition_variable stop_cv_;  // stopping (the poller's wait)
  std::deque<Job> queue_;
  bool waiting_ = false;  // the worker waits for work: only then does Offer wake it
  bool busy_ = false;
  bool stopping_ = false;
  std::atomic<int64_t> dropped_{0};
  // The reports.
  mutable std::mutex mu_;
  std::map<std::string, NamespaceState> namespaces_;

  std::atomic<int64_t> cpu_ns_{0};
  absl::Time started_ = absl::InfinitePast();
  std::thread worker_;
  std::thread poller_;
};

}  // namespace accord::scoring
