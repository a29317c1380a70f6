#pragma once

#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "google/protobuf/message.h"
#include "re2/re2.h"

#include "gateway/catalog.h"

// google.api.http rules: matching a request's verb and path to a method, and building the
// request message from the path variables, the query string and the JSON body.
namespace accord::gateway {

struct Route {
  const MethodInfo* method = nullptr;
  HttpBinding binding;
  std::shared_ptr<RE2> regex;          // the whole path, one group per variable
  std::vector<std::string> variables;  // field paths, in group order ("definition.name")
};

class Router final {
 public:
  // INTERNAL naming the rule if one cannot be compiled (a proto error).
  static absl::StatusOr<Router> Build(const Catalog& catalog);

  struct Match {
    const Route* route = nullptr;
    std::vector<std::pair<std::string, std::string>> bindings;  // field path -> value
  };
  // The route for `verb` and `path`; nullopt with `path_known` set when another verb has it
  // (405), unset when no route has the path (404). `path` is the raw, still percent-encoded
  // path of the request target: each variable is decoded once, after matching, so "%2F" in a
  // variable is a "/" inside it and "%252F" is the text "%2F".
  std::optional<Match> Find(absl::string_view verb, absl::string_view path, bool* path_known) const;
  const std::vector<Route>& routes() const { return routes_; }

 private:
  std::vector<Route> routes_;
  int max_groups_ = 0;  // the most variables of any route
  // "VERB /path" of the routes without variables (no regular expression to run), to their
  // index in routes_.
  absl::flat_hash_map<std::string, size_t> literal_;
};

// Fills `request` from `match`: the JSON body (per the rule's `body`, unknown fields
// rejected, nesting capped), then the path variables, then the query parameters (fields not
// bound by the body or the path, `a.b=v`, repeated fields by repetition). INVALID_ARGUMENT
// with the field path of the first problem.
absl::Status BuildRequest(const Router::Match& match, absl::string_view body,
                          const std::vector<std::pair<std::string, std::string>>& query,
                          google::protobuf::Message& request);

// The request's wire bytes made straight from the JSON body, with no message built
// (json_direct.h), when the rule binds the whole body and no path variable or query parameter
// binds a field (POST ...:scoreLead and the like). False otherwise, and when the direct reader
// declines the body: BuildRequest then makes the request, with json_util's errors.
bool RequestBytesFromBody(const Router::Match& match, absl::string_view body,
                          const std::vector<std::pair<std::string, std::string>>& query,
                          std::string& bytes);

// The deepest nesting of objects and arrays in `json` (strings skipped).
int JsonDepth(absl::string_view json);
inline constexpr int kMaxJsonDepth = 32;

// `in` with %XX escapes decoded (a malformed escape is kept as it is); `plus_is_space`: '+' is
// a space too, as in a query string.
std::string PercentDecode(absl::string_view in, bool plus_is_space);

}  // namespace accord::gateway
