#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "absl/container/inlined_vector.h"

#include "scoring/engine/compiled_set.h"
#include "scoring/lead_set.h"

// Condition evaluation: attribute tests on the values at a path, persona matches, event
// counts and score tests, with the evidence of what was seen. Internal to the engine.
namespace accord::scoring {

using LeadValue = LeadSet::Value;
using Values = absl::InlinedVector<const LeadValue*, 4>;

// Whether the attribute condition `c` holds within the struct value `root` (an event's
// properties, or the lead's attributes for a path that was not numbered); `matched` gets the
// value that satisfied it.
bool TestAttribute(const Condition& c, const LeadSet& leads, int32_t root,
                   const LeadValue** matched = nullptr);

struct Scores {
  double fit = 0;
  double engagement = 0;
  double total = 0;
  int level_rank = -1;
};

// Evaluates conditions for one lead, remembering what it computed: each attribute path is looked
// up once, each distinct attribute test and each persona match evaluated once.
class Evaluator {
 public:
  Evaluator(const CompiledSet& set, const LeadSet& leads, size_t lead, int64_t as_of_ns)
      : set_(set),
        leads_(leads),
        lead_(leads.lead(lead)),
        as_of_ns_(as_of_ns),
        persona_match_(set.personas.size(), -1.0),
        persona_busy_(set.personas.size(), false),
        paths_(set.attribute_paths),
        tests_(set.attribute_tests) {}

  // The weighted share of persona `i`'s criteria that the lead meets (0 when a required one
  // fails), computed once per lead; `met` gets the ids of the criteria met.
  double PersonaMatch(int i, std::vector<std::string>* met = nullptr);

  void SetScores(const Scores& scores) {
    scores_ = scores;
    has_scores_ = true;
  }

  // Whether `c` holds for the lead. When it does and `evidence` is not null, what it saw is
  // appended to `evidence` (after "; " for the parts of an `all`); when it does not, what was
  // appended is taken back.
  bool Holds(const Condition& c, std::string* evidence) {
    const size_t mark = evidence != nullptr ? evidence->size() : 0;
    const bool held = Test(c, evidence);
    if (!held && evidence != nullptr) {
      evidence->resize(mark);
    }
    return held;
  }

  int64_t as_of_ns() const { return as_of_ns_; }

 private:
  bool Test(const Condition& c, std::string* evidence);
  // The values at a lead attribute condition's path, looked up once per lead and path.
  const Values& Attribute(const Condition& c);

  const CompiledSet& set_;
  const LeadSet& leads_;
  const LeadSet::Lead& lead_;
  struct Path {
    bool found = false;
    Values values;
  };
  struct AttributeTest {
    int8_t state = -1;  // not evaluated yet; 0 or 1 once it is
    const LeadValue* matched = nullptr;
  };
  int64_t as_of_ns_;
  // Inline capacity for typical sets: evaluating a lead allocates nothing.
  absl::InlinedVector<double, 16> persona_match_;
  absl::InlinedVector<bool, 16> persona_busy_;
  absl::InlinedVector<Path, 32> paths_;
  absl::InlinedVector<AttributeTest, 64> tests_;
  Scores scores_;
  bool has_scores_ = false;
};

}  // namespace accord::scoring
