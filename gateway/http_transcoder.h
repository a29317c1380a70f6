#pragma once

#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"

#include "frontdoor/http1_server.h"
#include "gateway/console_files.h"
#include "gateway/gate.h"
#include "gateway/http_rules.h"

// HTTP/JSON transcoding, apart from any HTTP server (as Envoy keeps it in a filter of its own):
// a request's method, target, headers and JSON body in; the route's gRPC method called through
// the gate; a JSON response (or a stream of JSON lines) out, with google.rpc.Status bodies for
// errors. The console's files and /openapi.json are served here too. Every response carries
// X-Content-Type-Options: nosniff and Cache-Control: no-store. Thread-safe.
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

// A response, or a stream's head.
struct HttpResponse {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
  bool stream = false;  // the head of a stream: its lines follow (body unused)
};

class HttpTranscoder final {
 public:
  // Unary methods are called through `relay` (the gRPC port's front end, whose backends are the
  // registry and scoring, in that order), streams through the gate's gRPC stubs. `console`:
  // the review console's files served at /console/ (null: none).
  HttpTranscoder(Gate& gate, H2Relay& relay, const Router& router, const ConsoleFiles* console);

  // Routes, admits, transcodes and calls; the response goes to `exchange` when the backend's
  // comes (on a gRPC thread), or at once. Never blocks. A server-streaming method's response is
  // one JSON object per line (application/x-ndjson): {"result": ...} for each message and
  // {"error": status} when the call fails; it ends when the exchange is cancelled (the client
  // left) or the backend ends it.
  void Handle(const HttpRequest& request, std::shared_ptr<frontdoor::HttpExchange> exchange);

 private:
  Gate& gate_;
  H2Relay& relay_;
  const Router& router_;
  const ConsoleFiles* console_;
  std::string openapi_;
};

// The HTTP status for a gRPC code (google/rpc/code.proto's mapping).
int HttpStatusFor(absl::StatusCode code);

// `status` as a google.rpc.Status JSON object.
std::string StatusJson(const absl::Status& status);

// Sends `response` to `exchange` with the headers every response carries.
void Send(frontdoor::HttpExchange& exchange, HttpResponse response);

}  // namespace accord::gateway
