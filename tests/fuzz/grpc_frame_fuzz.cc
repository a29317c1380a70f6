// The gRPC framer, differentially: the scanner fed the bytes in pieces (the relay's way) must
// agree with reading the prefixes one after another over the whole input (ReadPrefix), on
// every message count, the bytes of the message under way, and the error.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "absl/strings/string_view.h"

#include "frontdoor/grpc_frame.h"

namespace {

constexpr size_t kLimit = 1024;

struct Reading {
  absl::Status status;
  uint64_t messages = 0;
  uint64_t partial = 0;
};

// Whole messages read from the front, in order.
Reading ReadWhole(absl::string_view in) {
  Reading r;
  while (!in.empty()) {
    auto head = accord::frontdoor::ReadPrefix(in);
    if (!head.ok()) {
      r.status = head.status();
      return r;
    }
    if (!head->has_value()) {
      r.partial = in.size();
      return r;
    }
    if ((*head)->length > kLimit) {
      r.status = absl::ResourceExhaustedError("over");
      return r;
    }
    ++r.messages;
    const size_t whole = accord::frontdoor::kMessagePrefixBytes + (*head)->length;
    if (in.size() < whole) {
      r.partial = in.size();
      return r;
    }
    in.remove_prefix(whole);
  }
  return r;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) {
    return 0;
  }
  const size_t step = data[0] % 16 + 1;
  const absl::string_view in(reinterpret_cast<const char*>(data) + 1, size - 1);
  accord::frontdoor::MessageScanner scanner(kLimit);
  absl::Status status;
  for (size_t at = 0; at < in.size() && status.ok(); at += step) {
    status = scanner.Feed(in.substr(at, step));
  }
  const Reading whole = ReadWhole(in);
  if (status.code() != whole.status.code()) {
    std::abort();
  }
  if (status.ok() &&
      (scanner.messages() != whole.messages || scanner.partial_bytes() != whole.partial)) {
    std::abort();
  }
  // Written back, the messages read are the bytes they came from.
  if (status.ok() && whole.partial == 0) {
    std::string out;
    absl::string_view rest = in;
    while (!rest.empty()) {
      auto head = accord::frontdoor::ReadPrefix(rest);
      const absl::string_view payload =
          rest.substr(accord::frontdoor::kMessagePrefixBytes, (*head)->length);
      accord::frontdoor::AppendMessage(
          out, [&](std::string& o) { o.append(payload.data(), payload.size()); },
          (*head)->compressed);
      rest.remove_prefix(accord::frontdoor::kMessagePrefixBytes + payload.size());
    }
    if (out != in) {
      std::abort();
    }
  }
  return 0;
}
