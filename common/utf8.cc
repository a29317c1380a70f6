#include "common/utf8.h"

#include <cstdint>
#include <cstring>

namespace accord {

bool IsValidUtf8(absl::string_view text) {
  const auto* p = reinterpret_cast<const unsigned char*>(text.data());
  const unsigned char* end = p + text.size();
  // Strings of up to 16 bytes (keys, most values) are checked for ASCII with two loads that
  // may overlap (fixed sizes: no call to memcpy).
  if (text.size() <= 16) {
    uint64_t word = 0;
    if (text.size() >= 8) {
      uint64_t head, tail;
      std::memcpy(&head, p, 8);
      std::memcpy(&tail, end - 8, 8);
      word = head | tail;
    } else if (text.size() >= 4) {
      uint32_t head, tail;
      std::memcpy(&head, p, 4);
      std::memcpy(&tail, end - 4, 4);
      word = head | tail;
    } else {
      for (const unsigned char* q = p; q < end; ++q) {
        word |= *q;
      }
    }
    if ((word & 0x8080808080808080ULL) == 0) {
      return true;
    }
  }
  // Most strings are ASCII: one pass that only ORs the bytes together.
  uint64_t high = 0;
  const unsigned char* q = p;
  for (; end - q >= 8; q += 8) {
    uint64_t word;
    std::memcpy(&word, q, 8);
    high |= word;
  }
  for (; q < end; ++q) {
    high |= *q;
  }
  if ((high & 0x8080808080808080ULL) == 0) {
    return true;
  }
  while (p < end) {
    // ASCII runs, eight bytes at a time.
    while (end - p >= 8) {
      uint64_t word;
      std::memcpy(&word, p, 8);
      if ((word & 0x8080808080808080ULL) != 0) {
        break;
      }
      p += 8;
    }
    if (p == end) {
      return true;
    }
    const unsigned char c = *p;
    if (c < 0x80) {
      ++p;
      continue;
    }
    int length;
    uint32_t min;
    uint32_t code;
    if ((c & 0xE0) == 0xC0) {
      length = 2, min = 0x80, code = c & 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
      length = 3, min = 0x800, code = c & 0x0F;
    } else if ((c & 0xF8) == 0xF0) {
      length = 4, min = 0x10000, code = c & 0x07;
    } else {
      return false;
    }
    if (end - p < length) {
      return false;
    }
    for (int i = 1; i < length; ++i) {
      if ((p[i] & 0xC0) != 0x80) {
        return false;
      }
      code = (code << 6) | (p[i] & 0x3F);
    }
    if (code < min || code > 0x10FFFF || (code >= 0xD800 && code <= 0xDFFF)) {
      return false;
    }
    p += length;
  }
  return true;
}

}  // namespace accord
