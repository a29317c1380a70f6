#include "common/call_auth.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"

#include "common/status.h"

namespace accord {
namespace {

std::optional<absl::string_view> Header(const grpc::ServerContextBase& context,
                                        absl::string_view key) {
  const auto& md = context.client_metadata();
  auto it = md.find(grpc::string_ref(key.data(), key.size()));
  if (it == md.end()) {
    return std::nullopt;
  }
  return absl::string_view(it->second.data(), it->second.size());
}

}  // namespace

absl::StatusOr<Principal> CallAuthorizer::Authorize(const grpc::ServerContextBase& context,
                                                    absl::string_view method) const {
  absl::StatusOr<Principal> principal = AuthenticateBearer(
      keys_.get(), Header(context, "authorization"), Header(context, "x-accord-roles"));
  if (!principal.ok()) {
    return principal.status();
  }
  std::optional<Permission> permission = RequiredPermission(method);
  if (!permission.has_value()) {
    return ErrorWithReason(absl::StatusCode::kPermissionDenied, "METHOD_NOT_ALLOWED",
                           absl::StrCat(method, " is not in the authorization table"));
  }
  if (!Allows(*principal, *permission)) {
    return ErrorWithReason(absl::StatusCode::kPermissionDenied, "PERMISSION_DENIED",
                           absl::StrCat(principal->name, " lacks the '",
                                        PermissionName(*permission), "' permission for ", method),
                           {{"permission", std::string(PermissionName(*permission))}});
  }
  return principal;
}

}  // namespace accord
