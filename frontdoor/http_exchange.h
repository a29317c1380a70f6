#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/string_view.h"

#include "frontdoor/http1_codec.h"

// The handler side of an HTTP server, whatever the protocol: a request (Http1Request, as the
// HTTP/1.1 decoder makes it and the HTTP/2 front end gathers it) handed to an HttpHandler, and
// its answer written through an HttpExchange. Http1Server (http1_server.h) and H2Relay
// (h2_relay.h, ServeHttp) both call handlers through it.
namespace accord::frontdoor {

using HttpHeaders = std::vector<std::pair<std::string, std::string>>;

// The response side of one request: thread-safe, answered once (Respond, or BeginStream then
// Write... then End). What comes after the exchange is over is dropped.
class HttpExchange {
 public:
  virtual ~HttpExchange() = default;
  // The whole response (Content-Length is added).
  virtual void Respond(int status, HttpHeaders headers, std::string body) = 0;
  // A response sent as it is made: the head now (chunked), then each Write a chunk.
  virtual void BeginStream(int status, HttpHeaders headers) = 0;
  // False once the exchange is over: the client left, or it left more than
  // Http1ServerOptions::max_stream_backlog unread (then its connection is closed).
  virtual bool Write(std::string chunk) = 0;
  virtual void End() = 0;
  // `cancel` runs once, on the connection's loop, if the exchange ends before its response
  // does (the client left, a timeout, a shutdown); at once if it already has.
  virtual void OnCancel(std::function<void()> cancel) = 0;
};

// What both servers' exchanges keep (Http1Server's, and H2Relay's for HTTP over HTTP/2): each
// call taken once and only when the interface allows it, Write refused once the client is
// gone, and the handler's cancel run once. A subclass carries the calls out on its loop, in
// the order they were made. Thread-safe.
class ExchangeBase : public HttpExchange {
 public:
  void Respond(int status, HttpHeaders headers, std::string body) final;
  void BeginStream(int status, HttpHeaders headers) final;
  bool Write(std::string chunk) final;
  void End() final;
  void OnCancel(std::function<void()> cancel) final;

  // The handler is told to stop (OnCancel's cancel runs, once), and ends its response itself.
  void Interrupt();
  bool streaming() const { return began_.load(); }

 protected:
  // Nothing more reaches the client: Write returns false from now on.
  void SetOver() { over_ = true; }
  // What each call does (its checks passed): on the connection's loop, in order.
  virtual void SendResponse(int status, HttpHeaders headers, std::string body) = 0;
  virtual void SendHead(int status, HttpHeaders headers) = 0;
  virtual void SendChunk(std::string chunk) = 0;
  virtual void SendEnd() = 0;
  // Runs a cancel registered after the exchange was interrupted.
  virtual void RunCancel(std::function<void()> cancel) = 0;

 private:
  std::atomic<bool> finished_{false};  // Respond or End was called
  std::atomic<bool> began_{false};     // BeginStream was called
  std::atomic<bool> over_{false};
  std::mutex mu_;
  bool interrupted_ = false;  // guarded by mu_
  std::function<void()> cancel_;
};

class HttpHandler {
 public:
  virtual ~HttpHandler() = default;
  // One request, on a loop's thread: must not block. The response goes to `exchange`, now or
  // from another thread later.
  virtual void Handle(Http1Request request, std::shared_ptr<HttpExchange> exchange) = 0;
  // The response to a request the server refuses itself (malformed, too large, too slow):
  // fills `headers` and `body` for `status` and `message`. Plain text unless overridden.
  virtual void Refused(int status, absl::string_view message, HttpHeaders& headers,
                       std::string& body);
  // Counts a connection or request refused by the server's limits, by reason.
  virtual void CountRejected(absl::string_view /*reason*/) {}
};

}  // namespace accord::frontdoor
