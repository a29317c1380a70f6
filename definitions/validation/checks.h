#pragma once

// What the checks of each kind share (internal to definitions/validation): the checker that
// collects violations under a growing field path, the pattern budget, small helpers, and the
// checks one kind calls in another's file.
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/time/clock.h"
#include "google/protobuf/duration.pb.h"
#include "google/protobuf/message.h"
#include "google/protobuf/struct.pb.h"

#include "definitions/approval_policy.h"
#include "definitions/resource_name.h"
#include "definitions/validation.h"

namespace accord::validation {

using google::protobuf::Duration;
using google::protobuf::Value;

// What the definition being checked has spent of its pattern budget.
struct PatternBudget {
  CompiledPatterns* patterns = nullptr;
  int count = 0;
  int64_t program = 0;
  absl::Time start = absl::Now();
  bool exhausted = false;  // compile nothing more
};

// Collects violations under a path that grows and shrinks as the checks descend.
class Checker {
 public:
  explicit Checker(std::string prefix) : path_(std::move(prefix)) {}

  PatternBudget& budget() { return budget_; }

  // Adds a violation at `field` below the current path ("" = the current path itself).
  void Add(absl::string_view field, std::string description) {
    violations_.push_back({Join(field), std::move(description)});
  }
  std::string Join(absl::string_view field) const {
    if (field.empty()) {
      return path_;
    }
    if (path_.empty()) {
      return std::string(field);
    }
    return field.front() == '[' ? absl::StrCat(path_, field) : absl::StrCat(path_, ".", field);
  }

  // Scoped descent: `Checker::Scope s(c, "criteria[0]");`
  class Scope {
   public:
    Scope(Checker& c, absl::string_view field) : c_(c), saved_(c.path_) { c.path_ = c.Join(field); }
    ~Scope() { c_.path_ = saved_; }
    Scope(const Scope&) = delete;
    Scope& operator=(const Scope&) = delete;

   private:
    Checker& c_;
    std::string saved_;
  };

  std::vector<FieldViolation> Take() { return std::move(violations_); }

 private:
  std::string path_;
  std::vector<FieldViolation> violations_;
  PatternBudget budget_;
};

inline std::string Index(absl::string_view field, int i) {
  return absl::StrCat(field, "[", i, "]");
}

inline bool Positive(const Duration& d) {
  return d.seconds() > 0 || (d.seconds() == 0 && d.nanos() > 0);
}
inline bool Negative(const Duration& d) { return d.seconds() < 0 || d.nanos() < 0; }

inline void CheckDurationNotNegative(Checker& c, absl::string_view field, const Duration& d) {
  if (Negative(d)) {
    c.Add(field, "must not be negative");
  }
}

inline void CheckUniqueId(Checker& c, std::set<std::string>& seen, absl::string_view field,
                          const std::string& id, absl::string_view what) {
  if (id.empty()) {
    c.Add(field, absl::StrCat("is required (the ", what, "'s id)"));
  } else if (!seen.insert(id).second) {
    c.Add(field, absl::StrCat("duplicate ", what, " '", id, "'"));
  }
}

inline bool IsValueString(const Value& v) { return v.kind_case() == Value::kStringValue; }
inline bool IsValueNumber(const Value& v) { return v.kind_case() == Value::kNumberValue; }
inline bool IsValueScalar(const Value& v) {
  return v.kind_case() == Value::kStringValue || v.kind_case() == Value::kNumberValue ||
         v.kind_case() == Value::kBoolValue;
}

struct ConditionContext {
  absl::string_view namespace_id;
  const ReferenceResolver* resolver = nullptr;
  bool allow_score = false;
  const char* score_denied_reason = "";
  // Account fit rules test the account's own attributes: no persona or event conditions.
  bool attributes_only = false;
  // A model's field dictionary (path -> type): attribute conditions must read its paths.
  const std::map<std::string, registry::v1::AttributeField::Type>* dictionary = nullptr;
};

// Format limits on every field of `message`: unknown fields, strings over 4 KiB, lists over
// 1000, NaN or infinite numbers (limits.cc).
void CheckLimits(const google::protobuf::Message& message, Checker& c, int depth);

// conditions.cc
void CheckAttribute(const registry::v1::AttributeCondition& a, Checker& c);
void CheckReference(Checker& c, absl::string_view field, const std::string& ref,
                    registry::v1::DefinitionKind kind, const ConditionContext& ctx,
                    std::optional<registry::v1::Definition>* out = nullptr);
void CheckCondition(const registry::v1::Condition& cond, Checker& c, const ConditionContext& ctx,
                    int depth);
void CheckConditionField(Checker& c, absl::string_view field, bool present,
                         const registry::v1::Condition& cond, const ConditionContext& ctx);

template <typename Group>
void CheckCaps(const Group& g, Checker& c) {
  if (g.has_max_points() && g.has_min_points() && g.min_points() > g.max_points()) {
    c.Add("min_points", "must not be greater than max_points");
  }
}

// One file per kind.
void CheckPersona(const registry::v1::BuyerPersona& p, Checker& c, const ConditionContext& ctx);
void CheckModel(const registry::v1::QualificationModel& m, Checker& c,
                const ConditionContext& model_ctx);
void CheckJourney(const registry::v1::BuyerJourney& j, Checker& c, ConditionContext ctx);
void CheckAccountModel(const registry::v1::AccountModel& a, Checker& c,
                       const ConditionContext& ctx);
void CheckSla(const registry::v1::ServiceLevelAgreement& sla, Checker& c,
              const ConditionContext& ctx);

}  // namespace accord::validation
