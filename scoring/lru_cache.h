#pragma once

#include <cstddef>
#include <list>
#include <map>
#include <optional>
#include <utility>

// A map of at most `capacity` entries that evicts the least recently used one, one at a time.
// Not thread-safe: its owner locks.
namespace accord::scoring {

template <typename Key, typename Value>
class LruCache {
 public:
  explicit LruCache(size_t capacity) : capacity_(capacity) {}

  // The value for `key`, which becomes the most recently used; nullptr if absent.
  Value* Find(const Key& key) {
    auto it = index_.find(key);
    if (it == index_.end()) {
      return nullptr;
    }
    order_.splice(order_.begin(), order_, it->second);
    return &it->second->second;
  }

  // Sets `key` (the most recently used now), evicting the least recently used entry when full.
  Value& Put(const Key& key, Value value) {
    if (Value* existing = Find(key)) {
      *existing = std::move(value);
      return *existing;
    }
    if (order_.size() >= capacity_ && !order_.empty()) {
      index_.erase(order_.back().first);
      order_.pop_back();
    }
    order_.emplace_front(key, std::move(value));
    index_[key] = order_.begin();
    return order_.front().second;
  }

  void Erase(const Key& key) {
    auto it = index_.find(key);
    if (it != index_.end()) {
      order_.erase(it->second);
      index_.erase(it);
    }
  }

  size_t size() const { return order_.size(); }

 private:
  size_t capacity_;
  std::list<std::pair<Key, Value>> order_;  // most recently used first
  std::map<Key, typename std::list<std::pair<Key, Value>>::iterator> index_;
};

}  // namespace accord::scoring
