#include "frontdoor/http1_codec.h"

#include <http_parser.h>

#include <algorithm>
#include <climits>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace accord::frontdoor {

const std::string* Http1Request::Header(absl::string_view name) const {
  for (const auto& [n, v] : headers) {
    if (n == name) {
      return &v;
    }
  }
  return nullptr;
}

size_t Http1Request::Count(absl::string_view name) const {
  size_t n = 0;
  for (const auto& h : headers) {
    n += h.first == name ? 1 : 0;
  }
  return n;
}

struct Http1Decoder::State {
  explicit State(Http1Limits l) : limits(l) {
    http_parser_init(&parser, HTTP_REQUEST);
    parser.data = this;
  }

  Http1Limits limits;
  http_parser parser;
  Http1Request request;
  bool in_message = false;
  bool in_headers = true;   // the bytes now fed are a request's head (obs-fold is looked for)
  bool line_start = false;  // the last head byte ended a line
  bool value_last = false;  // the last callback was a header value (a new field starts a header)
  bool continue_wanted = false;
  size_t head_bytes = 0;
  std::optional<Http1Error> error;
  std::vector<Http1Request>* out = nullptr;

  // Returns what stops the parser from every callback (on_headers_complete takes 1 to mean
  // "no body", so -1).
  int Fail(int status, std::string message) {
    if (!error) {
      error = Http1Error{status, std::move(message)};
    }
    return -1;
  }

  static State& Of(http_parser* p) { return *static_cast<State*>(p->data); }

  static int OnMessageBegin(http_parser* p) {
    State& s = Of(p);
    s.request = Http1Request();
    s.in_message = true;
    s.value_last = false;
    return 0;
  }
  static int OnUrl(http_parser* p, const char* at, size_t n) {
    State& s = Of(p);
    s.request.target.append(at, n);
    return 0;
  }
  static int OnHeaderField(http_parser* p, const char* at, size_t n) {
    State& s = Of(p);
    if (s.value_last || s.request.headers.empty()) {
      s.request.headers.emplace_back();
    }
    s.value_last = false;
    std::string& name = s.request.headers.back().first;
    name.append(at, n);
    absl::AsciiStrToLower(&name);
    return 0;
  }
  static int OnHeaderValue(http_parser* p, const char* at, size_t n) {
    State& s = Of(p);
    s.value_last = true;
    s.request.headers.back().second.append(at, n);
    return 0;
  }
  static int OnHeadersComplete(http_parser* p) {
    State& s = Of(p);
    Http1Request& r = s.request;
    if (p->http_major != 1) {
      return s.Fail(505, absl::StrCat("HTTP/", p->http_major, ".", p->http_minor,
                                      " is not supported: send HTTP/1.1"));
    }
    r.method = http_method_str(static_cast<http_method>(p->method));
    r.version_minor = p->http_minor;
    for (auto& [name, value] : r.headers) {
      value = std::string(absl::StripAsciiWhitespace(value));
    }
    if (r.Count("transfer-encoding") > 1) {
      return s.Fail(400, "more than one Transfer-Encoding header");
    }
    if (const std::string* te = r.Header("transfer-encoding");
        te != nullptr && !absl::EqualsIgnoreCase(*te, "chunked")) {
      return s.Fail(501,
                    absl::StrCat("Transfer-Encoding ", *te, " is not supported: send chunked"));
    }
    if (r.Count("content-length") > 1) {
      return s.Fail(400, "more than one Content-Length header");
    }
    if (r.version_minor >= 1 && r.Count("host") != 1) {
      return s.Fail(400, "an HTTP/1.1 request carries exactly one Host header");
    }
    if (p->content_length != ULLONG_MAX && p->content_length > s.limits.max_body_bytes) {
      return s.Fail(413, absl::StrCat("the body of ", p->content_length,
                                      " bytes exceeds the limit of ", s.limits.max_body_bytes));
    }
    if (const std::string* expect = r.Header("expect");
        expect != nullptr && r.version_minor >= 1 &&
        absl::EqualsIgnoreCase(*expect, "100-continue") &&
        ((p->content_length != ULLONG_MAX && p->content_length > 0) ||
         (p->flags & F_CHUNKED) != 0)) {
      s.continue_wanted = true;
    }
    // An Upgrade (to h2c, say) is not taken: the request is answered in HTTP/1.1.
    p->flags &= ~F_UPGRADE;
    s.in_headers = false;
    http_parser_pause(p, 1);  // Feed looks at the head's bytes before the body is read
    return 0;
  }
  static int OnBody(http_parser* p, const char* at, size_t n) {
    State& s = Of(p);
    if (s.request.body.size() + n > s.limits.max_body_bytes) {
      return s.Fail(
          413, absl::StrCat("the body exceeds the limit of ", s.limits.max_body_bytes, " bytes"));
    }
    s.request.body.append(at, n);
    return 0;
  }
  static int OnMessageComplete(http_parser* p) {
    State& s = Of(p);
    if (s.error) {
      return -1;  // a refused request is never handed over
    }
    s.request.keep_alive = http_should_keep_alive(p) != 0;
    s.out->push_back(std::move(s.request));
    s.request = Http1Request();
    s.in_message = false;
    s.in_headers = true;
    s.line_start = false;
    s.head_bytes = 0;
    http_parser_pause(p, 1);  // the next request's head is looked at before it is parsed
    return 0;
  }
};

namespace {

const http_parser_settings& Settings() {
  static const http_parser_settings settings = [] {
    http_parser_settings s;
    http_parser_settings_init(&s);
    s.on_message_begin = &Http1Decoder::State::OnMessageBegin;
    s.on_url = &Http1Decoder::State::OnUrl;
    s.on_header_field = &Http1Decoder::State::OnHeaderField;
    s.on_header_value = &Http1Decoder::State::OnHeaderValue;
    s.on_headers_complete = &Http1Decoder::State::OnHeadersComplete;
    s.on_body = &Http1Decoder::State::OnBody;
    s.on_message_complete = &Http1Decoder::State::OnMessageComplete;
    return s;
  }();
  return settings;
}

}  // namespace

Http1Decoder::Http1Decoder(Http1Limits limits) : state_(std::make_unique<State>(limits)) {}
Http1Decoder::~Http1Decoder() = default;

std::optional<Http1Error> Http1Decoder::Feed(absl::string_view bytes,
                                             std::vector<Http1Request>& out) {
  State& s = *state_;
  s.out = &out;
  while (!bytes.empty() && !s.error) {
    // A line of a head that starts with a space or tab (obs-fold) is refused where it is: the
    // parser is given the bytes before it, so that an error earlier in the stream wins, however
    // the stream is split. (The parser pauses at the end of each head and each request, so a
    // range given while in a head is head bytes.)
    size_t fold = absl::string_view::npos;
    if (s.in_headers) {
      bool line_start = s.line_start;
      for (size_t i = 0; i < bytes.size() && fold == absl::string_view::npos; ++i) {
        if (line_start && (bytes[i] == ' ' || bytes[i] == '\t')) {
          fold = i;
        }
        line_start = bytes[i] == '\n';
      }
    }
    // A head is given to the parser at most one byte past its limit, so that the limit is
    // found at the same byte however the stream is split (the parser reports a header to its
    // callbacks only where a read ends or the header does).
    size_t length = fold;
    if (s.in_headers) {
      length = std::min(length, s.limits.max_header_bytes + 1 - s.head_bytes);
    }
    const absl::string_view given = bytes.substr(0, length);
    const bool head = s.in_headers;
    const size_t n =
        given.empty() ? 0 : http_parser_execute(&s.parser, &Settings(), given.data(), given.size());
    const http_errno e = HTTP_PARSER_ERRNO(&s.parser);
    if (e == HPE_PAUSED) {
      http_parser_pause(&s.parser, 0);
    } else if (e != HPE_OK) {
      s.Fail(400, absl::StrCat("malformed request: ", http_errno_description(e)));
      break;
    }
    if (head && s.in_headers && n > 0) {
      s.line_start = given[n - 1] == '\n';
      s.head_bytes += n;
      if (s.head_bytes > s.limits.max_header_bytes) {
        s.Fail(431, absl::StrCat("the request line and headers exceed ", s.limits.max_header_bytes,
                                 " bytes"));
        break;
      }
    }
    if (fold != absl::string_view::npos && n == fold && s.in_headers) {
      s.Fail(400, "a header line folded onto the next (obs-fold) is not accepted");
      break;
    }
    bytes.remove_prefix(n);
  }
  s.out = nullptr;
  return s.error;
}

bool Http1Decoder::idle() const { return !state_->in_message; }

size_t Http1Decoder::partial_bytes() const {
  return state_->in_message ? state_->head_bytes + state_->request.body.size() : 0;
}

bool Http1Decoder::TakeContinue() { return std::exchange(state_->continue_wanted, false); }

absl::string_view ReasonPhrase(int status) {
  switch (status) {
    case 200:
      return "OK";
    case 204:
      return "No Content";
    case 301:
      return "Moved Permanently";
    case 302:
      return "Found";
    case 304:
      return "Not Modified";
    case 400:
      return "Bad Request";
    case 401:
      return "Unauthorized";
    case 403:
      return "Forbidden";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 408:
      return "Request Timeout";
    case 409:
      return "Conflict";
    case 412:
      return "Precondition Failed";
    case 413:
      return "Content Too Large";
    case 415:
      return "Unsupported Media Type";
    case 429:
      return "Too Many Requests";
    case 431:
      return "Request Header Fields Too Large";
    case 499:
      return "Client Closed Request";
    case 500:
      return "Internal Server Error";
    case 501:
      return "Not Implemented";
    case 503:
      return "Service Unavailable";
    case 504:
      return "Gateway Timeout";
    case 505:
      return "HTTP Version Not Supported";
    default:
      return "";
  }
}

namespace {

std::string Head(int status, const std::vector<std::pair<std::string, std::string>>& headers,
                 bool keep_alive) {
  std::string out = absl::StrCat("HTTP/1.1 ", status, " ", ReasonPhrase(status), "\r\n");
  for (const auto& [name, value] : headers) {
    absl::StrAppend(&out, name, ": ", value, "\r\n");
  }
  if (!keep_alive) {
    out += "Connection: close\r\n";
  }
  return out;
}

}  // namespace

std::string EncodeResponse(int status,
                           const std::vector<std::pair<std::string, std::string>>& headers,
                           absl::string_view body, bool keep_alive) {
  std::string out = Head(status, headers, keep_alive);
  absl::StrAppend(&out, "Content-Length: ", body.size(), "\r\n\r\n", body);
  return out;
}

std::string EncodeChunkedHead(int status,
                              const std::vector<std::pair<std::string, std::string>>& headers,
                              bool keep_alive) {
  return Head(status, headers, keep_alive) + "Transfer-Encoding: chunked\r\n\r\n";
}

std::string EncodeChunk(absl::string_view data) {
  if (data.empty()) {
    return "";  // an empty chunk would end the body
  }
  return absl::StrCat(absl::Hex(data.size()), "\r\n", data, "\r\n");
}

std::string EncodeLastChunk() { return "0\r\n\r\n"; }

}  // namespace accord::frontdoor
