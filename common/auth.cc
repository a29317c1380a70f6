#include "common/auth.h"

#include <algorithm>
#include <array>
#include <fstream>
#include <sstream>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "absl/strings/strip.h"

#include "common/hash.h"
#include "common/status.h"
#include "common/yaml.h"

namespace accord {
namespace {

struct RoleInfo {
  Role role;
  absl::string_view name;
  std::vector<Permission> permissions;
};

const std::vector<RoleInfo>& Roles() {
  using P = Permission;
  static const auto* roles = new std::vector<RoleInfo>{
      {Role::kViewer, "viewer", {P::kRead, P::kWatch}},
      {Role::kMarketingEditor,
       "marketing_editor",
       {P::kRead, P::kWatch, P::kEdit, P::kPublish, P::kScore}},
      {Role::kSalesEditor,
       "sales_editor",
       {P::kRead, P::kWatch, P::kEdit, P::kPublish, P::kScore, P::kRecordVerdicts}},
      {Role::kMarketingApprover,
       "marketing_approver",
       {P::kRead, P::kWatch, P::kReview, P::kPublish, P::kManage, P::kScore}},
      {Role::kSalesApprover,
       "sales_approver",
       {P::kRead, P::kWatch, P::kReview, P::kPublish, P::kManage, P::kScore, P::kRecordVerdicts}},
      {Role::kService, "service", {P::kRead, P::kWatch, P::kScore, P::kRecordVerdicts}},
      {Role::kAdmin,
       "admin",
       {P::kRead, P::kWatch, P::kEdit, P::kPublish, P::kManage, P::kScore, P::kRecordVerdicts,
        P::kErase}},
      {Role::kScorer, "scorer", {P::kRead, P::kWatch, P::kStoreVerdicts}},
  };
  return *roles;
}

const std::unordered_map<std::string, Permission>& MethodTable() {
  using P = Permission;
  static const auto* table = [] {
    auto* t = new std::unordered_map<std::string, Permission>;
    const std::string r = "/accord.registry.v1.Registry/";
    for (const char* m :
         {"GetDefinition", "ListDefinitions", "GetRevision", "ListRevisions", "ListAuditEvents",
          "GetCaller", "DiffDefinition", "ListVerdicts", "GetQualityReport"}) {
      (*t)[r + m] = P::kRead;
    }
    (*t)[r + "WatchDefinitions"] = P::kWatch;
    for (const char* m : {"CreateDefinition", "UpdateDefinition", "ProposeRevision"}) {
      (*t)[r + m] = P::kEdit;
    }
    for (const char* m : {"ApproveRevision", "RejectRevision"}) {
      (*t)[r + m] = P::kReview;
    }
    (*t)[r + "PublishRevision"] = P::kPublish;
    for (const char* m : {"DeleteDefinition", "UndeleteDefinition", "RollbackDefinition"}) {
      (*t)[r + m] = P::kManage;
    }
    (*t)[r + "StoreVerdicts"] = P::kStoreVerdicts;
    (*t)[r + "EraseLeadVerdicts"] = P::kErase;
    const std::string s = "/accord.scoring.v1.Scoring/";
    for (const char* m :
         {"ScoreLead", "BatchScoreLeads", "StreamScoreLeads", "MatchPersona", "EvaluateJourney",
          "CheckTransition", "EvaluateSla", "PreviewDefinition", "ReportSla", "ScoreAccount",
          "BatchScoreAccounts", "ExplainScoreChange"}) {
      (*t)[s + m] = P::kScore;
    }
    (*t)[s + "RecordVerdicts"] = P::kRecordVerdicts;
    (*t)[s + "GetShadowReport"] = P::kRead;  // a report, as GetQualityReport
    return t;
  }();
  return *table;
}

}  // namespace

std::optional<Role> ParseRole(absl::string_view name) {
  std::string lower = absl::AsciiStrToLower(absl::StripAsciiWhitespace(name));
  for (const RoleInfo& info : Roles()) {
    if (info.name == lower) {
      return info.role;
    }
  }
  return std::nullopt;
}

absl::string_view RoleName(Role role) {
  for (const RoleInfo& info : Roles()) {
    if (info.role == role) {
      return info.name;
    }
  }
  return "unknown";
}

absl::string_view PermissionName(Permission permission) {
  switch (permission) {
    case Permission::kRead:
      return "read";
    case Permission::kWatch:
      return "watch";
    case Permission::kEdit:
      return "edit";
    case Permission::kReview:
      return "review";
    case Permission::kPublish:
      return "publish";
    case Permission::kManage:
      return "manage";
    case Permission::kScore:
      return "score";
    case Permission::kRecordVerdicts:
      return "record_verdicts";
    case Permission::kStoreVerdicts:
      return "store_verdicts";
    case Permission::kErase:
      return "erase";
  }
  return "unknown";
}

bool Principal::Has(Role role) const {
  return std::find(roles.begin(), roles.end(), role) != roles.end();
}

std::vector<std::string> Principal::ApproverTeams() const {
  std::vector<std::string> teams;
  if (Has(Role::kMarketingApprover)) {
    teams.push_back("marketing");
  }
  if (Has(Role::kSalesApprover)) {
    teams.push_back("sales");
  }
  return teams;
}

bool Allows(const Principal& principal, Permission permission) {
  for (const RoleInfo& info : Roles()) {
    if (principal.Has(info.role) && std::find(info.permissions.begin(), info.permissions.end(),
                                              permission) != info.permissions.end()) {
      return true;
    }
  }
  return false;
}

std::optional<Permission> RequiredPermission(absl::string_view method) {
  auto it = MethodTable().find(std::string(method));
  if (it == MethodTable().end()) {
    return std::nullopt;
  }
  return it->second;
}

std::vector<std::string> MethodsInTable() {
  std::vector<std::string> out;
  for (const auto& [method, permission] : MethodTable()) {
    out.push_back(method);
  }
  std::sort(out.begin(), out.end());
  return out;
}

absl::StatusOr<KeyStore> KeyStore::LoadFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) {
    return absl::NotFoundError(absl::StrCat("keys file ", path, " cannot be read"));
  }
  std::stringstream buffer;
  buffer << in.rdbuf();
  return LoadYaml(buffer.str());
}

absl::StatusOr<KeyStore> KeyStore::LoadYaml(absl::string_view yaml) {
  KeyStore store;
  absl::StatusOr<std::vector<YamlNode>> docs = ParseYaml(yaml, "keys");
  if (!docs.ok()) {
    return InvalidField("keys", std::string(docs.status().message()));
  }
  const YamlNode* keys = docs->size() == 1 ? docs->front().Find("keys") : nullptr;
  if (keys == nullptr || !keys->IsSequence()) {
    return InvalidField("keys", "the file must hold a `keys:` list");
  }
  std::vector<FieldViolation> violations;
  for (size_t index = 0; index < keys->items().size(); ++index) {
    const YamlNode& entry = keys->items()[index];
    const std::string path = absl::StrCat("keys[", index, "]");
    const YamlNode* name = entry.Find("principal");
    const YamlNode* sha256 = entry.Find("sha256");
    const YamlNode* roles = entry.Find("roles");
    if (!entry.IsMap() || name == nullptr || sha256 == nullptr || roles == nullptr ||
        !roles->IsSequence()) {
      violations.push_back({path, "needs principal, roles (a list) and sha256"});
      continue;
    }
    if (!name->IsScalar() || !sha256->IsScalar()) {
      violations.push_back({path, "principal, roles and sha256 must be strings"});
      continue;
    }
    Principal principal;
    principal.name = name->scalar();
    std::string hash = absl::AsciiStrToLower(sha256->scalar());
    if (hash.size() != 64 || hash.find_first_not_of("0123456789abcdef") != std::string::npos) {
      violations.push_back({path + ".sha256", "must be 64 hex digits"});
      continue;
    }
    for (const YamlNode& role : roles->items()) {
      std::optional<Role> parsed = role.IsScalar() ? ParseRole(role.scalar()) : std::nullopt;
      if (!parsed) {
        violations.push_back({path + ".roles", absl::StrCat("unknown role '", role.scalar(), "'")});
        continue;
      }
      principal.roles.push_back(*parsed);
    }
    if (!store.by_hash_.emplace(hash, std::move(principal)).second) {
      violations.push_back({path + ".sha256", "the same key is listed twice"});
    }
  }
  if (!violations.empty()) {
    return InvalidArgument(std::move(violations));
  }
  return store;
}

absl::StatusOr<Principal> KeyStore::Authenticate(absl::string_view token) const {
  auto it = by_hash_.find(Sha256Hex(token));
  if (it == by_hash_.end()) {
    return ErrorWithReason(absl::StatusCode::kUnauthenticated, "INVALID_CREDENTIALS",
                           "the API key is not known");
  }
  return it->second;
}

absl::StatusOr<Principal> AuthenticateBearer(const KeyStore* keys,
                                             std::optional<absl::string_view> authorization,
                                             std::optional<absl::string_view> roles_header) {
  if (!authorization.has_value() || authorization->empty()) {
    return ErrorWithReason(absl::StatusCode::kUnauthenticated, "MISSING_CREDENTIALS",
                           "an `authorization: Bearer <token>` header is required");
  }
  absl::string_view value = absl::StripAsciiWhitespace(*authorization);
  if (!absl::ConsumePrefix(&value, "Bearer ") && !absl::ConsumePrefix(&value, "bearer ")) {
    return ErrorWithReason(absl::StatusCode::kUnauthenticated, "INVALID_CREDENTIALS",
                           "the authorization header must be `Bearer <token>`");
  }
  value = absl::StripAsciiWhitespace(value);
  if (value.empty()) {
    return ErrorWithReason(absl::StatusCode::kUnauthenticated, "INVALID_CREDENTIALS",
                           "the bearer token is empty");
  }
  if (keys != nullptr) {
    return keys->Authenticate(value);
  }
  Principal principal;
  principal.name = std::string(value);
  absl::string_view roles = roles_header.value_or("viewer");
  for (absl::string_view name : absl::StrSplit(roles, ',', absl::SkipWhitespace())) {
    std::optional<Role> role = ParseRole(name);
    if (!role) {
      return ErrorWithReason(absl::StatusCode::kUnauthenticated, "INVALID_CREDENTIALS",
                             absl::StrCat("unknown role '", name, "' in x-accord-roles"));
    }
    principal.roles.push_back(*role);
  }
  return principal;
}

}  // namespace accord
