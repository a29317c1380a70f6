#include "gateway/json_direct.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <limits>
#include <memory>
#include <mutex>
#include <unordered_map>
#include <vector>

#include "absl/algorithm/container.h"
#include "absl/base/casts.h"
#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/container/inlined_vector.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/stubs/strutil.h"

namespace accord::gateway {
namespace {

using google::protobuf::Descriptor;
using google::protobuf::FieldDescriptor;
using google::protobuf::Message;

constexpr int kMaxDepth = 64;
// Objects and arrays within each other the reader takes (the gateway refuses deeper JSON:
// http_rules.h, kMaxJsonDepth).
constexpr int kMaxNesting = 32;
// The timestamps proto3 JSON has: 0001-01-01T00:00:00Z to 9999-12-31T23:59:59.999999999Z.
constexpr int64_t kMinSeconds = -62135596800;
constexpr int64_t kMaxSeconds = 253402300799;
// Integers a double holds exactly; a larger integer literal is declined (json_util checks the
// conversion its own way).
constexpr int64_t kExactInteger = int64_t{1} << 53;

// `T` made from a message type once, the first time it is asked for, and kept for the process.
template <typename T>
const T& KeptFor(const Descriptor* type) {
  static std::mutex* mu = new std::mutex();
  static auto* kept = new std::unordered_map<const Descriptor*, std::unique_ptr<T>>();
  std::lock_guard lock(*mu);
  std::unique_ptr<T>& made = (*kept)[type];
  if (made == nullptr) {
    made = std::make_unique<T>(type);
  }
  return *made;
}

// A message type's fields by JSON name and by proto name.
class FieldNames {
 public:
  explicit FieldNames(const Descriptor* type) {
    for (int i = 0; i < type->field_count(); ++i) {
      const FieldDescriptor* field = type->field(i);
      by_name_.emplace(field->json_name(), field);
      by_name_.emplace(field->name(), field);
    }
  }

  const FieldDescriptor* Find(absl::string_view key) const {
    auto it = by_name_.find(key);
    return it == by_name_.end() ? nullptr : it->second;
  }

 private:
  absl::flat_hash_map<std::string, const FieldDescriptor*> by_name_;
};

void AppendUtf8(uint32_t cp, std::string& out) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

// The code point of the UTF-8 sequence at `p` (before `end`) and its length; 0 when the bytes
// are not well-formed UTF-8 (overlong forms, surrogates and values past U+10FFFF included).
int DecodeUtf8(const char* p, const char* end, uint32_t& cp) {
  const auto b0 = static_cast<unsigned char>(*p);
  int n;
  uint32_t min;
  if (b0 < 0x80) {
    cp = b0;
    return 1;
  } else if ((b0 & 0xE0) == 0xC0) {
    n = 2, cp = b0 & 0x1F, min = 0x80;
  } else if ((b0 & 0xF0) == 0xE0) {
    n = 3, cp = b0 & 0x0F, min = 0x800;
  } else if ((b0 & 0xF8) == 0xF0) {
    n = 4, cp = b0 & 0x07, min = 0x10000;
  } else {
    return 0;
  }
  if (end - p < n) {
    return 0;
  }
  for (int i = 1; i < n; ++i) {
    const auto b = static_cast<unsigned char>(p[i]);
    if ((b & 0xC0) != 0x80) {
      return 0;
    }
    cp = (cp << 6) | (b & 0x3F);
  }
  if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp < 0xE000)) {
    return 0;
  }
  return n;
}

// The code points json_util writes as \u escapes besides the ASCII controls: C1 controls and
// Unicode's invisible format characters.
bool EscapedCodePoint(uint32_t cp) {
  return (cp >= 0x80 && cp <= 0x9F) || cp == 0xAD || (cp >= 0x600 && cp <= 0x603) || cp == 0x6DD ||
         cp == 0x70F || cp == 0x17B4 || cp == 0x17B5 || (cp >= 0x200B && cp <= 0x200F) ||
         (cp >= 0x2028 && cp <= 0x202E) || (cp >= 0x2060 && cp <= 0x2064) ||
         (cp >= 0x206A && cp <= 0x206F) || cp == 0xFEFF || (cp >= 0xFFF9 && cp <= 0xFFFB) ||
         (cp >= 0x1D173 && cp <= 0x1D17A) || cp == 0xE0001 || (cp >= 0xE0020 && cp <= 0xE007F);
}

void AppendEscape(uint32_t unit, std::string& out) {
  constexpr char kHex[] = "0123456789abcdef";
  out += "\\u";
  out += kHex[(unit >> 12) & 0xF];
  out += kHex[(unit >> 8) & 0xF];
  out += kHex[(unit >> 4) & 0xF];
  out += kHex[unit & 0xF];
}

// `s` as a JSON string, escaped as json_util escapes it; false when `s` is not UTF-8.
bool AppendString(absl::string_view s, std::string& out) {
  out += '"';
  const char* p = s.data();
  const char* end = p + s.size();
  while (p < end) {
    const auto c = static_cast<unsigned char>(*p);
    if (c >= 0x20 && c < 0x7F && c != '"' && c != '\\' && c != '<' && c != '>') {
      const char* run = p;
      while (p < end && static_cast<unsigned char>(*p) >= 0x20 &&
             static_cast<unsigned char>(*p) < 0x7F && *p != '"' && *p != '\\' && *p != '<' &&
             *p != '>') {
        ++p;
      }
      out.append(run, p);
      continue;
    }
    switch (c) {
      case '"':
        out += "\\\"";
        ++p;
        continue;
      case '\\':
        out += "\\\\";
        ++p;
        continue;
      case '\b':
        out += "\\b";
        ++p;
        continue;
      case '\f':
        out += "\\f";
        ++p;
        continue;
      case '\n':
        out += "\\n";
        ++p;
        continue;
      case '\r':
        out += "\\r";
        ++p;
        continue;
      case '\t':
        out += "\\t";
        ++p;
        continue;
      default:
        break;
    }
    uint32_t cp;
    const int n = DecodeUtf8(p, end, cp);
    if (n == 0) {
      return false;
    }
    if (cp < 0x80 || EscapedCodePoint(cp)) {
      if (cp >= 0x10000) {
        AppendEscape(0xD800 + ((cp - 0x10000) >> 10), out);
        AppendEscape(0xDC00 + ((cp - 0x10000) & 0x3FF), out);
      } else {
        AppendEscape(cp, out);
      }
    } else {
      out.append(p, n);
    }
    p += n;
  }
  out += '"';
  return true;
}

// ---------------------------------------------------------------------------------------------
// Reading

// The bytes a JSON string holds as they are: printable ASCII but the quote and the backslash.
constexpr std::array<bool, 256> kPlain = [] {
  std::array<bool, 256> plain{};
  for (int c = 0x20; c < 0x80; ++c) {
    plain[c] = c != '"' && c != '\\';
  }
  return plain;
}();

class Parser {
 public:
  Parser(absl::string_view text, std::string& out)
      : p_(text.data()), end_(text.data() + text.size()), out_(out) {}

  bool Document(const Descriptor* type) {
    if (!MessageValue(type)) {
      return false;
    }
    SkipSpace();
    return p_ == end_;
  }

 private:
  void SkipSpace() {
    while (p_ < end_ && (*p_ == ' ' || *p_ == '\n' || *p_ == '\r' || *p_ == '\t')) {
      ++p_;
    }
  }
  // Skips space, then takes `c` if it is next.
  bool Take(char c) {
    SkipSpace();
    if (p_ < end_ && *p_ == c) {
      ++p_;
      return true;
    }
    return false;
  }
  // Takes an opening brace or bracket: false past kMaxNesting levels.
  bool Open(char c) { return Take(c) && ++nesting_ <= kMaxNesting; }
  bool Close(char c) {
    if (!Take(c)) {
      return false;
    }
    --nesting_;
    return true;
  }
  char Peek() {
    SkipSpace();
    return p_ < end_ ? *p_ : '\0';
  }
  bool Literal(absl::string_view word) {
    if (static_cast<size_t>(end_ - p_) < word.size() ||
        absl::string_view(p_, word.size()) != word) {
      return false;
    }
    p_ += word.size();
    return true;
  }

  // ---- the wire ----
  void Varint(uint64_t v) {
    while (v >= 0x80) {
      out_ += static_cast<char>(v | 0x80);
      v >>= 7;
    }
    out_ += static_cast<char>(v);
  }
  void Tag(int number, int wire_type) {
    Varint((static_cast<uint64_t>(number) << 3) | static_cast<uint64_t>(wire_type));
  }
  void Fixed(uint64_t v, int bytes) {
    for (int i = 0; i < bytes; ++i) {
      out_ += static_cast<char>(v >> (8 * i));
    }
  }
  // A length-delimited field: its tag, then what `content` writes, its length put before it
  // (in the byte kept for it, which most lengths fit; longer ones move the content over).
  template <typename F>
  bool Delimited(int number, F content) {
    Tag(number, 2);
    const size_t at = out_.size();
    out_ += '\0';
    if (!content()) {
      return false;
    }
    uint64_t v = out_.size() - at - 1;
    if (v < 0x80) {
      out_[at] = static_cast<char>(v);
      return true;
    }
    char length[10];
    size_t n = 0;
    for (;; v >>= 7) {
      length[n++] = static_cast<char>(v >= 0x80 ? (v | 0x80) : v);
      if (v < 0x80) {
        break;
      }
    }
    out_.replace(at, 1, length, n);
    return true;
  }

  // The fields of a message of `type` (an object, or a well-known type's own form).
  bool MessageValue(const Descriptor* type) {
    switch (type->well_known_type()) {
      case Descriptor::WELLKNOWNTYPE_UNSPECIFIED:
        return Fields(type);
      case Descriptor::WELLKNOWNTYPE_TIMESTAMP:
        return TimestampValue();
      case Descriptor::WELLKNOWNTYPE_STRUCT:
        return StructValue();
      case Descriptor::WELLKNOWNTYPE_VALUE:
        return Peek() != 'n' && AnyValue();
      case Descriptor::WELLKNOWNTYPE_LISTVALUE:
        return ListValueOf();
      default:
        return false;
    }
  }

  bool Fields(const Descriptor* type) {
    if (!Open('{')) {
      return false;
    }
    if (Close('}')) {
      return true;
    }
    const FieldNames& names = KeptFor<FieldNames>(type);
    absl::InlinedVector<int, 16> seen;        // field numbers
    absl::InlinedVector<int, 4> seen_oneofs;  // oneof indices
    do {
      SkipSpace();
      if (!String(key_)) {
        return false;
      }
      const FieldDescriptor* field = names.Find(key_);
      if (field == nullptr || absl::c_linear_search(seen, field->number())) {
        return false;
      }
      seen.push_back(field->number());
      if (const auto* oneof = field->containing_oneof(); oneof != nullptr) {
        if (absl::c_linear_search(seen_oneofs, oneof->index())) {
          return false;
        }
        seen_oneofs.push_back(oneof->index());
      }
      if (!Take(':') || !FieldValue(field)) {
        return false;
      }
    } while (Take(','));
    return Close('}');
  }

  bool FieldValue(const FieldDescriptor* field) {
    if (field->is_map() || Peek() == 'n') {
      return false;
    }
    if (!field->is_repeated()) {
      return OneValue(field);
    }
    if (!Open('[')) {
      return false;
    }
    if (Close(']')) {
      return true;
    }
    do {
      if (Peek() == 'n' || !OneValue(field)) {
        return false;
      }
    } while (Take(','));
    return Close(']');
  }

  // One value of `field` (an element of a repeated one), with its tag: repeated scalars are
  // written unpacked, which every parser takes.
  bool OneValue(const FieldDescriptor* field) {
    const int number = field->number();
    SkipSpace();
    switch (field->type()) {
      case FieldDescriptor::TYPE_MESSAGE:
        return Delimited(number, [&] { return MessageValue(field->message_type()); });
      case FieldDescriptor::TYPE_STRING:
        return Delimited(number, [&] { return String(out_, /*append=*/true); });
      case FieldDescriptor::TYPE_BOOL:
        if (Literal("true")) {
          Tag(number, 0);
          Varint(1);
          return true;
        }
        if (Literal("false")) {
          Tag(number, 0);
          Varint(0);
          return true;
        }
        return false;
      case FieldDescriptor::TYPE_ENUM: {
        if (!String(key_)) {
          return false;
        }
        const google::protobuf::EnumValueDescriptor* value =
            field->enum_type()->FindValueByName(key_);
        if (value == nullptr) {
          return false;
        }
        Tag(number, 0);
        Varint(static_cast<uint64_t>(static_cast<int64_t>(value->number())));
        return true;
      }
      case FieldDescriptor::TYPE_DOUBLE: {
        double d;
        if (!Number(d)) {
          return false;
        }
        Tag(number, 1);
        Fixed(absl::bit_cast<uint64_t>(d), 8);
        return true;
      }
      default:
        return Integral(field);
    }
  }

  // The integer types: in range for the field's type, or declined.
  bool Integral(const FieldDescriptor* field) {
    int64_t v;
    const bool is64 = field->cpp_type() == FieldDescriptor::CPPTYPE_INT64 ||
                      field->cpp_type() == FieldDescriptor::CPPTYPE_UINT64;
    if (!Integer(v, is64)) {
      return false;
    }
    const int number = field->number();
    switch (field->type()) {
      case FieldDescriptor::TYPE_INT32:
      case FieldDescriptor::TYPE_SINT32:
      case FieldDescriptor::TYPE_SFIXED32:
        if (v < INT32_MIN || v > INT32_MAX) {
          return false;
        }
        break;
      case FieldDescriptor::TYPE_UINT32:
      case FieldDescriptor::TYPE_FIXED32:
        if (v < 0 || v > UINT32_MAX) {
          return false;
        }
        break;
      case FieldDescriptor::TYPE_UINT64:
      case FieldDescriptor::TYPE_FIXED64:
        if (v < 0) {
          return false;
        }
        break;
      case FieldDescriptor::TYPE_INT64:
      case FieldDescriptor::TYPE_SINT64:
      case FieldDescriptor::TYPE_SFIXED64:
        break;
      default:  // float, bytes, groups: json_util's
        return false;
    }
    switch (field->type()) {
      case FieldDescriptor::TYPE_SINT32:
      case FieldDescriptor::TYPE_SINT64:
        Tag(number, 0);
        Varint((static_cast<uint64_t>(v) << 1) ^ static_cast<uint64_t>(v >> 63));
        return true;
      case FieldDescriptor::TYPE_SFIXED32:
      case FieldDescriptor::TYPE_FIXED32:
        Tag(number, 5);
        Fixed(static_cast<uint64_t>(v), 4);
        return true;
      case FieldDescriptor::TYPE_SFIXED64:
      case FieldDescriptor::TYPE_FIXED64:
        Tag(number, 1);
        Fixed(static_cast<uint64_t>(v), 8);
        return true;
      default:
        Tag(number, 0);
        Varint(static_cast<uint64_t>(v));  // negative int32s sign-extended, as protobuf does
        return true;
    }
  }

  // A JSON string into `out`, unescaped; false on a control character, a malformed escape, a
  // lone surrogate or bytes that are not UTF-8.
  bool String(std::string& out, bool append = false) {
    if (!append) {
      out.clear();
    }
    if (p_ >= end_ || *p_ != '"') {
      return false;
    }
    ++p_;
    while (p_ < end_) {
      const char* run = p_;
      while (p_ < end_ && kPlain[static_cast<unsigned char>(*p_)]) {
        ++p_;
      }
      out.append(run, p_);
      if (p_ >= end_) {
        return false;
      }
      const auto c = static_cast<unsigned char>(*p_);
      if (c == '"') {
        ++p_;
        return true;
      }
      if (c < 0x20) {
        return false;
      }
      if (c >= 0x80) {
        uint32_t cp;
        const int n = DecodeUtf8(p_, end_, cp);
        if (n == 0) {
          return false;
        }
        out.append(p_, n);
        p_ += n;
        continue;
      }
      // a backslash
      if (end_ - p_ < 2) {
        return false;
      }
      const char e = p_[1];
      p_ += 2;
      switch (e) {
        case '"':
        case '\\':
        case '/':
          out += e;
          break;
        case 'b':
          out += '\b';
          break;
        case 'f':
          out += '\f';
          break;
        case 'n':
          out += '\n';
          break;
        case 'r':
          out += '\r';
          break;
        case 't':
          out += '\t';
          break;
        case 'u': {
          uint32_t unit;
          if (!Hex4(unit)) {
            return false;
          }
          if (unit >= 0xDC00 && unit < 0xE000) {
            return false;
          }
          if (unit >= 0xD800 && unit < 0xDC00) {
            uint32_t low;
            if (!Literal("\\u") || !Hex4(low) || low < 0xDC00 || low >= 0xE000) {
              return false;
            }
            unit = 0x10000 + ((unit - 0xD800) << 10) + (low - 0xDC00);
          }
          AppendUtf8(unit, out);
          break;
        }
        default:
          return false;
      }
    }
    return false;
  }

  bool Hex4(uint32_t& unit) {
    if (end_ - p_ < 4) {
      return false;
    }
    unit = 0;
    for (int i = 0; i < 4; ++i) {
      const char c = p_[i];
      unit <<= 4;
      if (c >= '0' && c <= '9') {
        unit |= c - '0';
      } else if (c >= 'a' && c <= 'f') {
        unit |= c - 'a' + 10;
      } else if (c >= 'A' && c <= 'F') {
        unit |= c - 'A' + 10;
      } else {
        return false;
      }
    }
    p_ += 4;
    return true;
  }

  // A JSON number's text: -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?; `integer` when it
  // has neither fraction nor exponent.
  bool NumberText(absl::string_view& text, bool& integer) {
    const char* start = p_;
    const char* q = p_;
    auto digits = [&] {
      const char* from = q;
      while (q < end_ && *q >= '0' && *q <= '9') {
        ++q;
      }
      return q > from;
    };
    if (q < end_ && *q == '-') {
      ++q;
    }
    if (q < end_ && *q == '0') {
      ++q;
    } else if (!digits()) {
      return false;
    }
    integer = true;
    if (q < end_ && *q == '.') {
      ++q;
      integer = false;
      if (!digits()) {
        return false;
      }
    }
    if (q < end_ && (*q == 'e' || *q == 'E')) {
      ++q;
      integer = false;
      if (q < end_ && (*q == '+' || *q == '-')) {
        ++q;
      }
      if (!digits()) {
        return false;
      }
    }
    text = absl::string_view(start, q - start);
    p_ = q;
    return true;
  }

  // An integer literal (or, when `quoted_too`, one in a string, as int64 fields are written);
  // "-0" and values out of int64 are declined.
  bool Integer(int64_t& v, bool quoted_too) {
    const bool quoted = quoted_too && p_ < end_ && *p_ == '"';
    if (quoted) {
      ++p_;
    }
    absl::string_view text;
    bool integer;
    if (!NumberText(text, integer) || !integer || text == "-0") {
      return false;
    }
    if (quoted && !Literal("\"")) {
      return false;
    }
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
    return ec == std::errc() && end == text.data() + text.size();
  }

  // A number literal as a double: integers only where a double holds them exactly, others
  // only when finite and not underflowing.
  bool Number(double& d) {
    absl::string_view text;
    bool integer;
    if (!NumberText(text, integer) || text == "-0") {
      return false;
    }
    if (integer) {
      int64_t v;
      const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
      if (ec != std::errc() || v > kExactInteger || v < -kExactInteger) {
        return false;
      }
      d = static_cast<double>(v);
      return true;
    }
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), d);
    return ec == std::errc() && end == text.data() + text.size();
  }

  // An RFC 3339 timestamp as proto3 JSON writes it: YYYY-MM-DDTHH:MM:SS[.1-9 digits] then Z or
  // an offset +HH:MM / -HH:MM.
  // Timestamp's fields: seconds (1) and nanos (2), left out when 0 as protobuf does.
  bool TimestampValue() {
    SkipSpace();
    if (!String(key_)) {
      return false;
    }
    const absl::string_view s = key_;
    size_t i = 0;
    auto num = [&](int width, int& out) {
      if (s.size() - i < static_cast<size_t>(width)) {
        return false;
      }
      out = 0;
      for (int k = 0; k < width; ++k, ++i) {
        if (s[i] < '0' || s[i] > '9') {
          return false;
        }
        out = out * 10 + (s[i] - '0');
      }
      return true;
    };
    auto sep = [&](char c) { return i < s.size() && s[i++] == c; };
    int year, month, day, hour, minute, second;
    if (!num(4, year) || !sep('-') || !num(2, month) || !sep('-') || !num(2, day) || !sep('T') ||
        !num(2, hour) || !sep(':') || !num(2, minute) || !sep(':') || !num(2, second)) {
      return false;
    }
    int nanos = 0;
    if (i < s.size() && s[i] == '.') {
      ++i;
      int digits = 0;
      while (i < s.size() && s[i] >= '0' && s[i] <= '9') {
        nanos = nanos * 10 + (s[i++] - '0');
        if (++digits > 9) {
          return false;
        }
      }
      if (digits == 0) {
        return false;
      }
      for (; digits < 9; ++digits) {
        nanos *= 10;
      }
    }
    int64_t offset = 0;
    if (i < s.size() && s[i] == 'Z') {
      ++i;
    } else if (i < s.size() && (s[i] == '+' || s[i] == '-')) {
      const int sign = s[i++] == '+' ? 1 : -1;
      int oh, om;
      if (!num(2, oh) || !sep(':') || !num(2, om) || oh > 23 || om > 59) {
        return false;
      }
      offset = sign * (oh * 3600 + om * 60);
    } else {
      return false;
    }
    if (i != s.size() || month < 1 || month > 12 || day < 1 || hour > 23 || minute > 59 ||
        second > 59) {
      return false;
    }
    const absl::CivilSecond civil(year, month, day, hour, minute, second);
    if (civil.year() != year || civil.month() != month || civil.day() != day) {
      return false;  // 2026-02-30 and the like
    }
    const int64_t seconds =
        absl::ToUnixSeconds(absl::FromCivil(civil, absl::UTCTimeZone())) - offset;
    if (seconds < kMinSeconds || seconds > kMaxSeconds) {
      return false;
    }
    if (seconds != 0) {
      Tag(1, 0);
      Varint(static_cast<uint64_t>(seconds));
    }
    if (nanos != 0) {
      Tag(2, 0);
      Varint(static_cast<uint64_t>(nanos));
    }
    return true;
  }

  // Struct's field 1, map<string, Value>: an entry (key 1, value 2) per member. A key given
  // twice is declined (json_util's rule then applies).
  bool StructValue() {
    if (!Open('{')) {
      return false;
    }
    if (Close('}')) {
      return true;
    }
    absl::InlinedVector<std::string, 8> keys;  // searched in turn while few
    absl::flat_hash_set<std::string> many;
    do {
      SkipSpace();
      if (!String(key_)) {
        return false;
      }
      if (many.empty() && keys.size() < 16) {
        if (absl::c_linear_search(keys, key_)) {
          return false;
        }
        keys.push_back(key_);
      } else {
        if (many.empty()) {
          many.insert(keys.begin(), keys.end());
        }
        if (!many.insert(key_).second) {
          return false;
        }
      }
      if (!Take(':')) {
        return false;
      }
      const bool entry = Delimited(1, [&] {
        Tag(1, 2);
        Varint(key_.size());
        out_ += key_;
        return Delimited(2, [&] { return AnyValue(); });
      });
      if (!entry) {
        return false;
      }
    } while (Take(','));
    return Close('}');
  }

  // ListValue's field 1, repeated Value.
  bool ListValueOf() {
    if (!Open('[')) {
      return false;
    }
    if (Close(']')) {
      return true;
    }
    do {
      if (!Delimited(1, [&] { return AnyValue(); })) {
        return false;
      }
    } while (Take(','));
    return Close(']');
  }

  // Value's oneof: null_value 1, number_value 2, string_value 3, bool_value 4, struct_value 5,
  // list_value 6.
  bool AnyValue() {
    switch (Peek()) {
      case 'n':
        if (!Literal("null")) {
          return false;
        }
        Tag(1, 0);
        Varint(0);
        return true;
      case 't':
      case 'f': {
        const bool b = Literal("true");
        if (!b && !Literal("false")) {
          return false;
        }
        Tag(4, 0);
        Varint(b ? 1 : 0);
        return true;
      }
      case '"':
        return Delimited(3, [&] { return String(out_, /*append=*/true); });
      case '{':
        return Delimited(5, [&] { return StructValue(); });
      case '[':
        return Delimited(6, [&] { return ListValueOf(); });
      default: {
        double d;
        if (!Number(d)) {
          return false;
        }
        Tag(2, 1);
        Fixed(absl::bit_cast<uint64_t>(d), 8);
        return true;
      }
    }
  }

  const char* p_;
  const char* end_;
  std::string& out_;
  std::string key_;  // scratch for keys, enum names and timestamps
  int nesting_ = 0;  // objects and arrays open
};

}  // namespace

void AppendDouble(double d, std::string& out) {
  // The shortest digits that read back as `d`. With at most 15 of them they are the digits of
  // "%.15g", which then reads back, so SimpleDtoa writes "%.15g": laid out here as printf
  // does. More digits: SimpleDtoa itself ("%.17g").
  char buf[32];
  const auto [end, ec] = std::to_chars(buf, buf + sizeof buf, d, std::chars_format::scientific);
  const absl::string_view text(buf, ec == std::errc() ? end - buf : 0);
  const size_t e = text.find('e');
  // Zero, and subnormals (fewer bits than 15 digits need), go to SimpleDtoa.
  if (std::abs(d) < std::numeric_limits<double>::min() || e == absl::string_view::npos) {
    out += google::protobuf::SimpleDtoa(d);
    return;
  }
  const bool negative = text[0] == '-';
  std::string digits;  // significant digits, without the point
  for (char c : text.substr(negative ? 1 : 0, e - (negative ? 1 : 0))) {
    if (c != '.') {
      digits += c;
    }
  }
  int exponent = 0;
  std::from_chars(text.data() + e + (text[e + 1] == '+' ? 2 : 1), text.data() + text.size(),
                  exponent);
  if (digits.size() > 15) {
    out += google::protobuf::SimpleDtoa(d);
    return;
  }
  if (negative) {
    out += '-';
  }
  const int k = static_cast<int>(digits.size());
  if (exponent < -4 || exponent >= 15) {
    out += digits[0];
    if (k > 1) {
      out += '.';
      out.append(digits, 1);
    }
    absl::StrAppendFormat(&out, "e%c%02d", exponent < 0 ? '-' : '+', std::abs(exponent));
  } else if (exponent < 0) {
    out += "0.";
    out.append(static_cast<size_t>(-exponent - 1), '0');
    out += digits;
  } else if (k <= exponent + 1) {
    out += digits;
    out.append(static_cast<size_t>(exponent + 1 - k), '0');
  } else {
    out.append(digits, 0, static_cast<size_t>(exponent + 1));
    out += '.';
    out.append(digits, static_cast<size_t>(exponent + 1));
  }
}

namespace {

// ---------------------------------------------------------------------------------------------
// Reading the wire

// Reads protobuf wire bytes in order. Every read checks the bounds; false on bytes that are not
// well-formed.
class WireReader {
 public:
  explicit WireReader(absl::string_view bytes)
      : begin_(bytes.data()), p_(bytes.data()), end_(p_ + bytes.size()) {}
  bool done() const { return p_ == end_; }
  size_t offset() const { return static_cast<size_t>(p_ - begin_); }

  // Passes over a value of `wire_type` (groups are not taken).
  bool Skip(int wire_type) {
    uint64_t v;
    absl::string_view bytes;
    switch (wire_type) {
      case 0:
        return Varint(v);
      case 1:
        return Fixed(8, v);
      case 2:
        return Delimited(bytes);
      case 5:
        return Fixed(4, v);
      default:
        return false;
    }
  }

  bool Varint(uint64_t& v) {
    v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (p_ == end_) {
        return false;
      }
      const auto b = static_cast<uint8_t>(*p_++);
      v |= static_cast<uint64_t>(b & 0x7F) << shift;
      if (b < 0x80) {
        return true;
      }
    }
    return false;
  }
  bool Fixed(int bytes, uint64_t& v) {
    if (end_ - p_ < bytes) {
      return false;
    }
    v = 0;
    for (int i = 0; i < bytes; ++i) {
      v |= static_cast<uint64_t>(static_cast<uint8_t>(p_[i])) << (8 * i);
    }
    p_ += bytes;
    return true;
  }
  bool Delimited(absl::string_view& bytes) {
    uint64_t n;
    if (!Varint(n) || n > static_cast<uint64_t>(end_ - p_)) {
      return false;
    }
    bytes = absl::string_view(p_, n);
    p_ += n;
    return true;
  }
  // The next field's number and wire type.
  bool Tag(int& number, int& wire_type) {
    uint64_t tag;
    if (!Varint(tag) || (tag >> 3) == 0 || (tag >> 3) > 536870911) {
      return false;
    }
    number = static_cast<int>(tag >> 3);
    wire_type = static_cast<int>(tag & 7);
    return true;
  }

 private:
  const char* begin_;
  const char* p_;
  const char* end_;
};

// A message type's fields by number.
class FieldNumbers {
 public:
  explicit FieldNumbers(const Descriptor* type) {
    for (int i = 0; i < type->field_count(); ++i) {
      const FieldDescriptor* field = type->field(i);
      const auto number = static_cast<size_t>(field->number());
      if (number < 4096) {
        by_number_.resize(std::max(by_number_.size(), number + 1));
        by_number_[number] = field;
      }
    }
  }
  // Null for a number the type does not have (or past 4095).
  const FieldDescriptor* Find(int number) const {
    return static_cast<size_t>(number) < by_number_.size() ? by_number_[number] : nullptr;
  }

 private:
  std::vector<const FieldDescriptor*> by_number_;
};

// ---------------------------------------------------------------------------------------------
// Writing: proto3 JSON straight from the wire bytes, for canonical bytes (fields in number order,
// each once, defaults left out, no unknown fields: what protobuf's serializer writes). Other
// bytes are declined and printed from the parsed message by json_util.

class Printer {
 public:
  explicit Printer(std::string& out) : out_(out) {}

  bool MessageValue(const Descriptor* type, absl::string_view wire, int depth) {
    if (depth > kMaxDepth) {
      return false;
    }
    switch (type->well_known_type()) {
      case Descriptor::WELLKNOWNTYPE_UNSPECIFIED:
        return Fields(type, wire, depth);
      case Descriptor::WELLKNOWNTYPE_TIMESTAMP:
        return TimestampValue(wire);
      case Descriptor::WELLKNOWNTYPE_STRUCT:
        return StructValue(wire, depth);
      case Descriptor::WELLKNOWNTYPE_VALUE:
        return AnyValue(wire, depth);
      case Descriptor::WELLKNOWNTYPE_LISTVALUE:
        return ListValueOf(wire, depth);
      default:
        return false;
    }
  }

 private:
  // The fields of `wire` in number order, as protobuf would write the message they make: a
  // stable sort, so a repeated field's values keep their order (scoring, for one, writes a
  // score's reasons last). `wire` itself when they are in order, else a copy in `scratch`.
  // False on malformed bytes.
  static bool InNumberOrder(absl::string_view& wire, std::string& scratch) {
    struct Extent {
      int number;
      size_t begin;
      size_t end;
    };
    absl::InlinedVector<Extent, 32> extents;
    WireReader in(wire);
    bool sorted = true;
    while (!in.done()) {
      const size_t begin = in.offset();
      int number;
      int wire_type;
      if (!in.Tag(number, wire_type) || !in.Skip(wire_type)) {
        return false;
      }
      sorted = sorted && (extents.empty() || number >= extents.back().number);
      extents.push_back({number, begin, in.offset()});
    }
    if (sorted) {
      return true;
    }
    std::stable_sort(extents.begin(), extents.end(),
                     [](const Extent& a, const Extent& b) { return a.number < b.number; });
    scratch.clear();
    for (const Extent& e : extents) {
      scratch.append(wire.data() + e.begin, e.end - e.begin);
    }
    wire = scratch;
    return true;
  }

  bool Fields(const Descriptor* type, absl::string_view wire, int depth) {
    const FieldNumbers& numbers = KeptFor<FieldNumbers>(type);
    std::string reordered;
    if (!InNumberOrder(wire, reordered)) {
      return false;
    }
    WireReader in(wire);
    out_ += '{';
    int last = 0;
    const FieldDescriptor* open = nullptr;  // the repeated field whose array is open
    bool first = true;
    absl::InlinedVector<const google::protobuf::OneofDescriptor*, 4> oneofs;
    while (!in.done()) {
      int number;
      int wire_type;
      if (!in.Tag(number, wire_type)) {
        return false;
      }
      const FieldDescriptor* field = numbers.Find(number);
      if (field == nullptr || field->is_map()) {
        return false;
      }
      // Two members of one oneof: the last would win.
      if (const auto* oneof = field->containing_oneof(); oneof != nullptr && field != open) {
        if (absl::c_linear_search(oneofs, oneof)) {
          return false;
        }
        oneofs.push_back(oneof);
      }
      if (field == open) {
        out_ += ',';
      } else {
        if (number <= last) {
          return false;  // out of order, or a singular field twice
        }
        last = number;
        if (open != nullptr) {
          out_ += ']';
        }
        if (!first) {
          out_ += ',';
        }
        first = false;
        out_ += '"';
        out_ += field->json_name();
        out_ += "\":";
        open = nullptr;
        if (field->is_repeated()) {
          out_ += '[';
          open = field;
        }
      }
      if (field->is_repeated() && wire_type == 2 && field->is_packable()) {
        absl::string_view packed;
        if (!in.Delimited(packed) || packed.empty()) {
          return false;
        }
        WireReader elements(packed);
        const int element_type = WireTypeOf(field);
        bool zero;
        for (bool head = true; !elements.done(); head = false) {
          if (!head) {
            out_ += ',';
          }
          if (!Scalar(field, element_type, elements, zero)) {
            return false;
          }
        }
        continue;
      }
      if (wire_type != WireTypeOf(field)) {
        return false;
      }
      if (field->type() == FieldDescriptor::TYPE_MESSAGE) {
        absl::string_view sub;
        if (!in.Delimited(sub) || !MessageValue(field->message_type(), sub, depth + 1)) {
          return false;
        }
        continue;
      }
      bool zero;
      if (!Scalar(field, wire_type, in, zero)) {
        return false;
      }
      // A default value of a field without presence: protobuf does not write one.
      if (zero && !field->is_repeated() && !field->has_presence()) {
        return false;
      }
    }
    if (open != nullptr) {
      out_ += ']';
    }
    out_ += '}';
    return true;
  }

  static int WireTypeOf(const FieldDescriptor* field) {
    switch (field->type()) {
      case FieldDescriptor::TYPE_DOUBLE:
      case FieldDescriptor::TYPE_FIXED64:
      case FieldDescriptor::TYPE_SFIXED64:
        return 1;
      case FieldDescriptor::TYPE_FLOAT:
      case FieldDescriptor::TYPE_FIXED32:
      case FieldDescriptor::TYPE_SFIXED32:
        return 5;
      case FieldDescriptor::TYPE_STRING:
      case FieldDescriptor::TYPE_BYTES:
      case FieldDescriptor::TYPE_MESSAGE:
        return 2;
      case FieldDescriptor::TYPE_GROUP:
        return 3;
      default:
        return 0;
    }
  }

  // One scalar value of `field`, read from `in` as `wire_type`; `zero`: its bits are all 0 (a
  // default value: -0.0 is not one).
  bool Scalar(const FieldDescriptor* field, int wire_type, WireReader& in, bool& zero) {
    uint64_t v;
    if (wire_type == 2) {
      absl::string_view bytes;
      const bool ok = field->type() == FieldDescriptor::TYPE_STRING && in.Delimited(bytes) &&
                      AppendString(bytes, out_);
      zero = bytes.empty();
      return ok;
    }
    if (wire_type == 0 ? !in.Varint(v) : !in.Fixed(wire_type == 1 ? 8 : 4, v)) {
      return false;
    }
    zero = v == 0;
    switch (field->type()) {
      case FieldDescriptor::TYPE_DOUBLE:
        return Double(absl::bit_cast<double>(v));
      case FieldDescriptor::TYPE_INT32:
      case FieldDescriptor::TYPE_SFIXED32:
        absl::StrAppend(&out_, static_cast<int32_t>(v));
        return true;
      case FieldDescriptor::TYPE_SINT32:
        absl::StrAppend(&out_, static_cast<int32_t>((static_cast<uint32_t>(v) >> 1) ^
                                                    -static_cast<int32_t>(v & 1)));
        return true;
      case FieldDescriptor::TYPE_UINT32:
      case FieldDescriptor::TYPE_FIXED32:
        absl::StrAppend(&out_, static_cast<uint32_t>(v));
        return true;
      case FieldDescriptor::TYPE_INT64:
      case FieldDescriptor::TYPE_SFIXED64:
        absl::StrAppend(&out_, "\"", static_cast<int64_t>(v), "\"");
        return true;
      case FieldDescriptor::TYPE_SINT64:
        absl::StrAppend(&out_, "\"", static_cast<int64_t>((v >> 1) ^ -(v & 1)), "\"");
        return true;
      case FieldDescriptor::TYPE_UINT64:
      case FieldDescriptor::TYPE_FIXED64:
        absl::StrAppend(&out_, "\"", v, "\"");
        return true;
      case FieldDescriptor::TYPE_BOOL:
        out_ += v != 0 ? "true" : "false";
        return true;
      case FieldDescriptor::TYPE_ENUM: {
        const auto number = static_cast<int32_t>(v);
        if (field->enum_type()->full_name() == "google.protobuf.NullValue") {
          return false;
        }
        const google::protobuf::EnumValueDescriptor* value =
            field->enum_type()->FindValueByNumber(number);
        if (value == nullptr) {
          absl::StrAppend(&out_, number);
          return true;
        }
        return AppendString(value->name(), out_);
      }
      default:  // float: json_util's
        return false;
    }
  }

  bool Double(double d) {
    if (!std::isfinite(d)) {
      return false;
    }
    AppendDouble(d, out_);
    return true;
  }

  // Timestamp: seconds (1), nanos (2).
  bool TimestampValue(absl::string_view wire) {
    WireReader in(wire);
    int64_t seconds = 0;
    int64_t nanos = 0;
    int last = 0;
    while (!in.done()) {
      int number;
      int wire_type;
      uint64_t v;
      if (!in.Tag(number, wire_type) || number <= last || number > 2 || wire_type != 0 ||
          !in.Varint(v) || v == 0) {
        return false;
      }
      last = number;
      (number == 1 ? seconds : nanos) =
          number == 1 ? static_cast<int64_t>(v) : static_cast<int32_t>(v);
    }
    if (seconds < kMinSeconds || seconds > kMaxSeconds || nanos < 0 || nanos > 999999999) {
      return false;
    }
    const absl::CivilSecond c =
        absl::ToCivilSecond(absl::FromUnixSeconds(seconds), absl::UTCTimeZone());
    absl::StrAppendFormat(&out_, "\"%04d-%02d-%02dT%02d:%02d:%02d", c.year(), c.month(), c.day(),
                          c.hour(), c.minute(), c.second());
    if (nanos == 0) {
    } else if (nanos % 1000000 == 0) {
      absl::StrAppendFormat(&out_, ".%03d", nanos / 1000000);
    } else if (nanos % 1000 == 0) {
      absl::StrAppendFormat(&out_, ".%06d", nanos / 1000);
    } else {
      absl::StrAppendFormat(&out_, ".%09d", nanos);
    }
    out_ += "Z\"";
    return true;
  }

  // Struct: entries (field 1) of key (1) and value (2), written in key order; a key twice (the
  // last would win) is declined.
  bool StructValue(absl::string_view wire, int depth) {
    std::vector<std::pair<absl::string_view, absl::string_view>> entries;
    WireReader in(wire);
    while (!in.done()) {
      int number;
      int wire_type;
      absl::string_view entry;
      if (!in.Tag(number, wire_type) || number != 1 || wire_type != 2 || !in.Delimited(entry)) {
        return false;
      }
      WireReader e(entry);
      absl::string_view key;
      absl::string_view value;
      int k;
      int kt;
      int v;
      int vt;
      if (!e.Tag(k, kt) || k != 1 || kt != 2 || !e.Delimited(key) || !e.Tag(v, vt) || v != 2 ||
          vt != 2 || !e.Delimited(value) || !e.done()) {
        return false;  // not as protobuf writes an entry
      }
      entries.emplace_back(key, value);
    }
    std::sort(entries.begin(), entries.end());
    out_ += '{';
    for (size_t i = 0; i < entries.size(); ++i) {
      if (i > 0) {
        if (entries[i].first == entries[i - 1].first) {
          return false;
        }
        out_ += ',';
      }
      if (!AppendString(entries[i].first, out_)) {
        return false;
      }
      out_ += ':';
      if (!AnyValue(entries[i].second, depth + 1)) {
        return false;
      }
    }
    out_ += '}';
    return true;
  }

  // ListValue: values (field 1).
  bool ListValueOf(absl::string_view wire, int depth) {
    WireReader in(wire);
    out_ += '[';
    for (bool first = true; !in.done(); first = false) {
      int number;
      int wire_type;
      absl::string_view value;
      if (!in.Tag(number, wire_type) || number != 1 || wire_type != 2 || !in.Delimited(value)) {
        return false;
      }
      if (!first) {
        out_ += ',';
      }
      if (!AnyValue(value, depth + 1)) {
        return false;
      }
    }
    out_ += ']';
    return true;
  }

  // Value: exactly one of null_value 1, number_value 2, string_value 3, bool_value 4,
  // struct_value 5, list_value 6.
  bool AnyValue(absl::string_view wire, int depth) {
    if (depth > kMaxDepth) {
      return false;
    }
    WireReader in(wire);
    int number;
    int wire_type;
    if (!in.Tag(number, wire_type)) {
      return false;  // no kind
    }
    uint64_t v;
    absl::string_view bytes;
    bool ok = false;
    switch (number) {
      case 1:
        ok = wire_type == 0 && in.Varint(v) && v == 0;
        if (ok) {
          out_ += "null";
        }
        break;
      case 2:
        ok = wire_type == 1 && in.Fixed(8, v) && Double(absl::bit_cast<double>(v));
        break;
      case 3:
        ok = wire_type == 2 && in.Delimited(bytes) && AppendString(bytes, out_);
        break;
      case 4:
        ok = wire_type == 0 && in.Varint(v);
        if (ok) {
          out_ += v != 0 ? "true" : "false";
        }
        break;
      case 5:
        ok = wire_type == 2 && in.Delimited(bytes) && StructValue(bytes, depth + 1);
        break;
      case 6:
        ok = wire_type == 2 && in.Delimited(bytes) && ListValueOf(bytes, depth + 1);
        break;
      default:
        break;
    }
    return ok && in.done();  // a second kind (the last would win) is declined
  }

  std::string& out_;
};

}  // namespace

bool JsonToWireDirect(absl::string_view json, const Descriptor* type, std::string& out) {
  out.clear();
  return Parser(json, out).Document(type);
}

bool ParseJsonDirect(absl::string_view json, Message& message) {
  std::string wire;
  return JsonToWireDirect(json, message.GetDescriptor(), wire) && message.MergeFromString(wire);
}

bool WireToJsonDirect(const Descriptor* type, absl::string_view wire, std::string& out) {
  out.clear();
  return Printer(out).MessageValue(type, wire, 0);
}

bool PrintJsonDirect(const Message& message, std::string& out) {
  return WireToJsonDirect(message.GetDescriptor(), message.SerializeAsString(), out);
}

}  // namespace accord::gateway
