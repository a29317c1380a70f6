#include "common/yaml.h"

#include <yaml.h>

#include <memory>
#include <optional>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace accord {

bool YamlNode::IsNull() const {
  return kind_ == Kind::kScalar && !quoted_ &&
         (scalar_.empty() || scalar_ == "~" || scalar_ == "null" || scalar_ == "Null" ||
          scalar_ == "NULL");
}

const YamlNode* YamlNode::Find(absl::string_view key) const {
  for (const auto& [k, v] : pairs_) {
    if (k.kind_ == Kind::kScalar && k.scalar_ == key) {
      return &v;
    }
  }
  return nullptr;
}

// Builds documents from libyaml's events: collections being read stay on a stack and join
// their parent when they end.
class YamlBuilder {
 public:
  YamlBuilder(absl::string_view source, YamlLimits limits) : source_(source), limits_(limits) {}

  absl::Status Event(const yaml_event_t& event) {
    const int line = static_cast<int>(event.start_mark.line) + 1;
    switch (event.type) {
      case YAML_ALIAS_EVENT:
        return Refuse(line, "aliases (*name) are not supported");
      case YAML_SCALAR_EVENT: {
        if (event.data.scalar.anchor != nullptr) {
          return Refuse(line, "anchors (&name) are not supported");
        }
        YamlNode node;
        node.kind_ = YamlNode::Kind::kScalar;
        node.line_ = line;
        node.scalar_.assign(reinterpret_cast<const char*>(event.data.scalar.value),
                            event.data.scalar.length);
        const char* tag = reinterpret_cast<const char*>(event.data.scalar.tag);
        node.quoted_ = event.data.scalar.style != YAML_PLAIN_SCALAR_STYLE ||
                       (tag != nullptr && absl::string_view(tag) == YAML_STR_TAG);
        return Attach(std::move(node), line);
      }
      case YAML_SEQUENCE_START_EVENT:
      case YAML_MAPPING_START_EVENT: {
        const bool map = event.type == YAML_MAPPING_START_EVENT;
        if ((map ? event.data.mapping_start.anchor : event.data.sequence_start.anchor) != nullptr) {
          return Refuse(line, "anchors (&name) are not supported");
        }
        if (static_cast<int>(open_.size()) >= limits_.max_depth) {
          return Refuse(line, absl::StrCat("nested more than ", limits_.max_depth, " levels"));
        }
        Open open;
        open.node.kind_ = map ? YamlNode::Kind::kMap : YamlNode::Kind::kSequence;
        open.node.line_ = line;
        open_.push_back(std::move(open));
        return absl::OkStatus();
      }
      case YAML_SEQUENCE_END_EVENT:
      case YAML_MAPPING_END_EVENT: {
        YamlNode node = std::move(open_.back().node);
        open_.pop_back();
        return Attach(std::move(node), line);
      }
      default:
        return absl::OkStatus();  // stream and document boundaries
    }
  }

  std::vector<YamlNode> TakeDocuments() { return std::move(documents_); }

 private:
  struct Open {
    YamlNode node;
    std::optional<YamlNode> key;  // a map's key waiting for its value
  };

  absl::Status Refuse(int line, absl::string_view what) {
    return absl::InvalidArgumentError(absl::StrCat(source_, ":", line, ": ", what));
  }

  absl::Status Attach(YamlNode node, int line) {
    if (++nodes_ > limits_.max_nodes) {
      return Refuse(line, absl::StrCat("more than ", limits_.max_nodes, " values"));
    }
    if (open_.empty()) {
      documents_.push_back(std::move(node));
      return absl::OkStatus();
    }
    Open& parent = open_.back();
    if (parent.node.kind_ == YamlNode::Kind::kSequence) {
      parent.node.items_.push_back(std::move(node));
    } else if (!parent.key.has_value()) {
      parent.key = std::move(node);
    } else {
      parent.node.pairs_.emplace_back(std::move(*parent.key), std::move(node));
      parent.key.reset();
    }
    return absl::OkStatus();
  }

  std::string source_;
  YamlLimits limits_;
  size_t nodes_ = 0;
  std::vector<Open> open_;
  std::vector<YamlNode> documents_;
};

absl::StatusOr<std::vector<YamlNode>> ParseYaml(absl::string_view text, absl::string_view source,
                                                YamlLimits limits) {
  if (text.size() > limits.max_bytes) {
    return absl::InvalidArgumentError(
        absl::StrCat(source, ":1: longer than ", limits.max_bytes, " bytes"));
  }
  yaml_parser_t parser;
  if (yaml_parser_initialize(&parser) == 0) {
    return absl::ResourceExhaustedError("cannot allocate a YAML parser");
  }
  std::unique_ptr<yaml_parser_t, void (*)(yaml_parser_t*)> owner(&parser, yaml_parser_delete);
  yaml_parser_set_input_string(&parser, reinterpret_cast<const unsigned char*>(text.data()),
                               text.size());
  YamlBuilder builder(source, limits);
  for (;;) {
    yaml_event_t event;
    if (yaml_parser_parse(&parser, &event) == 0) {
      const char* problem = parser.problem != nullptr ? parser.problem : "not valid YAML";
      std::string context = parser.context != nullptr ? absl::StrCat(" ", parser.context) : "";
      return absl::InvalidArgumentError(absl::StrCat(source, ":", parser.problem_mark.line + 1,
                                                     ": not valid YAML: ", problem, context));
    }
    std::unique_ptr<yaml_event_t, void (*)(yaml_event_t*)> event_owner(&event, yaml_event_delete);
    if (event.type == YAML_STREAM_END_EVENT) {
      break;
    }
    if (absl::Status s = builder.Event(event); !s.ok()) {
      return s;
    }
  }
  return builder.TakeDocuments();
}

namespace {

// Would a plain scalar with this text read back as something other than a string?
bool ReadsAsTyped(const std::string& s) {
  double d;
  return s.empty() || s == "true" || s == "false" || s == "~" || s == "null" || s == "Null" ||
         s == "NULL" || absl::SimpleAtod(s, &d) || s.find_first_of("0123456789") == 0;
}

int AppendOutput(void* data, unsigned char* buffer, size_t size) {
  static_cast<std::string*>(data)->append(reinterpret_cast<const char*>(buffer), size);
  return 1;
}

// Emits `node`'s events; false when the emitter refused one.
bool EmitNode(yaml_emitter_t& emitter, const YamlNode& node) {
  yaml_event_t event;
  switch (node.kind()) {
    case YamlNode::Kind::kScalar: {
      const std::string& s = node.scalar();
      yaml_scalar_style_t style = node.quoted() && ReadsAsTyped(s) ? YAML_DOUBLE_QUOTED_SCALAR_STYLE
                                                                   : YAML_ANY_SCALAR_STYLE;
      if (node.IsNull()) {
        style = YAML_PLAIN_SCALAR_STYLE;
      }
      yaml_scalar_event_initialize(
          &event, nullptr, nullptr,
          reinterpret_cast<yaml_char_t*>(const_cast<char*>(node.IsNull() ? "null" : s.c_str())),
          node.IsNull() ? 4 : static_cast<int>(s.size()), 1, 1, style);
      return yaml_emitter_emit(&emitter, &event) != 0;
    }
    case YamlNode::Kind::kSequence:
      yaml_sequence_start_event_initialize(&event, nullptr, nullptr, 1, YAML_BLOCK_SEQUENCE_STYLE);
      if (yaml_emitter_emit(&emitter, &event) == 0) {
        return false;
      }
      for (const YamlNode& item : node.items()) {
        if (!EmitNode(emitter, item)) {
          return false;
        }
      }
      yaml_sequence_end_event_initialize(&event);
      return yaml_emitter_emit(&emitter, &event) != 0;
    case YamlNode::Kind::kMap:
      yaml_mapping_start_event_initialize(&event, nullptr, nullptr, 1, YAML_BLOCK_MAPPING_STYLE);
      if (yaml_emitter_emit(&emitter, &event) == 0) {
        return false;
      }
      for (const auto& [key, value] : node.pairs()) {
        if (!EmitNode(emitter, key) || !EmitNode(emitter, value)) {
          return false;
        }
      }
      yaml_mapping_end_event_initialize(&event);
      return yaml_emitter_emit(&emitter, &event) != 0;
  }
  return false;
}

}  // namespace

std::string EmitYaml(const YamlNode& node) {
  std::string out;
  yaml_emitter_t emitter;
  if (yaml_emitter_initialize(&emitter) == 0) {
    return out;
  }
  std::unique_ptr<yaml_emitter_t, void (*)(yaml_emitter_t*)> owner(&emitter, yaml_emitter_delete);
  yaml_emitter_set_output(&emitter, AppendOutput, &out);
  yaml_emitter_set_unicode(&emitter, 1);
  yaml_emitter_set_width(&emitter, -1);
  yaml_event_t event;
  yaml_stream_start_event_initialize(&event, YAML_UTF8_ENCODING);
  bool ok = yaml_emitter_emit(&emitter, &event) != 0;
  yaml_document_start_event_initialize(&event, nullptr, nullptr, nullptr, 1);
  ok = ok && yaml_emitter_emit(&emitter, &event) != 0;
  ok = ok && EmitNode(emitter, node);
  yaml_document_end_event_initialize(&event, 1);
  ok = ok && yaml_emitter_emit(&emitter, &event) != 0;
  yaml_stream_end_event_initialize(&event);
  ok = ok && yaml_emitter_emit(&emitter, &event) != 0;
  return ok ? out : std::string();
}

}  // namespace accord
