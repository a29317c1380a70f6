#pragma once

#include <map>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

// The review console's static files (console/, built by `make build`), served by the gateway at
// /console/ on its HTTP port, same origin as the JSON API. Loaded once at start-up and
// immutable afterwards: thread-safe to read.
namespace accord::gateway {

struct ConsoleFile {
  std::string content_type;
  std::string body;
  std::string gzip;  // the same bytes gzip-compressed, if the build made `<name>.gz`; else ""
};

class ConsoleFiles final {
 public:
  // Every regular file directly in `dir` (at most 64, each at most 8 MiB). NOT_FOUND when the
  // directory or its index.html is missing.
  static absl::StatusOr<ConsoleFiles> Load(const std::string& dir);

  // The file for a request path under /console/ ("/console/" is index.html), or null.
  const ConsoleFile* Find(absl::string_view path) const;

  // Headers every console response carries: a strict Content-Security-Policy (scripts, styles
  // and calls from this origin only, no inline script, no eval, no framing), nosniff and no
  // referrer.
  static const std::vector<std::pair<std::string, std::string>>& SecurityHeaders();

 private:
  std::map<std::string, ConsoleFile, std::less<>> files_;
};

}  // namespace accord::gateway
