#include "scoring/lead_set.h"

#include <cstring>

#include "absl/strings/str_cat.h"
#include "google/protobuf/io/coded_stream.h"

#include "common/status.h"

namespace accord::scoring {

void LeadSet::Clear() {
  values_.clear();
  entries_.clear();
  events_.clear();
  leads_.clear();
}

size_t LeadSet::MemoryBytes() const {
  return values_.capacity() * sizeof(Value) + entries_.capacity() * sizeof(Entry) +
         events_.capacity() * sizeof(Event) + leads_.capacity() * sizeof(Lead);
}

int32_t LeadSet::NewValue() {
  values_.emplace_back();
  return static_cast<int32_t>(values_.size() - 1);
}

int32_t LeadSet::FieldIndex(int32_t s, absl::string_view key) const {
  const Value* v = Field(s, key);
  return v == nullptr ? -1 : static_cast<int32_t>(v - values_.data());
}

const LeadSet::Value* LeadSet::Field(int32_t s, absl::string_view key) const {
  if (s < 0 || values_[s].kind != Value::Kind::kStruct) {
    return nullptr;
  }
  int32_t found = -1;
  const char head = key.empty() ? '\0' : key.front();
  for (int32_t e = values_[s].first; e >= 0; e = entries_[e].next) {
    const absl::string_view k = entries_[e].key;
    // Most keys differ in size or first byte: compared without a call.
    if (k.size() == key.size() && (k.empty() || (k.front() == head && k == key))) {
      found = entries_[e].value;  // a later entry with the same key replaces an earlier one
    }
  }
  return found < 0 || values_[found].kind == Value::Kind::kUnset ? nullptr : &values_[found];
}

// ------------------------------------------------------------------ from messages

void LeadSet::SetValue(const google::protobuf::Value& v, int32_t into) {
  using Message = google::protobuf::Value;
  switch (v.kind_case()) {
    case Message::kNullValue:
      values_[into].kind = Value::Kind::kNull;
      break;
    case Message::kNumberValue:
      values_[into].kind = Value::Kind::kNumber;
      values_[into].number = v.number_value();
      break;
    case Message::kStringValue:
      values_[into].kind = Value::Kind::kString;
      values_[into].text = v.string_value();
      break;
    case Message::kBoolValue:
      values_[into].kind = Value::Kind::kBool;
      values_[into].boolean = v.bool_value();
      break;
    case Message::kStructValue:
      values_[into].kind = Value::Kind::kStruct;
      AddStruct(v.struct_value(), into);
      break;
    case Message::kListValue: {
      values_[into].kind = Value::Kind::kList;
      for (const google::protobuf::Value& element : v.list_value().values()) {
        const int32_t e = NewValue();
        if (values_[into].last < 0) {
          values_[into].first = e;
        } else {
          values_[values_[into].last].next = e;
        }
        values_[into].last = e;
        SetValue(element, e);
      }
      break;
    }
    default:
      break;
  }
}

void LeadSet::AddStruct(const google::protobuf::Struct& s, int32_t into) {
  values_[into].kind = Value::Kind::kStruct;
  for (const auto& [key, v] : s.fields()) {
    const int32_t value = NewValue();
    entries_.push_back({key, value, -1});
    const auto e = static_cast<int32_t>(entries_.size() - 1);
    if (values_[into].last < 0) {
      values_[into].first = e;
    } else {
      entries_[values_[into].last].next = e;
    }
    values_[into].last = e;
    SetValue(v, value);
  }
}

void LeadSet::Add(const sv1::Lead& lead) {
  Lead& out = leads_.emplace_back();
  out.id = lead.id();
  if (lead.has_attributes()) {
    const int32_t s = NewValue();
    leads_.back().attributes = s;
    AddStruct(lead.attributes(), s);
  }
  leads_.back().first_event = static_cast<int32_t>(events_.size());
  leads_.back().events = lead.events_size();
  for (const sv1::Event& e : lead.events()) {
    Event& view = events_.emplace_back();
    view.type = e.type();
    view.has_time = e.has_time();
    view.time = {e.time().seconds(), e.time().nanos()};
    if (e.has_properties()) {
      const int32_t s = NewValue();
      events_.back().properties = s;
      AddStruct(e.properties(), s);
    }
  }
}

void LeadSet::Add(const sv1::Account& account) {
  Lead& out = leads_.emplace_back();
  out.id = account.id();
  out.first_event = static_cast<int32_t>(events_.size());
  if (account.has_attributes()) {
    const int32_t s = NewValue();
    leads_.back().attributes = s;
    AddStruct(account.attributes(), s);
  }
  for (const sv1::Lead& member : account.members()) {
    Add(member);
  }
}

}  // namespace accord::scoring
