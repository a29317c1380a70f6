#include "scoring/engine/compiled_set.h"

#include "absl/strings/str_split.h"

namespace accord::scoring {

void ReadTree::Add(absl::string_view path) {
  int node = 0;
  for (absl::string_view key : absl::StrSplit(path, '.')) {
    int child = Child(node, key);
    if (child < 0) {
      child = static_cast<int>(nodes.size());
      nodes[node].children.emplace(std::string(key), child);
      nodes.emplace_back();
    }
    node = child;
  }
  nodes[node].read = true;
}

int ReadTree::Child(int node, absl::string_view key) const {
  auto it = nodes[node].children.find(key);
  return it == nodes[node].children.end() ? -1 : it->second;
}

int LevelRank(const Model& m, const std::string& level) {
  for (size_t i = 0; i < m.levels.size(); ++i) {
    if (m.levels[i].name == level) {
      return static_cast<int>(i);
    }
  }
  return -1;
}

}  // namespace accord::scoring
