#include "scoring/scorer.h"

#include <algorithm>
#include <map>
#include <set>
#include <tuple>
#include <type_traits>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "google/protobuf/util/time_util.h"

#include "common/call_scope.h"
#include "common/log.h"
#include "common/status.h"
#include "definitions/validation.h"
#include "scoring/account.h"

namespace accord::scoring {
namespace {

std::string NamespaceOf(const std::string& name) { return NamespaceOfName(name).value_or(""); }

std::vector<PublishedDefinition> DefinitionsOf(const std::map<std::string, rv1::Revision>& all,
                                               const std::string& ns) {
  std::vector<PublishedDefinition> out;
  const std::string prefix = absl::StrCat("namespaces/", ns, "/");
  for (auto it = all.lower_bound(prefix); it != all.end() && it->first.rfind(prefix, 0) == 0;
       ++it) {
    out.push_back({it->first, it->second.revision_number(), it->second.snapshot()});
  }
  return out;
}

int FindByRef(const std::unordered_map<std::string, int>& index, const std::string& ns,
              const std::string& ref) {
  auto it = index.find(ResolveReferenceName(ns, ref));
  return it == index.end() ? -1 : it->second;
}

}  // namespace

std::shared_ptr<const Snapshot> Scorer::Current() const {
  std::lock_guard lock(mu_);
  return current_;
}

std::vector<std::string> Scorer::Apply(const std::vector<rv1::WatchDefinitionsResponse>& messages) {
  std::lock_guard lock(mu_);
  Snapshot next = current_ != nullptr ? *current_ : Snapshot{};
  const std::map<std::string, rv1::Revision> before = next.published;
  std::set<std::string> touched;
  bool replaced = false;
  for (const rv1::WatchDefinitionsResponse& m : messages) {
    if (!m.history_id().empty()) {
      next.history_id = m.history_id();
    }
    switch (m.payload_case()) {
      case rv1::WatchDefinitionsResponse::kSnapshotBegin:
        shadow_.emplace();
        break;
      case rv1::WatchDefinitionsResponse::kChanges: {
        auto& target = shadow_.has_value() ? *shadow_ : next.published;
        for (const rv1::WatchEvent& e : m.changes().events()) {
          touched.insert(NamespaceOf(e.definition()));
          if (e.type() == rv1::WatchEvent::UPSERT) {
            target[e.definition()] = e.revision();
          } else if (e.type() == rv1::WatchEvent::DELETE) {
            target.erase(e.definition());
          }
        }
        break;
      }
      case rv1::WatchDefinitionsResponse::kSnapshotEnd:
        if (shadow_.has_value()) {
          next.published = std::move(*shadow_);
          shadow_.reset();
          replaced = true;
        }
        break;
      default:
        break;
    }
    if (!shadow_.has_value()) {
      next.sequence = std::max(next.sequence, m.sequence());
    }
  }
  if (replaced) {
    for (const auto& [name, rev] : next.published) {
      touched.insert(NamespaceOf(name));
    }
    for (const auto& [name, rev] : before) {
      touched.insert(NamespaceOf(name));
    }
  }
  std::vector<std::string> rejected;
  for (const std::string& ns : touched) {
    std::vector<PublishedDefinition> wanted = DefinitionsOf(next.published, ns);
    absl::StatusOr<std::shared_ptr<const CompiledSet>> set = Compile(ns, wanted);
    if (!set.ok()) {
      // Apply the namespace's changes one at a time, keeping those that compile.
      std::map<std::string, rv1::Revision> accepted;
      for (const PublishedDefinition& d : DefinitionsOf(before, ns)) {
        accepted[d.name] = before.at(d.name);
      }
      std::set<std::string> names;
      for (const auto& d : wanted) {
        names.insert(d.name);
      }
      for (const auto& [name, rev] : accepted) {
        names.insert(name);
      }
      for (const std::string& name : names) {
        auto want = next.published.find(name);
        auto have = accepted.find(name);
        bool same = want != next.published.end() && have != accepted.end() &&
                    want->second.revision_number() == have->second.revision_number();
        if (same) {
          continue;
        }
        std::map<std::string, rv1::Revision> candidate = accepted;
        if (want == next.published.end()) {
          candidate.erase(name);
        } else {
          candidate[name] = want->second;
        }
        absl::StatusOr<std::shared_ptr<const CompiledSet>> trial =
            Compile(ns, DefinitionsOf(candidate, ns));
        if (trial.ok()) {
          accepted = std::move(candidate);
        } else {
          rejected.push_back(std::string(trial.status().message()));
          ++rejected_;
          Log(LogLevel::kWarning, "rejected a published definition; keeping the previous one",
              {{"definition", name}, {"error", std::string(trial.status().message())}});
        }
      }
      for (auto it = next.published.lower_bound(absl::StrCat("namespaces/", ns, "/"));
           it != next.published.end() && NamespaceOf(it->first) == ns;) {
        it = next.published.erase(it);
      }
      for (auto& [name, rev] : accepted) {
        next.published[name] = rev;
      }
      set = Compile(ns, DefinitionsOf(next.published, ns));
    }
    if (!set.ok()) {
      rejected.push_back(std::string(set.status().message()));
      continue;  // cannot happen: `accepted` compiled; keep the previous set to be safe
    }
    if ((*set)->personas.empty() && (*set)->models.empty() && (*set)->journeys.empty() &&
        (*set)->accounts.empty() && (*set)->slas.empty()) {
      next.namespaces.erase(ns);
    } else {
      next.namespaces[ns] = *std::move(set);
    }
  }
  if (current_ != nullptr || replaced) {
    current_ = std::make_shared<const Snapshot>(std::move(next));
  }
  return rejected;
}

absl::Status Scorer::Load(const storage::v1::DefinitionCache& cache) {
  rv1::WatchDefinitionsResponse begin;
  begin.mutable_snapshot_begin();
  rv1::WatchDefinitionsResponse changes;
  for (const rv1::WatchEvent& e : cache.definitions()) {
    *changes.mutable_changes()->add_events() = e;
  }
  rv1::WatchDefinitionsResponse end;
  end.mutable_snapshot_end();
  for (auto* m : {&begin, &changes, &end}) {
    m->set_sequence(cache.sequence());
    m->set_history_id(cache.history_id());
  }
  std::vector<std::string> rejected = Apply({begin, changes, end});
  if (!rejected.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("the cache holds definitions that do not "
                     "compile: ",
                     rejected.front()));
  }
  return absl::OkStatus();
}

storage::v1::DefinitionCache Scorer::ToCache() const {
  storage::v1::DefinitionCache cache;
  std::shared_ptr<const Snapshot> snapshot = Current();
  if (snapshot == nullptr) {
    return cache;
  }
  cache.set_sequence(snapshot->sequence);
  cache.set_history_id(snapshot->history_id);
  for (const auto& [name, revision] : snapshot->published) {
    rv1::WatchEvent* e = cache.add_definitions();
    e->set_type(rv1::WatchEvent::UPSERT);
    e->set_definition(name);
    e->set_kind(KindOf(revision.snapshot()));
    *e->mutable_revision() = revision;
  }
  return cache;
}

absl::Time Scorer::AsOf(const google::protobuf::Timestamp& as_of) const {
  if (as_of.seconds() == 0 && as_of.nanos() == 0) {
    return clock_.Now();
  }
  return absl::FromUnixNanos(google::protobuf::util::TimeUtil::TimestampToNanoseconds(as_of));
}

absl::StatusOr<Evaluation> Scorer::Resolve(const Snapshot& snapshot, const sv1::Selector& selector,
                                           absl::string_view field) const {
  const std::string ns = selector.namespace_().empty() ? "default" : selector.namespace_();
  auto it = snapshot.namespaces.find(ns);
  if (it == snapshot.namespaces.end()) {
    return ErrorWithReason(absl::StatusCode::kFailedPrecondition, "NOTHING_PUBLISHED",
                           absl::StrCat("nothing is published in namespace ", ns));
  }
  return ResolveIn(*it->second, selector, field);
}

absl::StatusOr<Evaluation> Scorer::ResolveIn(const CompiledSet& set, const sv1::Selector& selector,
                                             absl::string_view field) const {
  const std::string& ns = set.namespace_id;
  Evaluation e;
  e.set = &set;
  if (selector.model().empty()) {
    // The qualification models by name (set.models also holds account models' fit rules).
    if (set.model_index.size() != 1) {
      std::vector<std::string> names;
      for (const auto& [name, index] : set.model_index) {
        names.push_back(name);
      }
      std::sort(names.begin(), names.end());
      return set.model_index.empty()
                 ? ErrorWithReason(absl::StatusCode::kFailedPrecondition, "NO_MODEL",
                                   absl::StrCat("no qualification model is published in ", ns))
                 : InvalidField(absl::StrCat(field, ".model"),
                                absl::StrCat("several models are published (",
                                             absl::StrJoin(names, ", "), "); name one"));
    }
    e.model = set.model_index.begin()->second;
  } else {
    e.model = FindByRef(set.model_index, ns, selector.model());
    if (e.model < 0) {
      return InvalidField(absl::StrCat(field, ".model"),
                          absl::StrCat("no published model '", selector.model(), "' in ", ns));
    }
  }
  const Model& model = set.models[e.model];
  if (selector.model_revision() > 0 && selector.model_revision() != model.revision) {
    if (loader_ == nullptr) {
      return ErrorWithReason(absl::StatusCode::kFailedPrecondition, "REVISION_NOT_LOADED",
                             absl::StrCat(model.name, " revision ", selector.model_revision(),
                                          " is not the published one (", model.revision, ")"),
                             {{"published_revision", absl::StrCat(model.revision)}});
    }
    ACCORD_ASSIGN_OR_RETURN(std::shared_ptr<const CompiledSet> pinned,
                            PinnedSet(ns, model.name, selector.model_revision()));
    ACCORD_ASSIGN_OR_RETURN(Evaluation pe, ResolveIn(*pinned, selector, field));
    pe.owned = std::move(pinned);
    return pe;
  }
  if (!selector.journey().empty()) {
    e.journey = FindByRef(set.journey_index, ns, selector.journey());
    if (e.journey < 0) {
      return InvalidField(absl::StrCat(field, ".journey"),
                          absl::StrCat("no published journey '", selector.journey(), "'"));
    }
  } else {
    for (size_t j = 0; j < set.journeys.size(); ++j) {
      if (set.journeys[j].model == e.model) {
        e.journey = static_cast<int>(j);
        break;
      }
    }
  }
  return e;
}

absl::StatusOr<std::shared_ptr<const CompiledSet>> Scorer::PinnedSet(const std::string& ns,
                                                                     const std::string& model,
                                                                     int64_t revision) const {
  std::shared_ptr<const Snapshot> snapshot = Current();
  if (snapshot == nullptr) {
    return absl::UnavailableError("no definitions loaded yet");
  }
  auto key = std::make_tuple(snapshot->sequence, model, revision);
  {
    std::lock_guard lock(pinned_mu_);
    if (std::shared_ptr<const CompiledSet>* set = pinned_.Find(key)) {
      return *set;
    }
  }
  absl::StatusOr<std::shared_ptr<const rv1::Revision>> fetched = loader_->Get(model, revision);
  if (!fetched.ok()) {
    if (fetched.status().code() == absl::StatusCode::kNotFound) {
      return InvalidField("selector.model_revision",
                          absl::StrCat(model, " has no revision ", revision));
    }
    const std::string reason = ErrorReason(fetched.status());
    if (reason == "REVISION_LOADING" || reason == "REVISION_READS_BUSY") {
      return fetched.status();
    }
    return ErrorWithReason(absl::StatusCode::kUnavailable, "REVISION_NOT_LOADED",
                           absl::StrCat("cannot read ", model, " revision ", revision,
                                        " from the registry: ", fetched.status().message()));
  }
  // Two concurrent first requests may both compile the same content; either result is kept.
  std::vector<PublishedDefinition> defs = DefinitionsOf(snapshot->published, ns);
  for (PublishedDefinition& d : defs) {
    if (d.name == model) {
      d.content = (*fetched)->snapshot();
      d.revision = revision;
    }
  }
  absl::StatusOr<std::shared_ptr<const CompiledSet>> set = Compile(ns, defs);
  if (!set.ok()) {
    return ErrorWithReason(
        absl::StatusCode::kFailedPrecondition, "REVISION_NOT_COMPILABLE",
        absl::StrCat(model, " revision ", revision,
                     " does not compile with the published definitions: ", set.status().message()));
  }
  std::lock_guard lock(pinned_mu_);
  pinned_.Put(key, *set);
  return *set;
}

void Scorer::SetRevisionFetcher(RevisionFetcher fetcher, RevisionLoaderOptions options) {
  loader_ = std::make_unique<RevisionLoader>(std::move(fetcher), clock_, options);
}

absl::Status Scorer::CheckLead(const LeadSet& leads, size_t index, const std::string& field) const {
  return CheckLeadAt(leads, index, [&field] { return field; });
}

template <typename Field>
absl::Status Scorer::CheckLeadAt(const LeadSet& leads, size_t index, Field field) const {
  const LeadSet::Lead& lead = leads.lead(index);
  bool ok = lead.events <= 10000;
  for (int32_t i = 0; ok && i < lead.events; ++i) {
    const LeadSet::Event& e = leads.event(lead.first_event + i);
    ok = !e.type.empty() && e.has_time;
  }
  if (ok) {
    return absl::OkStatus();  // the common case names no field
  }
  const std::string name = field();
  std::vector<FieldViolation> violations;
  if (lead.events > 10000) {
    violations.push_back({absl::StrCat(name, ".events"), "at most 10000 events per lead"});
  }
  for (int32_t i = 0; i < lead.events && violations.size() < 20; ++i) {
    const LeadSet::Event& e = leads.event(lead.first_event + i);
    if (e.type.empty()) {
      violations.push_back({absl::StrCat(name, ".events[", i, "].type"), "is required"});
    }
    if (!e.has_time) {
      violations.push_back({absl::StrCat(name, ".events[", i, "].time"), "is required"});
    }
  }
  return InvalidArgument(std::move(violations));
}

absl::Status Scorer::CheckLead(const sv1::Lead& lead, const std::string& field) const {
  LeadSet leads;
  leads.Add(lead);
  return CheckLead(leads, 0, field);
}

absl::Status Scorer::CheckLeads(const LeadSet& leads, absl::string_view leads_field,
                                bool single) const {
  if (single) {
    return leads.size() == 0 ? InvalidField(leads_field, "is required")
                             : CheckLead(leads, 0, std::string(leads_field));
  }
  for (size_t i = 0; i < leads.size(); ++i) {
    ACCORD_RETURN_IF_ERROR(
        CheckLeadAt(leads, i, [&] { return absl::StrCat(leads_field, "[", i, "]"); }));
  }
  return absl::OkStatus();
}

absl::Status Scorer::ScoreLeads(const LeadSet& leads, const LeadRequest& request, bool single,
                                EmitScore emit) const {
  std::shared_ptr<const Snapshot> snapshot = Current();
  if (snapshot == nullptr) {
    return absl::UnavailableError("no definitions loaded yet");
  }
  if (!single && leads.size() > static_cast<size_t>(kMaxBatch)) {
    return InvalidField("leads", absl::StrCat("at most ", kMaxBatch,
                                              " leads per call; use "
                                              "StreamScoreLeads for more"));
  }
  ACCORD_RETURN_IF_ERROR(CheckLeads(leads, single ? "lead" : "leads", single));
  ACCORD_ASSIGN_OR_RETURN(Evaluation e, Resolve(*snapshot, request.selector, "selector"));
  e.reasons = request.view != sv1::BASIC;
  ScoreWith(e, leads, AsOf(request.as_of), emit);
  return absl::OkStatus();
}

void Scorer::ScoreWith(const Evaluation& evaluation, const LeadSet& leads, absl::Time as_of,
                       EmitScore emit) {
  sv1::LeadScore score;
  std::string reasons;
  for (size_t i = 0; i < leads.size(); ++i) {
    score.Clear();
    reasons.clear();
    ScoreWire(evaluation, leads, i, as_of, &score, &reasons);
    emit(score, reasons);
  }
}

namespace {

absl::StatusOr<std::shared_ptr<const CompiledSet>> SetFor(const Snapshot* snapshot,
                                                          const sv1::Selector& selector) {
  if (snapshot == nullptr) {
    return absl::UnavailableError("no definitions loaded yet");
  }
  const std::string ns = selector.namespace_().empty() ? "default" : selector.namespace_();
  auto it = snapshot->namespaces.find(ns);
  if (it == snapshot->namespaces.end()) {
    return ErrorWithReason(absl::StatusCode::kFailedPrecondition, "NOTHING_PUBLISHED",
                           absl::StrCat("nothing is published in namespace ", ns));
  }
  return it->second;
}

// The definition `ref` names among `index`, or the only one when `ref` is empty.
absl::StatusOr<int> Pick(const std::unordered_map<std::string, int>& index, const std::string& ns,
                         const std::string& ref, const std::string& field, const char* what) {
  if (ref.empty()) {
    if (index.size() == 1) {
      return index.begin()->second;
    }
    return index.empty()
               ? ErrorWithReason(absl::StatusCode::kFailedPrecondition, "NOT_PUBLISHED",
                                 absl::StrCat("no ", what, " is published in ", ns))
               : InvalidField(field, absl::StrCat("several ", what, "s are published; name one"));
  }
  int i = FindByRef(index, ns, ref);
  if (i < 0) {
    return InvalidField(field, absl::StrCat("no published ", what, " '", ref, "' in ", ns));
  }
  return i;
}

}  // namespace

absl::StatusOr<sv1::MatchPersonaResponse> Scorer::MatchPersona(
    const sv1::MatchPersonaRequest& request) const {
  std::shared_ptr<const Snapshot> snapshot = Current();
  ACCORD_ASSIGN_OR_RETURN(auto set, SetFor(snapshot.get(), request.selector()));
  ACCORD_RETURN_IF_ERROR(CheckLead(request.lead(), "lead"));
  sv1::MatchPersonaResponse response;
  for (sv1::PersonaMatch& m : MatchPersonas(*set, request.lead(), AsOf(request.as_of()))) {
    const Persona& p = set->personas[set->persona_index.at(m.persona())];
    if (!response.has_best() && m.match() > 0 && m.match() >= p.min_match) {
      *response.mutable_best() = m;
    }
    *response.add_matches() = std::move(m);
  }
  return response;
}

absl::StatusOr<sv1::JourneyEvaluation> Scorer::EvaluateJourney(
    const sv1::EvaluateJourneyRequest& request) const {
  std::shared_ptr<const Snapshot> snapshot = Current();
  ACCORD_ASSIGN_OR_RETURN(auto set, SetFor(snapshot.get(), request.selector()));
  ACCORD_RETURN_IF_ERROR(CheckLead(request.lead(), "lead"));
  ACCORD_ASSIGN_OR_RETURN(Evaluation e, ResolveIn(*set, request.selector(), "selector"));
  if (e.journey < 0) {
    ACCORD_ASSIGN_OR_RETURN(
        e.journey, Pick(set->journey_index, set->namespace_id, request.selector().journey(),
                        "selector.journey", "journey"));
  }
  return scoring::EvaluateJourney(e, request.lead(), AsOf(request.as_of()));
}

absl::StatusOr<sv1::CheckTransitionResponse> Scorer::CheckTransition(
    const sv1::CheckTransitionRequest& request) const {
  std::shared_ptr<const Snapshot> snapshot = Current();
  ACCORD_ASSIGN_OR_RETURN(auto set, SetFor(snapshot.get(), request.selector()));
  ACCORD_ASSIGN_OR_RETURN(int journey,
                          Pick(set->journey_index, set->namespace_id, request.selector().journey(),
                               "selector.journey", "journey"));
  return scoring::CheckTransition(set->journeys[journey], request.from(), request.to(),
                                  request.reason());
}

absl::StatusOr<sv1::EvaluateSlaResponse> Scorer::EvaluateSla(
    const sv1::EvaluateSlaRequest& request) const {
  std::shared_ptr<const Snapshot> snapshot = Current();
  ACCORD_ASSIGN_OR_RETURN(auto set, SetFor(snapshot.get(), request.selector()));
  ACCORD_RETURN_IF_ERROR(CheckLead(request.lead(), "lead"));
  ACCORD_ASSIGN_OR_RETURN(int sla, Pick(set->sla_index, set->namespace_id, request.selector().sla(),
                                        "selector.sla", "SLA"));
  return scoring::EvaluateSla(set->slas[sla], request.lead(), AsOf(request.as_of()));
}

absl::StatusOr<Scorer::SlaReportState> Scorer::StartSlaReport(
    const sv1::ReportSlaRequest& first) const {
  SlaReportState state;
  state.snapshot = Current();
  ACCORD_ASSIGN_OR_RETURN(auto set, SetFor(state.snapshot.get(), first.selector()));
  ACCORD_ASSIGN_OR_RETURN(int sla, Pick(set->sla_index, set->namespace_id, first.selector().sla(),
                                        "selector.sla", "SLA"));
  if (set->slas[sla].model < 0) {
    return ErrorWithReason(absl::StatusCode::kFailedPrecondition, "NOT_PUBLISHED",
                           absl::StrCat("the model of ", set->slas[sla].name, " is not published"));
  }
  state.tally = std::make_unique<SlaTally>(*set, sla, AsOf(first.as_of()));
  return state;
}

absl::StatusOr<sv1::PreviewDefinitionResponse> Scorer::PreviewDefinition(
    const sv1::PreviewDefinitionRequest& request) const {
  constexpr int kMaxPreviewLeads = 10000;
  constexpr int kMaxPreviewScores = 100;
  // Previews compile a definition nobody has reviewed yet: a few at a time, whatever the
  // number of callers, so that they cannot take the cores from scoring.
  if (previews_running_.fetch_add(1) >= kMaxConcurrentPreviews) {
    previews_running_.fetch_sub(1);
    return ErrorWithReason(
        absl::StatusCode::kResourceExhausted, "PREVIEWS_BUSY",
        absl::StrCat(kMaxConcurrentPreviews, " previews are running; retry with back-off"));
  }
  struct Release {
    std::atomic<int>& running;
    ~Release() { running.fetch_sub(1); }
  } release{previews_running_};
  std::shared_ptr<const Snapshot> snapshot = Current();
  ACCORD_ASSIGN_OR_RETURN(auto before, SetFor(snapshot.get(), request.selector()));
  const std::string& ns = before->namespace_id;
  const std::string prefix = absl::StrCat("namespaces/", ns, "/definitions/");
  if (request.proposed().name().rfind(prefix, 0) != 0) {
    return InvalidField("proposed.name", absl::StrCat("must be a definition of ", ns));
  }
  if (request.leads_size() > kMaxPreviewLeads) {
    return InvalidField("leads", absl::StrCat("at most ", kMaxPreviewLeads, " leads"));
  }
  for (int i = 0; i < request.leads_size(); ++i) {
    ACCORD_RETURN_IF_ERROR(CheckLead(request.leads(i), absl::StrCat("leads[", i, "]")));
  }
  std::vector<PublishedDefinition> defs = DefinitionsOf(snapshot->published, ns);
  bool replaced = false;
  for (PublishedDefinition& d : defs) {
    if (d.name == request.proposed().name()) {
      d.content = request.proposed();
      d.revision = 0;  // 0 marks the proposed content in the results
      replaced = true;
    }
  }
  if (!replaced) {
    defs.push_back({request.proposed().name(), 0, request.proposed()});
  }
  absl::StatusOr<std::shared_ptr<const CompiledSet>> after = Compile(ns, defs);
  if (!after.ok()) {
    if (after.status().code() != absl::StatusCode::kInvalidArgument) {
      return after.status();  // the call's deadline passed, or it was cancelled
    }
    return InvalidField("proposed", std::string(after.status().message()));
  }
  ACCORD_ASSIGN_OR_RETURN(Evaluation eb, ResolveIn(*before, request.selector(), "selector"));
  ACCORD_ASSIGN_OR_RETURN(Evaluation ea, ResolveIn(**after, request.selector(), "selector"));
  const absl::Time as_of = AsOf(request.as_of());
  sv1::PreviewDefinitionResponse response;
  std::map<std::pair<std::string, std::string>, int64_t> transitions;
  if (request.return_scores() && request.leads_size() > kMaxPreviewScores) {
    return InvalidField("return_scores",
                        absl::StrCat("at most ", kMaxPreviewScores, " leads with their scores"));
  }
  // The volume commitments of the SLAs on this model (after the change: a proposed SLA counts).
  struct Check {
    sv1::VolumeCheck* out;
    int need_before, need_after;
  };
  const Model& model_before = before->models[eb.model];
  const Model& model_after = (*after)->models[ea.model];
  std::vector<Check> checks;
  for (const Sla& sla : (*after)->slas) {
    if (sla.model != ea.model) {
      continue;
    }
    for (const rv1::VolumeCommitment& v : sla.spec.volume()) {
      sv1::VolumeCheck* c = response.add_volume_checks();
      c->set_sla(sla.name);
      c->set_commitment(v.id());
      c->set_team(v.team());
      c->set_level(v.level());
      c->set_period(v.period());
      c->set_min_count(v.min_count());
      checks.push_back({c, LevelRank(model_before, v.level()), LevelRank(model_after, v.level())});
    }
  }
  // Counting needs scores only (the BASIC view, about half the cost); a lead whose level
  // changes, or whose scores are returned, is scored again with every reason.
  const bool full = request.return_scores();
  Evaluation counts_b = eb, counts_a = ea;
  counts_b.reasons = full;
  counts_a.reasons = full;
  for (const sv1::Lead& lead : request.leads()) {
    ACCORD_RETURN_IF_ERROR(CallScope::Check());
    sv1::LeadScore b = Score(counts_b, lead, as_of);
    sv1::LeadScore a = Score(counts_a, lead, as_of);
    if (!full && a.level() != b.level() && response.changed_size() < 1000) {
      b = Score(eb, lead, as_of);
      a = Score(ea, lead, as_of);
    }
    if (response.before_size() == 0) {
      *response.mutable_before() = b.definitions();
      *response.mutable_after() = a.definitions();
    }
    ++(*response.mutable_levels_before())[b.level().empty() ? "(none)" : b.level()];
    ++(*response.mutable_levels_after())[a.level().empty() ? "(none)" : a.level()];
    ++(*response.mutable_grades_before())[b.grade().empty() ? "(none)" : b.grade()];
    ++(*response.mutable_grades_after())[a.grade().empty() ? "(none)" : a.grade()];
    const int rank_b = b.disqualified() ? -1 : LevelRank(model_before, b.level());
    const int rank_a = a.disqualified() ? -1 : LevelRank(model_after, a.level());
    for (Check& c : checks) {
      c.out->set_reached_before(c.out->reached_before() +
                                (c.need_before >= 0 && rank_b >= c.need_before));
      c.out->set_reached_after(c.out->reached_after() +
                               (c.need_after >= 0 && rank_a >= c.need_after));
    }
    ++transitions[{b.level().empty() ? "(none)" : b.level(),
                   a.level().empty() ? "(none)" : a.level()}];
    if (a.level() != b.level()) {
      response.set_changed_count(response.changed_count() + 1);
      if (response.changed_size() < 1000) {
        sv1::LevelChange* c = response.add_changed();
        c->set_lead_id(lead.id());
        c->set_before(b.level());
        c->set_after(a.level());
        c->set_total_before(b.total());
        c->set_total_after(a.total());
        AddReasonDeltas(b.reasons(), a.reasons(), c->mutable_reasons());
      }
    }
    if (request.return_scores()) {
      *response.add_scores_before() = std::move(b);
      *response.add_scores_after() = std::move(a);
    }
  }
  response.set_lead_count(request.leads_size());
  if (request.accounts_size() > 0) {
    ACCORD_RETURN_IF_ERROR(CheckAccounts(request.accounts()));
    ACCORD_ASSIGN_OR_RETURN(AccountEvaluation ab,
                            ResolveAccount(before, request.selector(), 0, "selector"));
    ACCORD_ASSIGN_OR_RETURN(AccountEvaluation aa,
                            ResolveAccount(*after, request.selector(), 0, "selector"));
    for (const sv1::Account& account : request.accounts()) {
      ACCORD_RETURN_IF_ERROR(CallScope::Check());
      const std::string b =
          accord::scoring::ScoreAccount(*ab.set, ab.index, account, as_of).level();
      const std::string a =
          accord::scoring::ScoreAccount(*aa.set, aa.index, account, as_of).level();
      ++(*response.mutable_account_levels_before())[b.empty() ? "(none)" : b];
      ++(*response.mutable_account_levels_after())[a.empty() ? "(none)" : a];
    }
  }
  for (const auto& [levels, count] : transitions) {
    sv1::LevelTransition* t = response.add_level_transitions();
    t->set_before(levels.first);
    t->set_after(levels.second);
    t->set_count(count);
  }
  return response;
}

// ------------------------------------------------------------------ accounts

absl::Status Scorer::CheckAccount(const LeadSet& leads, size_t account, size_t members,
                                  const std::string& field) const {
  if (members > static_cast<size_t>(kMaxAccountMembers)) {
    return InvalidField(
        absl::StrCat(field, ".members"),
        absl::StrCat("at most ", kMaxAccountMembers, " members per account (", members, " sent)"));
  }
  absl::flat_hash_map<absl::string_view, size_t> seen;
  for (size_t i = 0; i < members; ++i) {
    const size_t lead = account + 1 + i;
    auto member = [&field, i] { return absl::StrCat(field, ".members[", i, "]"); };
    const absl::string_view id = leads.lead(lead).id;
    if (id.empty()) {
      return InvalidField(absl::StrCat(member(), ".id"),
                          "is required: members are told apart by id");
    }
    if (auto [it, fresh] = seen.emplace(id, i); !fresh) {
      return InvalidField(absl::StrCat(member(), ".id"),
                          absl::StrCat("'", id, "' is also members[", it->second, "]"));
    }
    ACCORD_RETURN_IF_ERROR(CheckLeadAt(leads, lead, member));
  }
  return absl::OkStatus();
}

absl::Status Scorer::CheckAccounts(
    const google::protobuf::RepeatedPtrField<sv1::Account>& accounts) const {
  constexpr int kMaxAccounts = 100;
  constexpr int kMaxMembers = 10000;
  if (accounts.size() > kMaxAccounts) {
    return InvalidField("accounts", absl::StrCat("at most ", kMaxAccounts, " accounts"));
  }
  int members = 0;
  for (int i = 0; i < accounts.size(); ++i) {
    members += accounts[i].members_size();
    if (members > kMaxMembers) {
      return InvalidField(absl::StrCat("accounts[", i, "].members"),
                          absl::StrCat("at most ", kMaxMembers, " members in all"));
    }
    ACCORD_RETURN_IF_ERROR(CheckAccount(accounts[i], absl::StrCat("accounts[", i, "]")));
  }
  return absl::OkStatus();
}

absl::Status Scorer::CheckAccount(const sv1::Account& account, const std::string& field) const {
  if (account.members_size() > kMaxAccountMembers) {  // before copying them
    return InvalidField(absl::StrCat(field, ".members"),
                        absl::StrCat("at most ", kMaxAccountMembers, " members per account (",
                                     account.members_size(), " sent)"));
  }
  LeadSet leads;
  leads.Add(account);
  return CheckAccount(leads, 0, account.members_size(), field);
}

absl::StatusOr<Scorer::AccountEvaluation> Scorer::ResolveAccount(
    const std::shared_ptr<const CompiledSet>& set, const sv1::Selector& selector, int64_t revision,
    absl::string_view field) const {
  const std::string& ns = set->namespace_id;
  ACCORD_ASSIGN_OR_RETURN(int index, Pick(set->account_index, ns, selector.account_model(),
                                          absl::StrCat(field, ".account_model"), "account model"));
  const AccountModelSpec& spec = set->accounts[index];
  if (spec.member_model < 0) {
    return ErrorWithReason(absl::StatusCode::kFailedPrecondition, "NOT_PUBLISHED",
                           absl::StrCat("the member model of ", spec.name, " is not published"));
  }
  if (revision <= 0 || revision == spec.revision) {
    return AccountEvaluation{set, index};
  }
  if (loader_ == nullptr) {
    return ErrorWithReason(absl::StatusCode::kFailedPrecondition, "REVISION_NOT_LOADED",
                           absl::StrCat(spec.name, " revision ", revision,
                                        " is not the published one (", spec.revision, ")"));
  }
  ACCORD_ASSIGN_OR_RETURN(std::shared_ptr<const CompiledSet> pinned,
                          PinnedSet(ns, spec.name, revision));
  return ResolveAccount(pinned, selector, 0, field);
}

absl::StatusOr<sv1::AccountScore> Scorer::ScoreAccount(const LeadSet& leads,
                                                       const LeadRequest& request) const {
  std::shared_ptr<const Snapshot> snapshot = Current();
  ACCORD_ASSIGN_OR_RETURN(auto set, SetFor(snapshot.get(), request.selector));
  const size_t members = leads.size() - 1;  // lead 0 is the account
  ACCORD_RETURN_IF_ERROR(CheckAccount(leads, 0, members, "account"));
  ACCORD_ASSIGN_OR_RETURN(AccountEvaluation a,
                          ResolveAccount(set, request.selector, 0, "selector"));
  return accord::scoring::ScoreAccount(*a.set, a.index, leads, 0, members, AsOf(request.as_of));
}

absl::StatusOr<sv1::AccountScore> Scorer::ScoreAccount(
    const sv1::ScoreAccountRequest& request) const {
  if (request.account().members_size() > kMaxAccountMembers) {
    return CheckAccount(request.account(), "account");
  }
  LeadSet leads;
  leads.Add(request.account());
  LeadRequest decoded;
  decoded.selector = request.selector();
  decoded.as_of = request.as_of();
  return ScoreAccount(leads, decoded);
}

absl::StatusOr<sv1::BatchScoreAccountsResponse> Scorer::BatchScoreAccounts(
    const sv1::BatchScoreAccountsRequest& request) const {
  ACCORD_RETURN_IF_ERROR(CheckAccounts(request.accounts()));
  std::shared_ptr<const Snapshot> snapshot = Current();
  ACCORD_ASSIGN_OR_RETURN(auto set, SetFor(snapshot.get(), request.selector()));
  ACCORD_ASSIGN_OR_RETURN(AccountEvaluation a,
                          ResolveAccount(set, request.selector(), 0, "selector"));
  const absl::Time as_of = AsOf(request.as_of());
  sv1::BatchScoreAccountsResponse response;
  for (const sv1::Account& account : request.accounts()) {
    ACCORD_RETURN_IF_ERROR(CallScope::Check());
    *response.add_scores() = accord::scoring::ScoreAccount(*a.set, a.index, account, as_of);
  }
  return response;
}

namespace {

// One step of an explained change, from score `a` to score `b`.
template <typename Score>
void AddStep(sv1::ScoreChangePart::Cause cause, const Score& a, const Score& b,
             sv1::ExplainScoreChangeResponse& out) {
  sv1::ScoreChangePart* part = out.add_parts();
  part->set_cause(cause);
  part->set_total(b.total() - a.total());
  part->set_fit(b.fit() - a.fit());
  part->set_engagement(b.engagement() - a.engagement());
  part->set_level_before(a.level());
  part->set_level_after(b.level());
  AddReasonDeltas(a.reasons(), b.reasons(), part->mutable_reasons());
  if constexpr (std::is_same_v<Score, sv1::LeadScore>) {
    part->set_grade_before(a.grade());
    part->set_grade_after(b.grade());
  } else {
    part->set_coverage(b.coverage() - a.coverage());
  }
}

// The waterfall of a change: `score(new_definition, new_subject, new_time)` at the four corners
// the causes pass through in order (definition, then data, then time). The steps are
// differences of real scores, so they add up to the whole change. Returns the first and last.
template <typename ScoreFn>
auto Waterfall(ScoreFn score, sv1::ExplainScoreChangeResponse& out) {
  const auto s0 = score(false, false, false);
  const auto defined = score(true, false, false);
  const auto data = score(true, true, false);
  const auto s3 = score(true, true, true);
  AddStep(sv1::ScoreChangePart::DEFINITION, s0, defined, out);
  AddStep(sv1::ScoreChangePart::DATA, defined, data, out);
  AddStep(sv1::ScoreChangePart::TIME, data, s3, out);
  out.set_total_change(s3.total() - s0.total());
  out.set_fit_change(s3.fit() - s0.fit());
  out.set_engagement_change(s3.engagement() - s0.engagement());
  if constexpr (std::is_same_v<std::decay_t<decltype(s0)>, sv1::AccountScore>) {
    out.set_coverage_change(s3.coverage() - s0.coverage());
  }
  return std::make_pair(s0, s3);
}

}  // namespace

absl::StatusOr<sv1::ExplainScoreChangeResponse> Scorer::ExplainScoreChange(
    const sv1::ExplainScoreChangeRequest& request) const {
  const bool leads = request.has_lead_before() || request.has_lead_after();
  const bool accounts = request.has_account_before() || request.has_account_after();
  if (leads == accounts) {
    return InvalidField("lead_before",
                        "set lead_before and lead_after, or account_before and "
                        "account_after");
  }
  if (!request.has_as_of_before() || !request.has_as_of_after()) {
    return InvalidField(request.has_as_of_before() ? "as_of_after" : "as_of_before",
                        "is required: the two moments to compare");
  }
  if (request.revision_before() < 0 || request.revision_after() < 0) {
    return InvalidField(request.revision_before() < 0 ? "revision_before" : "revision_after",
                        "must not be negative (0: the published revision)");
  }
  const absl::Time t1 = AsOf(request.as_of_before()), t2 = AsOf(request.as_of_after());
  std::shared_ptr<const Snapshot> snapshot = Current();
  ACCORD_ASSIGN_OR_RETURN(auto set, SetFor(snapshot.get(), request.selector()));
  sv1::ExplainScoreChangeResponse out;
  if (leads) {
    if (!request.has_lead_before() || !request.has_lead_after()) {
      return InvalidField(request.has_lead_before() ? "lead_after" : "lead_before", "is required");
    }
    ACCORD_RETURN_IF_ERROR(CheckLead(request.lead_before(), "lead_before"));
    ACCORD_RETURN_IF_ERROR(CheckLead(request.lead_after(), "lead_after"));
    sv1::Selector s1 = request.selector(), s2 = request.selector();
    s1.set_model_revision(request.revision_before());
    s2.set_model_revision(request.revision_after());
    ACCORD_ASSIGN_OR_RETURN(Evaluation e1, ResolveIn(*set, s1, "selector"));
    ACCORD_ASSIGN_OR_RETURN(Evaluation e2, ResolveIn(*set, s2, "selector"));
    auto [first, last] = Waterfall(
        [&](bool definition, bool data, bool time) {
          return Score(definition ? e2 : e1, data ? request.lead_after() : request.lead_before(),
                       time ? t2 : t1);
        },
        out);
    *out.mutable_before() = std::move(first);
    *out.mutable_after() = std::move(last);
    return out;
  }
  if (!request.has_account_before() || !request.has_account_after()) {
    return InvalidField(request.has_account_before() ? "account_after" : "account_before",
                        "is required");
  }
  ACCORD_RETURN_IF_ERROR(CheckAccount(request.account_before(), "account_before"));
  ACCORD_RETURN_IF_ERROR(CheckAccount(request.account_after(), "account_after"));
  ACCORD_ASSIGN_OR_RETURN(
      AccountEvaluation a1,
      ResolveAccount(set, request.selector(), request.revision_before(), "selector"));
  ACCORD_ASSIGN_OR_RETURN(
      AccountEvaluation a2,
      ResolveAccount(set, request.selector(), request.revision_after(), "selector"));
  auto [first, last] = Waterfall(
      [&](bool definition, bool data, bool time) {
        const AccountEvaluation& a = definition ? a2 : a1;
        return accord::scoring::ScoreAccount(
            *a.set, a.index, data ? request.account_after() : request.account_before(),
            time ? t2 : t1);
      },
      out);
  *out.mutable_account_before() = std::move(first);
  *out.mutable_account_after() = std::move(last);
  return out;
}

}  // namespace accord::scoring
