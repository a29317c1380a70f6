#pragma once

#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/string_view.h"

// HTTP/1.1 as bytes: requests decoded from what a connection reads (over Debian's
// libhttp-parser; docs/decisions.md says why), responses encoded for it to write. No sockets
// and no threads: the front end's event loop feeds it. Strict where requests could be smuggled
// past a proxy: one framing per request (Content-Length or chunked, never both, never twice),
// no obs-fold, no transfer coding but chunked.
namespace accord::frontdoor {

struct Http1Limits {
  size_t max_header_bytes = 16 * 1024;  // request line and headers
  size_t max_body_bytes = 1024 * 1024;  // the decoded body
};

struct Http1Request {
  std::string method;     // "GET", "POST", ...
  std::string target;     // as sent: path and query, still percent-encoded
  int version_minor = 1;  // HTTP/1.0 or HTTP/1.1
  std::vector<std::pair<std::string, std::string>> headers;  // names in lower case, in order
  std::string body;                                          // decoded (chunks joined)
  bool keep_alive = true;  // the connection may carry another request after this one

  // The first value of header `name` (lower case), or null.
  const std::string* Header(absl::string_view name) const;
  // How many headers named `name` came.
  size_t Count(absl::string_view name) const;
};

// A request the decoder refuses: the status to answer with, then close the connection.
struct Http1Error {
  int status;           // 400, 413, 431, 501, 505
  std::string message;  // what was wrong, for the response body
};

class Http1Decoder {
 public:
  explicit Http1Decoder(Http1Limits limits = {});
  ~Http1Decoder();
  Http1Decoder(const Http1Decoder&) = delete;
  Http1Decoder& operator=(const Http1Decoder&) = delete;

  // Decodes `bytes` (any split of the stream); each request completed is appended to `out`.
  // After an error nothing more is decoded.
  std::optional<Http1Error> Feed(absl::string_view bytes, std::vector<Http1Request>& out);
  // Between requests: no part of one has arrived.
  bool idle() const;
  // Bytes of the request under way so far (headers and body).
  size_t partial_bytes() const;
  // True once for each request whose head asked for "Expect: 100-continue" before sending a
  // body: the server answers "100 Continue" (when no earlier response is due) or the client
  // waits a second before it sends the body anyway.
  bool TakeContinue();

  struct State;  // the parser's callbacks' state

 private:
  std::unique_ptr<State> state_;
};

// A response: the status line, `headers`, Content-Length and the body. `keep_alive` false adds
// "Connection: close".
std::string EncodeResponse(int status,
                           const std::vector<std::pair<std::string, std::string>>& headers,
                           absl::string_view body, bool keep_alive);
// The head of a chunked response (Transfer-Encoding: chunked), then its chunks and its end.
std::string EncodeChunkedHead(int status,
                              const std::vector<std::pair<std::string, std::string>>& headers,
                              bool keep_alive);
std::string EncodeChunk(absl::string_view data);
std::string EncodeLastChunk();

// "OK", "Not Found", ... for a status code ("" when unknown).
absl::string_view ReasonPhrase(int status);

}  // namespace accord::frontdoor
