#pragma once

#include <cstddef>

// The bounds of a verdict, the same where it is first checked (the scoring service, which
// re-scores it) and where it is stored (the registry, which checks again).
namespace accord::registry::feedback {

inline constexpr int kMaxVerdictsPerCall = 1000;
inline constexpr size_t kMaxVerdictIdBytes = 128;
inline constexpr size_t kMaxLeadIdBytes = 256;
inline constexpr size_t kMaxCommentBytes = 2000;

}  // namespace accord::registry::feedback
