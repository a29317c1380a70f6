#include "frontdoor/grpc_frame.h"

#include <algorithm>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"

namespace accord::frontdoor {
namespace {

absl::Status BadFlag(uint8_t flag) {
  return absl::InvalidArgumentError(
      absl::StrCat("a message's compressed flag is ", flag, " (0 or 1)"));
}

uint32_t LengthOf(const uint8_t* prefix) {
  return (uint32_t{prefix[1]} << 24) | (uint32_t{prefix[2]} << 16) | (uint32_t{prefix[3]} << 8) |
         uint32_t{prefix[4]};
}

}  // namespace

absl::StatusOr<std::optional<MessageHead>> ReadPrefix(absl::string_view in) {
  if (in.size() < kMessagePrefixBytes) {
    return std::nullopt;
  }
  const auto* p = reinterpret_cast<const uint8_t*>(in.data());
  if (p[0] > 1) {
    return BadFlag(p[0]);
  }
  return MessageHead{p[0] == 1, LengthOf(p)};
}

absl::Status MessageScanner::Feed(absl::string_view data) {
  const auto* bytes = reinterpret_cast<const uint8_t*>(data.data());
  for (size_t i = 0; i < data.size();) {
    if (payload_left_ > 0) {
      const uint64_t take = std::min<uint64_t>(payload_left_, data.size() - i);
      payload_left_ -= take;
      i += take;
      partial_ = payload_left_ == 0 ? 0 : partial_ + take;
      continue;
    }
    prefix_[prefix_have_++] = bytes[i++];
    ++partial_;
    if (prefix_have_ < static_cast<int>(kMessagePrefixBytes)) {
      continue;
    }
    prefix_have_ = 0;
    if (prefix_[0] > 1) {
      return BadFlag(prefix_[0]);
    }
    payload_left_ = LengthOf(prefix_);
    if (payload_left_ > max_message_bytes_) {
      return absl::ResourceExhaustedError(absl::StrCat("a request message of ", payload_left_,
                                                       " bytes exceeds the limit of ",
                                                       max_message_bytes_));
    }
    ++messages_;
    if (payload_left_ == 0) {
      partial_ = 0;
    }
  }
  return absl::OkStatus();
}

}  // namespace accord::frontdoor
