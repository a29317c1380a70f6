#pragma once

#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "grpcpp/server_context.h"

#include "common/auth.h"
#include "common/jwt.h"
#include "common/tls.h"

namespace CLI {
class App;
}

// Authenticates and authorizes one incoming call from its metadata (gRPC) or headers (HTTP).
namespace accord {

// The value of metadata `key` sent by the caller of `context`, or nullopt.
std::optional<absl::string_view> ClientMetadata(const grpc::ServerContextBase& context,
                                                absl::string_view key);

// The security flags every server shares: caller credentials and transport.
struct SecurityOptions {
  std::string keys;          // API keys file (YAML, SHA-256 hashes)
  std::string jwt_keys_dir;  // JWT public keys (<kid>.rs256.pem, <kid>.es256.pem)
  std::string jwt_issuer = "accord";
  std::string jwt_audience = "accord";
  bool insecure_dev = false;
  TlsFiles tls;
  bool allow_plaintext = false;
};

// Adds --keys, --jwt_keys_dir, --jwt_issuer, --jwt_audience, --insecure_dev, --tls_cert,
// --tls_key, --tls_ca and --allow_plaintext (each with an ACCORD_* environment override).
void AddSecurityFlags(CLI::App& app, SecurityOptions& options);

// What a server authenticates callers with.
struct Authenticators {
  std::shared_ptr<const KeyStore> keys;    // may be null
  std::shared_ptr<const JwtVerifier> jwt;  // may be null
  // No keys at all: the bearer token names the caller (development on loopback only).
  bool insecure = false;
};

// Loads the key store and the JWT keys. Insecure development mode (logged loudly) only when
// neither is given, `insecure_dev` is set and `listen` is a loopback address. NOT_FOUND or
// INVALID_ARGUMENT for a bad file; FAILED_PRECONDITION when there are no keys and insecure
// mode is not allowed.
absl::StatusOr<Authenticators> LoadAuthenticators(const SecurityOptions& options,
                                                  const std::string& listen);

// The caller's headers a front end reads and forwards.
struct CallerHeaders {
  std::optional<std::string> authorization;
  std::optional<std::string> roles;  // x-accord-roles (insecure development mode only)
  std::optional<std::string> request_id;
  std::optional<std::string> traceparent;
  std::optional<std::string> tracestate;
  // More than one authorization header came: the call is refused (UNAUTHENTICATED) on every
  // front end, rather than one reading the first and another the last.
  bool repeated_authorization = false;
};

class CallAuthorizer final {
 public:
  explicit CallAuthorizer(Authenticators authenticators) : auth_(std::move(authenticators)) {}

  // The caller of `method` if the default-deny table and the caller's roles allow it;
  // UNAUTHENTICATED for missing or invalid credentials, PERMISSION_DENIED otherwise.
  // Thread-safe.
  absl::StatusOr<Principal> Authorize(const grpc::ServerContextBase& context,
                                      absl::string_view method) const;
  absl::StatusOr<Principal> Authorize(const CallerHeaders& caller, absl::string_view method) const;
  // The same from header values (the HTTP front end).
  absl::StatusOr<Principal> Authorize(std::optional<absl::string_view> authorization,
                                      std::optional<absl::string_view> roles_header,
                                      absl::string_view method) const;

  absl::StatusOr<Principal> Authenticate(std::optional<absl::string_view> authorization,
                                         std::optional<absl::string_view> roles_header) const;

  // Insecure development mode: the token names the caller, x-accord-roles its roles.
  bool insecure() const { return auth_.insecure; }

 private:
  Authenticators auth_;
  // Principals of recently seen valid credentials, so that a hot path neither hashes the
  // token nor checks a signature on every call; a JWT's entry ends at its exp. Bounded,
  // cleared when full. Invalid tokens are never cached.
  struct Cached {
    Principal principal;
    absl::Time expires;
  };
  static constexpr size_t kMaxCached = 4096;
  mutable std::mutex cache_mu_;
  mutable std::unordered_map<std::string, Cached> cache_;
};

}  // namespace accord
