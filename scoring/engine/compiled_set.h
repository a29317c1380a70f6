#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/string_view.h"
#include "re2/re2.h"

#include "accord/registry/v1/definition.pb.h"
#include "accord/scoring/v1/scoring.pb.h"

// The compiled model: published definitions as plain C++ structs (field paths pre-split, event
// rules indexed by event type, RE2 patterns compiled once, constants lower-cased for
// ignore_case). Built by Compile (engine/compile.h), read by every step of evaluation.
namespace accord::scoring {

namespace rv1 = ::accord::registry::v1;
namespace sv1 = ::accord::scoring::v1;

// A published definition as the registry sends it.
struct PublishedDefinition {
  std::string name;  // namespaces/{ns}/definitions/{id}
  int64_t revision = 0;
  rv1::Definition content;
};

// A constant of a condition.
struct Constant {
  enum class Kind { kNull, kBool, kNumber, kString };
  Kind kind = Kind::kNull;
  bool boolean = false;
  double number = 0;
  std::string text;  // lower-cased when the condition ignores case
};

struct Condition {
  enum class Type { kAll, kAny, kNot, kAttribute, kPersona, kEvent, kScore };
  Type type = Type::kAll;
  std::vector<Condition> children;  // all, any, not (one child), event `where` tests
  // attribute / event property test
  std::string field;
  std::vector<std::string> path;
  int path_id = -1;  // a lead attribute path: its index among CompiledSet::attribute_paths
  // A lead attribute test: its index among CompiledSet::attribute_tests. Conditions that test
  // the same path with the same operator and constants share it, and so one evaluation.
  int test_id = -1;
  rv1::Operator op = rv1::OPERATOR_UNSPECIFIED;
  Constant value;
  std::vector<Constant> values;
  bool ignore_case = false;
  std::shared_ptr<const RE2> regex;
  // persona
  int persona = -1;  // index into CompiledSet::personas
  double min_match = 0;
  // event
  std::string event_type;
  int min_count = 1;
  int64_t window_ns = 0;  // 0 = all time
  // score
  rv1::ScoreMetric metric = rv1::SCORE_METRIC_UNSPECIFIED;
  double threshold = 0;
  int level_rank = -1;
};

struct Persona {
  std::string name;
  int64_t revision = 0;
  double min_match = 0.5;
  bool exclude = false;
  struct Criterion {
    std::string id;
    double weight = 1;
    bool required = false;
    Condition condition;
  };
  std::vector<Criterion> criteria;
  double total_weight = 0;
  std::vector<std::string> read_paths;  // lead attribute paths its criteria test, sorted
};

struct FitRule {
  std::string id;
  std::string description;
  Condition condition;
  double points = 0;
  std::string reason_head;  // its reasons' constant fields, as wire bytes
};

struct EngagementRule {
  std::string id;
  std::string description;
  std::string event_type;
  std::vector<Condition> where;
  double points = 0;
  int64_t window_ns = 0;  // 0 = all time
  int max_events = 0;     // 0 = all
  bool has_max_points = false;
  double max_points = 0;
  rv1::Decay::Kind decay = rv1::Decay::NONE;
  double half_life_ns = 0;
  double period_ns = 0;
  double fraction = 0;
  std::string decay_detail;  // the reason's text when decay applied, e.g. "linear decay over 60d"
  int group = 0;
  std::string reason_head;  // its reasons' constant fields, as wire bytes
};

struct Group {
  std::string name;
  bool has_max = false;
  double max_points = 0;
  bool has_min = false;
  double min_points = 0;
};

struct Band {
  std::string label;
  double min = 0;
};

struct Level {
  std::string name;
  bool has_fit = false, has_engagement = false, has_total = false;
  double min_fit = 0, min_engagement = 0, min_total = 0;
};

struct Model {
  std::string name;
  int64_t revision = 0;
  std::vector<Group> fit_groups;
  std::vector<std::vector<FitRule>> fit_rules;  // per fit group
  std::vector<Group> engagement_groups;
  std::vector<EngagementRule> engagement_rules;
  // event type -> indices into engagement_rules
  absl::flat_hash_map<std::string, std::vector<int>> rules_by_event;
  struct Disqualifier {
    std::string id;
    std::string reason;
    Condition condition;
    std::string reason_head;  // its reasons' constant fields, as wire bytes
  };
  std::vector<Disqualifier> disqualifiers;
  std::vector<Band> fit_grades;
  std::vector<Band> engagement_grades;
  std::vector<Level> levels;
  std::vector<int> personas;  // indices into CompiledSet::personas
  // Lead attribute paths its fit rules, disqualifiers and personas test, sorted, and the same
  // split at the dots.
  std::vector<std::string> read_paths;
  std::vector<std::vector<std::string>> read_keys;
  // Event properties naming an event's content, in order of preference (verdicts' content keys).
  std::vector<std::string> content_properties;
};

// The attribute paths the rules of a namespace read, as a tree of keys: node 0 is the root; a
// node is `read` when a rule tests that very path (and so everything inside it).
struct ReadTree {
  struct Node {
    bool read = false;
    absl::flat_hash_map<std::string, int> children;
  };
  std::vector<Node> nodes = std::vector<Node>(1);
  void Add(absl::string_view path);
  // The child of `node` for `key`, or -1.
  int Child(int node, absl::string_view key) const;
};

struct Journey {
  std::string name;
  int64_t revision = 0;
  int model = -1;  // index into CompiledSet::models
  struct Stage {
    std::string id;
    std::string owner_team;
    bool has_entry = false;
    Condition entry;
    int64_t max_duration_ns = 0;
  };
  std::vector<Stage> stages;
  struct Recycle {
    int from = 0;
    int to = 0;
    std::vector<std::string> reasons;
  };
  std::vector<Recycle> recycle;
  std::vector<std::string> reason_codes;
};

struct Sla {
  std::string name;
  int64_t revision = 0;
  int journey = -1;
  int model = -1;
  rv1::ServiceLevelAgreement spec;  // commitments, evaluated rarely
};

// An account model, compiled; scoring/account.h scores accounts with it.
struct AccountModelSpec {
  std::string name;
  int64_t revision = 0;
  int member_model = -1;  // index into CompiledSet::models: scores the member leads
  int fit_model = -1;     // index into CompiledSet::models: the account fit rules (fit groups
                          // only; not in model_index)
  rv1::MemberAggregation aggregation;
  struct Role {
    std::string id;
    double weight = 1;
    int persona = -1;       // index into CompiledSet::personas, or -1 (an attribute role)
    std::string attribute;  // dotted path into the member's attributes
    std::vector<google::protobuf::Value> values;
    int min_level = -1;  // rank of the member model's level it needs; -1: any
  };
  std::vector<Role> roles;
  std::vector<rv1::AccountLevel> levels;
  bool has_consent = false;
  rv1::ConsentRule consent;
  std::vector<google::protobuf::Value> allowed;  // consent.allowed
};

// Everything published in one namespace, compiled. Immutable once built; shared by readers.
struct CompiledSet {
  std::string namespace_id;
  std::vector<Persona> personas;
  std::vector<Model> models;
  std::vector<Journey> journeys;
  std::vector<Sla> slas;
  std::vector<AccountModelSpec> accounts;
  std::unordered_map<std::string, int> persona_index, model_index, journey_index, sla_index,
      account_index;
  // The distinct lead attribute paths the conditions test: each is looked up once per lead.
  int attribute_paths = 0;
  // The distinct lead attribute tests: each is evaluated at most once per lead.
  int attribute_tests = 0;
  // Every lead attribute path a published definition of the namespace tests.
  ReadTree read_tree;
};

// At most this many unread attribute paths are reported per lead.
inline constexpr size_t kMaxUnreadAttributes = 20;

// What to evaluate a lead with: a model (required), optionally a journey.
struct Evaluation {
  const CompiledSet* set = nullptr;
  int model = -1;
  int journey = -1;
  bool reasons = true;  // false: scores only (the BASIC view), no reasons or evidence
  // Keeps `set` alive when it is not one of the snapshot's (a pinned older revision).
  std::shared_ptr<const CompiledSet> owned;
};

// The position of `level` in the model's ordered levels, or -1 (no level, DISQUALIFIED, or a
// name the model lacks). A lead "reaches" a level when its own rank is at least that one.
int LevelRank(const Model& m, const std::string& level);

// Durations and times of the definitions and leads, in nanoseconds.
inline int64_t DurationNs(const google::protobuf::Duration& d) {
  return d.seconds() * 1000000000LL + d.nanos();
}
inline int64_t TimeNs(const google::protobuf::Timestamp& t) {
  return t.seconds() * 1000000000LL + t.nanos();
}

}  // namespace accord::scoring
