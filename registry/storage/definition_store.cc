#include "registry/storage/definition_store.h"

#include "absl/strings/str_cat.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/reflection.h"

#include "common/status.h"
#include "definitions/validation.h"

namespace accord::registry {

absl::Status CheckPreconditions(const WriteBatch& batch, const std::vector<int64_t>& stored,
                                int64_t store_sequence) {
  for (size_t i = 0; i < batch.preconditions.size(); ++i) {
    const Precondition& p = batch.preconditions[i];
    if (stored[i] != p.expected_sequence) {
      return ErrorWithReason(
          absl::StatusCode::kAborted, p.reference ? "REFERENCE_CHANGED" : "ETAG_MISMATCH",
          absl::StrCat(p.definition, " was changed concurrently"), {{"definition", p.definition}});
    }
  }
  if (batch.expected_store_sequence.has_value() &&
      *batch.expected_store_sequence != store_sequence) {
    return ErrorWithReason(absl::StatusCode::kAborted, "STORE_CHANGED",
                           absl::StrCat("another change was committed after sequence ",
                                        *batch.expected_store_sequence));
  }
  return absl::OkStatus();
}

void AssignSequence(google::protobuf::Message* message, int64_t sequence) {
  using google::protobuf::FieldDescriptor;
  const auto* descriptor = message->GetDescriptor();
  const auto* reflection = message->GetReflection();
  const FieldDescriptor* seq = descriptor->FindFieldByName("sequence");
  if (seq != nullptr && seq->cpp_type() == FieldDescriptor::CPPTYPE_INT64 && !seq->is_repeated() &&
      reflection->GetInt64(*message, seq) == 0) {
    reflection->SetInt64(message, seq, sequence);
  }
  std::vector<const FieldDescriptor*> fields;
  reflection->ListFields(*message, &fields);
  for (const FieldDescriptor* field : fields) {
    if (field->cpp_type() != FieldDescriptor::CPPTYPE_MESSAGE || field->is_map()) {
      continue;
    }
    // Only these fields lead to records that carry their own sequence (a revision's
    // snapshot keeps the 0 it was frozen with).
    const std::string& name = field->name();
    if (name != "definition" && name != "published" && name != "revision" && name != "states" &&
        name != "events" && name != "revisions") {
      continue;
    }
    if (field->is_repeated()) {
      for (int i = 0; i < reflection->FieldSize(*message, field); ++i) {
        AssignSequence(reflection->MutableRepeatedMessage(message, field, i), sequence);
      }
    } else {
      AssignSequence(reflection->MutableMessage(message, field), sequence);
    }
  }
}

std::string NamespaceOfResource(const std::string& name) {
  return NamespaceOfName(name).value_or("");
}

}  // namespace accord::registry
