#include "registry/registry.h"

#include <algorithm>
#include <set>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "absl/strings/strip.h"
#include "google/protobuf/io/coded_stream.h"
#include "google/protobuf/io/zero_copy_stream_impl_lite.h"
#include "google/protobuf/util/field_mask_util.h"
#include "google/protobuf/util/time_util.h"

#include "common/call_scope.h"
#include "common/hash.h"
#include "common/log.h"
#include "common/status.h"
#include "definitions/diff.h"
#include "definitions/validation.h"
#include "registry/approval.h"

namespace accord::registry {
namespace {

using google::protobuf::util::TimeUtil;

constexpr int kDefaultPageSize = 50;
constexpr int kMaxPageSize = 1000;
// Plans of one mutation tried before a run of concurrent commits makes it give up (ABORTED).
constexpr int kMaxCommitAttempts = 8;

std::string RevisionName(const std::string& definition, int64_t number) {
  return absl::StrCat(definition, "/revisions/", number);
}

absl::StatusOr<int> PageSize(int requested) {
  if (requested < 0) {
    return InvalidField("page_size", "must not be negative");
  }
  return requested == 0 ? kDefaultPageSize : std::min(requested, kMaxPageSize);
}

std::string EncodePageToken(absl::string_view value) {
  return absl::WebSafeBase64Escape(absl::StrCat("v1:", value));
}

absl::StatusOr<std::string> DecodePageToken(absl::string_view token) {
  if (token.empty()) {
    return std::string();
  }
  std::string raw;
  absl::string_view value;
  if (!absl::WebSafeBase64Unescape(token, &raw) || !absl::StartsWith(raw, "v1:")) {
    return InvalidField("page_token", "is not a token this API returned");
  }
  value = absl::string_view(raw).substr(3);
  return std::string(value);
}

std::string Fingerprint(absl::string_view method, const google::protobuf::Message& request) {
  std::string bytes;
  {
    google::protobuf::io::StringOutputStream stream(&bytes);
    google::protobuf::io::CodedOutputStream out(&stream);
    out.SetSerializationDeterministic(true);
    request.SerializeToCodedStream(&out);
  }
  return absl::StrCat(method, ":", Sha256Hex(bytes));
}

v1::Definition Output(const records::DefinitionState& state) {
  v1::Definition d = state.definition();
  d.set_etag(EtagFor(d.sequence()));
  return d;
}

absl::Status CheckEtag(const std::string& given, const v1::Definition& current) {
  if (!given.empty() && given != EtagFor(current.sequence())) {
    return ErrorWithReason(
        absl::StatusCode::kAborted, "ETAG_MISMATCH",
        absl::StrCat(current.name(), " was changed since etag ", given,
                     "; read it again (current etag ", EtagFor(current.sequence()), ")"),
        {{"current_etag", EtagFor(current.sequence())}});
  }
  return absl::OkStatus();
}

absl::Status CheckActive(const v1::Definition& d) {
  if (d.state() == v1::Definition::DELETED) {
    return ErrorWithReason(absl::StatusCode::kFailedPrecondition, "DEFINITION_DELETED",
                           absl::StrCat(d.name(), " is deleted; undelete it first"));
  }
  return absl::OkStatus();
}

// Records `author` among those who changed the draft since it was last proposed.
void AddAuthor(const std::string& author, records::DefinitionState* state) {
  if (std::find(state->draft_authors().begin(), state->draft_authors().end(), author) ==
      state->draft_authors().end()) {
    state->add_draft_authors(author);
  }
}

// Checks that every definition `revision` refers to is active and published, and adds each one's
// current sequence to `batch` as a reference precondition: a concurrent delete (or anything
// else that changes it) then fails this commit, which plans again. FAILED_PRECONDITION
// (REFERENCE_NOT_PUBLISHED) names the first reference that is not published.
absl::Status GuardReferences(const WatchHub& hub, const v1::Revision& revision, WriteBatch* batch) {
  for (const std::string& ref : CollectReferences(revision.snapshot())) {
    WatchHub::StatePtr target = hub.Get(ref);
    if (target == nullptr || target->definition().state() != v1::Definition::ACTIVE ||
        target->definition().published_revision() == 0) {
      return ErrorWithReason(
          absl::StatusCode::kFailedPrecondition, "REFERENCE_NOT_PUBLISHED",
          absl::StrCat(revision.name(), " refers to ", ref, ", which has no published revision"),
          {{"reference", ref}});
    }
    batch->preconditions.push_back({ref, target->definition().sequence(), /*reference=*/true});
  }
  return absl::OkStatus();
}

class ViewResolver final : public ReferenceResolver {
 public:
  explicit ViewResolver(const WatchHub& hub) : hub_(hub) {}
  std::optional<v1::Definition> Resolve(absl::string_view namespace_id,
                                        absl::string_view ref) const override {
    WatchHub::StatePtr state = hub_.Get(ResolveReferenceName(namespace_id, ref));
    if (state == nullptr || state->definition().state() == v1::Definition::DELETED) {
      return std::nullopt;
    }
    if (state->definition().published_revision() > 0) {
      return state->published().snapshot();
    }
    return state->definition();
  }

 private:
  const WatchHub& hub_;
};

// One filter term of ListDefinitions.
struct ListFilter {
  std::optional<v1::DefinitionKind> kind;
  std::optional<v1::Definition::State> state;
  std::optional<bool> published;
  std::optional<bool> pending;
  std::vector<std::pair<std::string, std::string>> labels;
};

absl::StatusOr<ListFilter> ParseFilter(absl::string_view filter) {
  ListFilter out;
  if (absl::StripAsciiWhitespace(filter).empty()) {
    return out;
  }
  for (absl::string_view term : absl::StrSplit(filter, " AND ")) {
    std::vector<absl::string_view> kv = absl::StrSplit(term, absl::MaxSplits('=', 1));
    if (kv.size() != 2) {
      return InvalidField("filter", absl::StrCat("term '", term, "' is not key = value"));
    }
    absl::string_view key = absl::StripAsciiWhitespace(kv[0]);
    std::string value(absl::StripAsciiWhitespace(kv[1]));
    if (value.size() >= 2 && value.front() == '"' && value.back() == '"') {
      value = value.substr(1, value.size() - 2);
    }
    if (key == "kind") {
      v1::DefinitionKind kind;
      if (!v1::DefinitionKind_Parse(value, &kind) || kind == v1::DEFINITION_KIND_UNSPECIFIED) {
        return InvalidField("filter", absl::StrCat("unknown kind '", value, "'"));
      }
      out.kind = kind;
    } else if (key == "state") {
      v1::Definition::State state;
      if (!v1::Definition::State_Parse(value, &state) ||
          state == v1::Definition::STATE_UNSPECIFIED) {
        return InvalidField("filter",
                            absl::StrCat("unknown state '", value, "' (ACTIVE, DELETED)"));
      }
      out.state = state;
    } else if (key == "published" || key == "pending") {
      if (value != "true" && value != "false") {
        return InvalidField("filter", absl::StrCat(key, " must be true or false"));
      }
      (key == "published" ? out.published : out.pending) = value == "true";
    } else if (absl::StartsWith(key, "labels.")) {
      out.labels.emplace_back(std::string(key.substr(7)), value);
    } else {
      return InvalidField("filter", absl::StrCat("unknown filter key '", key,
                                                 "' (kind, state, published, pending, labels.*)"));
    }
  }
  return out;
}

absl::StatusOr<v1::Definition> WithEtag(absl::StatusOr<v1::Definition> d) {
  if (d.ok()) {
    d->set_etag(EtagFor(d->sequence()));
  }
  return d;
}

}  // namespace

Registry::Registry(DefinitionStore& store, WatchHub& hub, const Clock& clock,
                   RegistryOptions options)
    : store_(store), hub_(hub), clock_(clock), options_(options) {}

v1::Definition Registry::Content(const v1::Definition& d) {
  v1::Definition c = d;
  c.clear_uid();
  c.clear_kind();
  c.clear_state();
  c.clear_published_revision();
  c.clear_latest_revision();
  c.clear_pending_revision();
  c.clear_draft_changed();
  c.clear_sequence();
  c.clear_create_time();
  c.clear_update_time();
  c.clear_delete_time();
  c.clear_etag();
  if (c.approval_policy().required_teams_size() == 0) {
    c.clear_approval_policy();  // an empty policy is the default policy
  }
  return c;
}

std::string Registry::ContentHash(const v1::Definition& d) {
  return absl::StrCat("sha256:", Fingerprint("", Content(d)).substr(1));
}

absl::Status Registry::Validate(const v1::Definition& definition, absl::string_view prefix,
                                absl::string_view reason) const {
  ViewResolver resolver(hub_);
  std::vector<FieldViolation> problems = ValidateDefinition(definition, prefix, &resolver);
  // Validation stops compiling patterns when the call ends: say that, not what it found.
  ACCORD_RETURN_IF_ERROR(CallScope::Check());
  return problems.empty() ? absl::OkStatus()
                          : InvalidArgument(std::move(problems), std::string(reason));
}

absl::StatusOr<WatchHub::StatePtr> Registry::Find(absl::string_view field,
                                                  const std::string& name) const {
  ACCORD_ASSIGN_OR_RETURN(DefinitionName parsed, ParseDefinitionName(field, name));
  WatchHub::StatePtr state = hub_.Get(parsed.full);
  if (state == nullptr) {
    return absl::NotFoundError(absl::StrCat(name, " does not exist"));
  }
  return state;
}

v1::AuditEvent Registry::Audit(const Principal& caller, absl::string_view action,
                               const std::string& resource, const std::string& before_hash,
                               const std::string& after_hash, const std::string& request_id,
                               const std::string& detail) const {
  v1::AuditEvent e;
  *e.mutable_time() = TimeUtil::NanosecondsToTimestamp(absl::ToUnixNanos(clock_.Now()));
  e.set_principal(caller.name);
  e.set_action(std::string(action));
  e.set_resource(resource);
  e.set_namespace_(NamespaceOfName(resource).value_or(""));
  e.set_before_hash(before_hash);
  e.set_after_hash(after_hash);
  e.set_request_id(request_id);
  e.set_detail(detail);
  return e;
}

absl::Status Registry::RecordAudit(const Principal& caller, absl::string_view action,
                                   const std::string& resource, const std::string& request_id,
                                   const std::string& detail) {
  WriteBatch batch;
  batch.audit.push_back(Audit(caller, action, resource, "", "", request_id, detail));
  return store_.Commit(std::move(batch)).status();
}

template <typename Response>
absl::StatusOr<Response> Registry::Mutate(const Principal& caller, absl::string_view method,
                                          const google::protobuf::Message& request,
                                          const std::string& request_id, bool validate_only,
                                          bool retry_conflicts, const Planner<Response>& plan) {
  if (request_id.size() > 128) {
    return InvalidField("request_id", "is longer than 128 characters");
  }
  // The principal's length comes first, so no pair of principal and request id shares a key
  // with another ("x" + "y/z" vs "x/y" + "z").
  const std::string key = absl::StrCat(caller.name.size(), ":", caller.name, "/", request_id);
  const std::string fingerprint = Fingerprint(method, request);
  auto replay = [&]() -> absl::StatusOr<std::optional<Response>> {
    if (request_id.empty() || validate_only) {
      return std::optional<Response>();
    }
    ACCORD_ASSIGN_OR_RETURN(std::optional<records::RequestRecord> record, store_.FindRequest(key));
    if (!record.has_value()) {
      return std::optional<Response>();
    }
    if (record->fingerprint() != fingerprint) {
      return ErrorWithReason(absl::StatusCode::kInvalidArgument, "REQUEST_ID_CONFLICT",
                             "request_id was already used for a different request");
    }
    Response response;
    if (!response.ParseFromString(record->response())) {
      return absl::InternalError("corrupt request record");
    }
    AssignSequence(&response, record->sequence());
    return std::optional<Response>(std::move(response));
  };
  ACCORD_ASSIGN_OR_RETURN(std::optional<Response> previous, replay());
  if (previous.has_value()) {
    return *std::move(previous);
  }
  for (int attempt = 0;; ++attempt) {
    ACCORD_ASSIGN_OR_RETURN(Plan<Response> p, plan());
    if (validate_only || p.batch.states.empty()) {
      return std::move(p.response);  // validate_only, or nothing to change
    }
    if (!request_id.empty()) {
      records::RequestRecord record;
      record.set_key(key);
      record.set_fingerprint(fingerprint);
      record.set_response(p.response.SerializeAsString());
      p.batch.request = std::move(record);
    }
    absl::StatusOr<int64_t> seq = store_.Commit(std::move(p.batch));
    if (!seq.ok()) {
      const std::string reason = ErrorReason(seq.status());
      if (reason == "REQUEST_EXISTS") {
        ACCORD_ASSIGN_OR_RETURN(std::optional<Response> again, replay());
        if (again.has_value()) {
          return *std::move(again);
        }
      }
      // A definition this one relies on, or the store as a whole, moved since the plan: the
      // caller's etag still holds, so plan again against the newer view.
      const bool reference_moved = reason == "REFERENCE_CHANGED" || reason == "STORE_CHANGED";
      if ((reference_moved || (reason == "ETAG_MISMATCH" && retry_conflicts)) &&
          attempt < kMaxCommitAttempts - 1) {
        // The view was behind a commit made elsewhere; catch up and plan again.
        hub_.WaitForSequence(hub_.applied_sequence() + 1, absl::Milliseconds(200)).IgnoreError();
        continue;
      }
      if (reference_moved) {
        return ErrorWithReason(absl::StatusCode::kAborted, "CONCURRENT_CHANGES",
                               "other changes kept landing while this one was checked; retry");
      }
      return seq.status();
    }
    if (absl::Status s = hub_.WaitForSequence(*seq, options_.apply_timeout); !s.ok()) {
      Log(LogLevel::kWarning, "commit not yet visible on this replica",
          {{"sequence", *seq}, {"error", s.ToString()}});
    }
    AssignSequence(&p.response, *seq);
    return std::move(p.response);
  }
}

// ------------------------------------------------------------------ definitions

absl::StatusOr<v1::Definition> Registry::CreateDefinition(
    const Principal& caller, const v1::CreateDefinitionRequest& request) {
  std::vector<FieldViolation> violations;
  absl::StatusOr<std::string> ns = ParseParent("parent", request.parent(), false);
  if (!ns.ok()) {
    auto v = FieldViolations(ns.status());
    violations.insert(violations.end(), v.begin(), v.end());
  }
  if (!IsValidId(request.definition_id())) {
    violations.push_back(
        {"definition_id",
         absl::StrCat("'", request.definition_id(),
                      "' is not a valid id: 1-63 of [a-z0-9-], starting with a letter")});
  }
  if (!request.has_definition()) {
    violations.push_back({"definition", "is required"});
  }
  if (!violations.empty()) {
    return InvalidArgument(std::move(violations));
  }
  const std::string name = absl::StrCat(request.parent(), "/definitions/", request.definition_id());
  if (!request.definition().name().empty() && request.definition().name() != name) {
    return InvalidField("definition.name",
                        absl::StrCat("must be empty or ", name, " (it comes from parent and id)"));
  }
  const bool retry = true;
  return WithEtag(Mutate<v1::Definition>(
      caller, "CreateDefinition", request, request.request_id(), request.validate_only(), retry,
      [&]() -> absl::StatusOr<Plan<v1::Definition>> {
        if (hub_.Get(name) != nullptr) {
          return ErrorWithReason(absl::StatusCode::kAlreadyExists, "DEFINITION_EXISTS",
                                 absl::StrCat(name, " already exists"));
        }
        v1::Definition d = Content(request.definition());
        d.set_name(name);
        ACCORD_RETURN_IF_ERROR(Validate(d, "definition", "INVALID_DEFINITION"));
        const auto now = TimeUtil::NanosecondsToTimestamp(absl::ToUnixNanos(clock_.Now()));
        d.set_uid(RandomHex(16));
        d.set_kind(KindOf(d));
        d.set_state(v1::Definition::ACTIVE);
        d.set_draft_changed(true);
        *d.mutable_create_time() = now;
        *d.mutable_update_time() = now;
        Plan<v1::Definition> plan;
        plan.batch.preconditions.push_back({name, 0});
        records::DefinitionState state;
        *state.mutable_definition() = d;
        state.add_draft_authors(caller.name);
        plan.batch.states.push_back(state);
        plan.batch.audit.push_back(
            Audit(caller, "CreateDefinition", name, "", ContentHash(d), request.request_id(), ""));
        plan.response = d;
        return plan;
      }));
}

absl::StatusOr<v1::Definition> Registry::GetDefinition(
    const v1::GetDefinitionRequest& request) const {
  ACCORD_ASSIGN_OR_RETURN(WatchHub::StatePtr state, Find("name", request.name()));
  return Output(*state);
}

absl::StatusOr<std::shared_ptr<const std::string>> Registry::GetDefinitionSerialized(
    const v1::GetDefinitionRequest& request) const {
  ACCORD_ASSIGN_OR_RETURN(DefinitionName parsed, ParseDefinitionName("name", request.name()));
  std::shared_ptr<const std::string> bytes = hub_.GetSerialized(parsed.full);
  if (bytes == nullptr) {
    return absl::NotFoundError(absl::StrCat(request.name(), " does not exist"));
  }
  return bytes;
}

absl::StatusOr<v1::ListDefinitionsResponse> Registry::ListDefinitions(
    const v1::ListDefinitionsRequest& request) const {
  ACCORD_ASSIGN_OR_RETURN(std::string ns, ParseParent("parent", request.parent(), true));
  ACCORD_ASSIGN_OR_RETURN(int page_size, PageSize(request.page_size()));
  ACCORD_ASSIGN_OR_RETURN(std::string after, DecodePageToken(request.page_token()));
  ACCORD_ASSIGN_OR_RETURN(ListFilter filter, ParseFilter(request.filter()));
  const std::string prefix = ns == "-" ? "namespaces/" : absl::StrCat("namespaces/", ns, "/");
  auto keep = [&](const records::DefinitionState& s) {
    const v1::Definition& d = s.definition();
    bool deleted = d.state() == v1::Definition::DELETED;
    if (filter.state.has_value()) {
      if (d.state() != *filter.state) {
        return false;
      }
    } else if (deleted && !request.show_deleted()) {
      return false;
    }
    if (filter.kind.has_value() && d.kind() != *filter.kind) {
      return false;
    }
    if (filter.published.has_value() && (d.published_revision() > 0) != *filter.published) {
      return false;
    }
    if (filter.pending.has_value() && (d.pending_revision() > 0) != *filter.pending) {
      return false;
    }
    for (const auto& [k, v] : filter.labels) {
      auto it = d.labels().find(k);
      if (it == d.labels().end() || it->second != v) {
        return false;
      }
    }
    return true;
  };
  std::vector<WatchHub::StatePtr> states = hub_.List(prefix, after, page_size + 1, keep);
  v1::ListDefinitionsResponse response;
  for (size_t i = 0; i < states.size() && i < static_cast<size_t>(page_size); ++i) {
    *response.add_definitions() = Output(*states[i]);
  }
  if (states.size() > static_cast<size_t>(page_size)) {
    response.set_next_page_token(EncodePageToken(states[page_size - 1]->definition().name()));
  }
  return response;
}

absl::StatusOr<v1::Definition> Registry::UpdateDefinition(
    const Principal& caller, const v1::UpdateDefinitionRequest& request) {
  const v1::Definition& input = request.definition();
  static const std::set<std::string> kMutable = {
      "display_name",  "description",         "labels",        "approval_policy",
      "buyer_persona", "qualification_model", "buyer_journey", "service_level_agreement"};
  for (int i = 0; i < request.update_mask().paths_size(); ++i) {
    if (kMutable.count(request.update_mask().paths(i)) == 0) {
      return InvalidField(
          absl::StrCat("update_mask.paths[", i, "]"),
          absl::StrCat("'", request.update_mask().paths(i), "' cannot be updated; use one of ",
                       absl::StrJoin(kMutable, ", ")));
    }
  }
  return WithEtag(Mutate<v1::Definition>(
      caller, "UpdateDefinition", request, request.request_id(), request.validate_only(),
      input.etag().empty(), [&]() -> absl::StatusOr<Plan<v1::Definition>> {
        ACCORD_ASSIGN_OR_RETURN(WatchHub::StatePtr state, Find("definition.name", input.name()));
        const v1::Definition& current = state->definition();
        ACCORD_RETURN_IF_ERROR(CheckActive(current));
        ACCORD_RETURN_IF_ERROR(CheckEtag(input.etag(), current));
        v1::Definition next = current;
        if (request.update_mask().paths_size() == 0) {
          next.set_display_name(input.display_name());
          next.set_description(input.description());
          *next.mutable_labels() = input.labels();
          if (input.approval_policy().required_teams_size() > 0) {
            *next.mutable_approval_policy() = input.approval_policy();
          } else {
            next.clear_approval_policy();
          }
          if (input.body_case() != v1::Definition::BODY_NOT_SET) {
            v1::Definition body = Content(input);
            body.clear_name();
            body.clear_display_name();
            body.clear_description();
            body.clear_labels();
            body.clear_approval_policy();
            next.clear_body();
            next.MergeFrom(body);
          }
        } else {
          google::protobuf::util::FieldMaskUtil::MergeOptions options;
          options.set_replace_message_fields(true);
          options.set_replace_repeated_fields(true);
          google::protobuf::util::FieldMaskUtil::MergeMessageTo(input, request.update_mask(),
                                                                options, &next);
        }
        if (KindOf(next) != current.kind()) {
          return InvalidField("definition", absl::StrCat("the kind of ", current.name(), " is ",
                                                         v1::DefinitionKind_Name(current.kind()),
                                                         " and cannot change"));
        }
        ACCORD_RETURN_IF_ERROR(Validate(next, "definition", "INVALID_DEFINITION"));
        Plan<v1::Definition> plan;
        const std::string before = ContentHash(current);
        const std::string after = ContentHash(next);
        if (before == after) {
          plan.response = Output(*state);  // unchanged: nothing to write
          return plan;
        }
        *next.mutable_update_time() =
            TimeUtil::NanosecondsToTimestamp(absl::ToUnixNanos(clock_.Now()));
        next.set_sequence(0);
        std::string latest_hash;
        if (current.latest_revision() > 0) {
          ACCORD_ASSIGN_OR_RETURN(v1::Revision latest,
                                  store_.GetRevision(current.name(), current.latest_revision()));
          latest_hash = latest.content_hash();
        }
        next.set_draft_changed(after != latest_hash);
        plan.batch.preconditions.push_back({current.name(), current.sequence()});
        records::DefinitionState next_state = *state;
        *next_state.mutable_definition() = next;
        AddAuthor(caller.name, &next_state);
        plan.batch.states.push_back(next_state);
        plan.batch.audit.push_back(Audit(caller, "UpdateDefinition", current.name(), before, after,
                                         request.request_id(), ""));
        plan.response = next;
        return plan;
      }));
}

absl::StatusOr<v1::Definition> Registry::DeleteDefinition(
    const Principal& caller, const v1::DeleteDefinitionRequest& request) {
  return WithEtag(Mutate<v1::Definition>(
      caller, "DeleteDefinition", request, request.request_id(), false, request.etag().empty(),
      [&]() -> absl::StatusOr<Plan<v1::Definition>> {
        // The check below reads every published definition: the commit holds only if nothing
        // was committed since the view it read (a publish referring to this one, above all).
        const int64_t checked_at = hub_.applied_sequence();
        ACCORD_ASSIGN_OR_RETURN(WatchHub::StatePtr state, Find("name", request.name()));
        const v1::Definition& current = state->definition();
        if (current.state() == v1::Definition::DELETED) {
          return ErrorWithReason(absl::StatusCode::kFailedPrecondition, "DEFINITION_DELETED",
                                 absl::StrCat(current.name(), " is already deleted"));
        }
        ACCORD_RETURN_IF_ERROR(CheckEtag(request.etag(), current));
        std::vector<std::string> referenced_by;
        for (const WatchHub::StatePtr& other :
             hub_.List("namespaces/", "", SIZE_MAX, [](const records::DefinitionState& s) {
               return s.definition().state() == v1::Definition::ACTIVE &&
                      s.definition().published_revision() > 0;
             })) {
          if (other->definition().name() == current.name()) {
            continue;
          }
          std::vector<std::string> refs = CollectReferences(other->published().snapshot());
          if (std::find(refs.begin(), refs.end(), current.name()) != refs.end()) {
            referenced_by.push_back(other->definition().name());
          }
        }
        if (!referenced_by.empty()) {
          return ErrorWithReason(
              absl::StatusCode::kFailedPrecondition, "DEFINITION_REFERENCED",
              absl::StrCat(current.name(), " is referenced by published definitions: ",
                           absl::StrJoin(referenced_by, ", ")),
              {{"referenced_by", absl::StrJoin(referenced_by, ",")}});
        }
        records::DefinitionState next = *state;
        v1::Definition* d = next.mutable_definition();
        d->set_state(v1::Definition::DELETED);
        d->set_sequence(0);
        *d->mutable_delete_time() =
            TimeUtil::NanosecondsToTimestamp(absl::ToUnixNanos(clock_.Now()));
        Plan<v1::Definition> plan;
        plan.batch.preconditions.push_back({current.name(), current.sequence()});
        plan.batch.expected_store_sequence = checked_at;
        plan.batch.states.push_back(next);
        if (current.published_revision() > 0) {
          v1::WatchEvent event;
          event.set_type(v1::WatchEvent::DELETE);
          event.set_definition(current.name());
          event.set_kind(current.kind());
          plan.batch.events.push_back(event);
        }
        plan.batch.audit.push_back(Audit(caller, "DeleteDefinition", current.name(),
                                         ContentHash(current), "", request.request_id(), ""));
        plan.response = next.definition();
        return plan;
      }));
}

absl::StatusOr<v1::Definition> Registry::UndeleteDefinition(
    const Principal& caller, const v1::UndeleteDefinitionRequest& request) {
  return WithEtag(Mutate<v1::Definition>(
      caller, "UndeleteDefinition", request, request.request_id(), false, request.etag().empty(),
      [&]() -> absl::StatusOr<Plan<v1::Definition>> {
        ACCORD_ASSIGN_OR_RETURN(WatchHub::StatePtr state, Find("name", request.name()));
        const v1::Definition& current = state->definition();
        if (current.state() != v1::Definition::DELETED) {
          return ErrorWithReason(absl::StatusCode::kAlreadyExists, "NOT_DELETED",
                                 absl::StrCat(current.name(), " is not deleted"));
        }
        ACCORD_RETURN_IF_ERROR(CheckEtag(request.etag(), current));
        if (current.published_revision() > 0) {
          absl::Status valid = Validate(state->published().snapshot(), "published", "");
          if (valid.code() == absl::StatusCode::kInvalidArgument) {
            std::vector<FieldViolation> problems = FieldViolations(valid);
            return ErrorWithReason(absl::StatusCode::kFailedPrecondition, "REFERENCE_MISSING",
                                   absl::StrCat("the published revision of ", current.name(),
                                                " is no longer valid: ", problems[0].field, ": ",
                                                problems[0].description));
          }
          ACCORD_RETURN_IF_ERROR(valid);
        }
        Plan<v1::Definition> plan;
        if (current.published_revision() > 0) {
          ACCORD_RETURN_IF_ERROR(GuardReferences(hub_, state->published(), &plan.batch));
        }
        records::DefinitionState next = *state;
        v1::Definition* d = next.mutable_definition();
        d->set_state(v1::Definition::ACTIVE);
        d->clear_delete_time();
        d->set_sequence(0);
        plan.batch.preconditions.push_back({current.name(), current.sequence()});
        plan.batch.states.push_back(next);
        if (current.published_revision() > 0) {
          v1::WatchEvent event;
          event.set_type(v1::WatchEvent::UPSERT);
          event.set_definition(current.name());
          event.set_kind(current.kind());
          *event.mutable_revision() = state->published();
          plan.batch.events.push_back(event);
        }
        plan.batch.audit.push_back(Audit(caller, "UndeleteDefinition", current.name(), "",
                                         ContentHash(current), request.request_id(), ""));
        plan.response = next.definition();
        return plan;
      }));
}

// ------------------------------------------------------------------ revisions

absl::StatusOr<v1::Revision> Registry::GetRevision(const v1::GetRevisionRequest& request) const {
  ACCORD_ASSIGN_OR_RETURN(auto parsed, ParseRevisionName("name", request.name()));
  auto& [def, token] = parsed;
  WatchHub::StatePtr state = hub_.Get(def.full);
  if (state == nullptr) {
    return absl::NotFoundError(absl::StrCat(def.full, " does not exist"));
  }
  int64_t number = 0;
  if (token == "published") {
    if (state->definition().published_revision() == 0) {
      return absl::NotFoundError(absl::StrCat(def.full, " has no published revision"));
    }
    return state->published();
  }
  if (token == "latest") {
    number = state->definition().latest_revision();
    if (number == 0) {
      return absl::NotFoundError(absl::StrCat(def.full, " has no revisions yet"));
    }
  } else {
    absl::SimpleAtoi(token, &number);
  }
  return store_.GetRevision(def.full, number);
}

absl::StatusOr<v1::ListRevisionsResponse> Registry::ListRevisions(
    const v1::ListRevisionsRequest& request) const {
  ACCORD_ASSIGN_OR_RETURN(WatchHub::StatePtr state, Find("parent", request.parent()));
  ACCORD_ASSIGN_OR_RETURN(int page_size, PageSize(request.page_size()));
  ACCORD_ASSIGN_OR_RETURN(std::string token, DecodePageToken(request.page_token()));
  int64_t before = 0;
  if (!token.empty() && !absl::SimpleAtoi(token, &before)) {
    return InvalidField("page_token", "is not a token this API returned");
  }
  ACCORD_ASSIGN_OR_RETURN(std::vector<v1::Revision> revisions,
                          store_.ListRevisions(state->definition().name(), before, page_size + 1));
  v1::ListRevisionsResponse response;
  for (size_t i = 0; i < revisions.size() && i < static_cast<size_t>(page_size); ++i) {
    *response.add_revisions() = std::move(revisions[i]);
  }
  if (revisions.size() > static_cast<size_t>(page_size)) {
    response.set_next_page_token(
        EncodePageToken(absl::StrCat(response.revisions(page_size - 1).revision_number())));
  }
  return response;
}

absl::StatusOr<v1::DefinitionDiff> Registry::DiffDefinition(
    const v1::DiffDefinitionRequest& request) const {
  ACCORD_ASSIGN_OR_RETURN(WatchHub::StatePtr state, Find("name", request.name()));
  const v1::Definition& current = state->definition();
  struct Side {
    std::optional<v1::Definition> content;  // nullopt: this side does not exist yet
    std::string label;
    int64_t revision = 0;
  };
  auto side = [&](absl::string_view field, absl::string_view token) -> absl::StatusOr<Side> {
    if (token == "draft") {
      return Side{current, "draft", 0};
    }
    int64_t number = 0;
    if (token == "published") {
      number = current.published_revision();
    } else if (token == "latest") {
      number = current.latest_revision();
    } else if (!absl::SimpleAtoi(token, &number) || number <= 0) {
      return InvalidField(field, "must be published, latest, draft or a revision number");
    }
    if (number == 0) {
      return Side{std::nullopt, absl::StrCat("(no ", token, " revision)"), 0};
    }
    ACCORD_ASSIGN_OR_RETURN(v1::Revision revision, store_.GetRevision(current.name(), number));
    return Side{revision.snapshot(), absl::StrCat("revision ", number), number};
  };
  ACCORD_ASSIGN_OR_RETURN(Side from,
                          side("from", request.from().empty() ? "published" : request.from()));
  ACCORD_ASSIGN_OR_RETURN(Side to, side("to", request.to().empty() ? "draft" : request.to()));
  v1::DefinitionDiff diff;
  diff.set_name(current.name());
  diff.set_from(from.label);
  diff.set_to(to.label);
  diff.set_from_revision(from.revision);
  diff.set_to_revision(to.revision);
  if (from.content.has_value() || to.content.has_value()) {
    for (v1::DefinitionChange& change : definitions::DiffDefinitions(
             from.content ? &*from.content : nullptr, to.content ? &*to.content : nullptr)) {
      *diff.add_changes() = std::move(change);
    }
  }
  return diff;
}

absl::StatusOr<v1::Revision> Registry::ProposeRevision(const Principal& caller,
                                                       const v1::ProposeRevisionRequest& request) {
  return Mutate<v1::Revision>(
      caller, "ProposeRevision", request, request.request_id(), request.validate_only(),
      request.etag().empty(), [&]() -> absl::StatusOr<Plan<v1::Revision>> {
        ACCORD_ASSIGN_OR_RETURN(WatchHub::StatePtr state, Find("name", request.name()));
        const v1::Definition& current = state->definition();
        ACCORD_RETURN_IF_ERROR(CheckActive(current));
        ACCORD_RETURN_IF_ERROR(CheckEtag(request.etag(), current));
        v1::Definition content = Content(current);
        ACCORD_RETURN_IF_ERROR(Validate(content, "definition", "INVALID_DEFINITION"));
        const std::string hash = ContentHash(content);
        if (current.published_revision() > 0 && state->published().content_hash() == hash) {
          return ErrorWithReason(absl::StatusCode::kFailedPrecondition, "NO_CHANGES",
                                 absl::StrCat("the draft equals the published revision ",
                                              current.published_revision()));
        }
        Plan<v1::Revision> plan;
        if (current.pending_revision() > 0) {
          ACCORD_ASSIGN_OR_RETURN(v1::Revision pending,
                                  store_.GetRevision(current.name(), current.pending_revision()));
          if (pending.content_hash() == hash) {
            return ErrorWithReason(absl::StatusCode::kFailedPrecondition, "NO_CHANGES",
                                   absl::StrCat("the draft is already proposed as revision ",
                                                pending.revision_number()));
          }
          pending.set_state(v1::Revision::WITHDRAWN);
          pending.set_sequence(0);
          plan.batch.revisions.push_back(pending);
        }
        const int64_t number = current.latest_revision() + 1;
        v1::Revision revision;
        revision.set_name(RevisionName(current.name(), number));
        revision.set_revision_number(number);
        *revision.mutable_snapshot() = content;
        revision.set_state(v1::Revision::PROPOSED);
        revision.set_proposer(caller.name);
        revision.set_change_summary(request.change_summary());
        for (const std::string& team : approval::RequiredTeams(content, *state)) {
          revision.add_required_teams(team);
        }
        revision.set_content_hash(hash);
        *revision.mutable_authors() = state->draft_authors();
        *revision.mutable_create_time() =
            TimeUtil::NanosecondsToTimestamp(absl::ToUnixNanos(clock_.Now()));
        records::DefinitionState next = *state;
        next.clear_draft_authors();
        v1::Definition* d = next.mutable_definition();
        d->set_latest_revision(number);
        d->set_pending_revision(number);
        d->set_draft_changed(false);
        d->set_sequence(0);
        plan.batch.preconditions.push_back({current.name(), current.sequence()});
        plan.batch.states.push_back(next);
        plan.batch.revisions.push_back(revision);
        plan.batch.audit.push_back(Audit(caller, "ProposeRevision", revision.name(), "", hash,
                                         request.request_id(), request.change_summary()));
        plan.response = revision;
        return plan;
      });
}

absl::StatusOr<v1::Revision> Registry::ApproveRevision(const Principal& caller,
                                                       const v1::ReviewRevisionRequest& request) {
  return Review(caller, request, true);
}

absl::StatusOr<v1::Revision> Registry::RejectRevision(const Principal& caller,
                                                      const v1::ReviewRevisionRequest& request) {
  return Review(caller, request, false);
}

absl::StatusOr<v1::Revision> Registry::Review(const Principal& caller,
                                              const v1::ReviewRevisionRequest& request,
                                              bool approve) {
  const char* action = approve ? "ApproveRevision" : "RejectRevision";
  if (!approve && request.comment().empty()) {
    return InvalidField("comment", "a rejection needs a comment saying what to change");
  }
  return Mutate<v1::Revision>(
      caller, action, request, request.request_id(), false, true,
      [&]() -> absl::StatusOr<Plan<v1::Revision>> {
        ACCORD_ASSIGN_OR_RETURN(auto parsed, ParseRevisionName("name", request.name()));
        auto& [def, token] = parsed;
        int64_t number = 0;
        if (!absl::SimpleAtoi(token, &number)) {
          return InvalidField("name", "name a revision by its number to review it");
        }
        ACCORD_ASSIGN_OR_RETURN(WatchHub::StatePtr state, Find("name", def.full));
        const v1::Definition& current = state->definition();
        ACCORD_RETURN_IF_ERROR(CheckActive(current));
        ACCORD_ASSIGN_OR_RETURN(v1::Revision revision, store_.GetRevision(def.full, number));
        ACCORD_ASSIGN_OR_RETURN(std::string team,
                                approval::ReviewTeam(revision, caller, request.team(), approve));
        approval::AddReview(revision, caller, team, approve, request.comment(), clock_.Now());
        records::DefinitionState next = *state;
        next.mutable_definition()->set_sequence(0);
        if (!approve) {
          next.mutable_definition()->set_pending_revision(0);
        }
        revision.set_sequence(0);
        Plan<v1::Revision> plan;
        plan.batch.preconditions.push_back({current.name(), current.sequence()});
        plan.batch.states.push_back(next);
        plan.batch.revisions.push_back(revision);
        plan.batch.audit.push_back(Audit(caller, action, revision.name(), "",
                                         revision.content_hash(), request.request_id(),
                                         absl::StrCat("team=", team, " ", request.comment())));
        plan.response = revision;
        return plan;
      });
}

absl::StatusOr<v1::Revision> Registry::PublishRevision(const Principal& caller,
                                                       const v1::PublishRevisionRequest& request) {
  return Mutate<v1::Revision>(
      caller, "PublishRevision", request, request.request_id(), request.validate_only(),
      request.etag().empty(), [&]() -> absl::StatusOr<Plan<v1::Revision>> {
        ACCORD_ASSIGN_OR_RETURN(auto parsed, ParseRevisionName("name", request.name()));
        auto& [def, token] = parsed;
        int64_t number = 0;
        if (!absl::SimpleAtoi(token, &number)) {
          return InvalidField("name", "name a revision by its number to publish it");
        }
        ACCORD_ASSIGN_OR_RETURN(WatchHub::StatePtr state, Find("name", def.full));
        const v1::Definition& current = state->definition();
        ACCORD_RETURN_IF_ERROR(CheckActive(current));
        ACCORD_RETURN_IF_ERROR(CheckEtag(request.etag(), current));
        ACCORD_ASSIGN_OR_RETURN(v1::Revision revision, store_.GetRevision(def.full, number));
        ACCORD_RETURN_IF_ERROR(approval::CheckPublishable(revision));
        // Everything it refers to must exist and be published, or consumers could not use it.
        Plan<v1::Revision> plan;
        ACCORD_RETURN_IF_ERROR(GuardReferences(hub_, revision, &plan.batch));
        if (current.published_revision() > 0) {
          v1::Revision previous = state->published();
          previous.set_state(v1::Revision::SUPERSEDED);
          previous.set_sequence(0);
          plan.batch.revisions.push_back(previous);
        }
        revision.set_state(v1::Revision::PUBLISHED);
        revision.set_sequence(0);
        *revision.mutable_publish_time() =
            TimeUtil::NanosecondsToTimestamp(absl::ToUnixNanos(clock_.Now()));
        records::DefinitionState next = *state;
        next.mutable_definition()->set_published_revision(number);
        next.mutable_definition()->set_pending_revision(0);
        next.mutable_definition()->set_sequence(0);
        *next.mutable_published() = revision;
        plan.batch.preconditions.push_back({current.name(), current.sequence()});
        plan.batch.states.push_back(next);
        plan.batch.revisions.push_back(revision);
        v1::WatchEvent event;
        event.set_type(v1::WatchEvent::UPSERT);
        event.set_definition(current.name());
        event.set_kind(current.kind());
        *event.mutable_revision() = revision;
        plan.batch.events.push_back(event);
        plan.batch.audit.push_back(Audit(caller, "PublishRevision", revision.name(),
                                         state->published().content_hash(), revision.content_hash(),
                                         request.request_id(), ""));
        plan.response = revision;
        return plan;
      });
}

absl::StatusOr<v1::Revision> Registry::RollbackDefinition(
    const Principal& caller, const v1::RollbackDefinitionRequest& request) {
  return Mutate<v1::Revision>(
      caller, "RollbackDefinition", request, request.request_id(), false, request.etag().empty(),
      [&]() -> absl::StatusOr<Plan<v1::Revision>> {
        ACCORD_ASSIGN_OR_RETURN(WatchHub::StatePtr state, Find("name", request.name()));
        const v1::Definition& current = state->definition();
        ACCORD_RETURN_IF_ERROR(CheckActive(current));
        ACCORD_RETURN_IF_ERROR(CheckEtag(request.etag(), current));
        if (request.revision_number() <= 0) {
          return InvalidField("revision_number", "is required: the revision to restore");
        }
        ACCORD_ASSIGN_OR_RETURN(v1::Revision old,
                                store_.GetRevision(current.name(), request.revision_number()));
        if (old.state() != v1::Revision::SUPERSEDED) {
          return ErrorWithReason(
              absl::StatusCode::kFailedPrecondition, "NOT_PREVIOUSLY_PUBLISHED",
              absl::StrCat(old.name(), " is ", v1::Revision::State_Name(old.state()),
                           "; only a formerly published (SUPERSEDED) revision can be restored"));
        }
        // A rollback publishes at once with the restored revision's approvals, so it cannot
        // drop a team from the policy in force: that team must approve its removal in a review.
        ACCORD_RETURN_IF_ERROR(approval::CheckRollbackKeepsPolicy(old, *state));
        Plan<v1::Revision> plan;
        ACCORD_RETURN_IF_ERROR(GuardReferences(hub_, old, &plan.batch));
        if (current.pending_revision() > 0) {
          ACCORD_ASSIGN_OR_RETURN(v1::Revision pending,
                                  store_.GetRevision(current.name(), current.pending_revision()));
          pending.set_state(v1::Revision::WITHDRAWN);
          pending.set_sequence(0);
          plan.batch.revisions.push_back(pending);
        }
        if (current.published_revision() > 0) {
          v1::Revision previous = state->published();
          previous.set_state(v1::Revision::SUPERSEDED);
          previous.set_sequence(0);
          plan.batch.revisions.push_back(previous);
        }
        const int64_t number = current.latest_revision() + 1;
        const auto now = TimeUtil::NanosecondsToTimestamp(absl::ToUnixNanos(clock_.Now()));
        v1::Revision revision = old;
        revision.set_name(RevisionName(current.name(), number));
        revision.set_revision_number(number);
        revision.set_state(v1::Revision::PUBLISHED);
        revision.set_proposer(caller.name);
        revision.set_change_summary(absl::StrCat("rollback to revision ", old.revision_number()));
        revision.set_rollback_of(old.revision_number());
        revision.set_sequence(0);
        *revision.mutable_create_time() = now;
        *revision.mutable_publish_time() = now;
        records::DefinitionState next = *state;
        v1::Definition* d = next.mutable_definition();
        d->set_latest_revision(number);
        d->set_published_revision(number);
        d->set_pending_revision(0);
        d->set_draft_changed(ContentHash(*d) != revision.content_hash());
        d->set_sequence(0);
        *next.mutable_published() = revision;
        plan.batch.preconditions.push_back({current.name(), current.sequence()});
        plan.batch.states.push_back(next);
        plan.batch.revisions.push_back(revision);
        v1::WatchEvent event;
        event.set_type(v1::WatchEvent::UPSERT);
        event.set_definition(current.name());
        event.set_kind(current.kind());
        *event.mutable_revision() = revision;
        plan.batch.events.push_back(event);
        plan.batch.audit.push_back(
            Audit(caller, "RollbackDefinition", revision.name(), state->published().content_hash(),
                  revision.content_hash(), request.request_id(),
                  absl::StrCat("restored revision ", old.revision_number())));
        plan.response = revision;
        return plan;
      });
}

absl::StatusOr<v1::ListAuditEventsResponse> Registry::ListAuditEvents(
    const v1::ListAuditEventsRequest& request) const {
  ACCORD_ASSIGN_OR_RETURN(std::string ns, ParseParent("parent", request.parent(), true));
  ACCORD_ASSIGN_OR_RETURN(int page_size, PageSize(request.page_size()));
  ACCORD_ASSIGN_OR_RETURN(std::string token, DecodePageToken(request.page_token()));
  int64_t before = 0;
  if (!token.empty() && !absl::SimpleAtoi(token, &before)) {
    return InvalidField("page_token", "is not a token this API returned");
  }
  if (!request.resource().empty()) {
    ACCORD_RETURN_IF_ERROR(ParseDefinitionName("resource", request.resource()).status());
  }
  // Pages end at a sequence boundary so that no event of a commit is skipped.
  ACCORD_ASSIGN_OR_RETURN(
      std::vector<v1::AuditEvent> events,
      store_.ListAudit(ns == "-" ? "" : ns, request.resource(), before, page_size + 1));
  v1::ListAuditEventsResponse response;
  if (events.size() > static_cast<size_t>(page_size)) {
    int64_t last = events[page_size - 1].sequence();
    size_t keep = page_size;
    while (keep > 0 && events[keep - 1].sequence() == last && events[keep].sequence() == last) {
      --keep;
    }
    if (keep == 0) {
      keep = page_size;
    }
    events.resize(keep);
    response.set_next_page_token(EncodePageToken(absl::StrCat(events.back().sequence())));
  }
  for (auto& e : events) {
    *response.add_events() = std::move(e);
  }
  return response;
}

}  // namespace accord::registry
