#include "gateway/http_server.h"

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

#include "common/log.h"

namespace accord::gateway {
namespace {

frontdoor::Http1ServerOptions ServerOptions(const HttpOptions& o, H2Relay& relay) {
  frontdoor::Http1ServerOptions out;
  out.listen = o.listen;
  out.threads = o.threads;
  if (o.threads == 0) {
    out.loops = relay.event_loops();
  }
  out.limits.max_body_bytes = o.max_body_bytes;
  out.limits.max_header_bytes = o.max_header_bytes;
  out.request_timeout = o.request_timeout;
  out.idle_timeout = o.idle_timeout;
  // h2c with prior knowledge: the connection goes to the HTTP/2 front end, which hands its
  // requests back to this server's handler (HttpServer::Start).
  out.h2c = [&relay](int fd, std::string peer, std::string read) {
    relay.Serve(fd, std::move(peer), std::move(read));
  };
  return out;
}

std::optional<std::string> Header(const frontdoor::Http1Request& req, absl::string_view name) {
  const std::string* value = req.Header(name);
  return value != nullptr ? std::optional<std::string>(*value) : std::nullopt;
}

// The query string's parameters, decoded ('+' is a space), in order.
std::vector<std::pair<std::string, std::string>> ParseQuery(absl::string_view query) {
  std::vector<std::pair<std::string, std::string>> out;
  for (absl::string_view part : absl::StrSplit(query, '&', absl::SkipEmpty())) {
    std::pair<absl::string_view, absl::string_view> kv =
        absl::StrSplit(part, absl::MaxSplits('=', 1));
    out.emplace_back(PercentDecode(kv.first, true), PercentDecode(kv.second, true));
  }
  return out;
}

HttpRequest ToHttpRequest(frontdoor::Http1Request& req) {
  HttpRequest out;
  out.method = std::move(req.method);
  out.target = std::move(req.target);
  const size_t question = out.target.find('?');
  out.path = PercentDecode(absl::string_view(out.target).substr(0, question), false);
  if (question != std::string::npos) {
    out.query = ParseQuery(absl::string_view(out.target).substr(question + 1));
  }
  out.body = std::move(req.body);
  out.content_type = Header(req, "content-type").value_or("");
  for (const auto& [name, value] : req.headers) {
    if (name == "accept-encoding" && absl::StrContains(absl::AsciiStrToLower(value), "gzip")) {
      out.accepts_gzip = true;
    }
  }
  out.caller.authorization = Header(req, "authorization");
  out.caller.repeated_authorization = req.Count("authorization") > 1;
  out.caller.roles = Header(req, "x-accord-roles");
  out.caller.request_id = Header(req, "x-request-id");
  out.caller.traceparent = Header(req, "traceparent");
  out.caller.tracestate = Header(req, "tracestate");
  return out;
}

}  // namespace

HttpServer::HttpServer(Gate& gate, H2Relay& relay, const Router& router, HttpOptions options)
    : gate_(gate),
      relay_(relay),
      max_body_bytes_(options.max_body_bytes),
      transcoder_(gate, relay, router, options.console),
      server_(*this, ServerOptions(options, relay)) {}

HttpServer::~HttpServer() { Stop(); }

absl::Status HttpServer::Start() {
  if (absl::Status s = server_.Listen(); !s.ok()) {
    return s;
  }
  server_.Start();
  relay_.ServeHttp(this, max_body_bytes_);  // HTTP/JSON over HTTP/2, on both ports
  started_ = true;
  Log(LogLevel::kInfo, "HTTP listening", {{"http_port", server_.port()}});
  return absl::OkStatus();
}

void HttpServer::Stop() {
  if (started_) {
    started_ = false;
    relay_.ServeHttp(nullptr, max_body_bytes_);
    server_.Shutdown(absl::Seconds(5));
  }
}

void HttpServer::Handle(frontdoor::Http1Request request,
                        std::shared_ptr<frontdoor::HttpExchange> exchange) {
  if (const std::string* encoding = request.Header("content-encoding");
      encoding != nullptr && !encoding->empty() && !absl::EqualsIgnoreCase(*encoding, "identity")) {
    HttpResponse res;
    res.status = 415;
    res.body = StatusJson(
        absl::InvalidArgumentError("Content-Encoding is not accepted; send the body uncompressed"));
    return Send(*exchange, std::move(res));
  }
  transcoder_.Handle(ToHttpRequest(request), std::move(exchange));
}

void HttpServer::Refused(int status, absl::string_view message, frontdoor::HttpHeaders& headers,
                         std::string& body) {
  headers = {{"X-Content-Type-Options", "nosniff"},
             {"Cache-Control", "no-store"},
             {"Content-Type", "application/json"}};
  const absl::StatusCode code = status == 408   ? absl::StatusCode::kDeadlineExceeded
                                : status == 501 ? absl::StatusCode::kUnimplemented
                                : status == 503 ? absl::StatusCode::kUnavailable
                                                : absl::StatusCode::kInvalidArgument;
  body = StatusJson(absl::Status(code, message));
}

void HttpServer::CountRejected(absl::string_view reason) {
  gate_.CountRejected(absl::StrCat("http_", reason));
}

}  // namespace accord::gateway
