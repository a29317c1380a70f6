#include "scoring/wire/lead_decoder.h"

#include <cstring>

#include "absl/strings/str_cat.h"
#include "google/protobuf/io/coded_stream.h"

#include "common/status.h"
#include "common/utf8.h"

namespace accord::scoring {

bool MergeInto(absl::string_view bytes, google::protobuf::MessageLite* message) {
  google::protobuf::io::CodedInputStream in(reinterpret_cast<const uint8_t*>(bytes.data()),
                                            static_cast<int>(bytes.size()));
  return message->MergeFromCodedStream(&in) && in.ConsumedEntireMessage();
}

// Decodes the protobuf wire format of the request's messages into a LeadSet, with the
// semantics of protobuf's parser: a repeated singular field's last value wins, a repeated
// message field merges, a known field with another wire type is an unknown field, unknown
// fields are skipped, strings must be UTF-8, nesting is limited to 100 messages.
class WireDecoder {
 public:
  explicit WireDecoder(LeadSet& set) : set_(set) {}

  // The field path of the failure, from the innermost field outwards, and its description.
  std::string error_path;
  std::string error;

  bool Request(absl::string_view bytes, bool single, absl::string_view leads_field,
               LeadRequest* request) {
    Reader in(bytes);
    int32_t lead = -1;
    while (!in.done()) {
      uint32_t field, type;
      if (!in.Tag(&field, &type)) {
        return Fail("", "is not a valid protobuf message");
      }
      if (field == 1 && type == kLen) {
        absl::string_view sub;
        if (!in.Bytes(&sub) || !MergeInto(sub, &request->selector)) {
          return Fail("selector", "is not a valid accord.scoring.v1.Selector");
        }
        request->has_selector = true;
      } else if (field == 2 && type == kLen) {
        absl::string_view sub;
        if (!in.Bytes(&sub)) {
          return Fail(leads_field, "is truncated");
        }
        const size_t index = single && lead >= 0 ? lead : set_.leads_.size();
        if (!single || lead < 0) {
          LeadSet::Lead& added = set_.leads_.emplace_back();
          added.first_event = static_cast<int32_t>(set_.events_.size());
          lead = static_cast<int32_t>(index);
        }
        if (!Lead(sub, index, 1)) {
          return Fail(
              single ? std::string(leads_field) : absl::StrCat(leads_field, "[", index, "]"), "");
        }
      } else if (field == 3 && type == kLen) {
        absl::string_view sub;
        LeadSet::Time t{request->as_of.seconds(), request->as_of.nanos()};
        if (!in.Bytes(&sub) || !Timestamp(sub, &t)) {
          return Fail("as_of", "is not a valid google.protobuf.Timestamp");
        }
        request->as_of.set_seconds(t.seconds);
        request->as_of.set_nanos(t.nanos);
      } else if (field == 4 && type == kVarint) {
        uint64_t v;
        if (!in.Varint(&v)) {
          return Fail("view", "is truncated");
        }
        request->view = static_cast<int32_t>(v);
      } else if (!in.Skip(field, type, 1)) {
        return Fail("", "is not a valid protobuf message");
      }
    }
    return true;
  }

 private:
  static constexpr uint32_t kVarint = 0, kFixed64 = 1, kLen = 2, kStartGroup = 3, kEndGroup = 4,
                            kFixed32 = 5;
  static constexpr int kMaxDepth = 100;

  class Reader {
   public:
    explicit Reader(absl::string_view bytes) : p_(bytes.data()), end_(p_ + bytes.size()) {}
    bool done() const { return p_ == end_; }

    bool Varint(uint64_t* out) {
      if (p_ != end_ && static_cast<uint8_t>(*p_) < 0x80) {  // one byte: most tags and lengths
        *out = static_cast<uint8_t>(*p_++);
        return true;
      }
      uint64_t v = 0;
      for (int shift = 0; shift < 64; shift += 7) {
        if (p_ == end_) {
          return false;
        }
        const auto b = static_cast<uint8_t>(*p_++);
        v |= static_cast<uint64_t>(b & 0x7F) << shift;
        if ((b & 0x80) == 0) {
          *out = v;
          return true;
        }
      }
      return false;
    }
    // A tag, read as protobuf does: at most 5 bytes, bits past 32 dropped.
    bool Tag(uint32_t* field, uint32_t* type) {
      uint32_t tag = 0;
      if (p_ != end_ && static_cast<uint8_t>(*p_) < 0x80) {  // most tags: one byte
        tag = static_cast<uint8_t>(*p_++);
        *field = tag >> 3;
        *type = tag & 7;
        return *field != 0;
      }
      for (int i = 0;; ++i) {
        if (i == 5 || p_ == end_) {
          return false;
        }
        const auto b = static_cast<uint8_t>(*p_++);
        tag |= static_cast<uint32_t>(b & 0x7F) << (7 * i);
        if ((b & 0x80) == 0) {
          break;
        }
      }
      if ((tag >> 3) == 0) {
        return false;
      }
      *field = tag >> 3;
      *type = tag & 7;
      return true;
    }
    // A length, read as protobuf does: at most 5 bytes and below 2 GiB.
    bool Size(uint64_t* out) {
      if (p_ != end_ && static_cast<uint8_t>(*p_) < 0x80) {  // most lengths: one byte
        *out = static_cast<uint8_t>(*p_++);
        return true;
      }
      uint64_t n = 0;
      for (int i = 0;; ++i) {
        if (i == 5 || p_ == end_) {
          return false;
        }
        const auto b = static_cast<uint8_t>(*p_++);
        if (i == 4 && b >= 8) {
          return false;
        }
        n |= static_cast<uint64_t>(b & 0x7F) << (7 * i);
        if ((b & 0x80) == 0) {
          break;
        }
      }
      *out = n;
      return true;
    }
    bool Bytes(absl::string_view* out) {
      uint64_t n;
      if (!Size(&n) || n > static_cast<uint64_t>(end_ - p_)) {
        return false;
      }
      *out = absl::string_view(p_, n);
      p_ += n;
      return true;
    }
    bool Fixed64(uint64_t* out) {
      if (end_ - p_ < 8) {
        return false;
      }
      std::memcpy(out, p_, 8);
      p_ += 8;
      return true;
    }
    // Skips the value of a field that is not read.
    bool Skip(uint32_t field, uint32_t type, int depth) {
      uint64_t v;
      absl::string_view bytes;
      switch (type) {
        case kVarint:
          return Varint(&v);
        case kFixed64:
          return Fixed64(&v);
        case kLen:
          return Bytes(&bytes);
        case kFixed32:
          if (end_ - p_ < 4) {
            return false;
          }
          p_ += 4;
          return true;
        case kStartGroup:
          if (depth > kMaxDepth) {
            return false;
          }
          for (;;) {
            uint32_t f, t;
            if (!Tag(&f, &t)) {
              return false;
            }
            if (t == kEndGroup) {
              return f == field;
            }
            if (!Skip(f, t, depth + 1)) {
              return false;
            }
          }
        default:
          return false;
      }
    }

   private:
    const char* p_;
    const char* end_;
  };

  // Records a failure: `field` is prepended to the path (joined with a dot unless it is an
  // index); `description` is kept from the innermost failure.
  bool Fail(absl::string_view field, absl::string_view description) {
    if (error.empty()) {
      error = std::string(description);
    }
    if (!field.empty()) {
      const bool join = !error_path.empty() && error_path[0] != '[';
      error_path = absl::StrCat(field, join ? "." : "", error_path);
    }
    return false;
  }

  // `out` is only set to valid UTF-8 (it may end up in an error's field path).
  bool String(Reader& in, absl::string_view* out) {
    absl::string_view text;
    if (!in.Bytes(&text)) {
      return Fail("", "is truncated");
    }
    if (!IsValidUtf8(text)) {
      return Fail("", "is not valid UTF-8");
    }
    *out = text;
    return true;
  }

  bool Timestamp(absl::string_view bytes, LeadSet::Time* t) {
    Reader in(bytes);
    while (!in.done()) {
      uint32_t field, type;
      uint64_t v;
      if (!in.Tag(&field, &type)) {
        return false;
      }
      if ((field == 1 || field == 2) && type == kVarint) {
        if (!in.Varint(&v)) {
          return false;
        }
        if (field == 1) {
          t->seconds = static_cast<int64_t>(v);
        } else {
          t->nanos = static_cast<int32_t>(v);
        }
      } else if (!in.Skip(field, type, 1)) {
        return false;
      }
    }
    return true;
  }

  // Calls `each(bytes, index)` for every field-1 message of `bytes` (a Struct's entries, a
  // ListValue's values), skipping other fields; `what` names the message in errors.
  template <typename Fn>
  bool EachRepeated(absl::string_view bytes, int depth, absl::string_view what, Fn each) {
    if (depth > kMaxDepth) {
      return Fail("", "is nested more than 100 levels deep");
    }
    Reader in(bytes);
    int index = 0;
    while (!in.done()) {
      uint32_t field, type;
      if (!in.Tag(&field, &type)) {
        return Fail("", absl::StrCat("is not a valid ", what));
      }
      if (field != 1 || type != kLen) {
        if (!in.Skip(field, type, depth)) {
          return Fail("", absl::StrCat("is not a valid ", what));
        }
        continue;
      }
      absl::string_view sub;
      if (!in.Bytes(&sub)) {
        return Fail("", "is truncated");
      }
      if (!each(sub, index)) {
        return false;
      }
      ++index;
    }
    return true;
  }

  // Appends a struct's entries to the struct value `into`.
  bool Struct(absl::string_view bytes, int32_t into, int depth) {
    return EachRepeated(bytes, depth, "google.protobuf.Struct", [&](absl::string_view sub, int i) {
      LeadSet::Entry entry;
      if (!Entry(sub, &entry, depth + 1)) {
        return Fail(entry.key.empty() ? absl::StrCat("fields[", i, "]") : entry.key, "");
      }
      set_.entries_.push_back(entry);
      const auto e = static_cast<int32_t>(set_.entries_.size() - 1);
      LeadSet::Value& s = set_.values_[into];
      if (s.last < 0) {
        s.first = e;
      } else {
        set_.entries_[s.last].next = e;
      }
      s.last = e;
      return true;
    });
  }

  bool Entry(absl::string_view bytes, LeadSet::Entry* entry, int depth) {
    Reader in(bytes);
    while (!in.done()) {
      uint32_t field, type;
      if (!in.Tag(&field, &type)) {
        return Fail("", "is not a valid map entry");
      }
      if (field == 1 && type == kLen) {
        if (!String(in, &entry->key)) {
          return false;
        }
      } else if (field == 2 && type == kLen) {
        absl::string_view sub;
        if (!in.Bytes(&sub)) {
          return Fail("", "is truncated");
        }
        if (entry->value < 0) {
          entry->value = set_.NewValue();
        }
        if (!Value(sub, entry->value, depth + 1)) {
          return false;
        }
      } else if (!in.Skip(field, type, depth)) {
        return Fail("", "is not a valid map entry");
      }
    }
    return true;
  }

  // Decodes a Value into `into`, merging with what is there as protobuf does: setting another
  // member of the oneof replaces it; a struct or list met twice in a row is merged.
  bool Value(absl::string_view bytes, int32_t into, int depth) {
    using Kind = LeadSet::Value::Kind;
    if (depth > kMaxDepth) {
      return Fail("", "is nested more than 100 levels deep");
    }
    Reader in(bytes);
    while (!in.done()) {
      uint32_t field, type;
      if (!in.Tag(&field, &type)) {
        return Fail("", "is not a valid google.protobuf.Value");
      }
      uint64_t v;
      absl::string_view sub;
      if (field == 1 && type == kVarint) {
        if (!in.Varint(&v)) {
          return Fail("", "is truncated");
        }
        Reset(into, Kind::kNull);
      } else if (field == 2 && type == kFixed64) {
        if (!in.Fixed64(&v)) {
          return Fail("", "is truncated");
        }
        Reset(into, Kind::kNumber);
        double d;
        std::memcpy(&d, &v, sizeof d);
        set_.values_[into].number = d;
      } else if (field == 3 && type == kLen) {
        if (!String(in, &sub)) {
          return false;
        }
        Reset(into, Kind::kString);
        set_.values_[into].text = sub;
      } else if (field == 4 && type == kVarint) {
        if (!in.Varint(&v)) {
          return Fail("", "is truncated");
        }
        Reset(into, Kind::kBool);
        set_.values_[into].boolean = v != 0;
      } else if (field == 5 && type == kLen) {
        if (!in.Bytes(&sub)) {
          return Fail("", "is truncated");
        }
        if (set_.values_[into].kind != Kind::kStruct) {
          Reset(into, Kind::kStruct);
        }
        if (!Struct(sub, into, depth + 1)) {
          return false;
        }
      } else if (field == 6 && type == kLen) {
        if (!in.Bytes(&sub)) {
          return Fail("", "is truncated");
        }
        if (set_.values_[into].kind != Kind::kList) {
          Reset(into, Kind::kList);
        }
        if (!List(sub, into, depth + 1)) {
          return false;
        }
      } else if (!in.Skip(field, type, depth)) {
        return Fail("", "is not a valid google.protobuf.Value");
      }
    }
    return true;
  }

  void Reset(int32_t v, LeadSet::Value::Kind kind) {
    LeadSet::Value& value = set_.values_[v];
    const int32_t next = value.next;
    value = LeadSet::Value();
    value.kind = kind;
    value.next = next;
  }

  bool List(absl::string_view bytes, int32_t into, int depth) {
    return EachRepeated(
        bytes, depth, "google.protobuf.ListValue", [&](absl::string_view sub, int i) {
          const int32_t element = set_.NewValue();
          LeadSet::Value& list = set_.values_[into];
          if (list.last < 0) {
            list.first = element;
          } else {
            set_.values_[list.last].next = element;
          }
          list.last = element;
          return Value(sub, element, depth + 1) || Fail(absl::StrCat("[", i, "]"), "");
        });
  }

  // A struct field (attributes, properties): created on first sight, merged after.
  bool StructField(absl::string_view bytes, int32_t* s, int depth) {
    if (*s < 0) {
      *s = set_.NewValue();
      set_.values_[*s].kind = LeadSet::Value::Kind::kStruct;
    }
    return Struct(bytes, *s, depth);
  }

  bool Event(absl::string_view bytes, int32_t event, int depth) {
    Reader in(bytes);
    while (!in.done()) {
      uint32_t field, type;
      if (!in.Tag(&field, &type)) {
        return Fail("", "is not a valid accord.scoring.v1.Event");
      }
      absl::string_view sub;
      if (field == 1 && type == kLen) {
        if (!String(in, &sub)) {
          return Fail("type", "");
        }
        set_.events_[event].type = sub;
      } else if (field == 2 && type == kLen) {
        LeadSet::Time t = set_.events_[event].time;
        if (!in.Bytes(&sub) || !Timestamp(sub, &t)) {
          return Fail("time", "is not a valid google.protobuf.Timestamp");
        }
        set_.events_[event].time = t;
        set_.events_[event].has_time = true;
      } else if (field == 3 && type == kLen) {
        int32_t s = set_.events_[event].properties;
        if (!in.Bytes(&sub)) {
          return Fail("properties", "is truncated");
        }
        const bool ok = StructField(sub, &s, depth + 1);
        set_.events_[event].properties = s;
        if (!ok) {
          return Fail("properties", "");
        }
      } else if (!in.Skip(field, type, depth)) {
        return Fail("", "is not a valid accord.scoring.v1.Event");
      }
    }
    return true;
  }

  bool StageEntry(absl::string_view bytes) {
    Reader in(bytes);
    while (!in.done()) {
      uint32_t field, type;
      absl::string_view sub;
      if (!in.Tag(&field, &type)) {
        return Fail("", "is not a valid accord.scoring.v1.StageEntry");
      }
      if (field == 1 && type == kLen) {
        if (!String(in, &sub)) {
          return Fail("stage", "");
        }
      } else if (field == 2 && type == kLen) {
        LeadSet::Time t;
        if (!in.Bytes(&sub) || !Timestamp(sub, &t)) {
          return Fail("time", "is not a valid google.protobuf.Timestamp");
        }
      } else if (!in.Skip(field, type, 1)) {
        return Fail("", "is not a valid accord.scoring.v1.StageEntry");
      }
    }
    return true;
  }

  // A ScoreAccountRequest: selector 1, account 2 (id 1, attributes 2, members 3), as_of 3. The
  // account becomes a lead of its own (its id and attributes), its members the leads after it.
 public:
  bool AccountRequest(absl::string_view bytes, LeadRequest* request) {
    Reader in(bytes);
    // Lead 0 is the account; protobuf merges a repeated `account` into it (members appended).
    const size_t account = set_.leads_.size();
    set_.leads_.emplace_back().first_event = static_cast<int32_t>(set_.events_.size());
    while (!in.done()) {
      uint32_t field, type;
      if (!in.Tag(&field, &type)) {
        return Fail("", "is not a valid protobuf message");
      }
      absl::string_view sub;
      if (field == 1 && type == kLen) {
        if (!in.Bytes(&sub) || !MergeInto(sub, &request->selector)) {
          return Fail("selector", "is not a valid accord.scoring.v1.Selector");
        }
        request->has_selector = true;
      } else if (field == 2 && type == kLen) {
        if (!in.Bytes(&sub) || !Account(sub, account)) {
          return Fail("account", "");
        }
      } else if (field == 3 && type == kLen) {
        LeadSet::Time t{request->as_of.seconds(), request->as_of.nanos()};
        if (!in.Bytes(&sub) || !Timestamp(sub, &t)) {
          return Fail("as_of", "is not a valid google.protobuf.Timestamp");
        }
        request->as_of.set_seconds(t.seconds);
        request->as_of.set_nanos(t.nanos);
      } else if (!in.Skip(field, type, 1)) {
        return Fail("", "is not a valid protobuf message");
      }
    }
    return true;
  }

 private:
  bool Account(absl::string_view bytes, size_t account) {
    Reader in(bytes);
    int member = static_cast<int>(set_.leads_.size() - account - 1);
    while (!in.done()) {
      uint32_t field, type;
      if (!in.Tag(&field, &type)) {
        return Fail("", "is not a valid accord.scoring.v1.Account");
      }
      absl::string_view sub;
      if (field == 1 && type == kLen) {
        if (!String(in, &sub)) {
          return Fail("id", "");
        }
        set_.leads_[account].id = sub;
      } else if (field == 2 && type == kLen) {
        if (!in.Bytes(&sub)) {
          return Fail("attributes", "is truncated");
        }
        int32_t s = set_.leads_[account].attributes;
        const bool ok = StructField(sub, &s, 2);
        set_.leads_[account].attributes = s;
        if (!ok) {
          return Fail("attributes", "");
        }
      } else if (field == 3 && type == kLen) {
        if (!in.Bytes(&sub)) {
          return Fail(absl::StrCat("members[", member, "]"), "is truncated");
        }
        const size_t index = set_.leads_.size();
        set_.leads_.emplace_back().first_event = static_cast<int32_t>(set_.events_.size());
        if (!Lead(sub, index, 2)) {
          return Fail(absl::StrCat("members[", member, "]"), "");
        }
        ++member;
      } else if (!in.Skip(field, type, 2)) {
        return Fail("", "is not a valid accord.scoring.v1.Account");
      }
    }
    return true;
  }

  bool Lead(absl::string_view bytes, size_t lead, int depth) {
    Reader in(bytes);
    int event_index = set_.leads_[lead].events;
    int stage_index = 0;
    while (!in.done()) {
      uint32_t field, type;
      if (!in.Tag(&field, &type)) {
        return Fail("", "is not a valid accord.scoring.v1.Lead");
      }
      absl::string_view sub;
      if (field == 1 && type == kLen) {
        if (!String(in, &sub)) {
          return Fail("id", "");
        }
        set_.leads_[lead].id = sub;
      } else if (field == 2 && type == kLen) {
        if (!in.Bytes(&sub)) {
          return Fail("attributes", "is truncated");
        }
        int32_t s = set_.leads_[lead].attributes;
        const bool ok = StructField(sub, &s, depth + 1);
        set_.leads_[lead].attributes = s;
        if (!ok) {
          return Fail("attributes", "");
        }
      } else if (field == 3 && type == kLen) {
        if (!in.Bytes(&sub)) {
          return Fail("events", "is truncated");
        }
        set_.events_.emplace_back();
        ++set_.leads_[lead].events;
        if (!Event(sub, static_cast<int32_t>(set_.events_.size() - 1), depth + 1)) {
          return Fail(absl::StrCat("events[", event_index, "]"), "");
        }
        ++event_index;
      } else if (field == 4 && type == kLen) {
        // stage_history is not read by scoring, but must be what protobuf would accept.
        if (!in.Bytes(&sub) || !StageEntry(sub)) {
          return Fail(absl::StrCat("stage_history[", stage_index, "]"), "");
        }
        ++stage_index;
      } else if (!in.Skip(field, type, depth)) {
        return Fail("", "is not a valid accord.scoring.v1.Lead");
      }
    }
    return true;
  }

  LeadSet& set_;
};

absl::Status DecodeAccountRequest(absl::string_view bytes, LeadSet& leads, LeadRequest* request) {
  WireDecoder decoder(leads);
  if (decoder.AccountRequest(bytes, request)) {
    return absl::OkStatus();
  }
  const std::string description = decoder.error.empty() ? "is malformed" : decoder.error;
  if (decoder.error_path.empty()) {
    return absl::InvalidArgumentError(absl::StrCat("the request ", description));
  }
  return InvalidField(decoder.error_path, description);
}

absl::Status DecodeLeadRequest(absl::string_view bytes, bool single, absl::string_view leads_field,
                               LeadSet& leads, LeadRequest* request) {
  WireDecoder decoder(leads);
  if (decoder.Request(bytes, single, leads_field, request)) {
    return absl::OkStatus();
  }
  const std::string description = decoder.error.empty() ? "is malformed" : decoder.error;
  if (decoder.error_path.empty()) {
    return absl::InvalidArgumentError(absl::StrCat("the request ", description));
  }
  return InvalidField(decoder.error_path, description);
}

}  // namespace accord::scoring
