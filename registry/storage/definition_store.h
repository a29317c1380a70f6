#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

#include "accord/registry/storage/v1/records.pb.h"
#include "accord/registry/v1/registry.pb.h"

// The registry's storage: definitions, revisions, the change log, the audit log and request
// records, written in atomic commits that each take the next value of one global sequence.
namespace accord::registry {

namespace v1 = ::accord::registry::v1;
namespace records = ::accord::registry::storage::v1;

// A commit succeeds only if `definition`'s stored sequence equals `expected_sequence`
// (0 = the definition must not exist). A `reference` precondition guards a definition the
// batch does not write but relies on (one that a published revision refers to): its failure
// has its own reason, so the writer plans again instead of reporting a stale etag.
struct Precondition {
  std::string definition;
  int64_t expected_sequence = 0;
  bool reference = false;
};

// Everything one mutation writes. Any int64 field named `sequence` that is 0 in these messages
// is set to the commit's sequence before they are stored.
struct WriteBatch {
  std::vector<Precondition> preconditions;
  std::vector<records::DefinitionState> states;  // upserted, with their published revision
  std::vector<v1::Revision> revisions;           // upserted by (definition, number)
  std::vector<v1::WatchEvent> events;
  std::vector<v1::AuditEvent> audit;
  std::optional<records::RequestRecord> request;  // must not exist yet
  // When set, the commit succeeds only if nothing was committed after this sequence: for a
  // mutation whose check covers every definition (a delete checks that no published definition
  // refers to its target), so no commit can slip between that check and this one.
  std::optional<int64_t> expected_store_sequence;
};

struct StoreSnapshot {
  std::vector<records::DefinitionState> states;
  int64_t sequence = 0;
};

struct ChangePage {
  std::vector<records::ChangeRecord> records;
  int64_t compacted_sequence = 0;  // changes after this one are still kept
};

// Implementations are thread-safe. Every method returns UNAVAILABLE when the database cannot
// be reached, and INTERNAL for corrupt rows.
class DefinitionStore {
 public:
  virtual ~DefinitionStore() = default;

  // Applies `batch` atomically: ABORTED (ErrorInfo reason ETAG_MISMATCH) when a precondition
  // fails (REFERENCE_CHANGED for a `reference` one, STORE_CHANGED when the store moved past
  // `expected_store_sequence`), ALREADY_EXISTS (reason REQUEST_EXISTS) when batch.request's key
  // is already stored. Preconditions are read under the lock that orders commits, so two
  // commits whose checks cover each other's writes never both succeed.
  // Returns the commit's sequence: greater than every earlier one, assigned in commit order.
  virtual absl::StatusOr<int64_t> Commit(WriteBatch batch) = 0;

  // Every definition's current state and the sequence the read reflects.
  virtual absl::StatusOr<StoreSnapshot> LoadAll() = 0;

  // Up to `limit` change records with sequence > `after`, in order. OUT_OF_RANGE (reason
  // SEQUENCE_COMPACTED) when changes after `after` were compacted away.
  virtual absl::StatusOr<ChangePage> ReadChanges(int64_t after, int limit) = 0;

  virtual absl::StatusOr<int64_t> CurrentSequence() = 0;

  // NOT_FOUND when the revision does not exist.
  virtual absl::StatusOr<v1::Revision> GetRevision(const std::string& definition,
                                                   int64_t number) = 0;
  // Revisions numbered below `before_number` (0 = no bound), newest first.
  virtual absl::StatusOr<std::vector<v1::Revision>> ListRevisions(const std::string& definition,
                                                                  int64_t before_number,
                                                                  int limit) = 0;
  // Audit events, newest first, with sequence < `before_sequence` (0 = no bound), of
  // `namespace_id` ("" = all) and, if not empty, of `resource` or its revisions.
  virtual absl::StatusOr<std::vector<v1::AuditEvent>> ListAudit(const std::string& namespace_id,
                                                                const std::string& resource,
                                                                int64_t before_sequence,
                                                                int limit) = 0;

  virtual absl::StatusOr<std::optional<records::RequestRecord>> FindRequest(
      const std::string& key) = 0;

  // Drops the oldest change records so that at most `keep` remain.
  virtual absl::Status CompactChanges(int64_t keep) = 0;

  // Identifies this store's sequence space; changes when a store is created anew.
  virtual std::string history_id() const = 0;

  // Calls `wake` (from any thread) when another process may have committed: a hint only, the
  // change log stays the truth. Stores shared by several replicas implement it. An empty
  // function stops the calls (before what `wake` uses goes away).
  virtual void SetChangeListener(std::function<void()> wake) { (void)wake; }
};

// The namespace id of a resource name ("namespaces/{ns}/definitions/..." -> "{ns}"), or ""
// for a malformed name (NamespaceOfName, the one parser of it).
std::string NamespaceOfResource(const std::string& name);

// Commit's verdict on `batch`'s preconditions, for every store alike: `stored` holds each
// precondition's stored sequence (0 = absent), in order; `store_sequence` is the sequence of
// the last commit before this one. Both must be read under the lock that orders commits.
absl::Status CheckPreconditions(const WriteBatch& batch, const std::vector<int64_t>& stored,
                                int64_t store_sequence);

// Sets every int64 field named `sequence` that is 0, in `message` and the messages it holds,
// to `sequence`. Used by stores on commit and by the registry on responses.
void AssignSequence(google::protobuf::Message* message, int64_t sequence);

}  // namespace accord::registry
