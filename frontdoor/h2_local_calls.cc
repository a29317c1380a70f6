#include <zlib.h>

#include <algorithm>
#include <atomic>
#include <functional>
#include <mutex>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"

#include "common/status.h"
#include "frontdoor/buffer_budget.h"
#include "frontdoor/h2_relay.h"
#include "frontdoor/h2_relay_loop.h"
#include <nghttp2/nghttp2.h>

// Calls the front end answers itself (LocalMethod): their request messages given to them on the
// loop or a worker, their responses and pushes written back (h2_relay_loop.h).
namespace accord {
namespace h2relay {

// A compressed request message (grpc-encoding gzip or deflate) inflated into `out`;
// RESOURCE_EXHAUSTED when it would exceed `limit` bytes, INVALID_ARGUMENT when it is corrupt.
absl::Status Inflate(absl::string_view in, absl::string_view encoding, size_t limit,
                     std::string* out) {
  z_stream z{};
  if (inflateInit2(&z, encoding == "gzip" ? 16 + MAX_WBITS : MAX_WBITS) != Z_OK) {
    return absl::InternalError("cannot inflate");
  }
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  z.avail_in = static_cast<uInt>(in.size());
  out->clear();
  int r = Z_OK;
  while (r == Z_OK) {
    if (out->size() >= limit + 1) {
      break;
    }
    const size_t at = out->size();
    out->resize(std::min(limit + 1, std::max<size_t>(at * 2, 4096)));
    z.next_out = reinterpret_cast<Bytef*>(out->data() + at);
    z.avail_out = static_cast<uInt>(out->size() - at);
    r = inflate(&z, Z_NO_FLUSH);
    out->resize(out->size() - z.avail_out);
  }
  inflateEnd(&z);
  if (out->size() > limit) {
    return absl::ResourceExhaustedError(
        absl::StrCat("a request message inflates to more than the limit of ", limit, " bytes"));
  }
  if (r != Z_STREAM_END || z.avail_in != 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("a request message is not valid ", encoding, " data"));
  }
  return absl::OkStatus();
}

}  // namespace h2relay

using h2relay::ClientConn;
using h2relay::Conn;
using h2relay::Header;
using h2relay::Inflate;
using h2relay::kResponseBacklog;
using h2relay::kResponseReserve;
using h2relay::kSmallRequest;
using h2relay::NameValues;
using h2relay::Pipe;
using h2relay::ReadResponseCallback;
using h2relay::Stream;
using h2relay::Upstream;

// A call's LocalPush: holds the loop's inbox (not the loop) and the call weakly, so that a push
// after the call or the loop has gone is dropped.
class H2Relay::Loop::Push final : public LocalPush {
 public:
  Push(std::shared_ptr<PushInbox> inbox, Stream* stream, uint64_t serial,
       std::weak_ptr<LocalCall> call)
      : inbox_(std::move(inbox)), stream_(stream), serial_(serial), call_(std::move(call)) {}

  bool Write(std::string messages) override {
    return Send({stream_, serial_, nullptr, absl::OkStatus(), std::move(messages), true, false});
  }
  void Finish(const absl::Status& status) override {
    Send({stream_, serial_, nullptr, status, {}, true, true});
  }

 private:
  bool Send(LocalResult result) {
    std::lock_guard lock(inbox_->mu);
    if (inbox_->loop == nullptr) {
      return false;
    }
    result.call = call_.lock();
    if (result.call == nullptr) {
      return false;  // the call has ended
    }
    inbox_->loop->Deliver(std::move(result));
    return true;
  }

  std::shared_ptr<PushInbox> inbox_;
  Stream* stream_;
  uint64_t serial_;
  std::weak_ptr<LocalCall> call_;
};

void H2Relay::Loop::BeginLocal(Stream* s) {
  s->local = s->route->local->Begin();
  s->up_open = true;  // the local call takes the request's bytes
  s->pushes = s->local->Attach(std::make_shared<Push>(push_inbox_, s, s->serial, s->local));
  RunLocal(s);
}

void H2Relay::Loop::ApplyPush(Stream* s, LocalResult& r) {
  if (s->response.size() + r.response.size() > options_.max_push_backlog) {
    EndResponse(s, ErrorWithReason(absl::StatusCode::kResourceExhausted, "WATCHER_TOO_SLOW",
                                   "the watcher fell too far behind; resume from your last "
                                   "sequence"));
    return;
  }
  if (!r.response.empty()) {
    if (s->response.size() == 0) {
      s->response.data.swap(r.response);
      s->response.offset = 0;
    } else {
      s->response.data.append(r.response);
    }
    Respond(s);  // the headers go out with the first message, before any trailers
  }
  if (r.end || !r.status.ok()) {
    EndResponse(s, r.status);
  }
}

void H2Relay::Loop::RunLocal(Stream* s) {
  Pipe& in = s->request;
  while (s->local != nullptr && !s->local_busy && s->response.size() < kResponseBacklog) {
    if (s->local_owed > 0 && s->client_open && MayCredit(s)) {
      nghttp2_session_consume_stream(s->client->session(), s->client_id, s->local_owed);
      s->local_owed = 0;
      s->request_progress = now_;  // the caller may send again from now
      MarkDirty(s->client);
    }
    if (Now() > s->deadline) {
      EndResponse(s, absl::DeadlineExceededError("deadline exceeded"));
      return;
    }
    if (in.size() < 5) {
      if (in.eof && in.size() == 0 && s->pushes && s->local_messages > 0) {
        return;  // the call goes on answering through its push
      }
      if (in.eof && in.size() == 0) {
        EndResponse(s, s->route->unary && s->local_messages == 0
                           ? absl::InvalidArgumentError("a unary call sends one request message")
                           : s->local->OnHalfClose());
      } else if (in.eof || !s->client_open) {
        EndResponse(s, absl::InvalidArgumentError("the request ended inside a message"));
      }
      return;
    }
    absl::StatusOr<std::optional<frontdoor::MessageHead>> head =
        frontdoor::ReadPrefix(absl::string_view(in.data).substr(in.offset));
    if (!head.ok()) {
      EndResponse(s, head.status());
      return;
    }
    const bool compressed = (*head)->compressed;
    const size_t length = (*head)->length;
    if (in.size() - 5 < length) {
      if (in.eof) {
        EndResponse(s, absl::InvalidArgumentError("the request ended inside a message"));
      }
      return;
    }
    if (s->route->unary && s->local_messages == 1) {
      EndResponse(s, absl::InvalidArgumentError("a unary call sends one request message"));
      return;
    }
    absl::string_view message(in.data.data() + in.offset + 5, length);
    if (compressed && s->encoding != "gzip" && s->encoding != "deflate") {
      EndResponse(s, absl::UnimplementedError(absl::StrCat(
                         "grpc-encoding ", s->encoding.empty() ? "(none)" : s->encoding,
                         " is not supported: send identity, gzip or deflate")));
      return;
    }
    ++s->local_messages;
    // A large message goes to a worker, so that one connection's batches use every core; so
    // does every compressed one, whose size is known only once inflated (a few KB of gzip can
    // inflate to the 4 MiB limit): inflating and answering it on the loop would stall every
    // other call of the loop.
    if (workers_ != nullptr && (compressed || length >= options_.worker_min_bytes)) {
      s->local_busy = true;
      std::string bytes;
      size_t skip = 0;
      if (in.offset == 0 && in.data.size() == 5 + length) {
        bytes.swap(in.data);  // the whole pipe is this message (a unary call's, usually)
        skip = 5;
        s->reserved.Release();
      } else {
        bytes = std::string(message);
        TakeRequest(s, length);
      }
      workers_->Post([this, s, serial = s->serial, call = s->local, bytes = std::move(bytes), skip,
                      encoding = compressed ? s->encoding : std::string(),
                      limit = options_.max_message_bytes] {
        LocalResult result{s, serial, call, {}, {}};
        absl::string_view message = absl::string_view(bytes).substr(skip);
        std::string inflated;
        if (!encoding.empty()) {
          result.status = Inflate(message, encoding, limit, &inflated);
          message = inflated;
        }
        if (result.status.ok()) {
          result.response.reserve(kResponseReserve * message.size() + 64);
          result.status = call->OnMessage(message, result.response);
        }
        Deliver(std::move(result));
      });
      return;
    }
    std::string inflated;
    if (compressed) {
      if (absl::Status inflate =
              Inflate(message, s->encoding, options_.max_message_bytes, &inflated);
          !inflate.ok()) {
        EndResponse(s, inflate);
        return;
      }
      message = inflated;
    }
    const size_t before = s->response.data.size();
    if (before == 0) {
      s->response.data.reserve(kResponseReserve * length + 64);
    }
    absl::Status status = s->local->OnMessage(message, s->response.data);
    TakeRequest(s, length);
    if (!status.ok()) {
      s->response.data.resize(before);  // a half-written message is not sent
      EndResponse(s, status);
      return;
    }
    Respond(s);
  }
}

bool H2Relay::Loop::MayCredit(Stream* s) {
  if (s->request.size() <= kSmallRequest) {
    return true;  // the common case: no count to make
  }
  // Bytes are credited while the connection's local calls buffer at most
  // max_connection_buffer, or to the connection's largest message (so that one message always
  // completes and frees its bytes). A client that sends most of many large messages and stops
  // is held at its streams' windows, then ended by the stall timeout.
  size_t buffered = 0;
  bool largest = true;
  for (const Stream* other : s->client->streams) {
    if (other->local != nullptr) {
      buffered += other->request.size();
      // Ties go to the older stream: one stream only is the largest.
      largest = largest &&
                (other == s || other->request.size() < s->request.size() ||
                 (other->request.size() == s->request.size() && other->client_id > s->client_id));
    }
  }
  if (!largest && buffered > options_.max_connection_buffer) {
    return false;
  }
  // And the message under way reserves its whole length from the process's budget: beyond
  // what the budget holds, large messages wait at their windows (and the stall timeout ends
  // those whose senders stopped, giving their reservations back).
  if (s->reserved.bytes() > 0) {
    return true;
  }
  absl::StatusOr<std::optional<frontdoor::MessageHead>> head =
      frontdoor::ReadPrefix(absl::string_view(s->request.data).substr(s->request.offset));
  if (!head.ok() || !head->has_value()) {
    return true;  // RunLocal ends the call on a bad prefix
  }
  s->budget_held = !s->reserved.Reserve(*budget_, frontdoor::kMessagePrefixBytes + (*head)->length);
  return !s->budget_held;
}

void H2Relay::Loop::TakeRequest(Stream* s, size_t length) {
  s->reserved.Release();  // the message is whole: its bytes are the call's now
  Pipe& in = s->request;
  in.offset += 5 + length;
  if (in.offset == in.data.size()) {
    in.data.clear();
    in.offset = 0;
  } else if (in.offset > in.data.size() / 2) {
    in.data.erase(0, in.offset);  // a part of the next message stays
    in.offset = 0;
  }
}

void H2Relay::Loop::Respond(Stream* s) {
  if (s->response.size() == 0) {
    return;
  }
  if (!s->responded) {
    std::vector<Header> headers = {{":status", "200"}, {"content-type", "application/grpc"}};
    std::vector<nghttp2_nv> nv = NameValues(headers);
    nghttp2_data_provider provider{};
    provider.source.ptr = s;
    provider.read_callback = &ReadResponseCallback;
    nghttp2_submit_response(s->client->session(), s->client_id, nv.data(), nv.size(), &provider);
    s->responded = true;
  } else {
    nghttp2_session_resume_data(s->client->session(), s->client_id);
  }
  MarkDirty(s->client);
}

void H2Relay::Loop::Deliver(LocalResult result) {
  const bool pushed = result.pushed;
  bool first;
  {
    std::lock_guard lock(inbox_mu_);
    first = results_.empty();  // else the loop has a wake-up coming for them already
    results_.push_back(std::move(result));
  }
  Batch& batch = ThreadBatch();
  if (pushed && batch.depth > 0) {
    if (std::find(batch.loops.begin(), batch.loops.end(), push_inbox_) == batch.loops.end()) {
      batch.loops.push_back(push_inbox_);
    }
    return;
  }
  if (first) {
    WakeForResults();
  }
}

void H2Relay::Loop::WakeForResults() { events_.Wake(); }

H2Relay::PushBatch::PushBatch() { ++Loop::ThreadBatch().depth; }

H2Relay::PushBatch::~PushBatch() {
  Loop::Batch& batch = Loop::ThreadBatch();
  if (--batch.depth > 0) {
    return;
  }
  std::vector<std::shared_ptr<Loop::PushInbox>> loops;
  loops.swap(batch.loops);
  for (const auto& inbox : loops) {
    std::lock_guard lock(inbox->mu);
    if (inbox->loop != nullptr) {
      inbox->loop->WakeForResults();
    }
  }
}

void H2Relay::Loop::ApplyResults(std::vector<LocalResult> results) {
  for (LocalResult& r : results) {
    Stream* s = r.stream;
    if (streams_.count(s) == 0 || s->serial != r.serial || s->local != r.call) {
      continue;  // the call ended while its message was on a worker
    }
    if (r.pushed) {
      ApplyPush(s, r);
      continue;
    }
    s->local_busy = false;
    if (!r.status.ok()) {
      EndResponse(s, r.status);
      continue;
    }
    if (s->response.size() == 0) {
      s->response.data.swap(r.response);
      s->response.offset = 0;
    } else {
      s->response.data.append(r.response);
    }
    Respond(s);
    RunLocal(s);
  }
}

void H2Relay::Loop::Settle() {
  // Writing drains local responses (their calls may go on); going on writes more.
  while (!local_pending_.empty() || !dirty_.empty()) {
    std::vector<Stream*> pending;
    pending.swap(local_pending_);
    for (Stream* s : pending) {
      if (streams_.count(s) != 0 && s->local != nullptr) {
        RunLocal(s);
      }
    }
    FlushDirty();
  }
}

}  // namespace accord
