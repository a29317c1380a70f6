#pragma once

#include <string>

#include "absl/strings/string_view.h"

// W3C trace context (opentelemetry-cpp is not packaged in Debian): parsing and creating
// `traceparent` values so that logs carry trace ids and the gateway can propagate them.
namespace accord {

// The 32-hex trace id of a valid "00-<trace>-<span>-<flags>" value, or "" if invalid.
std::string TraceIdFromTraceparent(absl::string_view traceparent);

// A new traceparent for a child span of `parent` (same trace id, new span id), or a new
// trace when `parent` is empty or invalid.
std::string ChildTraceparent(absl::string_view parent);

}  // namespace accord
