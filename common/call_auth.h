#pragma once

#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "grpcpp/server_context.h"

#include "common/auth.h"

// Authenticates and authorizes one incoming call from its metadata.
namespace accord {

// The key store a server authenticates callers with: loaded from `path`, or null (insecure
// development mode, logged loudly) when `path` is empty and `insecure_dev` is set on a
// loopback `listen` address. NOT_FOUND or INVALID_ARGUMENT for a bad file; FAILED_PRECONDITION
// when there is no file and insecure mode is not allowed.
absl::StatusOr<std::shared_ptr<const KeyStore>> LoadServerKeys(const std::string& path,
                                                               bool insecure_dev,
                                                               const std::string& listen);

class CallAuthorizer final {
 public:
  // `keys` may be null: insecure development mode (see AuthenticateBearer).
  explicit CallAuthorizer(std::shared_ptr<const KeyStore> keys) : keys_(std::move(keys)) {}

  // The caller of `method` if the default-deny table and the caller's roles allow it;
  // UNAUTHENTICATED for missing or unknown credentials, PERMISSION_DENIED otherwise.
  // Thread-safe.
  absl::StatusOr<Principal> Authorize(const grpc::ServerContextBase& context,
                                      absl::string_view method) const;

 private:
  absl::StatusOr<Principal> Authenticate(const grpc::ServerContextBase& context) const;

  std::shared_ptr<const KeyStore> keys_;
  // Principals of recently seen valid API keys, so that a hot path does not hash the token on
  // every call. Bounded; cleared when full. Invalid tokens are never cached.
  static constexpr size_t kMaxCached = 4096;
  mutable std::mutex cache_mu_;
  mutable std::unordered_map<std::string, Principal> cache_;
};

}  // namespace accord
