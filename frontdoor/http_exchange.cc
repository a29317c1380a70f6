#include "frontdoor/http_exchange.h"

#include "absl/strings/str_cat.h"

namespace accord::frontdoor {

void ExchangeBase::Respond(int status, HttpHeaders headers, std::string body) {
  if (finished_.exchange(true)) {
    return;
  }
  SendResponse(status, std::move(headers), std::move(body));
}

void ExchangeBase::BeginStream(int status, HttpHeaders headers) {
  if (finished_.load() || began_.exchange(true)) {
    return;
  }
  SendHead(status, std::move(headers));
}

bool ExchangeBase::Write(std::string chunk) {
  if (over_.load() || finished_.load() || !began_.load()) {
    return false;
  }
  SendChunk(std::move(chunk));
  return true;
}

void ExchangeBase::End() {
  if (!began_.load() || finished_.exchange(true)) {
    return;
  }
  SendEnd();
}

void ExchangeBase::OnCancel(std::function<void()> cancel) {
  {
    std::lock_guard lock(mu_);
    if (!interrupted_) {
      cancel_ = std::move(cancel);
      return;
    }
  }
  RunCancel(std::move(cancel));
}

void ExchangeBase::Interrupt() {
  std::function<void()> cancel;
  {
    std::lock_guard lock(mu_);
    if (interrupted_) {
      return;
    }
    interrupted_ = true;
    cancel.swap(cancel_);
  }
  if (cancel) {
    cancel();
  }
}

void HttpHandler::Refused(int /*status*/, absl::string_view message, HttpHeaders& headers,
                          std::string& body) {
  headers.emplace_back("Content-Type", "text/plain; charset=utf-8");
  body = absl::StrCat(message, "\n");
}

}  // namespace accord::frontdoor
