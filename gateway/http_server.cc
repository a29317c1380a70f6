#include "gateway/http_server.h"

#include <condition_variable>
#include <deque>
#include <future>
#include <optional>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "google/protobuf/message.h"
#include "google/protobuf/util/json_util.h"
#include "grpcpp/support/byte_buffer.h"

#include "common/hash.h"
#include "common/host_port.h"
#include "common/log.h"
#include "common/status.h"
#include "gateway/openapi.h"
#include "httplib.h"
#include "zlib.h"

namespace accord::gateway {
namespace {

// Where the gateway keeps the client's Accept-Encoding (see TakeAcceptEncoding).
constexpr char kAcceptEncoding[] = "X-Accord-Accept-Encoding";

// cpp-httplib compresses every response whose client accepts it, by itself: with Brotli at its
// highest quality when the client takes `br` (every browser, most HTTP stacks: 213 ms for the
// 98 KB list of 200 definitions, against 4 ms uncompressed), and again on top of a
// Content-Encoding the handler set. The gateway encodes its responses itself, so it takes the
// header from the library before any handler runs and keeps it under kAcceptEncoding. (The
// request is httplib's own mutable object, handed to handlers as const.)
void TakeAcceptEncoding(const httplib::Request& req) {
  auto& headers = const_cast<httplib::Request&>(req).headers;
  std::string accepted;
  for (auto it = headers.find("Accept-Encoding");
       it != headers.end() && absl::EqualsIgnoreCase(it->first, "Accept-Encoding");
       it = headers.erase(it)) {
    absl::StrAppend(&accepted, accepted.empty() ? "" : ",", it->second);
  }
  headers.erase(kAcceptEncoding);
  headers.emplace(kAcceptEncoding, accepted);
}

bool AcceptsGzip(const httplib::Request& req) {
  return absl::StrContains(absl::AsciiStrToLower(req.get_header_value(kAcceptEncoding)), "gzip");
}

std::optional<std::string> Header(const httplib::Request& req, const char* key) {
  if (!req.has_header(key)) {
    return std::nullopt;
  }
  return req.get_header_value(key);
}

HttpRequest ToHttpRequest(const httplib::Request& req) {
  HttpRequest out;
  out.method = req.method;
  out.target = req.target;
  out.path = req.path;
  out.query.assign(req.params.begin(), req.params.end());
  out.body = req.body;
  out.content_type = req.get_header_value("Content-Type");
  out.accepts_gzip = AcceptsGzip(req);
  out.caller.authorization = Header(req, "Authorization");
  out.caller.repeated_authorization = req.get_header_value_count("Authorization") > 1;
  out.caller.roles = Header(req, "X-Accord-Roles");
  out.caller.request_id = Header(req, "X-Request-Id");
  out.caller.traceparent = Header(req, "traceparent");
  out.caller.tracestate = Header(req, "tracestate");
  return out;
}

void SendError(httplib::Response& res, const absl::Status& status) {
  res.status = HttpStatusFor(status.code());
  res.set_content(StatusJson(status), "application/json");
}

}  // namespace

HttpServer::HttpServer(Gate& gate, const Router& router, HttpOptions options)
    : options_(std::move(options)), transcoder_(gate, router, options_.console) {}

HttpServer::~HttpServer() { Stop(); }

absl::Status HttpServer::Start() {
  server_ = std::make_unique<httplib::Server>();
  httplib::Server& svr = *server_;
  int threads = options_.threads;
  svr.new_task_queue = [threads] { return new httplib::ThreadPool(threads); };
  svr.set_payload_max_length(options_.max_body_bytes);
  svr.set_read_timeout(options_.read_timeout_seconds, 0);
  svr.set_write_timeout(options_.read_timeout_seconds, 0);
  svr.set_keep_alive_timeout(options_.idle_timeout_seconds);
  svr.set_keep_alive_max_count(10000);
  svr.set_tcp_nodelay(true);  // else Nagle and delayed ACKs add 40 ms to every response
  svr.set_exception_handler(
      [](const httplib::Request&, httplib::Response& res, std::exception_ptr) {
        // Never the exception's text: it may carry internals.
        SendError(res, absl::InternalError("internal error"));
      });
  svr.set_error_handler([](const httplib::Request&, httplib::Response& res) {
    if (!res.body.empty()) {
      return;
    }
    absl::StatusCode code = res.status == 413   ? absl::StatusCode::kInvalidArgument
                            : res.status == 404 ? absl::StatusCode::kNotFound
                                                : absl::StatusCode::kInvalidArgument;
    int status = res.status;
    res.set_content(StatusJson(absl::Status(code, status == 413 ? "request body larger than 1 MiB"
                                                                : absl::StrCat("HTTP ", status))),
                    "application/json");
  });
  size_t max_header_bytes = options_.max_header_bytes;
  svr.set_pre_routing_handler([max_header_bytes](const httplib::Request& req,
                                                 httplib::Response& res) {
    size_t total = 0;
    for (const auto& [key, value] : req.headers) {
      total += key.size() + value.size() + 4;
    }
    res.set_header("X-Content-Type-Options", "nosniff");
    res.set_header("Cache-Control", "no-store");
    TakeAcceptEncoding(req);
    if (total > max_header_bytes) {
      res.status = 431;
      res.set_content(StatusJson(absl::InvalidArgumentError("request headers larger than 16 KiB")),
                      "application/json");
      return httplib::Server::HandlerResponse::Handled;
    }
    std::string encoding = absl::AsciiStrToLower(req.get_header_value("Content-Encoding"));
    if (!encoding.empty() && encoding != "identity") {
      res.status = 415;
      res.set_content(StatusJson(absl::InvalidArgumentError(
                          "Content-Encoding is not accepted; send the body uncompressed")),
                      "application/json");
      return httplib::Server::HandlerResponse::Handled;
    }
    return httplib::Server::HandlerResponse::Unhandled;
  });

  auto handle = [this](const httplib::Request& req, httplib::Response& res) {
    HttpResponse out = transcoder_.Handle(ToHttpRequest(req));
    res.status = out.status;
    for (auto& [key, value] : out.headers) {
      if (!res.has_header(key)) {  // nosniff and no-store are set for every response already
        res.set_header(key, value);
      }
    }
    if (out.stream != nullptr) {
      std::shared_ptr<HttpStream> stream = std::move(out.stream);
      res.set_chunked_content_provider(
          out.content_type,
          [stream](size_t, httplib::DataSink& sink) {
            std::string line;
            switch (stream->Next(std::chrono::milliseconds(1000), &line)) {
              case HttpStream::Step::kWaiting:
                return sink.is_writable();  // nothing yet; stop if the client went away
              case HttpStream::Step::kLine:
                return sink.write(line.data(), line.size());
              case HttpStream::Step::kDone:
                if (!line.empty()) {
                  sink.write(line.data(), line.size());
                }
                sink.done();
                return true;
            }
            return false;
          },
          [stream](bool) {});
      return;
    }
    if (!out.content_type.empty()) {
      res.set_content(std::move(out.body), out.content_type);
    }
  };
  svr.Get(".*", handle);
  svr.Post(".*", handle);
  svr.Patch(".*", handle);
  svr.Put(".*", handle);
  svr.Delete(".*", handle);

  absl::StatusOr<HostPort> listen = ParseHostPort(options_.listen);
  if (!listen.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("--http_listen=", options_.listen, ": expected HOST:PORT"));
  }
  const std::string& host = listen->host;
  const int port = listen->port;
  if (port == 0) {
    port_ = svr.bind_to_any_port(host);
  } else {
    port_ = svr.bind_to_port(host, port) ? port : -1;
  }
  if (port_ <= 0) {
    return absl::UnavailableError(absl::StrCat("cannot listen on ", options_.listen));
  }
  thread_ = std::thread([this] { server_->listen_after_bind(); });
  Log(LogLevel::kInfo, "HTTP listening", {{"http", absl::StrCat(host, ":", port_)}});
  return absl::OkStatus();
}

void HttpServer::Stop() {
  if (server_ != nullptr) {
    server_->stop();
  }
  if (thread_.joinable()) {
    thread_.join();
  }
}

}  // namespace accord::gateway
