#include "scoring/engine/conditions.h"

#include <algorithm>
#include <charconv>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace accord::scoring {
namespace {

using Kind = LeadValue::Kind;

// The values at `path` (from segment i) within the struct value `s`: list elements are
// followed at every level, nulls and unset values are not values.
void Find(const LeadSet& leads, int32_t s, const std::vector<std::string>& path, size_t i,
          Values& out) {
  const LeadValue* v = leads.Field(s, path[i]);
  if (v == nullptr) {
    return;
  }
  if (i + 1 == path.size()) {
    if (v->kind == Kind::kList) {
      for (int32_t e = v->first; e >= 0; e = leads.value(e).next) {
        if (leads.value(e).kind != Kind::kNull) {
          out.push_back(&leads.value(e));
        }
      }
    } else if (v->kind != Kind::kNull) {
      out.push_back(v);
    }
    return;
  }
  if (v->kind == Kind::kStruct) {
    Find(leads, static_cast<int32_t>(v - &leads.value(0)), path, i + 1, out);
  } else if (v->kind == Kind::kList) {
    for (int32_t e = v->first; e >= 0; e = leads.value(e).next) {
      if (leads.value(e).kind == Kind::kStruct) {
        Find(leads, e, path, i + 1, out);
      }
    }
  }
}

bool AsNumber(const LeadValue& v, double* out) {
  if (v.kind == Kind::kNumber) {
    *out = v.number;
    return true;
  }
  return v.kind == Kind::kString && absl::SimpleAtod(v.text, out);
}

// Compares `v` with `c`: -1, 0, 1, or 2 when they cannot be compared.
int Compare(const LeadValue& v, const Constant& c, bool ignore_case) {
  switch (c.kind) {
    case Constant::Kind::kNumber: {
      double x;
      if (!AsNumber(v, &x)) {
        return 2;
      }
      return x < c.number ? -1 : (x > c.number ? 1 : 0);
    }
    case Constant::Kind::kString: {
      if (v.kind != Kind::kString) {
        return 2;
      }
      int r = ignore_case ? absl::AsciiStrToLower(v.text).compare(c.text) : v.text.compare(c.text);
      return r < 0 ? -1 : (r > 0 ? 1 : 0);
    }
    case Constant::Kind::kBool:
      if (v.kind != Kind::kBool) {
        return 2;
      }
      return v.boolean == c.boolean ? 0 : 1;
    default:
      return 2;
  }
}

// Whether Compare(v, c, ignore_case) would be 0, without lower-casing a copy.
bool Equal(const LeadValue& v, const Constant& c, bool ignore_case) {
  switch (c.kind) {
    case Constant::Kind::kNumber: {
      double x;
      return AsNumber(v, &x) && x == c.number;
    }
    case Constant::Kind::kString:
      return v.kind == Kind::kString &&
             (ignore_case ? absl::EqualsIgnoreCase(v.text, c.text) : v.text == c.text);
    case Constant::Kind::kBool:
      return v.kind == Kind::kBool && v.boolean == c.boolean;
    default:
      return false;
  }
}

bool TestValue(const Condition& c, const LeadValue& v) {
  switch (c.op) {
    case rv1::EQ:
      return Equal(v, c.value, c.ignore_case);
    case rv1::NE:
      return !Equal(v, c.value, c.ignore_case);
    case rv1::IN:
      return std::any_of(c.values.begin(), c.values.end(),
                         [&](const Constant& k) { return Equal(v, k, c.ignore_case); });
    case rv1::NOT_IN:
      return std::none_of(c.values.begin(), c.values.end(),
                          [&](const Constant& k) { return Equal(v, k, c.ignore_case); });
    case rv1::LT:
      return Compare(v, c.value, c.ignore_case) == -1;
    case rv1::LE: {
      int r = Compare(v, c.value, c.ignore_case);
      return r == -1 || r == 0;
    }
    case rv1::GT:
      return Compare(v, c.value, c.ignore_case) == 1;
    case rv1::GE: {
      int r = Compare(v, c.value, c.ignore_case);
      return r == 1 || r == 0;
    }
    case rv1::BETWEEN: {
      if (c.values.size() != 2) {
        return false;
      }
      int lo = Compare(v, c.values[0], c.ignore_case);
      int hi = Compare(v, c.values[1], c.ignore_case);
      return (lo == 0 || lo == 1) && (hi == 0 || hi == -1);
    }
    case rv1::CONTAINS:
    case rv1::STARTS_WITH:
    case rv1::ENDS_WITH: {
      if (v.kind != Kind::kString || c.value.kind != Constant::Kind::kString) {
        return false;
      }
      absl::string_view s = v.text;
      const absl::string_view t = c.value.text;
      if (c.op == rv1::CONTAINS) {
        return c.ignore_case ? absl::StrContains(absl::AsciiStrToLower(s), t)
                             : absl::StrContains(s, t);
      }
      if (s.size() < t.size()) {
        return false;
      }
      s = c.op == rv1::STARTS_WITH ? s.substr(0, t.size()) : s.substr(s.size() - t.size());
      return c.ignore_case ? absl::EqualsIgnoreCase(s, t) : s == t;
    }
    case rv1::MATCHES:
      return v.kind == Kind::kString && c.regex != nullptr &&
             RE2::PartialMatch(re2::StringPiece(v.text.data(), v.text.size()), *c.regex);
    default:
      return false;
  }
}

// Tests an attribute condition against the values found at its path; `matched` gets the value
// that satisfied it (the first value for EXISTS, none for NOT_EXISTS).
bool TestValues(const Condition& c, const Values& values, const LeadValue** matched) {
  if (c.op == rv1::EXISTS || c.op == rv1::NOT_EXISTS) {
    *matched = values.empty() ? nullptr : values.front();
    return (c.op == rv1::EXISTS) != values.empty();
  }
  for (const LeadValue* v : values) {
    if (TestValue(c, *v)) {
      *matched = v;
      return true;
    }
  }
  return false;
}

// "company.industry=software": the value an attribute test saw.
void AppendEvidence(const Condition& c, const LeadValue* v, std::string* evidence) {
  absl::StrAppend(evidence, c.field, "=");
  if (v == nullptr) {
    return;
  }
  switch (v->kind) {
    case Kind::kString:
      evidence->append(v->text.data(), v->text.size());
      break;
    case Kind::kNumber: {
      // The shortest text that reads back as the same number: a revenue of 2500000 shows as
      // 2500000 (six significant digits would show 2.5e+06), 0.1 as 0.1.
      char buffer[32];
      const std::to_chars_result r = std::to_chars(buffer, buffer + sizeof buffer, v->number);
      evidence->append(buffer, r.ptr);
      break;
    }
    case Kind::kBool:
      evidence->append(v->boolean ? "true" : "false");
      break;
    default:
      break;
  }
}

}  // namespace

bool TestAttribute(const Condition& c, const LeadSet& leads, int32_t root,
                   const LeadValue** matched) {
  Values values;
  if (root >= 0) {
    Find(leads, root, c.path, 0, values);
  }
  const LeadValue* ignored = nullptr;
  return TestValues(c, values, matched != nullptr ? matched : &ignored);
}

double Evaluator::PersonaMatch(int i, std::vector<std::string>* met) {
  if (persona_match_[i] >= 0 && met == nullptr) {
    return persona_match_[i];
  }
  if (persona_busy_[i]) {
    return 0;  // a persona referring to itself through others matches 0
  }
  persona_busy_[i] = true;
  const Persona& p = set_.personas[i];
  double held = 0;
  bool required_failed = false;
  for (const Persona::Criterion& c : p.criteria) {
    if (Holds(c.condition, nullptr)) {
      held += c.weight;
      if (met != nullptr) {
        met->push_back(c.id);
      }
    } else if (c.required) {
      required_failed = true;
    }
  }
  persona_busy_[i] = false;
  double match = (required_failed || p.total_weight <= 0) ? 0 : held / p.total_weight;
  persona_match_[i] = match;
  return match;
}

bool Evaluator::Test(const Condition& c, std::string* evidence) {
  switch (c.type) {
    case Condition::Type::kAll:
      if (evidence == nullptr) {
        return std::all_of(c.children.begin(), c.children.end(),
                           [&](const Condition& x) { return Holds(x, nullptr); });
      }
      for (const Condition& x : c.children) {
        const size_t before = evidence->size();
        if (before > 0) {
          evidence->append("; ");
        }
        if (!Holds(x, evidence)) {
          return false;
        }
        if (evidence->size() == before + (before > 0 ? 2 : 0)) {
          evidence->resize(before);  // the part showed nothing
        }
      }
      return true;
    case Condition::Type::kAny:
      return std::any_of(c.children.begin(), c.children.end(),
                         [&](const Condition& x) { return Holds(x, evidence); });
    case Condition::Type::kNot:
      return !Holds(c.children.front(), nullptr);
    case Condition::Type::kAttribute: {
      const LeadValue* matched = nullptr;
      bool held;
      if (c.path_id >= 0) {
        AttributeTest& t = tests_[c.test_id];
        if (t.state < 0) {
          t.state = TestValues(c, Attribute(c), &t.matched) ? 1 : 0;
        }
        held = t.state == 1;
        matched = t.matched;
      } else {
        held = TestAttribute(c, leads_, lead_.attributes, &matched);
      }
      if (held && evidence != nullptr && c.op != rv1::NOT_EXISTS) {
        AppendEvidence(c, matched, evidence);
      }
      return held;
    }
    case Condition::Type::kPersona: {
      double m = PersonaMatch(c.persona);
      if (evidence != nullptr) {
        absl::StrAppend(evidence, "persona ", set_.personas[c.persona].name, " match ", m);
      }
      return m >= c.min_match && m > 0;
    }
    case Condition::Type::kEvent: {
      int count = 0;
      for (int32_t k = 0; k < lead_.events; ++k) {
        const LeadSet::Event& e = leads_.event(lead_.first_event + k);
        if (e.type != c.event_type) {
          continue;
        }
        int64_t age = as_of_ns_ - e.time.ns();
        if (age < 0 || (c.window_ns > 0 && age > c.window_ns)) {
          continue;
        }
        if (std::all_of(c.children.begin(), c.children.end(), [&](const Condition& w) {
              return TestAttribute(w, leads_, e.properties);
            })) {
          ++count;
        }
      }
      if (evidence != nullptr) {
        absl::StrAppend(evidence, count, " ", c.event_type, " events");
      }
      return count >= c.min_count;
    }
    case Condition::Type::kScore: {
      if (!has_scores_) {
        return false;
      }
      double x = 0;
      double y = c.threshold;
      switch (c.metric) {
        case rv1::FIT:
          x = scores_.fit;
          break;
        case rv1::ENGAGEMENT:
          x = scores_.engagement;
          break;
        case rv1::TOTAL:
          x = scores_.total;
          break;
        case rv1::LEVEL:
          x = scores_.level_rank;
          y = c.level_rank;
          break;
        default:
          return false;
      }
      switch (c.op) {
        case rv1::EQ:
          return x == y;
        case rv1::NE:
          return x != y;
        case rv1::LT:
          return x < y;
        case rv1::LE:
          return x <= y;
        case rv1::GT:
          return x > y;
        case rv1::GE:
          return x >= y;
        default:
          return false;
      }
    }
  }
  return false;
}

const Values& Evaluator::Attribute(const Condition& c) {
  Path& p = paths_[c.path_id];
  if (!p.found) {
    p.found = true;
    if (lead_.attributes >= 0) {
      Find(leads_, lead_.attributes, c.path, 0, p.values);
    }
  }
  return p.values;
}

}  // namespace accord::scoring
