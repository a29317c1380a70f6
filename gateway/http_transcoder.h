#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"

#include "gateway/console_files.h"
#include "gateway/gate.h"
#include "gateway/http_rules.h"

// HTTP/JSON transcoding, apart from any HTTP server (as Envoy keeps it in a filter of its own):
// a request's method, target, headers and JSON body in; the route's gRPC method called through
// the gate; a JSON response (or a stream of JSON lines) out, with google.rpc.Status bodies for
// errors. The console's files and /openapi.json are served here too. Thread-safe.
namespace accord::gateway {

struct HttpRequest {
  std::string method;  // GET, POST, ...
  std::string target;  // the path and query as sent (still percent-encoded)
  std::string path;    // the path, decoded
  std::vector<std::pair<std::string, std::string>> query;  // decoded parameters, in order
  std::string body;
  std::string content_type;
  bool accepts_gzip = false;
  CallerHeaders caller;  // authorization, roles, request id, trace context as sent
};

// A server-streaming call's response: one JSON object per line, {"result": ...} for each
// message and {"error": status} when the call fails. One message is held at a time, so a slow
// reader slows the backend stream down. Destroying it cancels the call and waits for its end.
class HttpStream {
 public:
  virtual ~HttpStream() = default;
  enum class Step { kLine, kWaiting, kDone };
  // The next line (kLine), nothing within `timeout` (kWaiting), or the end (kDone; `line` then
  // holds the error line, if any).
  virtual Step Next(std::chrono::milliseconds timeout, std::string* line) = 0;
};

struct HttpResponse {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
  std::unique_ptr<HttpStream> stream;  // set for a server-streaming method; then body is empty
};

class HttpTranscoder final {
 public:
  // `console`: the review console's files served at /console/ (null: none).
  HttpTranscoder(Gate& gate, const Router& router, const ConsoleFiles* console);

  // Routes, admits, transcodes and calls. Blocks for a unary call's response.
  HttpResponse Handle(const HttpRequest& request);

 private:
  Gate& gate_;
  const Router& router_;
  const ConsoleFiles* console_;
  std::string openapi_;
};

// The HTTP status for a gRPC code (google/rpc/code.proto's mapping).
int HttpStatusFor(absl::StatusCode code);

// `status` as a google.rpc.Status JSON object.
std::string StatusJson(const absl::Status& status);

}  // namespace accord::gateway
