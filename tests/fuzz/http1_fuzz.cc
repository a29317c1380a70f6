// The HTTP/1.1 decoder fed arbitrary bytes: decoding them whole and in pieces of any size must
// give the same requests and the same error (a decoder that depends on how reads split the
// stream lets a request be smuggled), and never crash.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include "frontdoor/http1_codec.h"

namespace {

struct Decoded {
  std::vector<accord::frontdoor::Http1Request> requests;
  int error = 0;
};

Decoded Decode(absl::string_view bytes, size_t step) {
  accord::frontdoor::Http1Decoder decoder({.max_header_bytes = 512, .max_body_bytes = 256});
  Decoded d;
  for (size_t at = 0; at < bytes.size() && d.error == 0; at += step) {
    if (auto e = decoder.Feed(bytes.substr(at, step), d.requests)) {
      d.error = e->status;
    }
  }
  return d;
}

bool Same(const accord::frontdoor::Http1Request& a, const accord::frontdoor::Http1Request& b) {
  return a.method == b.method && a.target == b.target && a.headers == b.headers &&
         a.body == b.body && a.keep_alive == b.keep_alive && a.version_minor == b.version_minor;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) {
    return 0;
  }
  const size_t step = data[0] % 32 + 1;
  const absl::string_view bytes(reinterpret_cast<const char*>(data) + 1, size - 1);
  const Decoded whole = Decode(bytes, bytes.size() + 1);
  const Decoded split = Decode(bytes, step);
  if (whole.error != split.error || whole.requests.size() != split.requests.size()) {
    std::abort();
  }
  for (size_t i = 0; i < whole.requests.size(); ++i) {
    if (!Same(whole.requests[i], split.requests[i])) {
      std::abort();
    }
  }
  return 0;
}
