#pragma once

#include <string>

#include "absl/status/statusor.h"

#include "accord/scoring/storage/v1/cache.pb.h"

// The last good definition set on local disk: a header (magic, length, SHA-256 of the payload)
// and the serialized cache. Written to a temporary file, fsynced, renamed over the old one and
// the directory fsynced, so a crash leaves either the old or the new file, never a mix.
namespace accord::scoring {

// UNAVAILABLE when the file cannot be written.
absl::Status WriteCacheFile(const std::string& path, const storage::v1::DefinitionCache& cache);

// NOT_FOUND when there is no file; DATA_LOSS when it is truncated, corrupt or not a cache.
absl::StatusOr<storage::v1::DefinitionCache> ReadCacheFile(const std::string& path);

}  // namespace accord::scoring
