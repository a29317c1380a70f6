#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

#include "accord/scoring/v1/scoring.pb.h"

// Leads as the engine reads them: flat arrays of views, either decoded straight from the wire
// bytes of a scoring request (scoring/wire/lead_decoder.h) (no google.protobuf.Struct maps, no
// per-field allocations) or taken from Lead messages. Every view points into the bytes or messages
// it came from, which must outlive the set. A set is cleared and reused: in steady state it
// allocates nothing.
namespace accord::scoring {

namespace sv1 = ::accord::scoring::v1;

class LeadSet {
 public:
  // A google.protobuf.Value. A struct's fields and a list's elements are linked by index.
  struct Value {
    enum class Kind : uint8_t { kUnset, kNull, kNumber, kString, kBool, kStruct, kList };
    Kind kind = Kind::kUnset;
    bool boolean = false;
    double number = 0;
    absl::string_view text;
    int32_t first = -1;  // struct: its first entry; list: its first element (a value)
    int32_t last = -1;   // the tail of that chain
    int32_t next = -1;   // the next element of the list holding this value
  };
  struct Entry {
    absl::string_view key;
    int32_t value = -1;  // -1: the entry had no value (an unset Value)
    int32_t next = -1;
  };
  struct Time {
    int64_t seconds = 0;
    int32_t nanos = 0;
    int64_t ns() const { return seconds * 1000000000LL + nanos; }
  };
  struct Event {
    absl::string_view type;
    bool has_time = false;
    Time time;
    int32_t properties = -1;  // a struct value, or -1
  };
  struct Lead {
    absl::string_view id;
    int32_t attributes = -1;  // a struct value, or -1
    int32_t first_event = 0;
    int32_t events = 0;
  };

  void Clear();
  // The memory the arrays hold (their capacity).
  size_t MemoryBytes() const;
  size_t size() const { return leads_.size(); }
  const Lead& lead(size_t i) const { return leads_[i]; }
  const Value& value(int32_t i) const { return values_[i]; }
  const Entry& entry(int32_t i) const { return entries_[i]; }
  const Event& event(int32_t i) const { return events_[i]; }

  // The value of `key` in the struct value `s` (the last one when the key repeats, as when a
  // map is parsed), or nullptr when it is absent or unset.
  const Value* Field(int32_t s, absl::string_view key) const;
  // The same as an index (for value()), or -1.
  int32_t FieldIndex(int32_t s, absl::string_view key) const;

  // Appends a view of `lead` (stage history is not kept: the engine's scoring does not read
  // it).
  void Add(const sv1::Lead& lead);
  // Appends `account` as a lead of its own (its id and attributes, no events), then its
  // members: what DecodeAccountRequest (scoring/wire/lead_decoder.h) makes of a
  // ScoreAccountRequest. `account` must outlive
  // the set.
  void Add(const sv1::Account& account);

 private:
  friend class WireDecoder;  // scoring/wire/lead_decoder.cc
  int32_t NewValue();
  void AddStruct(const google::protobuf::Struct& s, int32_t into);
  void SetValue(const google::protobuf::Value& v, int32_t into);

  std::vector<Value> values_;
  std::vector<Entry> entries_;
  std::vector<Event> events_;
  std::vector<Lead> leads_;
};

}  // namespace accord::scoring
