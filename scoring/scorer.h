#pragma once

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

#include "absl/functional/function_ref.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

#include "accord/registry/v1/registry.pb.h"
#include "accord/scoring/storage/v1/cache.pb.h"
#include "common/clock.h"
#include "scoring/engine.h"
#include "scoring/lru_cache.h"
#include "scoring/revision_loader.h"
#include "scoring/wire/lead_decoder.h"

// The scoring domain: the current compiled definitions (swapped atomically, never half
// applied) and the scoring requests answered with them.
namespace accord::scoring {

class ShadowScorer;

// Everything a request can score with: compiled sets per namespace, and where they came from.
struct Snapshot {
  int64_t sequence = 0;
  std::string history_id;
  std::map<std::string, rv1::Revision> published;  // definition name -> published revision
  std::map<std::string, std::shared_ptr<const CompiledSet>> namespaces;
};

// Thread-safe. Scoring reads an immutable snapshot; Apply() builds a new one and swaps it.
class Scorer final {
 public:
  explicit Scorer(const Clock& clock) : clock_(clock) {}

  // Applies watch messages in order. Changes are validated and compiled per namespace before
  // anything is swapped; a change that does not compile is rejected (counted, logged, the
  // previous revision kept) while the others apply. Returns the rejected definitions' errors.
  std::vector<std::string> Apply(const std::vector<rv1::WatchDefinitionsResponse>& messages);

  // Replaces the whole state (a loaded cache). INVALID_ARGUMENT if it does not compile.
  absl::Status Load(const storage::v1::DefinitionCache& cache);
  // The current state as a cache record.
  storage::v1::DefinitionCache ToCache() const;

  bool ready() const { return Current() != nullptr; }

  // Reads one revision of a definition from the registry (NOT_FOUND when it does not exist).
  using RevisionFetcher =
      std::function<absl::StatusOr<rv1::Revision>(const std::string& definition, int64_t number)>;
  // Lets requests pin a model revision other than the published one: it is read once, off the
  // serving threads (RevisionLoader), compiled with the other published definitions of its
  // namespace, and kept (the least recently used set is evicted first). Without a fetcher such
  // requests get FAILED_PRECONDITION REVISION_NOT_LOADED. Call before serving.
  void SetRevisionFetcher(RevisionFetcher fetcher,
                          RevisionLoaderOptions options = RevisionLoaderOptions{});
  // Waits for the reads in flight and drops the fetcher: call once serving has stopped and
  // before what the fetcher uses (the registry watcher) goes away.
  void StopLoadingRevisions() { loader_.reset(); }
  std::shared_ptr<const Snapshot> Current() const;

  // Error codes: INVALID_ARGUMENT (field path), FAILED_PRECONDITION (nothing published for
  // the selector, or a pinned revision that is not the published one), UNAVAILABLE (no
  // definitions loaded yet).
  absl::StatusOr<sv1::MatchPersonaResponse> MatchPersona(
      const sv1::MatchPersonaRequest& request) const;
  absl::StatusOr<sv1::JourneyEvaluation> EvaluateJourney(
      const sv1::EvaluateJourneyRequest& request) const;
  absl::StatusOr<sv1::CheckTransitionResponse> CheckTransition(
      const sv1::CheckTransitionRequest& request) const;
  absl::StatusOr<sv1::EvaluateSlaResponse> EvaluateSla(
      const sv1::EvaluateSlaRequest& request) const;
  // Scores the leads with the published definitions and with `proposed` in place of its
  // published revision, and reports what changes. INVALID_ARGUMENT if `proposed` does not
  // compile with the rest of the published set (or exceeds a definition's budget),
  // RESOURCE_EXHAUSTED (PREVIEWS_BUSY) while kMaxConcurrentPreviews run, DEADLINE_EXCEEDED or
  // CANCELLED when the thread's CallScope ends.
  absl::StatusOr<sv1::PreviewDefinitionResponse> PreviewDefinition(
      const sv1::PreviewDefinitionRequest& request) const;

  // Account-level qualification with the selector's account model (scoring/account.h).
  // INVALID_ARGUMENT for a bad account (field path: more than kMaxAccountMembers members, a
  // member without an id or with another member's id, a bad lead), FAILED_PRECONDITION when no
  // account model is published.
  absl::StatusOr<sv1::AccountScore> ScoreAccount(const sv1::ScoreAccountRequest& request) const;
  // The same for a request decoded by DecodeAccountRequest (the serving path).
  absl::StatusOr<sv1::AccountScore> ScoreAccount(const LeadSet& leads,
                                                 const LeadRequest& request) const;
  absl::StatusOr<sv1::BatchScoreAccountsResponse> BatchScoreAccounts(
      const sv1::BatchScoreAccountsRequest& request) const;
  // Splits the change of a lead's (or account's) score between two moments into the
  // definition change, the data change and the passage of time (scoring.proto). The parts
  // add up to the whole change.
  absl::StatusOr<sv1::ExplainScoreChangeResponse> ExplainScoreChange(
      const sv1::ExplainScoreChangeRequest& request) const;
  absl::Status CheckAccount(const sv1::Account& account, const std::string& field) const;
  // The accounts of a batch or a preview: at most 100, 10000 members in all, each checked.
  absl::Status CheckAccounts(
      const google::protobuf::RepeatedPtrField<sv1::Account>& accounts) const;
  // The account at lead `account` of `leads` and its `members` leads after it.
  absl::Status CheckAccount(const LeadSet& leads, size_t account, size_t members,
                            const std::string& field) const;

  // A ReportSla in progress: the tally and the snapshot it reads (kept alive with it).
  struct SlaReportState {
    std::shared_ptr<const Snapshot> snapshot;
    std::unique_ptr<SlaTally> tally;
  };
  // Starts a report from the stream's first message.
  absl::StatusOr<SlaReportState> StartSlaReport(const sv1::ReportSlaRequest& first) const;

  // The evaluation a selector names within a snapshot (streams resolve once per selector).
  absl::StatusOr<Evaluation> Resolve(const Snapshot& snapshot, const sv1::Selector& selector,
                                     absl::string_view field) const;
  // The same within one compiled set of `namespace_id`.
  absl::StatusOr<Evaluation> ResolveIn(const CompiledSet& set, const sv1::Selector& selector,
                                       absl::string_view field) const;
  absl::Status CheckLead(const sv1::Lead& lead, const std::string& field) const;
  absl::Status CheckLead(const LeadSet& leads, size_t index, const std::string& field) const;
  // Checks every lead of `leads`, named `leads_field[i]`; `single`: the one lead of a
  // ScoreLead, named `leads_field` (required).
  absl::Status CheckLeads(const LeadSet& leads, absl::string_view leads_field, bool single) const;

  // Scores leads decoded from a ScoreLeadRequest (`single`) or BatchScoreLeadsRequest: the
  // serving path of ScoreLead and BatchScoreLeads.
  // `emit` gets each lead's score in order, without its reasons, and the reasons as wire bytes
  // (see ScoreWire).
  using EmitScore =
      absl::FunctionRef<void(const sv1::LeadScore& score, const std::string& reasons)>;
  absl::Status ScoreLeads(const LeadSet& leads, const LeadRequest& request, bool single,
                          EmitScore emit) const;
  // Scores every lead of `leads`, already checked, with `evaluation` (a stream's, resolved once).
  static void ScoreWith(const Evaluation& evaluation, const LeadSet& leads, absl::Time as_of,
                        EmitScore emit);
  absl::Time AsOf(const google::protobuf::Timestamp& as_of) const;

  int64_t rejected_total() const { return rejected_.load(); }

  // A set where `model` is at `revision` (read through the revision fetcher) and the rest is
  // published, compiled once and kept (least recently used evicted): pinned requests, shadow
  // scoring. FAILED_PRECONDITION (REVISION_NOT_COMPILABLE) when it does not compile.
  absl::StatusOr<std::shared_ptr<const CompiledSet>> PinnedSet(const std::string& ns,
                                                               const std::string& model,
                                                               int64_t revision) const;

  // Shadow scoring of sampled requests (scoring/shadow.h); null: none. Set before serving.
  void SetShadow(ShadowScorer* shadow) { shadow_scorer_ = shadow; }
  ShadowScorer* shadow() const { return shadow_scorer_; }

  static constexpr int kMaxBatch = 1000;

 private:
  const Clock& clock_;
  mutable std::mutex mu_;  // guards current_ and serializes Apply
  std::shared_ptr<const Snapshot> current_;
  // State of an in-progress snapshot (between snapshot_begin and snapshot_end).
  std::optional<std::map<std::string, rv1::Revision>> shadow_;
  std::atomic<int64_t> rejected_{0};

  // CheckLead with the lead's field path built only when there is a violation.
  template <typename Field>
  absl::Status CheckLeadAt(const LeadSet& leads, size_t index, Field field) const;

  // An account model to score with: the set holding it (kept alive) and its index.
  struct AccountEvaluation {
    std::shared_ptr<const CompiledSet> set;
    int index = -1;
  };
  // The selector's account model, at `revision` (0: the published one).
  absl::StatusOr<AccountEvaluation> ResolveAccount(const std::shared_ptr<const CompiledSet>& set,
                                                   const sv1::Selector& selector, int64_t revision,
                                                   absl::string_view field) const;

  ShadowScorer* shadow_scorer_ = nullptr;
  static constexpr int kMaxConcurrentPreviews = 2;
  mutable std::atomic<int> previews_running_{0};
  std::unique_ptr<RevisionLoader> loader_;
  static constexpr size_t kMaxPinnedSets = 32;
  mutable std::mutex pinned_mu_;
  // (snapshot sequence, model, revision) -> set.
  mutable LruCache<std::tuple<int64_t, std::string, int64_t>, std::shared_ptr<const CompiledSet>>
      pinned_{kMaxPinnedSets};
};

}  // namespace accord::scoring
