#pragma once

#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

// YAML 1.1 text (JSON included) read into a plain tree, with libyaml (the reference C parser)
// and bounds on what one text may cost. Anchors and aliases are refused: configuration and
// definitions do not need them, and they are how a small text becomes a huge tree.
namespace accord {

class YamlNode {
 public:
  enum class Kind { kScalar, kSequence, kMap };

  Kind kind() const { return kind_; }
  int line() const { return line_; }  // 1-based line where the node starts

  // A null is a plain scalar spelled "", "~", "null", "Null" or "NULL".
  bool IsNull() const;
  bool IsScalar() const { return kind_ == Kind::kScalar && !IsNull(); }
  bool IsSequence() const { return kind_ == Kind::kSequence; }
  bool IsMap() const { return kind_ == Kind::kMap; }
  // The text of a scalar (empty for other kinds).
  const std::string& scalar() const { return scalar_; }
  // True for a quoted or block scalar: its text is a string, never a number, bool or null.
  bool quoted() const { return quoted_; }
  const std::vector<YamlNode>& items() const { return items_; }
  const std::vector<std::pair<YamlNode, YamlNode>>& pairs() const { return pairs_; }
  // The value of the first pair whose key is the scalar `key`, or nullptr.
  const YamlNode* Find(absl::string_view key) const;

  // Edits (before emitting): a scalar's text; the children of a sequence or map.
  void SetScalar(std::string text, bool quoted) {
    kind_ = Kind::kScalar;
    scalar_ = std::move(text);
    quoted_ = quoted;
  }
  std::vector<YamlNode>& mutable_items() { return items_; }
  std::vector<std::pair<YamlNode, YamlNode>>& mutable_pairs() { return pairs_; }

 private:
  friend class YamlBuilder;
  Kind kind_ = Kind::kScalar;
  int line_ = 0;
  std::string scalar_;
  bool quoted_ = false;
  std::vector<YamlNode> items_;
  std::vector<std::pair<YamlNode, YamlNode>> pairs_;
};

struct YamlLimits {
  size_t max_bytes = 16 << 20;  // the text
  size_t max_nodes = 1 << 20;   // scalars, sequences and maps in all documents
  int max_depth = 100;          // nesting of sequences and maps
};

// Every document of `text`, in order (an empty stream has none). INVALID_ARGUMENT, as
// "source:line: problem", for text that is not YAML, uses anchors or aliases, or exceeds
// `limits`. Time and memory are linear in the text's size.
absl::StatusOr<std::vector<YamlNode>> ParseYaml(absl::string_view text, absl::string_view source,
                                                YamlLimits limits = {});

// `node` as block-style YAML. Plain scalars are written so that they read back as the same
// kind; a quoted scalar that would read as a number, bool or null is written double-quoted.
std::string EmitYaml(const YamlNode& node);

}  // namespace accord
