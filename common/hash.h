#pragma once

#include <string>

#include "absl/strings/string_view.h"

namespace accord {

// Lower-case hex SHA-256 of `data`. Thread-safe.
std::string Sha256Hex(absl::string_view data);

// `bytes` random bytes from the OS, hex-encoded (tokens, uids, history ids).
std::string RandomHex(size_t bytes);

// `bytes` bytes from a per-thread generator seeded from the OS, hex-encoded: for identifiers
// that must be unique but not secret (request ids, trace and span ids), at a fraction of
// RandomHex's cost. Never for credentials.
std::string UniqueHex(size_t bytes);

}  // namespace accord
