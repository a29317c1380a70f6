#include "common/call_auth.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"

#include "common/log.h"
#include "common/server.h"
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

absl::StatusOr<std::shared_ptr<const KeyStore>> LoadServerKeys(const std::string& path,
                                                               bool insecure_dev,
                                                               const std::string& listen) {
  if (!path.empty()) {
    absl::StatusOr<KeyStore> loaded = KeyStore::LoadFile(path);
    if (!loaded.ok()) {
      return loaded.status();
    }
    return std::make_shared<const KeyStore>(*std::move(loaded));
  }
  if (!insecure_dev || !IsLoopback(listen)) {
    return absl::FailedPreconditionError(
        "no --keys file: refusing to start (use --insecure_dev on a loopback --listen for "
        "development only)");
  }
  Log(LogLevel::kWarning,
      "INSECURE DEVELOPMENT MODE: no API keys; the bearer token names the caller and "
      "x-accord-roles gives its roles. Never use this outside a developer machine.");
  return std::shared_ptr<const KeyStore>();
}

absl::StatusOr<Principal> CallAuthorizer::Authenticate(
    const grpc::ServerContextBase& context) const {
  std::optional<absl::string_view> authorization = Header(context, "authorization");
  if (keys_ == nullptr || !authorization.has_value()) {
    return AuthenticateBearer(keys_.get(), authorization, Header(context, "x-accord-roles"));
  }
  std::string key(*authorization);
  {
    std::lock_guard lock(cache_mu_);
    auto it = cache_.find(key);
    if (it != cache_.end()) {
      return it->second;
    }
  }
  absl::StatusOr<Principal> principal = AuthenticateBearer(keys_.get(), authorization, {});
  if (principal.ok()) {
    std::lock_guard lock(cache_mu_);
    if (cache_.size() >= kMaxCached) {
      cache_.clear();
    }
    cache_.emplace(std::move(key), *principal);
  }
  return principal;
}

absl::StatusOr<Principal> CallAuthorizer::Authorize(const grpc::ServerContextBase& context,
                                                    absl::string_view method) const {
  absl::StatusOr<Principal> principal = Authenticate(context);
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
