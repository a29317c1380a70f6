#pragma once

#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

#include "common/auth.h"

// JWT bearer tokens (RFC 7519, following RFC 8725): RS256 or ES256 with the algorithm pinned
// per key, keys selected by `kid` from PEM files in a directory that is re-read when it
// changes, exp/nbf with leeway, exact iss, aud containing ours, roles from an allow-list.
namespace accord {

struct JwtOptions {
  // Public keys, one file per key: `<kid>.rs256.pem` or `<kid>.es256.pem` (the algorithm in
  // the name is the only one that key accepts).
  std::string keys_dir;
  std::string issuer = "accord";
  std::string audience = "accord";
  absl::Duration leeway = absl::Seconds(60);
  // How often the directory is checked for added, removed or replaced key files.
  absl::Duration reload_interval = absl::Seconds(2);
};

class JwtVerifier final {
 public:
  // INVALID_ARGUMENT naming the file for a malformed or weak key (RSA < 2048 bits), NOT_FOUND
  // for a missing directory. An empty directory is allowed (keys may be mounted later).
  static absl::StatusOr<std::shared_ptr<JwtVerifier>> Create(JwtOptions options);

  // Three base64url segments: what a JWT looks like (API keys never contain dots).
  static bool LooksLikeJwt(absl::string_view token);

  // The principal named by `sub` with the roles of the `roles` claim; UNAUTHENTICATED with a
  // generic message otherwise (the specific reason is logged, not told to the caller).
  // `expires` receives the token's exp. Thread-safe.
  absl::StatusOr<Principal> Verify(absl::string_view token, absl::Time now,
                                   absl::Time* expires = nullptr) const;

  size_t key_count() const;

 private:
  struct Key {
    std::string pem;
    int alg;  // jwt_alg_t
  };
  using KeyMap = std::unordered_map<std::string, Key>;

  explicit JwtVerifier(JwtOptions options) : options_(std::move(options)) {}
  absl::Status Reload() const;
  std::shared_ptr<const KeyMap> Keys(absl::Time now) const;
  absl::StatusOr<Principal> VerifyOrExplain(absl::string_view token, absl::Time now,
                                            absl::Time* expires) const;

  JwtOptions options_;
  mutable std::mutex mu_;
  mutable std::shared_ptr<const KeyMap> keys_;
  mutable std::string fingerprint_;  // names, sizes and mtimes of the files last loaded
  mutable absl::Time last_check_ = absl::InfinitePast();
};

}  // namespace accord
