#include "common/host_port.h"

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"

namespace accord {

absl::StatusOr<HostPort> ParseHostPort(absl::string_view address) {
  const size_t colon = address.rfind(':');
  HostPort out;
  if (colon == absl::string_view::npos || !absl::SimpleAtoi(address.substr(colon + 1), &out.port) ||
      out.port < 0 || out.port > 65535) {
    return absl::InvalidArgumentError(absl::StrCat("'", address, "' is not HOST:PORT"));
  }
  absl::string_view host = address.substr(0, colon);
  const bool opens = !host.empty() && host.front() == '[';
  const bool closes = !host.empty() && host.back() == ']';
  if (opens != closes || (opens && host.size() < 3)) {
    return absl::InvalidArgumentError(absl::StrCat("'", address, "' is not HOST:PORT"));
  }
  out.host = std::string(opens ? host.substr(1, host.size() - 2) : host);
  return out;
}

absl::string_view HostPortOfTarget(absl::string_view target) {
  if (!absl::ConsumePrefix(&target, "dns:///")) {
    absl::ConsumePrefix(&target, "dns:");
  }
  return target;
}

}  // namespace accord
