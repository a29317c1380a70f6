#pragma once

#include <functional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

#include "accord/registry/v1/registry.pb.h"
#include "common/auth.h"
#include "common/clock.h"
#include "common/status.h"
#include "registry/storage/definition_store.h"
#include "registry/watch_hub.h"

// The registry's domain: definitions, the revision lifecycle with dual approval, references,
// optimistic concurrency (etag), idempotent retries (request_id), validate_only and the audit
// log. Reads are served from the WatchHub's view; writes go to the store and are applied to
// the view before the call returns (read-your-writes on this replica).
//
// Every method is thread-safe and blocking (store I/O): call it from an executor. Errors:
// INVALID_ARGUMENT with field violations, NOT_FOUND, ALREADY_EXISTS, FAILED_PRECONDITION
// (wrong state, with an ErrorInfo reason), ABORTED (etag mismatch), PERMISSION_DENIED (object
// rules: self-approval, approving for a team one is not an approver of), UNAVAILABLE (store).
namespace accord::registry {

struct RegistryOptions {
  absl::Duration apply_timeout = absl::Seconds(5);
};

class Registry final {
 public:
  Registry(DefinitionStore& store, WatchHub& hub, const Clock& clock, RegistryOptions options = {});

  absl::StatusOr<v1::Definition> CreateDefinition(const Principal& caller,
                                                  const v1::CreateDefinitionRequest& request);
  absl::StatusOr<v1::Definition> GetDefinition(const v1::GetDefinitionRequest& request) const;
  // GetDefinition's response, already serialized (the hot read path serves these bytes).
  absl::StatusOr<std::shared_ptr<const std::string>> GetDefinitionSerialized(
      const v1::GetDefinitionRequest& request) const;
  absl::StatusOr<v1::ListDefinitionsResponse> ListDefinitions(
      const v1::ListDefinitionsRequest& request) const;
  absl::StatusOr<v1::Definition> UpdateDefinition(const Principal& caller,
                                                  const v1::UpdateDefinitionRequest& request);
  absl::StatusOr<v1::Definition> DeleteDefinition(const Principal& caller,
                                                  const v1::DeleteDefinitionRequest& request);
  absl::StatusOr<v1::Definition> UndeleteDefinition(const Principal& caller,
                                                    const v1::UndeleteDefinitionRequest& request);
  absl::StatusOr<v1::Revision> GetRevision(const v1::GetRevisionRequest& request) const;
  absl::StatusOr<v1::ListRevisionsResponse> ListRevisions(
      const v1::ListRevisionsRequest& request) const;
  absl::StatusOr<v1::Revision> ProposeRevision(const Principal& caller,
                                               const v1::ProposeRevisionRequest& request);
  absl::StatusOr<v1::Revision> ApproveRevision(const Principal& caller,
                                               const v1::ReviewRevisionRequest& request);
  absl::StatusOr<v1::Revision> RejectRevision(const Principal& caller,
                                              const v1::ReviewRevisionRequest& request);
  absl::StatusOr<v1::Revision> PublishRevision(const Principal& caller,
                                               const v1::PublishRevisionRequest& request);
  absl::StatusOr<v1::Revision> RollbackDefinition(const Principal& caller,
                                                  const v1::RollbackDefinitionRequest& request);
  absl::StatusOr<v1::ListAuditEventsResponse> ListAuditEvents(
      const v1::ListAuditEventsRequest& request) const;
  // The semantic diff of two sides of a definition (definition_diff.h). INVALID_ARGUMENT for a
  // malformed side, NOT_FOUND for a revision that does not exist.
  absl::StatusOr<v1::DefinitionDiff> DiffDefinition(const v1::DiffDefinitionRequest& request) const;

  // Records `action` on `resource` in the audit log, apart from any definition change (a lead's
  // verdicts erased). UNAVAILABLE when the store is.
  absl::Status RecordAudit(const Principal& caller, absl::string_view action,
                           const std::string& resource, const std::string& request_id,
                           const std::string& detail);

  // "sha256:<hex>" of a definition's content (output-only fields cleared, deterministic).
  static std::string ContentHash(const v1::Definition& definition);
  // The definition's content: `definition` with every output-only field cleared.
  static v1::Definition Content(const v1::Definition& definition);

 private:
  // What a mutation writes, and its response with sequences still 0.
  template <typename Response>
  struct Plan {
    WriteBatch batch;
    Response response;
  };
  template <typename Response>
  using Planner = std::function<absl::StatusOr<Plan<Response>>()>;

  // Runs a mutation: request_id replay, planning, validate_only, commit with retries on
  // concurrent changes when the caller gave no etag, read-your-writes.
  template <typename Response>
  absl::StatusOr<Response> Mutate(const Principal& caller, absl::string_view method,
                                  const google::protobuf::Message& request,
                                  const std::string& request_id, bool validate_only,
                                  bool retry_conflicts, const Planner<Response>& plan);

  absl::StatusOr<WatchHub::StatePtr> Find(absl::string_view field, const std::string& name) const;
  v1::AuditEvent Audit(const Principal& caller, absl::string_view action,
                       const std::string& resource, const std::string& before_hash,
                       const std::string& after_hash, const std::string& request_id,
                       const std::string& detail) const;
  absl::StatusOr<v1::Revision> Review(const Principal& caller,
                                      const v1::ReviewRevisionRequest& request, bool approve);
  // OK, INVALID_ARGUMENT (every violation, ErrorInfo `reason`), or how the call ended
  // (DEADLINE_EXCEEDED, CANCELLED) if it ended while the content was checked.
  absl::Status Validate(const v1::Definition& definition, absl::string_view prefix,
                        absl::string_view reason) const;

  DefinitionStore& store_;
  WatchHub& hub_;
  const Clock& clock_;
  RegistryOptions options_;
};

}  // namespace accord::registry
