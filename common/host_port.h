#pragma once

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

// "HOST:PORT" addresses, parsed in one place for every flag and backend address.
namespace accord {

struct HostPort {
  std::string host;  // without the brackets of an IPv6 literal; may be empty (":7400")
  int port = 0;      // 0-65535; 0 asks for any free port when binding
};

// "host:7400", "127.0.0.1:0", "[::1]:7400". INVALID_ARGUMENT for anything else: no colon, a
// port that is not a number in 0-65535, or an unclosed bracket.
absl::StatusOr<HostPort> ParseHostPort(absl::string_view address);

// The HOST:PORT a gRPC target names: "dns:///registry:7401" and "dns:registry:7401" name
// "registry:7401"; anything else is returned as it is.
absl::string_view HostPortOfTarget(absl::string_view target);

}  // namespace accord
