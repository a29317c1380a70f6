#include <algorithm>
#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"

#include "frontdoor/h2_relay.h"
#include "frontdoor/h2_relay_loop.h"
#include "frontdoor/http_exchange.h"
#include <nghttp2/nghttp2.h>

// HTTP requests that are not gRPC on the relay's connections (H2Relay::ServeHttp): gathered
// whole, handed to an HttpHandler as the HTTP/1.1 server hands them, and answered as HTTP/2
// HEADERS and DATA (a streamed response: DATA frames as it is written). The body counts in the
// process's buffer budget; a request whose body stops arriving is answered 408; a response its
// client does not read is reset (stall_timeout, max_push_backlog), as gRPC calls are.
namespace accord {
namespace h2relay {

// The response side of one HTTP request on a stream (frontdoor::ExchangeBase keeps the rules):
// what is written reaches the stream's loop as a job posted there; the job finds the stream
// through `stream_`, which only the loop's thread touches and clears when the stream is over.
class H2Exchange final : public frontdoor::ExchangeBase,
                         public std::enable_shared_from_this<H2Exchange> {
 public:
  H2Exchange(std::shared_ptr<H2Relay::Loop::PushInbox> inbox, Stream* stream)
      : inbox_(std::move(inbox)), stream_(stream) {}

  // On the loop: the response went out whole; the exchange lets go of its stream.
  void Complete() {
    stream_ = nullptr;
    SetOver();
  }
  // On the loop: the stream is over before its response (the client reset it, a timeout, the
  // connection went): the handler is told to stop.
  void Detach() {
    Complete();
    Interrupt();
  }

 private:
  void SendResponse(int status, frontdoor::HttpHeaders headers, std::string body) override {
    Post([status, headers = std::move(headers), body = std::move(body)](H2Relay::Loop& loop,
                                                                        Stream* s) mutable {
      loop.HttpHead(s, status, std::move(headers), std::move(body), true);
    });
  }
  void SendHead(int status, frontdoor::HttpHeaders headers) override {
    Post([status, headers = std::move(headers)](H2Relay::Loop& loop, Stream* s) mutable {
      loop.HttpHead(s, status, std::move(headers), {}, false);
    });
  }
  void SendChunk(std::string chunk) override {
    Post([chunk = std::move(chunk)](H2Relay::Loop& loop, Stream* s) mutable {
      loop.HttpChunk(s, std::move(chunk));
    });
  }
  void SendEnd() override {
    Post([](H2Relay::Loop& loop, Stream* s) { loop.HttpEnd(s); });
  }
  void RunCancel(std::function<void()> cancel) override { cancel(); }
  // Runs `job` on the stream's loop while the stream lasts (from the loop's own thread: at the
  // end of its turn, without a wake-up); nothing once the relay is gone.
  template <typename Job>
  void Post(Job job) {
    std::lock_guard lock(inbox_->mu);
    H2Relay::Loop* loop = inbox_->loop;
    if (loop == nullptr) {
      return;
    }
    loop->events().Post([self = shared_from_this(), loop, job = std::move(job)]() mutable {
      if (self->stream_ != nullptr) {
        job(*loop, self->stream_);
      }
    });
  }

  const std::shared_ptr<H2Relay::Loop::PushInbox> inbox_;
  Stream* stream_;  // on the loop's thread only; null once over
};

namespace {

// Headers of HTTP/1.1's connection management, which HTTP/2 forbids (RFC 9113 8.2.2).
bool ConnectionSpecific(absl::string_view name) {
  return name == "connection" || name == "keep-alive" || name == "proxy-connection" ||
         name == "transfer-encoding" || name == "upgrade";
}

}  // namespace
}  // namespace h2relay

using h2relay::Header;
using h2relay::kSmallRequest;
using h2relay::NameValues;
using h2relay::ReadResponseCallback;
using h2relay::Stream;

void H2Relay::Loop::BeginHttp(Stream* s) {
  auto request = std::make_unique<frontdoor::Http1Request>();
  std::string authority;
  bool host = false;
  for (auto& [name, value] : s->headers) {
    if (name == ":method") {
      request->method = std::move(value);
    } else if (name == ":path") {
      request->target = std::move(value);
    } else if (name == ":authority") {
      authority = std::move(value);
    } else if (name.empty() || name[0] != ':') {
      host = host || name == "host";
      request->headers.emplace_back(std::move(name), std::move(value));
    }
  }
  if (!host && !authority.empty()) {
    request->headers.emplace(request->headers.begin(), "host", std::move(authority));
  }
  s->headers.clear();
  s->http = true;
  s->http_head_only = request->method == "HEAD";
  s->started = now_;
  s->http_request = std::move(request);
  if (s->header_bytes > options_.max_header_bytes) {
    RefuseHttp(s, 431,
               absl::StrCat("request headers of ", s->header_bytes, " bytes exceed the limit of ",
                            options_.max_header_bytes));
    return;
  }
  if (s->request.eof) {
    DispatchHttp(s);
  }
}

void H2Relay::Loop::OnHttpData(Stream* s, const uint8_t* data, size_t size) {
  if (size == 0) {
    s->request.eof = true;
    if (s->http_request != nullptr) {
      DispatchHttp(s);
    }
    return;
  }
  // The body is bounded (max_body_bytes, the process's budget): its window is credited as it
  // comes.
  ClientConn* client = s->client;
  s->request_progress = client->request_progress = now_;
  nghttp2_session_consume(client->session(), s->client_id, size);
  MarkDirty(client);
  if (s->http_request == nullptr) {
    return;  // answered already (refused): the rest is dropped
  }
  std::string& body = s->request.data;
  const size_t limit = http_->max_body_bytes.load(std::memory_order_relaxed);
  if (body.size() + size > limit) {
    RefuseHttp(s, 413, absl::StrCat("the request body exceeds the limit of ", limit, " bytes"));
    return;
  }
  if (body.size() + size > kSmallRequest && !s->reserved.Reserve(*budget_, body.size() + size)) {
    RefuseHttp(s, 503, "the server holds too many request bodies; try again");
    return;
  }
  body.append(reinterpret_cast<const char*>(data), size);
}

void H2Relay::Loop::DispatchHttp(Stream* s) {
  frontdoor::HttpHandler* handler = http_->handler.load(std::memory_order_acquire);
  if (handler == nullptr) {
    RefuseHttp(s, 503, "the server is not serving HTTP requests now");
    return;
  }
  frontdoor::Http1Request request = std::move(*s->http_request);
  s->http_request.reset();
  request.body = std::move(s->request.data);
  s->request = Pipe();
  s->request.eof = true;
  s->reserved.Release();  // the handler holds the body now, as it does an HTTP/1.1 one
  s->exchange = std::make_shared<h2relay::H2Exchange>(push_inbox_, s);
  handler->Handle(std::move(request), s->exchange);
}

void H2Relay::Loop::RefuseHttp(Stream* s, int status, absl::string_view message) {
  frontdoor::HttpHeaders headers;
  std::string body;
  if (frontdoor::HttpHandler* handler = http_->handler.load(std::memory_order_acquire);
      handler != nullptr) {
    handler->Refused(status, message, headers, body);
  } else {
    headers.emplace_back("content-type", "text/plain; charset=utf-8");
    body = absl::StrCat(message, "\n");
  }
  s->http_request.reset();
  s->reserved.Release();
  release_.Freed(s->request.data.capacity());
  s->request = Pipe();
  HttpHead(s, status, std::move(headers), std::move(body), true);
}

void H2Relay::Loop::HttpHead(Stream* s, int status, frontdoor::HttpHeaders headers,
                             std::string body, bool end) {
  if (!s->client_open || s->responded) {
    return;
  }
  std::vector<Header> fields;
  fields.reserve(headers.size() + 2);
  fields.emplace_back(":status", absl::StrCat(status));
  for (auto& [name, value] : headers) {
    std::string lower = absl::AsciiStrToLower(name);
    if (!h2relay::ConnectionSpecific(lower) && lower != "content-length") {
      fields.emplace_back(std::move(lower), std::move(value));
    }
  }
  if (end && status != 204 && status != 304) {
    fields.emplace_back("content-length", absl::StrCat(body.size()));
  }
  if (s->http_head_only) {
    body.clear();
  }
  std::vector<nghttp2_nv> nv = NameValues(fields);
  s->responded = true;
  s->response_progress = now_;
  if (end && body.empty()) {
    s->response.eof = true;
    nghttp2_submit_response(s->client->session(), s->client_id, nv.data(), nv.size(), nullptr);
  } else {
    s->response.data = std::move(body);
    s->response.offset = 0;
    s->response.eof = end;
    nghttp2_data_provider provider{};
    provider.source.ptr = s;
    provider.read_callback = &ReadResponseCallback;
    nghttp2_submit_response(s->client->session(), s->client_id, nv.data(), nv.size(), &provider);
  }
  MarkDirty(s->client);
}

void H2Relay::Loop::HttpChunk(Stream* s, std::string chunk) {
  if (!s->client_open || !s->responded || s->response.eof || s->reset || s->http_head_only) {
    return;
  }
  if (s->response.size() + chunk.size() > options_.max_push_backlog) {
    // The client reads too slowly to keep up: the stream is reset, the handler told.
    s->reset = true;
    nghttp2_submit_rst_stream(s->client->session(), NGHTTP2_FLAG_NONE, s->client_id,
                              NGHTTP2_CANCEL);
    MarkDirty(s->client);
    if (s->exchange != nullptr) {
      s->exchange->Detach();
    }
    return;
  }
  if (s->response.size() == 0) {
    s->response.data.swap(chunk);
    s->response.offset = 0;
  } else {
    s->response.data.append(chunk);
  }
  nghttp2_session_resume_data(s->client->session(), s->client_id);
  MarkDirty(s->client);
}

void H2Relay::Loop::HttpEnd(Stream* s) {
  if (!s->client_open || !s->responded || s->response.eof) {
    return;
  }
  s->response.eof = true;
  nghttp2_session_resume_data(s->client->session(), s->client_id);
  MarkDirty(s->client);
}

void H2Relay::Loop::EndHttp(Stream* s) {
  if (s->exchange == nullptr) {
    return;
  }
  std::shared_ptr<h2relay::H2Exchange> exchange = std::move(s->exchange);
  if (s->response.eof && s->response.size() == 0 && !s->reset) {
    exchange->Complete();
  } else {
    exchange->Detach();
  }
}

void H2Relay::Loop::InterruptHttpStreams() {
  std::vector<std::shared_ptr<h2relay::H2Exchange>> streaming;
  for (const auto& [s, owned] : streams_) {
    if (s->exchange != nullptr && s->exchange->streaming() && s->client_open && !s->response.eof) {
      streaming.push_back(s->exchange);
    }
  }
  for (const auto& exchange : streaming) {
    exchange->Interrupt();
  }
}

void H2Relay::ServeHttp(frontdoor::HttpHandler* handler, size_t max_body_bytes) {
  http_->max_body_bytes.store(max_body_bytes, std::memory_order_relaxed);
  http_->handler.store(handler, std::memory_order_release);
}

}  // namespace accord
