#pragma once

#include <memory>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "grpcpp/server_context.h"

#include "common/auth.h"

// Authenticates and authorizes one incoming call from its metadata.
namespace accord {

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
  std::shared_ptr<const KeyStore> keys_;
};

}  // namespace accord
