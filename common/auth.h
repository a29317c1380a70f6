#pragma once

#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

// Authentication and authorization primitives shared by the registry, scoring and the
// gateway: API keys stored as SHA-256 hashes, roles, and the one default-deny table that maps
// every RPC method to the permission it needs.
namespace accord {

enum class Role {
  kViewer,
  kMarketingEditor,
  kSalesEditor,
  kMarketingApprover,
  kSalesApprover,
  kService,
  kAdmin,
  kScorer,  // the scoring service itself: stores the verdicts it derived (and reads, watches)
};

enum class Permission {
  kRead,            // get, list, audit
  kWatch,           // watch streams
  kEdit,            // create, update, propose
  kReview,          // approve, reject (object checks: team, not the proposer)
  kPublish,         // publish an approved revision
  kManage,          // delete, undelete, rollback
  kScore,           // scoring RPCs
  kRecordVerdicts,  // sales' verdicts, through Scoring.RecordVerdicts
  kStoreVerdicts,   // Registry.StoreVerdicts: only the scoring service (role scorer)
  kErase,           // erase a lead's verdicts (GDPR): admin only
};

// "viewer", "marketing_editor", ... <-> Role.
std::optional<Role> ParseRole(absl::string_view name);
absl::string_view RoleName(Role role);
absl::string_view PermissionName(Permission permission);

struct Principal {
  std::string name;
  std::vector<Role> roles;

  bool Has(Role role) const;
  // Teams this principal may approve for ("marketing", "sales"), from its approver roles.
  std::vector<std::string> ApproverTeams() const;
};

// True when one of `principal`'s roles grants `permission`.
bool Allows(const Principal& principal, Permission permission);

// The permission a fully-qualified method ("/accord.registry.v1.Registry/GetDefinition")
// needs, or nullopt: a method missing from the table is denied.
std::optional<Permission> RequiredPermission(absl::string_view method);
// Every method of the table, for tests that check it covers the compiled descriptors.
std::vector<std::string> MethodsInTable();

// API keys loaded from a YAML file:
//   keys:
//     - principal: mia@example.com
//       roles: [marketing_editor]
//       sha256: <hex of SHA-256(token)>
// Immutable after loading; thread-safe.
class KeyStore final {
 public:
  // INVALID_ARGUMENT (with the entry index) for a malformed file, NOT_FOUND when missing.
  static absl::StatusOr<KeyStore> LoadFile(const std::string& path);
  static absl::StatusOr<KeyStore> LoadYaml(absl::string_view yaml);

  // The principal owning `token`, or UNAUTHENTICATED.
  absl::StatusOr<Principal> Authenticate(absl::string_view token) const;
  size_t size() const { return by_hash_.size(); }

 private:
  std::unordered_map<std::string, Principal> by_hash_;
};

// The principal behind an `authorization` header value ("Bearer <token>"). With no key
// store (insecure development mode) the token itself names the principal and `roles_header`
// (comma-separated role names, default "viewer") gives its roles.
absl::StatusOr<Principal> AuthenticateBearer(const KeyStore* keys,
                                             std::optional<absl::string_view> authorization,
                                             std::optional<absl::string_view> roles_header);

}  // namespace accord
