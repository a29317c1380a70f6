#include "definitions/loader.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <functional>
#include <set>
#include <sstream>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/util/json_util.h"

#include "common/log.h"
#include "common/status.h"
#include "common/yaml.h"

namespace accord::definitions {
namespace {

using google::protobuf::Descriptor;
using google::protobuf::FieldDescriptor;

struct Walker {
  std::string file;
  std::vector<std::string> errors;

  void Error(const YamlNode& node, const std::string& message) {
    errors.push_back(absl::StrCat(file, ":", node.line(), ": ", message));
  }

  // A YAML scalar as a JSON value, inferring its type (for google.protobuf.Value).
  std::string ScalarJson(const YamlNode& node) {
    const std::string& s = node.scalar();
    if (!node.quoted()) {
      double d;
      if (s == "true" || s == "false") {
        return s;
      }
      if (s == "null" || s == "~") {
        return "null";
      }
      if (absl::SimpleAtod(s, &d) && s.find_first_of("xX") == std::string::npos &&
          absl::ascii_isdigit(s.back())) {
        return s;
      }
    }
    return JsonQuote(s);
  }

  // Any YAML node as JSON (Struct, Value, ListValue).
  std::string AnyJson(const YamlNode& node, int depth) {
    if (depth > 64) {
      Error(node, "nested too deeply");
      return "null";
    }
    if (node.IsNull()) {
      return "null";
    }
    switch (node.kind()) {
      case YamlNode::Kind::kScalar:
        return ScalarJson(node);
      case YamlNode::Kind::kSequence: {
        std::vector<std::string> items;
        for (const YamlNode& item : node.items()) {
          items.push_back(AnyJson(item, depth + 1));
        }
        return absl::StrCat("[", absl::StrJoin(items, ","), "]");
      }
      case YamlNode::Kind::kMap:
        return MapJson(node, [&](const YamlNode& v) { return AnyJson(v, depth + 1); });
    }
    return "null";
  }

  // A YAML map with free-form keys as a JSON object; duplicate keys are errors.
  std::string MapJson(const YamlNode& node,
                      const std::function<std::string(const YamlNode&)>& value_json) {
    std::vector<std::string> items;
    std::set<std::string> seen;
    for (const auto& kv : node.pairs()) {
      if (kv.first.kind() != YamlNode::Kind::kScalar) {
        Error(kv.first, "a key must be a string");
        continue;
      }
      std::string key = kv.first.scalar();
      if (!seen.insert(key).second) {
        Error(kv.first, absl::StrCat("duplicate key '", key, "'"));
      }
      items.push_back(absl::StrCat(JsonQuote(key), ":", value_json(kv.second)));
    }
    return absl::StrCat("{", absl::StrJoin(items, ","), "}");
  }

  // "90s", "15m", "4h", "30d" or protobuf's "3.5s" -> protobuf JSON duration.
  std::string DurationJson(const YamlNode& node) {
    std::string s = absl::AsciiStrToLower(node.scalar());
    double value;
    if (s.size() >= 2) {
      char unit = s.back();
      double factor = unit == 's'   ? 1
                      : unit == 'm' ? 60
                      : unit == 'h' ? 3600
                      : unit == 'd' ? 86400
                                    : 0;
      if (factor > 0 && absl::SimpleAtod(s.substr(0, s.size() - 1), &value) && value >= 0) {
        double seconds = value * factor;
        int64_t whole = static_cast<int64_t>(seconds);
        return JsonQuote(seconds == static_cast<double>(whole) ? absl::StrCat(whole, "s")
                                                               : absl::StrFormat("%.9fs", seconds));
      }
    }
    Error(node, absl::StrCat("'", node.scalar(), "' is not a duration like 90s, 15m, 4h or 30d"));
    return "\"0s\"";
  }

  std::string FieldJson(const FieldDescriptor* field, const YamlNode& node, int depth) {
    if (field->is_map()) {
      if (!node.IsMap()) {
        Error(node, absl::StrCat("'", field->name(), "' must be a map"));
        return "{}";
      }
      const FieldDescriptor* value_field = field->message_type()->FindFieldByName("value");
      return MapJson(node,
                     [&](const YamlNode& v) { return SingleJson(value_field, v, depth + 1); });
    }
    if (field->is_repeated()) {
      if (node.IsNull()) {
        return "[]";
      }
      if (!node.IsSequence()) {
        Error(node, absl::StrCat("'", field->name(), "' must be a list"));
        return "[]";
      }
      std::vector<std::string> items;
      for (const YamlNode& item : node.items()) {
        items.push_back(SingleJson(field, item, depth + 1));
      }
      return absl::StrCat("[", absl::StrJoin(items, ","), "]");
    }
    return SingleJson(field, node, depth);
  }

  std::string SingleJson(const FieldDescriptor* field, const YamlNode& node, int depth) {
    switch (field->cpp_type()) {
      case FieldDescriptor::CPPTYPE_MESSAGE: {
        const std::string& type = field->message_type()->full_name();
        if (type == "google.protobuf.Value" || type == "google.protobuf.Struct" ||
            type == "google.protobuf.ListValue") {
          return AnyJson(node, depth);
        }
        if (type == "google.protobuf.Duration") {
          if (!node.IsScalar()) {
            Error(node, absl::StrCat("'", field->name(), "' must be a duration like 4h"));
            return "\"0s\"";
          }
          return DurationJson(node);
        }
        if (type == "google.protobuf.Timestamp") {
          return JsonQuote(node.scalar());
        }
        return MessageJson(field->message_type(), node, depth + 1);
      }
      case FieldDescriptor::CPPTYPE_STRING:
        if (!node.IsScalar()) {
          Error(node, absl::StrCat("'", field->name(), "' must be a string"));
          return "\"\"";
        }
        return JsonQuote(node.scalar());
      case FieldDescriptor::CPPTYPE_BOOL:
        if (!node.IsScalar() || (node.scalar() != "true" && node.scalar() != "false")) {
          Error(node, absl::StrCat("'", field->name(), "' must be true or false"));
          return "false";
        }
        return node.scalar();
      case FieldDescriptor::CPPTYPE_ENUM: {
        if (!node.IsScalar() || field->enum_type()->FindValueByName(node.scalar()) == nullptr) {
          std::vector<std::string> names;
          for (int i = 1; i < field->enum_type()->value_count(); ++i) {
            names.push_back(field->enum_type()->value(i)->name());
          }
          Error(node,
                absl::StrCat("'", field->name(), "' must be one of ", absl::StrJoin(names, ", ")));
          return "0";
        }
        return JsonQuote(node.scalar());
      }
      default: {
        double d;
        if (!node.IsScalar() || node.quoted() || !absl::SimpleAtod(node.scalar(), &d)) {
          Error(node, absl::StrCat("'", field->name(), "' must be a number"));
          return "0";
        }
        if (field->cpp_type() != FieldDescriptor::CPPTYPE_DOUBLE &&
            field->cpp_type() != FieldDescriptor::CPPTYPE_FLOAT) {
          int64_t i;
          if (!absl::SimpleAtoi(node.scalar(), &i)) {
            Error(node, absl::StrCat("'", field->name(), "' must be a whole number"));
            return "0";
          }
          return JsonQuote(node.scalar());
        }
        return node.scalar();
      }
    }
  }

  std::string MessageJson(const Descriptor* descriptor, const YamlNode& node, int depth) {
    if (depth > 64) {
      Error(node, "nested too deeply");
      return "{}";
    }
    if (node.IsNull()) {
      return "{}";
    }
    if (!node.IsMap()) {
      Error(node, absl::StrCat("expected a map for ", descriptor->name()));
      return "{}";
    }
    std::vector<std::string> items;
    std::set<std::string> seen;
    for (const auto& kv : node.pairs()) {
      const std::string key = kv.first.scalar();
      const FieldDescriptor* field = descriptor->FindFieldByName(key);
      if (field == nullptr) {
        field = descriptor->FindFieldByCamelcaseName(key);
      }
      if (field == nullptr) {
        std::vector<std::string> names;
        for (int i = 0; i < descriptor->field_count(); ++i) {
          names.push_back(descriptor->field(i)->name());
        }
        Error(kv.first, absl::StrCat("unknown field '", key, "' in ", descriptor->name(),
                                     " (known: ", absl::StrJoin(names, ", "), ")"));
        continue;
      }
      if (!seen.insert(field->name()).second) {
        Error(kv.first, absl::StrCat("duplicate key '", key, "'"));
        continue;
      }
      items.push_back(
          absl::StrCat(JsonQuote(field->name()), ":", FieldJson(field, kv.second, depth)));
    }
    return absl::StrCat("{", absl::StrJoin(items, ","), "}");
  }
};

}  // namespace

absl::StatusOr<std::vector<DefinitionDocument>> ParseDefinitions(const std::string& text,
                                                                 const std::string& file) {
  Walker walker{file, {}};
  std::vector<DefinitionDocument> out;
  ACCORD_ASSIGN_OR_RETURN(std::vector<YamlNode> docs, ParseYaml(text, file));
  for (const YamlNode& doc : docs) {
    if (doc.IsNull()) {
      continue;
    }
    size_t before = walker.errors.size();
    std::string json = walker.MessageJson(registry::v1::Definition::descriptor(), doc, 0);
    if (walker.errors.size() > before) {
      continue;
    }
    DefinitionDocument d;
    d.file = file;
    d.line = doc.line();
    google::protobuf::util::JsonParseOptions options;
    options.ignore_unknown_fields = false;
    auto status = google::protobuf::util::JsonStringToMessage(json, &d.definition, options);
    if (!status.ok()) {
      walker.errors.push_back(absl::StrCat(file, ":", d.line, ": ", std::string(status.message())));
      continue;
    }
    out.push_back(std::move(d));
  }
  if (!walker.errors.empty()) {
    return absl::InvalidArgumentError(absl::StrJoin(walker.errors, "\n"));
  }
  return out;
}

absl::StatusOr<std::vector<DefinitionDocument>> ReadDefinitions(const std::string& path) {
  namespace fs = std::filesystem;
  std::vector<std::string> files;
  std::error_code ec;
  if (fs::is_directory(path, ec)) {
    for (const auto& entry : fs::directory_iterator(path, ec)) {
      std::string ext = entry.path().extension().string();
      if (entry.is_regular_file() && (ext == ".yaml" || ext == ".yml" || ext == ".json")) {
        files.push_back(entry.path().string());
      }
    }
    std::sort(files.begin(), files.end());
  } else if (fs::exists(path, ec)) {
    files.push_back(path);
  } else {
    return absl::NotFoundError(absl::StrCat(path, ": no such file or directory"));
  }
  std::vector<DefinitionDocument> all;
  std::vector<std::string> errors;
  for (const std::string& f : files) {
    std::ifstream in(f);
    std::stringstream buffer;
    buffer << in.rdbuf();
    absl::StatusOr<std::vector<DefinitionDocument>> docs = ParseDefinitions(buffer.str(), f);
    if (!docs.ok()) {
      errors.push_back(std::string(docs.status().message()));
      continue;
    }
    for (auto& d : *docs) {
      all.push_back(std::move(d));
    }
  }
  if (!errors.empty()) {
    return absl::InvalidArgumentError(absl::StrJoin(errors, "\n"));
  }
  return all;
}

namespace {

// "7776000s" (protobuf JSON) -> "90d": the largest of d, h, m, s that divides it, as files
// write durations. Fractions of a second stay as protobuf writes them.
std::string FriendlyDuration(const std::string& json) {
  int64_t seconds = 0;
  if (json.size() < 2 || json.back() != 's' ||
      !absl::SimpleAtoi(absl::string_view(json).substr(0, json.size() - 1), &seconds) ||
      seconds <= 0) {
    return json;
  }
  for (const auto& [unit, size] : {std::pair<char, int64_t>{'d', 86400}, {'h', 3600}, {'m', 60}}) {
    if (seconds % size == 0) {
      return absl::StrCat(seconds / size, std::string(1, unit));
    }
  }
  return json;
}

// Rewrites the durations in `node`, the JSON form of a `descriptor` message, as files write
// them. Struct and Value contents are data, left alone.
void FriendlyDurations(const Descriptor* descriptor, YamlNode& node) {
  if (!node.IsMap()) {
    return;
  }
  for (auto& [key, value] : node.mutable_pairs()) {
    const FieldDescriptor* field = descriptor->FindFieldByName(key.scalar());
    if (field == nullptr || field->cpp_type() != FieldDescriptor::CPPTYPE_MESSAGE) {
      continue;
    }
    const Descriptor* type = field->message_type();
    auto one = [&](YamlNode& v) {
      if (type->full_name() == "google.protobuf.Duration") {
        if (v.kind() == YamlNode::Kind::kScalar) {
          v.SetScalar(FriendlyDuration(v.scalar()), false);
        }
      } else if (type->full_name().rfind("google.protobuf.", 0) != 0) {
        FriendlyDurations(type, v);
      }
    };
    if (field->is_map()) {
      const FieldDescriptor* map_value = type->FindFieldByName("value");
      if (map_value->cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE && value.IsMap()) {
        for (auto& entry : value.mutable_pairs()) {
          FriendlyDurations(map_value->message_type(), entry.second);
        }
      }
    } else if (field->is_repeated()) {
      for (YamlNode& item : value.mutable_items()) {
        one(item);
      }
    } else {
      one(value);
    }
  }
}

}  // namespace

std::string ToYaml(const google::protobuf::Message& message) {
  std::string json;
  google::protobuf::util::JsonPrintOptions options;
  options.preserve_proto_field_names = true;
  (void)google::protobuf::util::MessageToJsonString(message, &json, options);
  absl::StatusOr<std::vector<YamlNode>> docs = ParseYaml(json, "message");
  if (!docs.ok() || docs->size() != 1) {
    return json + "\n";  // JSON is YAML too
  }
  FriendlyDurations(message.GetDescriptor(), docs->front());
  return EmitYaml(docs->front());
}

}  // namespace accord::definitions
