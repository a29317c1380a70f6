#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

// gRPC message framing (the "Length-Prefixed-Message" of the gRPC HTTP/2 protocol): a flag
// byte (1: compressed with the call's grpc-encoding), a 4-byte big-endian length, then the
// payload. This is the only place the 5-byte prefix is read or written.
namespace accord::frontdoor {

inline constexpr size_t kMessagePrefixBytes = 5;

// Appends one message to `out`: the prefix, then the payload `write` appends to `out`.
template <typename Write>
void AppendMessage(std::string& out, Write write, bool compressed = false) {
  const size_t at = out.size();
  out.append(kMessagePrefixBytes, '\0');
  write(out);
  const size_t length = out.size() - at - kMessagePrefixBytes;
  out[at] = compressed ? 1 : 0;
  for (int i = 0; i < 4; ++i) {
    out[at + 1 + i] = static_cast<char>((length >> (8 * (3 - i))) & 0xff);
  }
}

// One message's prefix.
struct MessageHead {
  bool compressed = false;
  uint32_t length = 0;  // of the payload
};

// The prefix at the start of `in`: nullopt while fewer than 5 bytes are there. A flag byte
// other than 0 or 1 is INVALID_ARGUMENT.
absl::StatusOr<std::optional<MessageHead>> ReadPrefix(absl::string_view in);

// Follows the framing of a byte stream as it passes (the front end relays bytes without
// buffering whole messages): each prefix is checked the moment it is complete.
class MessageScanner {
 public:
  explicit MessageScanner(size_t max_message_bytes) : max_message_bytes_(max_message_bytes) {}

  // Takes the next bytes of the stream. RESOURCE_EXHAUSTED when a message's length passes the
  // limit, INVALID_ARGUMENT for a bad flag byte; the scanner stops there.
  absl::Status Feed(absl::string_view data);
  // Messages whose prefix was complete so far.
  uint64_t messages() const { return messages_; }
  // Bytes of the message under way (prefix included) received so far: 0 between messages.
  uint64_t partial_bytes() const { return partial_; }

 private:
  const size_t max_message_bytes_;
  uint8_t prefix_[kMessagePrefixBytes] = {};
  int prefix_have_ = 0;
  uint64_t payload_left_ = 0;
  uint64_t partial_ = 0;
  uint64_t messages_ = 0;
};

}  // namespace accord::frontdoor
