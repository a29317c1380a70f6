#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <string>
#include <utility>
#include <vector>

#include <openssl/err.h>

#include "frontdoor/h2_relay_loop.h"
#include "frontdoor/relay_tls.h"

// A socket with an nghttp2 session (h2_relay_loop.h): bytes between the socket and the
// session, TLS, and nghttp2's callbacks handed to the loop.
namespace accord::h2relay {

Stream* StreamOf(nghttp2_session* session, int32_t id) {
  return static_cast<Stream*>(nghttp2_session_get_stream_user_data(session, id));
}

Conn::~Conn() {
  if (session_ != nullptr) {
    nghttp2_session_del(session_);
  }
  if (ssl_ != nullptr) {
    SSL_free(ssl_);
  }
  if (fd_ >= 0) {
    close(fd_);
  }
}

void Conn::OpenSession(bool server, nghttp2_on_begin_headers_callback begin,
                       nghttp2_on_header_callback header, nghttp2_on_frame_recv_callback frame,
                       nghttp2_on_data_chunk_recv_callback data,
                       nghttp2_on_stream_close_callback close,
                       const std::vector<nghttp2_settings_entry>& settings) {
  nghttp2_session_callbacks* cb = nullptr;
  nghttp2_session_callbacks_new(&cb);
  if (begin != nullptr) {
    nghttp2_session_callbacks_set_on_begin_headers_callback(cb, begin);
  }
  nghttp2_session_callbacks_set_on_header_callback(cb, header);
  nghttp2_session_callbacks_set_on_frame_recv_callback(cb, frame);
  nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cb, data);
  nghttp2_session_callbacks_set_on_stream_close_callback(cb, close);
  nghttp2_session_callbacks_set_send_data_callback(cb, &Conn::SendData);
  nghttp2_option* option = nullptr;
  nghttp2_option_new(&option);
  nghttp2_option_set_no_auto_window_update(option, 1);
  // No RFC 7540 priority tree: gRPC does not use it, and keeping it costs per stream.
  nghttp2_option_set_no_closed_streams(option, 1);
  if (server) {
    nghttp2_session_server_new2(&session_, cb, this, option);
  } else {
    nghttp2_session_client_new2(&session_, cb, this, option);
  }
  nghttp2_option_del(option);
  nghttp2_session_callbacks_del(cb);
  nghttp2_submit_settings(session_, NGHTTP2_FLAG_NONE, settings.data(), settings.size());
  nghttp2_session_set_local_window_size(session_, NGHTTP2_FLAG_NONE, 0, kConnectionWindow);
}

int Conn::Handshake(bool* want_write, std::string* error) {
  *want_write = false;
  int r = SSL_do_handshake(ssl_);
  if (r == 1) {
    if (!NegotiatedH2(ssl_)) {
      *error = "the peer did not negotiate HTTP/2 (ALPN h2)";
      return -1;
    }
    handshaken_ = true;
    ready = true;
    return 1;
  }
  int e = SSL_get_error(ssl_, r);
  if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
    *want_write = e == SSL_ERROR_WANT_WRITE;
    return 0;
  }
  unsigned long code = ERR_get_error();
  char text[256] = "connection closed during the TLS handshake";
  if (code != 0) {
    ERR_error_string_n(code, text, sizeof text);
  }
  ERR_clear_error();
  *error = text;
  return -1;
}

int Conn::SendData(nghttp2_session*, nghttp2_frame*, const uint8_t* framehd, size_t length,
                   nghttp2_data_source* source, void* user) {
  auto* self = static_cast<Conn*>(user);
  auto* s = static_cast<Stream*>(source->ptr);
  self->out_.append(reinterpret_cast<const char*>(framehd), 9);
  (self->upstream() ? s->request : s->response).MoveTo(self->out_, length);
  return 0;
}

bool Conn::ReadSome() {
  char buf[64 * 1024];
  if (ssl_ != nullptr) {
    for (int i = 0; i < 64; ++i) {  // one TLS record per SSL_read
      int n = SSL_read(ssl_, buf, sizeof buf);
      if (n > 0) {
        if (nghttp2_session_mem_recv(session_, reinterpret_cast<const uint8_t*>(buf), n) < 0) {
          return false;
        }
        continue;
      }
      int e = SSL_get_error(ssl_, n);
      ERR_clear_error();
      return e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE;
    }
    return true;
  }
  for (int i = 0; i < 16; ++i) {
    ssize_t n = read(fd_, buf, sizeof buf);
    if (n > 0) {
      ssize_t used = nghttp2_session_mem_recv(session_, reinterpret_cast<const uint8_t*>(buf), n);
      if (used < 0) {
        return false;
      }
      if (static_cast<size_t>(n) < sizeof buf) {
        return true;
      }
      continue;
    }
    if (n == 0) {
      return false;
    }
    return errno == EAGAIN || errno == EINTR;
  }
  return true;
}

bool Conn::Flush(bool* blocked) {
  *blocked = false;
  for (;;) {
    while (out_.size() - out_offset_ < kWriteChunk) {
      const uint8_t* data = nullptr;
      ssize_t n = nghttp2_session_mem_send(session_, &data);
      if (n < 0) {
        return false;
      }
      if (n == 0) {
        break;
      }
      out_.append(reinterpret_cast<const char*>(data), n);
    }
    if (out_offset_ == out_.size()) {
      out_.clear();
      out_offset_ = 0;
      return nghttp2_session_want_read(session_) || nghttp2_session_want_write(session_);
    }
    if (ssl_ != nullptr) {
      int w =
          SSL_write(ssl_, out_.data() + out_offset_, static_cast<int>(out_.size() - out_offset_));
      if (w <= 0) {
        int e = SSL_get_error(ssl_, w);
        ERR_clear_error();
        if (e == SSL_ERROR_WANT_WRITE || e == SSL_ERROR_WANT_READ) {
          *blocked = true;
          return true;
        }
        return false;
      }
      out_offset_ += w;
      continue;
    }
    ssize_t w = send(fd_, out_.data() + out_offset_, out_.size() - out_offset_, MSG_NOSIGNAL);
    if (w < 0) {
      if (errno == EAGAIN || errno == EINTR) {
        *blocked = true;
        return true;
      }
      return false;
    }
    out_offset_ += w;
  }
}

ClientConn::ClientConn(H2Relay::Loop* loop, int fd, frontdoor::ConnectionLimits* limits,
                       std::string peer)
    : Conn(loop, fd), limits_(limits), peer_(std::move(peer)) {
  const RelayOptions& o = loop->options();
  OpenSession(
      true, &ClientConn::BeginHeaders, &ClientConn::OnHeader, &ClientConn::OnFrame,
      &OnDataTo<&H2Relay::Loop::OnRequestData>, &OnCloseTo<&H2Relay::Loop::OnClientStreamClosed>,
      {{NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS, static_cast<uint32_t>(o.max_concurrent_streams)},
       {NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, kRequestStreamWindow},
       {NGHTTP2_SETTINGS_MAX_HEADER_LIST_SIZE, static_cast<uint32_t>(o.max_header_bytes)},
       {NGHTTP2_SETTINGS_NO_RFC7540_PRIORITIES, 1}});
  opened = last_active = loop->Now();
}

int ClientConn::BeginHeaders(nghttp2_session* session, const nghttp2_frame* frame, void* user) {
  if (frame->hd.type != NGHTTP2_HEADERS || frame->headers.cat != NGHTTP2_HCAT_REQUEST) {
    return 0;
  }
  auto* self = static_cast<ClientConn*>(user);
  Stream* s = self->loop_->NewStream(self, frame->hd.stream_id);
  nghttp2_session_set_stream_user_data(session, frame->hd.stream_id, s);
  return 0;
}

int ClientConn::OnHeader(nghttp2_session* session, const nghttp2_frame* frame, const uint8_t* name,
                         size_t name_length, const uint8_t* value, size_t value_length, uint8_t,
                         void* user) {
  Stream* s = StreamOf(session, frame->hd.stream_id);
  if (s == nullptr || frame->hd.type != NGHTTP2_HEADERS ||
      frame->headers.cat != NGHTTP2_HCAT_REQUEST) {
    return 0;  // request trailers carry nothing a gRPC call needs
  }
  auto* self = static_cast<ClientConn*>(user);
  const size_t limit = self->loop_->options().max_header_bytes;
  s->header_bytes += name_length + value_length;
  if (s->header_bytes <= limit) {
    s->headers.emplace_back(std::string(reinterpret_cast<const char*>(name), name_length),
                            std::string(reinterpret_cast<const char*>(value), value_length));
    return 0;
  }
  // Past the limit the call is refused (RESOURCE_EXHAUSTED, OnRequest). A block that goes on
  // well past it is not decoded further: a few KB of HPACK can name one 4 KB table entry
  // thousands of times (an HPACK bomb), and every field decoded is checked byte by byte.
  // nghttp2 resets the stream and skips the rest of the block; a connection that keeps
  // sending such blocks is closed.
  if (s->header_bytes > kHeaderBlockCutoff * limit) {
    return ++self->oversized_blocks > kMaxOversizedBlocks ? NGHTTP2_ERR_CALLBACK_FAILURE
                                                          : NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
  }
  return 0;
}

int ClientConn::OnFrame(nghttp2_session* session, const nghttp2_frame* frame, void* user) {
  auto* self = static_cast<ClientConn*>(user);
  if (frame->hd.type == NGHTTP2_SETTINGS) {
    self->greeted = true;
  }
  Stream* s = frame->hd.stream_id != 0 ? StreamOf(session, frame->hd.stream_id) : nullptr;
  if (s == nullptr) {
    return 0;
  }
  const bool end = (frame->hd.flags & NGHTTP2_FLAG_END_STREAM) != 0;
  if (frame->hd.type == NGHTTP2_HEADERS && frame->headers.cat == NGHTTP2_HCAT_REQUEST) {
    self->loop_->OnRequest(s, end);
  } else if (end && (frame->hd.type == NGHTTP2_DATA || frame->hd.type == NGHTTP2_HEADERS)) {
    self->loop_->OnRequestData(s, nullptr, 0);
  }
  return 0;
}

Upstream::Upstream(H2Relay::Loop* loop, int fd, int target, const sockaddr_storage& address)
    : Conn(loop, fd), target(target), address(address) {
  OpenSession(false, nullptr, &Upstream::OnHeader, &Upstream::OnFrame,
              &OnDataTo<&H2Relay::Loop::OnResponseData>,
              &OnCloseTo<&H2Relay::Loop::OnUpstreamStreamClosed>,
              {{NGHTTP2_SETTINGS_ENABLE_PUSH, 0},
               {NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, kResponseStreamWindow},
               {NGHTTP2_SETTINGS_NO_RFC7540_PRIORITIES, 1}});
  connected = false;
  ready = false;
  started = heard = loop->Now();
}

int Upstream::OnHeader(nghttp2_session* session, const nghttp2_frame* frame, const uint8_t* name,
                       size_t name_length, const uint8_t* value, size_t value_length, uint8_t,
                       void*) {
  Stream* s = StreamOf(session, frame->hd.stream_id);
  if (s == nullptr || frame->hd.type != NGHTTP2_HEADERS) {
    return 0;
  }
  auto& into = frame->headers.cat == NGHTTP2_HCAT_RESPONSE ? s->headers : s->trailers;
  into.emplace_back(std::string(reinterpret_cast<const char*>(name), name_length),
                    std::string(reinterpret_cast<const char*>(value), value_length));
  return 0;
}

int Upstream::OnFrame(nghttp2_session* session, const nghttp2_frame* frame, void* user) {
  auto* self = static_cast<Upstream*>(user);
  if (frame->hd.type == NGHTTP2_GOAWAY) {
    self->going_away = true;
    return 0;
  }
  self->heard_recently = true;
  Stream* s = frame->hd.stream_id != 0 ? StreamOf(session, frame->hd.stream_id) : nullptr;
  if (s == nullptr) {
    return 0;
  }
  const bool end = (frame->hd.flags & NGHTTP2_FLAG_END_STREAM) != 0;
  if (frame->hd.type == NGHTTP2_HEADERS && frame->headers.cat == NGHTTP2_HCAT_RESPONSE) {
    self->loop_->OnResponseHeaders(s, end);
  } else if (end && (frame->hd.type == NGHTTP2_DATA || frame->hd.type == NGHTTP2_HEADERS)) {
    self->loop_->OnResponseEnd(s);
  }
  return 0;
}

ssize_t ReadRequestCallback(nghttp2_session*, int32_t, uint8_t*, size_t length, uint32_t* flags,
                            nghttp2_data_source* source, void* user) {
  return static_cast<Conn*>(user)->loop()->ReadRequest(static_cast<Stream*>(source->ptr), length,
                                                       flags);
}

ssize_t ReadResponseCallback(nghttp2_session*, int32_t, uint8_t*, size_t length, uint32_t* flags,
                             nghttp2_data_source* source, void* user) {
  return static_cast<Conn*>(user)->loop()->ReadResponse(static_cast<Stream*>(source->ptr), length,
                                                        flags);
}

}  // namespace accord::h2relay
