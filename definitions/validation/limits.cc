#include <cmath>

#include "google/protobuf/descriptor.h"
#include "google/protobuf/reflection.h"

#include "definitions/validation/checks.h"

namespace accord::validation {

using google::protobuf::FieldDescriptor;
using google::protobuf::Message;

// Unknown fields, strings over 4 KiB, lists over 1000, NaN or infinite numbers, anywhere.
void CheckLimits(const Message& message, Checker& c, int depth) {
  if (depth > 4 * kMaxConditionDepth) {
    c.Add("", "nested too deeply");
    return;
  }
  const auto* reflection = message.GetReflection();
  if (!reflection->GetUnknownFields(message).empty()) {
    c.Add("", "has unknown fields");
  }
  std::vector<const FieldDescriptor*> fields;
  reflection->ListFields(message, &fields);
  for (const FieldDescriptor* field : fields) {
    const std::string& name = field->name();
    if (field->is_map()) {
      int size = reflection->FieldSize(message, field);
      if (size > kMaxListSize) {
        c.Add(name, absl::StrCat("has ", size, " entries; at most ", kMaxListSize, " allowed"));
      }
      for (int i = 0; i < size; ++i) {
        const Message& entry = reflection->GetRepeatedMessage(message, field, i);
        Checker::Scope s(c, name);
        CheckLimits(entry, c, depth + 1);
      }
      continue;
    }
    if (field->is_repeated()) {
      int size = reflection->FieldSize(message, field);
      if (size > kMaxListSize) {
        c.Add(name, absl::StrCat("has ", size, " items; at most ", kMaxListSize, " allowed"));
        continue;
      }
      for (int i = 0; i < size; ++i) {
        Checker::Scope s(c, Index(name, i));
        switch (field->cpp_type()) {
          case FieldDescriptor::CPPTYPE_STRING:
            if (reflection->GetRepeatedStringReference(message, field, i, nullptr).size() >
                kMaxStringBytes) {
              c.Add("", "is longer than 4096 bytes");
            }
            break;
          case FieldDescriptor::CPPTYPE_DOUBLE:
            if (!std::isfinite(reflection->GetRepeatedDouble(message, field, i))) {
              c.Add("", "must be a finite number");
            }
            break;
          case FieldDescriptor::CPPTYPE_MESSAGE:
            CheckLimits(reflection->GetRepeatedMessage(message, field, i), c, depth + 1);
            break;
          default:
            break;
        }
      }
      continue;
    }
    switch (field->cpp_type()) {
      case FieldDescriptor::CPPTYPE_STRING: {
        std::string scratch;
        if (reflection->GetStringReference(message, field, &scratch).size() > kMaxStringBytes) {
          c.Add(name, "is longer than 4096 bytes");
        }
        break;
      }
      case FieldDescriptor::CPPTYPE_DOUBLE:
        if (!std::isfinite(reflection->GetDouble(message, field))) {
          c.Add(name, "must be a finite number");
        }
        break;
      case FieldDescriptor::CPPTYPE_MESSAGE: {
        Checker::Scope s(c, name);
        CheckLimits(reflection->GetMessage(message, field), c, depth + 1);
        break;
      }
      default:
        break;
    }
  }
}

}  // namespace accord::validation
