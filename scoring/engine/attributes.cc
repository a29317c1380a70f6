#include "scoring/engine/attributes.h"

#include <algorithm>
#include <string>
#include <vector>

#include "definitions/validation.h"

namespace accord::scoring {
namespace {

// Whether the lead has a value at `keys` (a path split at its dots) of its attributes.
bool HasAttribute(const LeadSet& leads, int32_t attributes, const std::vector<std::string>& keys) {
  int32_t at = attributes;
  for (const std::string& key : keys) {
    at = leads.FieldIndex(at, key);
    if (at < 0) {
      return false;
    }
  }
  return true;
}

// Whether entry `e` of a struct is the one its key reads (the last, when a key repeats, as a
// map parsed twice leaves it), with a value.
bool Effective(const LeadSet& leads, int32_t e) {
  const LeadSet::Entry& entry = leads.entry(e);
  if (entry.value < 0 || leads.value(entry.value).kind == LeadSet::Value::Kind::kUnset) {
    return false;
  }
  for (int32_t later = entry.next; later >= 0; later = leads.entry(later).next) {
    if (leads.entry(later).key == entry.key) {
      return false;
    }
  }
  return true;
}

// Paths found unread, kept in one buffer reused call after call (no allocation per path).
struct PathList {
  std::string bytes;
  std::vector<std::pair<uint32_t, uint32_t>> spans;  // offset, length
  absl::string_view at(size_t i) const {
    return absl::string_view(bytes).substr(spans[i].first, spans[i].second);
  }
  void Add(absl::string_view path) {
    spans.emplace_back(static_cast<uint32_t>(bytes.size()), static_cast<uint32_t>(path.size()));
    bytes.append(path.data(), path.size());
  }
  void Clear() {
    bytes.clear();
    spans.clear();
  }
};

// Appends to `out` the leaf paths under `value` (a list or a scalar is a leaf; so is an empty
// struct) that no rule reads, below `node` of `tree` (-1: none of them), `path` being value's.
void UnreadLeaves(const ReadTree& tree, const LeadSet& leads, int32_t value, int node,
                  std::string& path, int depth, PathList* out) {
  const LeadSet::Value& v = leads.value(value);
  if (v.kind != LeadSet::Value::Kind::kStruct || v.first < 0 || depth >= kMaxConditionDepth) {
    if (node < 0 && !path.empty()) {
      out->Add(path);
    }
    return;
  }
  for (int32_t e = v.first; e >= 0 && out->spans.size() < 1000; e = leads.entry(e).next) {
    if (!Effective(leads, e)) {
      continue;
    }
    const LeadSet::Entry& entry = leads.entry(e);
    const int child = node < 0 ? -1 : tree.Child(node, entry.key);
    if (child >= 0 && tree.nodes[child].read) {
      continue;  // a rule reads this path, and so everything inside it
    }
    const LeadSet::Value& inner = leads.value(entry.value);
    if (child >= 0 && inner.kind != LeadSet::Value::Kind::kStruct) {
      continue;  // rules read inside it: they test it, and find no field there
    }
    const size_t mark = path.size();
    if (!path.empty()) {
      path.push_back('.');
    }
    path.append(entry.key.data(), entry.key.size());
    UnreadLeaves(tree, leads, entry.value, child, path, depth + 1, out);
    path.resize(mark);
  }
}

}  // namespace

void ReportAttributes(const CompiledSet& set, const Model& m, const LeadSet& leads,
                      const LeadSet::Lead& lead, sv1::LeadScore& out) {
  for (size_t i = 0; i < m.read_keys.size(); ++i) {
    if (!HasAttribute(leads, lead.attributes, m.read_keys[i])) {
      out.add_missing_attributes(m.read_paths[i]);
    }
  }
  if (lead.attributes < 0) {
    return;
  }
  thread_local PathList unread;
  thread_local std::string path;
  unread.Clear();
  path.clear();
  UnreadLeaves(set.read_tree, leads, lead.attributes, 0, path, 0, &unread);
  std::vector<size_t> order(unread.spans.size());
  for (size_t i = 0; i < order.size(); ++i) {
    order[i] = i;
  }
  std::sort(order.begin(), order.end(),
            [&](size_t a, size_t b) { return unread.at(a) < unread.at(b); });
  absl::string_view previous;
  for (size_t i = 0;
       i < order.size() && out.unread_attributes_size() < static_cast<int>(kMaxUnreadAttributes);
       ++i) {
    absl::string_view p = unread.at(order[i]);
    if (i > 0 && p == previous) {
      continue;
    }
    previous = p;
    out.add_unread_attributes(std::string(p));
  }
}

}  // namespace accord::scoring
