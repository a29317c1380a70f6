#include "common/trace.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"

#include "common/hash.h"

namespace accord {
namespace {

bool IsLowerHex(absl::string_view s) {
  return s.find_first_not_of("0123456789abcdef") == absl::string_view::npos;
}

bool AllZero(absl::string_view s) { return s.find_first_not_of('0') == absl::string_view::npos; }

}  // namespace

std::string TraceIdFromTraceparent(absl::string_view v) {
  // version(2) - trace-id(32) - parent-id(16) - flags(2)
  if (v.size() < 55 || v[2] != '-' || v[35] != '-' || v[52] != '-') {
    return "";
  }
  absl::string_view version = v.substr(0, 2);
  absl::string_view trace = v.substr(3, 32);
  absl::string_view span = v.substr(36, 16);
  absl::string_view flags = v.substr(53, 2);
  if (!IsLowerHex(version) || version == "ff" || !IsLowerHex(trace) || !IsLowerHex(span) ||
      !IsLowerHex(flags) || AllZero(trace) || AllZero(span) ||
      (version == "00" && v.size() != 55)) {
    return "";
  }
  return std::string(trace);
}

std::string ChildTraceparent(absl::string_view parent) {
  std::string trace = TraceIdFromTraceparent(parent);
  std::string flags = trace.empty() ? "01" : std::string(parent.substr(53, 2));
  if (trace.empty()) {
    trace = UniqueHex(16);
  }
  return absl::StrCat("00-", trace, "-", UniqueHex(8), "-", flags);
}

}  // namespace accord
