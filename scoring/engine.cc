#include "scoring/engine.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstring>
#include <set>

#include "absl/container/inlined_vector.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "google/protobuf/util/time_util.h"

#include "common/call_scope.h"
#include "common/status.h"
#include "definitions/validation.h"

namespace accord::scoring {
namespace {

using google::protobuf::Struct;
using google::protobuf::Value;
using google::protobuf::util::TimeUtil;

constexpr double kNsPerSecond = 1e9;

int64_t DurationNs(const google::protobuf::Duration& d) {
  return d.seconds() * 1000000000LL + d.nanos();
}

int64_t TimeNs(const google::protobuf::Timestamp& t) {
  return t.seconds() * 1000000000LL + t.nanos();
}

// ------------------------------------------------------------------ compilation

class Compiler {
 public:
  // `patterns` holds the MATCHES patterns that validation compiled.
  Compiler(CompiledSet& set, const std::string& namespace_id, CompiledPatterns& patterns)
      : set_(set), ns_(namespace_id), patterns_(patterns) {}

  // Compiles `in` into `out`; `model` resolves LEVEL score conditions (may be null).
  absl::Status Condition(const rv1::Condition& in, scoring::Condition* out, const Model* model) {
    if (in.all_size() > 0 || in.any_size() > 0) {
      out->type = in.all_size() > 0 ? Condition::Type::kAll : Condition::Type::kAny;
      const auto& list = in.all_size() > 0 ? in.all() : in.any();
      for (const rv1::Condition& c : list) {
        ACCORD_RETURN_IF_ERROR(Condition(c, &out->children.emplace_back(), model));
      }
    } else if (in.has_not_()) {
      out->type = Condition::Type::kNot;
      ACCORD_RETURN_IF_ERROR(Condition(in.not_(), &out->children.emplace_back(), model));
    } else if (in.has_attribute()) {
      Attribute(in.attribute(), out);
    } else if (in.has_persona()) {
      out->type = Condition::Type::kPersona;
      auto it = set_.persona_index.find(ResolveReferenceName(ns_, in.persona().persona()));
      if (it == set_.persona_index.end()) {
        return absl::InvalidArgumentError(
            absl::StrCat("persona ", in.persona().persona(), " is not published"));
      }
      out->persona = it->second;
      out->min_match = in.persona().min_match() > 0 ? in.persona().min_match()
                                                    : set_.personas[it->second].min_match;
    } else if (in.has_event()) {
      out->type = Condition::Type::kEvent;
      out->event_type = in.event().type();
      out->min_count = in.event().min_count() > 0 ? in.event().min_count() : 1;
      out->window_ns = DurationNs(in.event().window());
      for (const auto& w : in.event().where()) {
        Attribute(w, &out->children.emplace_back());
      }
    } else if (in.has_score()) {
      out->type = Condition::Type::kScore;
      out->metric = in.score().metric();
      out->op = in.score().op();
      out->threshold = in.score().value();
      if (in.score().metric() == rv1::LEVEL) {
        if (model == nullptr) {
          return absl::InvalidArgumentError("a LEVEL condition needs a model");
        }
        for (size_t i = 0; i < model->levels.size(); ++i) {
          if (model->levels[i].name == in.score().level()) {
            out->level_rank = static_cast<int>(i);
          }
        }
        if (out->level_rank < 0) {
          return absl::InvalidArgumentError(
              absl::StrCat("level ", in.score().level(), " is not a level of ", model->name));
        }
      }
    }
    return absl::OkStatus();
  }

  static Constant ToConstant(const Value& v, bool lower) {
    Constant c;
    switch (v.kind_case()) {
      case Value::kBoolValue:
        c.kind = Constant::Kind::kBool;
        c.boolean = v.bool_value();
        break;
      case Value::kNumberValue:
        c.kind = Constant::Kind::kNumber;
        c.number = v.number_value();
        break;
      case Value::kStringValue:
        c.kind = Constant::Kind::kString;
        c.text = lower ? absl::AsciiStrToLower(v.string_value()) : v.string_value();
        break;
      default:
        break;
    }
    return c;
  }

  void Attribute(const rv1::AttributeCondition& a, scoring::Condition* out) {
    out->type = Condition::Type::kAttribute;
    out->field = a.field();
    out->path = absl::StrSplit(a.field(), '.');
    out->op = a.op();
    out->ignore_case = a.ignore_case();
    if (a.has_value()) {
      out->value = ToConstant(a.value(), a.ignore_case() && a.op() != rv1::MATCHES);
    }
    for (const Value& v : a.values()) {
      out->values.push_back(ToConstant(v, a.ignore_case()));
    }
    if (a.op() == rv1::MATCHES) {
      // Compiled by validation (within the definition's budget); never twice.
      out->regex = patterns_.Compile(a.value().string_value(), a.ignore_case());
    }
  }

 private:
  CompiledSet& set_;
  std::string ns_;
  CompiledPatterns& patterns_;
};

int IndexOf(const std::unordered_map<std::string, int>& index, const std::string& ns,
            const std::string& ref) {
  if (ref.empty()) {
    return -1;
  }
  auto it = index.find(ResolveReferenceName(ns, ref));
  return it == index.end() ? -1 : it->second;
}

// ------------------------------------------------------------------ evaluation

using LeadValue = LeadSet::Value;
using Kind = LeadValue::Kind;
using Values = absl::InlinedVector<const LeadValue*, 4>;

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

// The same, finding the values within the struct value `root` (an event's properties, or the
// lead's attributes for a path that was not numbered).
bool TestAttribute(const Condition& c, const LeadSet& leads, int32_t root,
                   const LeadValue** matched = nullptr) {
  Values values;
  if (root >= 0) {
    Find(leads, root, c.path, 0, values);
  }
  const LeadValue* ignored = nullptr;
  return TestValues(c, values, matched != nullptr ? matched : &ignored);
}

// What makes two attribute tests the same test: path, operator, case and constants.
std::string TestKey(const Condition& c) {
  std::string key =
      absl::StrCat(c.field, "\x1f", static_cast<int>(c.op), c.ignore_case ? "i" : "c");
  auto add = [&key](const Constant& k) {
    absl::StrAppend(&key, "\x1f", static_cast<int>(k.kind), k.boolean ? "t" : "f", "\x1f");
    key.append(reinterpret_cast<const char*>(&k.number), sizeof k.number);
    absl::StrAppend(&key, "\x1f", k.text.size(), ":", k.text);
  };
  add(c.value);
  for (const Constant& k : c.values) {
    add(k);
  }
  return key;  // a MATCHES pattern is its value
}

// Numbers the distinct lead attribute paths and tests of a condition tree (not of event
// `where` tests, which read event properties).
struct LeafIds {
  std::unordered_map<std::string, int> paths;
  std::unordered_map<std::string, int> tests;
};

void NumberLeaves(Condition& c, LeafIds& ids) {
  if (c.type == Condition::Type::kAttribute) {
    c.path_id = ids.paths.emplace(c.field, static_cast<int>(ids.paths.size())).first->second;
    c.test_id = ids.tests.emplace(TestKey(c), static_cast<int>(ids.tests.size())).first->second;
  } else if (c.type != Condition::Type::kEvent) {
    for (Condition& child : c.children) {
      NumberLeaves(child, ids);
    }
  }
}

struct Scores {
  double fit = 0;
  double engagement = 0;
  double total = 0;
  int level_rank = -1;
};

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

  double PersonaMatch(int i, std::vector<std::string>* met = nullptr) {
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
  bool Test(const Condition& c, std::string* evidence) {
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

  const CompiledSet& set_;
  // The values at a lead attribute condition's path, looked up once per lead and path.
  const Values& Attribute(const Condition& c) {
    Path& p = paths_[c.path_id];
    if (!p.found) {
      p.found = true;
      if (lead_.attributes >= 0) {
        Find(leads_, lead_.attributes, c.path, 0, p.values);
      }
    }
    return p.values;
  }

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

double Clamp(const Group& g, double sum) {
  if (g.has_max && sum > g.max_points) {
    sum = g.max_points;
  }
  if (g.has_min && sum < g.min_points) {
    sum = g.min_points;
  }
  return sum;
}

const std::string& GradeOf(const std::vector<Band>& bands, double score) {
  static const std::string kNone;
  for (const Band& b : bands) {
    if (b.min <= score) {
      return b.label;
    }
  }
  return kNone;
}

double DecayFactor(const EngagementRule& r, int64_t age_ns) {
  switch (r.decay) {
    case rv1::Decay::EXPONENTIAL:
      return std::pow(0.5, static_cast<double>(age_ns) / r.half_life_ns);
    case rv1::Decay::LINEAR:
      return std::max(0.0, 1.0 - r.fraction * static_cast<double>(age_ns) / r.period_ns);
    default:
      return 1.0;
  }
}

// "30d", "4h", "90s".
std::string HumanDuration(double ns) {
  const double seconds = ns / kNsPerSecond;
  if (seconds >= 86400 && std::fmod(seconds, 86400) == 0) {
    return absl::StrCat(seconds / 86400, "d");
  }
  if (seconds >= 3600 && std::fmod(seconds, 3600) == 0) {
    return absl::StrCat(seconds / 3600, "h");
  }
  return absl::StrCat(seconds, "s");
}

// Where the reasons of a score go: Reason messages, or their wire bytes.
class ReasonSink {
 public:
  struct Reason {
    sv1::Reason::Kind kind;
    absl::string_view group;
    absl::string_view rule;
    absl::string_view description;
    double points = 0;
    int events_counted = 0;
    absl::string_view evidence;
    absl::string_view detail;
    // kind, group, rule and description as wire bytes (ReasonHead), when the rule has them
    absl::string_view head;
  };
  virtual ~ReasonSink() = default;
  virtual void Add(const Reason& r) = 0;
};

class MessageReasons final : public ReasonSink {
 public:
  explicit MessageReasons(sv1::LeadScore& out) : out_(out) {}
  void Add(const Reason& r) override {
    sv1::Reason* m = out_.add_reasons();
    m->set_kind(r.kind);
    // Empty strings are left unset: the same bytes, no allocation.
    auto set = [](absl::string_view v, std::string* (sv1::Reason::*field)(), sv1::Reason* m) {
      if (!v.empty()) {
        (m->*field)()->assign(v.data(), v.size());
      }
    };
    set(r.group, &sv1::Reason::mutable_group, m);
    set(r.rule, &sv1::Reason::mutable_rule, m);
    set(r.description, &sv1::Reason::mutable_description, m);
    m->set_points(r.points);
    m->set_events_counted(r.events_counted);
    set(r.evidence, &sv1::Reason::mutable_evidence, m);
    set(r.detail, &sv1::Reason::mutable_detail, m);
  }

 private:
  sv1::LeadScore& out_;
};

// Protobuf's wire format for Reason fields, as protobuf writes it (proto3: default values left
// out).
class ReasonWire {
 public:
  static size_t VarintSize(uint64_t v) {
    size_t n = 1;
    while (v >= 0x80) {
      v >>= 7;
      ++n;
    }
    return n;
  }
  // Bytes of a field with its one-byte tag; 0 for a default value, which proto3 leaves out.
  static size_t VarintField(uint64_t v) { return v == 0 ? 0 : 1 + VarintSize(v); }
  static size_t BytesField(absl::string_view v) {
    return v.empty() ? 0 : 1 + VarintSize(v.size()) + v.size();
  }
  static void Varint(std::string& out, char tag, uint64_t v) {
    if (v != 0) {
      out.push_back(tag);
      AppendWireVarint(out, v);
    }
  }
  static void Bytes(std::string& out, char tag, absl::string_view v) {
    if (!v.empty()) {
      out.push_back(tag);
      AppendWireVarint(out, v.size());
      out.append(v.data(), v.size());
    }
  }
  // Fields 1-4 (kind, group, rule, description): the same for every reason of a rule.
  static std::string Head(sv1::Reason::Kind kind, absl::string_view group, absl::string_view rule,
                          absl::string_view description) {
    std::string out;
    Varint(out, 0x08, static_cast<uint64_t>(kind));
    Bytes(out, 0x12, group);
    Bytes(out, 0x1a, rule);
    Bytes(out, 0x22, description);
    return out;
  }
};

// Appends each reason as LeadScore field 14 in protobuf's wire format, the bytes protobuf
// would write for the same Reason message.
class WireReasons final : public ReasonSink {
 public:
  explicit WireReasons(std::string& out) : out_(out) {}
  void Add(const Reason& r) override {
    using W = ReasonWire;
    const auto counted = static_cast<uint64_t>(static_cast<int64_t>(r.events_counted));
    uint64_t bits;
    std::memcpy(&bits, &r.points, sizeof bits);
    std::string head_bytes;
    absl::string_view head = r.head;
    if (head.empty()) {
      head_bytes = W::Head(r.kind, r.group, r.rule, r.description);
      head = head_bytes;
    }
    // The Reason's size first, so that it is written once, straight into `out_`.
    const size_t size = head.size() + (bits != 0 ? 9 : 0) + W::VarintField(counted) +
                        W::BytesField(r.evidence) + W::BytesField(r.detail);
    out_.reserve(out_.size() + size + 11);
    out_.push_back(0x72);  // field 14, length-delimited
    AppendWireVarint(out_, size);
    out_.append(head.data(), head.size());
    if (bits != 0) {
      out_.push_back(0x29);
      out_.append(reinterpret_cast<const char*>(&bits), sizeof bits);  // little-endian
    }
    W::Varint(out_, 0x30, counted);
    W::Bytes(out_, 0x3a, r.evidence);
    W::Bytes(out_, 0x42, r.detail);
  }

 private:
  std::string& out_;
};

void AddRefTo(sv1::DefinitionRef* ref, const std::string& name, int64_t revision) {
  ref->set_name(name);
  ref->set_revision(revision);
}

void AddRef(sv1::LeadScore& out, const std::string& name, int64_t revision) {
  AddRefTo(out.add_definitions(), name, revision);
}

// Every lead attribute path that the conditions in `message` test, into `paths`. Event
// property filters (fields named `where`) test events, not the lead, and are left out.
void CollectAttributePaths(const google::protobuf::Message& message, std::set<std::string>* paths) {
  if (message.GetDescriptor() == rv1::AttributeCondition::descriptor()) {
    paths->insert(static_cast<const rv1::AttributeCondition&>(message).field());
    return;
  }
  const auto* reflection = message.GetReflection();
  std::vector<const google::protobuf::FieldDescriptor*> fields;
  reflection->ListFields(message, &fields);
  for (const auto* field : fields) {
    if (field->cpp_type() != google::protobuf::FieldDescriptor::CPPTYPE_MESSAGE ||
        field->name() == "where" || field->message_type()->file()->package() == "google.protobuf") {
      continue;
    }
    if (field->is_repeated()) {
      for (int i = 0; i < reflection->FieldSize(message, field); ++i) {
        CollectAttributePaths(reflection->GetRepeatedMessage(message, field, i), paths);
      }
    } else {
      CollectAttributePaths(reflection->GetMessage(message, field), paths);
    }
  }
}

}  // namespace

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

namespace {

std::vector<std::string> Sorted(const std::set<std::string>& paths) {
  return {paths.begin(), paths.end()};
}

}  // namespace

absl::StatusOr<std::shared_ptr<const CompiledSet>> Compile(
    const std::string& namespace_id, const std::vector<PublishedDefinition>& definitions) {
  auto set = std::make_shared<CompiledSet>();
  set->namespace_id = namespace_id;
  CompiledPatterns patterns;
  Compiler compiler(*set, namespace_id, patterns);

  // Validate everything first, resolving references within the set.
  class SetResolver final : public ReferenceResolver {
   public:
    explicit SetResolver(const std::vector<PublishedDefinition>& defs) : defs_(defs) {}
    std::optional<rv1::Definition> Resolve(absl::string_view ns,
                                           absl::string_view ref) const override {
      std::string name = ResolveReferenceName(ns, ref);
      for (const PublishedDefinition& d : defs_) {
        if (d.name == name) {
          return d.content;
        }
      }
      return std::nullopt;
    }

   private:
    const std::vector<PublishedDefinition>& defs_;
  } resolver(definitions);
  for (const PublishedDefinition& d : definitions) {
    rv1::Definition content = d.content;
    content.set_name(d.name);
    ValidationOptions options;
    options.resolver = &resolver;
    options.patterns = &patterns;
    std::vector<FieldViolation> violations = ValidateDefinition(content, "", options);
    if (absl::Status ended = CallScope::Check(); !ended.ok()) {
      return ended;
    }
    if (!violations.empty()) {
      return ErrorWithReason(absl::StatusCode::kInvalidArgument, "INVALID_DEFINITION",
                             absl::StrCat(d.name, " revision ", d.revision, ": ",
                                          violations[0].field, ": ", violations[0].description));
    }
  }
  auto sorted = [&](rv1::DefinitionKind kind) {
    std::vector<const PublishedDefinition*> out;
    for (const PublishedDefinition& d : definitions) {
      if (KindOf(d.content) == kind) {
        out.push_back(&d);
      }
    }
    std::sort(out.begin(), out.end(), [](auto* a, auto* b) { return a->name < b->name; });
    return out;
  };
  // Personas first (registered before their criteria compile, so they may refer to each other).
  auto personas = sorted(rv1::BUYER_PERSONA);
  for (const PublishedDefinition* d : personas) {
    set->persona_index[d->name] = static_cast<int>(set->personas.size());
    Persona& p = set->personas.emplace_back();
    p.name = d->name;
    p.revision = d->revision;
    const rv1::BuyerPersona& in = d->content.buyer_persona();
    p.min_match = in.has_min_match() ? in.min_match() : 0.5;
    p.exclude = in.exclude();
  }
  for (size_t i = 0; i < personas.size(); ++i) {
    for (const auto& c : personas[i]->content.buyer_persona().criteria()) {
      Persona::Criterion criterion;
      criterion.id = c.id();
      criterion.weight = c.weight() > 0 ? c.weight() : 1;
      criterion.required = c.required();
      ACCORD_RETURN_IF_ERROR(compiler.Condition(c.condition(), &criterion.condition, nullptr));
      set->personas[i].total_weight += criterion.weight;
      set->personas[i].criteria.push_back(std::move(criterion));
    }
  }
  // Compiles a qualification model into set->models (an account model's fit rules too, as a
  // model of fit groups only).
  auto compile_model = [&](const std::string& name, int64_t revision,
                           const rv1::QualificationModel& in) -> absl::Status {
    Model& m = set->models.emplace_back();
    m.name = name;
    m.revision = revision;
    for (const auto& l : in.levels()) {
      Level& level = m.levels.emplace_back();
      level.name = l.name();
      level.has_fit = l.has_min_fit();
      level.min_fit = l.min_fit();
      level.has_engagement = l.has_min_engagement();
      level.min_engagement = l.min_engagement();
      level.has_total = l.has_min_total();
      level.min_total = l.min_total();
    }
    for (const auto& g : in.fit()) {
      m.fit_groups.push_back(
          {g.name(), g.has_max_points(), g.max_points(), g.has_min_points(), g.min_points()});
      auto& rules = m.fit_rules.emplace_back();
      for (const auto& r : g.rules()) {
        FitRule& rule = rules.emplace_back();
        rule.id = r.id();
        rule.description = r.description();
        rule.points = r.points();
        ACCORD_RETURN_IF_ERROR(compiler.Condition(r.condition(), &rule.condition, &m));
      }
    }
    for (const auto& g : in.engagement()) {
      int group = static_cast<int>(m.engagement_groups.size());
      m.engagement_groups.push_back(
          {g.name(), g.has_max_points(), g.max_points(), g.has_min_points(), g.min_points()});
      for (const auto& r : g.rules()) {
        EngagementRule rule;
        rule.id = r.id();
        rule.description = r.description();
        rule.event_type = r.event_type();
        rule.points = r.points();
        rule.window_ns = DurationNs(r.window());
        rule.max_events = r.max_events();
        rule.has_max_points = r.has_max_points();
        rule.max_points = r.max_points();
        rule.decay =
            r.decay().kind() == rv1::Decay::KIND_UNSPECIFIED ? rv1::Decay::NONE : r.decay().kind();
        rule.half_life_ns = static_cast<double>(DurationNs(r.decay().half_life()));
        rule.period_ns = static_cast<double>(DurationNs(r.decay().period()));
        rule.fraction = r.decay().fraction();
        if (rule.decay == rv1::Decay::EXPONENTIAL) {
          rule.decay_detail =
              absl::StrCat("exponential decay, half-life ", HumanDuration(rule.half_life_ns));
        } else if (rule.decay == rv1::Decay::LINEAR) {
          rule.decay_detail = absl::StrCat("linear decay over ", HumanDuration(rule.period_ns));
        }
        rule.group = group;
        for (const auto& w : r.where()) {
          compiler.Attribute(w, &rule.where.emplace_back());
        }
        m.rules_by_event[rule.event_type].push_back(static_cast<int>(m.engagement_rules.size()));
        m.engagement_rules.push_back(std::move(rule));
      }
    }
    for (const auto& dq : in.disqualifiers()) {
      Model::Disqualifier& out = m.disqualifiers.emplace_back();
      out.id = dq.id();
      out.reason = dq.reason();
      ACCORD_RETURN_IF_ERROR(compiler.Condition(dq.condition(), &out.condition, &m));
    }
    for (const auto& b : in.fit_grades()) {
      m.fit_grades.push_back({b.label(), b.min()});
    }
    for (const auto& b : in.engagement_grades()) {
      m.engagement_grades.push_back({b.label(), b.min()});
    }
    if (in.personas_size() == 0) {
      for (size_t i = 0; i < set->personas.size(); ++i) {
        m.personas.push_back(static_cast<int>(i));
      }
    }
    for (const std::string& ref : in.personas()) {
      m.personas.push_back(IndexOf(set->persona_index, namespace_id, ref));
    }
    return absl::OkStatus();
  };
  for (const PublishedDefinition* d : sorted(rv1::QUALIFICATION_MODEL)) {
    set->model_index[d->name] = static_cast<int>(set->models.size());
    ACCORD_RETURN_IF_ERROR(compile_model(d->name, d->revision, d->content.qualification_model()));
  }
  for (const PublishedDefinition* d : sorted(rv1::BUYER_JOURNEY)) {
    set->journey_index[d->name] = static_cast<int>(set->journeys.size());
    Journey& j = set->journeys.emplace_back();
    j.name = d->name;
    j.revision = d->revision;
    const rv1::BuyerJourney& in = d->content.buyer_journey();
    j.model = IndexOf(set->model_index, namespace_id, in.model());
    const Model* model = j.model >= 0 ? &set->models[j.model] : nullptr;
    for (const auto& s : in.stages()) {
      Journey::Stage& stage = j.stages.emplace_back();
      stage.id = s.id();
      stage.owner_team = s.owner_team();
      stage.has_entry = s.has_entry();
      stage.max_duration_ns = DurationNs(s.max_duration());
      if (s.has_entry()) {
        ACCORD_RETURN_IF_ERROR(compiler.Condition(s.entry(), &stage.entry, model));
      }
    }
    auto stage_index = [&](const std::string& id) {
      for (size_t i = 0; i < j.stages.size(); ++i) {
        if (j.stages[i].id == id) {
          return static_cast<int>(i);
        }
      }
      return -1;
    };
    for (const auto& r : in.recycle()) {
      j.recycle.push_back(
          {stage_index(r.from()), stage_index(r.to()), {r.reasons().begin(), r.reasons().end()}});
    }
    for (const auto& code : in.reason_taxonomy()) {
      j.reason_codes.push_back(code.code());
    }
  }
  for (const PublishedDefinition* d : sorted(rv1::SERVICE_LEVEL_AGREEMENT)) {
    set->sla_index[d->name] = static_cast<int>(set->slas.size());
    Sla& s = set->slas.emplace_back();
    s.name = d->name;
    s.revision = d->revision;
    s.spec = d->content.service_level_agreement();
    s.journey = IndexOf(set->journey_index, namespace_id, s.spec.journey());
    s.model = IndexOf(set->model_index, namespace_id, s.spec.model());
  }
  for (const PublishedDefinition* d : sorted(rv1::ACCOUNT_MODEL)) {
    const rv1::AccountModel& in = d->content.account_model();
    AccountModelSpec a;
    a.name = d->name;
    a.revision = d->revision;
    a.member_model = IndexOf(set->model_index, namespace_id, in.model());
    rv1::QualificationModel fit;
    *fit.mutable_fit() = in.fit();
    a.fit_model = static_cast<int>(set->models.size());
    ACCORD_RETURN_IF_ERROR(compile_model(d->name, d->revision, fit));
    set->models.back().personas.clear();  // an account matches no persona
    a.aggregation = in.engagement();
    const Model* members = a.member_model >= 0 ? &set->models[a.member_model] : nullptr;
    for (const rv1::BuyingRole& r : in.buying_group()) {
      AccountModelSpec::Role& role = a.roles.emplace_back();
      role.id = r.id();
      role.weight = r.weight() > 0 ? r.weight() : 1;
      role.persona =
          r.persona().empty() ? -1 : IndexOf(set->persona_index, namespace_id, r.persona());
      role.attribute = r.attribute();
      role.values.assign(r.values().begin(), r.values().end());
      role.min_level =
          members != nullptr && !r.min_level().empty() ? LevelRank(*members, r.min_level()) : -1;
    }
    a.levels.assign(in.levels().begin(), in.levels().end());
    a.has_consent = in.has_consent();
    a.consent = in.consent();
    a.allowed.assign(in.consent().allowed().begin(), in.consent().allowed().end());
    set->account_index[d->name] = static_cast<int>(set->accounts.size());
    set->accounts.push_back(std::move(a));
  }
  LeafIds leaves;
  for (Model& m : set->models) {
    for (size_t g = 0; g < m.fit_rules.size(); ++g) {
      for (FitRule& r : m.fit_rules[g]) {
        r.reason_head =
            ReasonWire::Head(sv1::Reason::FIT, m.fit_groups[g].name, r.id, r.description);
      }
    }
    for (EngagementRule& r : m.engagement_rules) {
      r.reason_head = ReasonWire::Head(sv1::Reason::ENGAGEMENT, m.engagement_groups[r.group].name,
                                       r.id, r.description);
    }
    for (Model::Disqualifier& d : m.disqualifiers) {
      d.reason_head = ReasonWire::Head(sv1::Reason::DISQUALIFIER, "", d.id, d.reason);
    }
    for (auto& group : m.fit_rules) {
      for (FitRule& r : group) {
        NumberLeaves(r.condition, leaves);
      }
    }
    for (Model::Disqualifier& d : m.disqualifiers) {
      NumberLeaves(d.condition, leaves);
    }
  }
  for (Persona& p : set->personas) {
    for (Persona::Criterion& c : p.criteria) {
      NumberLeaves(c.condition, leaves);
    }
  }
  for (Journey& j : set->journeys) {
    for (Journey::Stage& stage : j.stages) {
      NumberLeaves(stage.entry, leaves);
    }
  }
  set->attribute_paths = static_cast<int>(leaves.paths.size());
  set->attribute_tests = static_cast<int>(leaves.tests.size());
  // What the rules read, for the attribute reports of FULL results.
  std::set<std::string> everything;
  for (const PublishedDefinition& d : definitions) {
    if (KindOf(d.content) != rv1::ACCOUNT_MODEL) {
      CollectAttributePaths(d.content, &everything);
      continue;
    }
    // Of an account model, the member attributes it reads (its fit reads the account's).
    for (const rv1::BuyingRole& r : d.content.account_model().buying_group()) {
      if (!r.attribute().empty()) {
        everything.insert(r.attribute());
      }
    }
    if (d.content.account_model().has_consent()) {
      everything.insert(d.content.account_model().consent().attribute());
    }
  }
  for (const std::string& path : everything) {
    set->read_tree.Add(path);
  }
  for (size_t i = 0; i < personas.size(); ++i) {
    std::set<std::string> paths;
    CollectAttributePaths(personas[i]->content, &paths);
    set->personas[i].read_paths = Sorted(paths);
  }
  for (const PublishedDefinition* d : sorted(rv1::QUALIFICATION_MODEL)) {
    Model& m = set->models[set->model_index[d->name]];
    std::set<std::string> paths;
    CollectAttributePaths(d->content, &paths);
    for (int p : m.personas) {
      if (p >= 0) {
        paths.insert(set->personas[p].read_paths.begin(), set->personas[p].read_paths.end());
      }
    }
    m.read_paths = Sorted(paths);
    for (const std::string& path : m.read_paths) {
      m.read_keys.push_back(absl::StrSplit(path, '.'));
    }
  }
  return std::shared_ptr<const CompiledSet>(std::move(set));
}

std::vector<sv1::PersonaMatch> MatchPersonas(const CompiledSet& set, const sv1::Lead& lead,
                                             absl::Time as_of) {
  LeadSet leads;
  leads.Add(lead);
  Evaluator ev(set, leads, 0, absl::ToUnixNanos(as_of));
  std::vector<sv1::PersonaMatch> out;
  for (size_t i = 0; i < set.personas.size(); ++i) {
    sv1::PersonaMatch m;
    std::vector<std::string> met;
    m.set_match(ev.PersonaMatch(static_cast<int>(i), &met));
    m.set_persona(set.personas[i].name);
    m.set_revision(set.personas[i].revision);
    m.set_exclude(set.personas[i].exclude);
    for (auto& id : met) {
      m.add_criteria_met(id);
    }
    out.push_back(std::move(m));
  }
  std::stable_sort(out.begin(), out.end(), [](const auto& a, const auto& b) {
    return a.match() != b.match() ? a.match() > b.match() : a.persona() < b.persona();
  });
  return out;
}

sv1::LeadScore Score(const Evaluation& evaluation, const sv1::Lead& lead, absl::Time as_of) {
  sv1::LeadScore out;
  ScoreInto(evaluation, lead, as_of, &out);
  return out;
}

void ScoreInto(const Evaluation& evaluation, const sv1::Lead& lead, absl::Time as_of,
               sv1::LeadScore* result) {
  LeadSet leads;
  leads.Add(lead);
  ScoreInto(evaluation, leads, 0, as_of, result);
}

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

// The attribute reports of a FULL result: what the model reads that the lead lacks, and what
// the lead sent that no rule of the namespace reads.
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

// Scores lead `index` into `out`; reasons go to `reasons` (none when it is null).
void ScoreLead(const Evaluation& evaluation, const LeadSet& leads, size_t index, absl::Time as_of,
               sv1::LeadScore* result, ReasonSink* reasons) {
  sv1::LeadScore& out = *result;
  const CompiledSet& set = *evaluation.set;
  const Model& m = set.models[evaluation.model];
  const int64_t as_of_ns = absl::ToUnixNanos(as_of);
  const LeadSet::Lead& lead = leads.lead(index);
  Evaluator ev(set, leads, index, as_of_ns);
  out.mutable_lead_id()->assign(lead.id.data(), lead.id.size());
  out.set_namespace_(set.namespace_id);
  out.mutable_as_of()->set_seconds(absl::ToUnixSeconds(as_of));
  out.mutable_as_of()->set_nanos(
      static_cast<int32_t>(as_of_ns - absl::ToUnixSeconds(as_of) * 1000000000LL));
  AddRef(out, m.name, m.revision);
  bool any_rule = false;

  const bool explain = reasons != nullptr;
  std::string evidence;  // reused: assigned in place, rule after rule
  // Fit.
  double fit = 0;
  for (size_t g = 0; g < m.fit_groups.size(); ++g) {
    double sum = 0;
    for (const FitRule& r : m.fit_rules[g]) {
      evidence.clear();
      if (ev.Holds(r.condition, explain ? &evidence : nullptr)) {
        any_rule = true;
        sum += r.points;
        if (explain) {
          reasons->Add({.kind = sv1::Reason::FIT,
                        .group = m.fit_groups[g].name,
                        .rule = r.id,
                        .description = r.description,
                        .points = r.points,
                        .evidence = evidence,
                        .head = r.reason_head});
        }
      }
    }
    double clamped = Clamp(m.fit_groups[g], sum);
    if (explain && clamped != sum) {
      const std::string detail = absl::StrCat("group sum ", sum, " limited to ", clamped);
      reasons->Add({.kind = sv1::Reason::CAP,
                    .group = m.fit_groups[g].name,
                    .points = clamped - sum,
                    .detail = detail});
    }
    fit += clamped;
  }

  // Engagement: one pass over the events, rules looked up by event type.
  struct Hit {
    int rule;
    int64_t age;
  };
  absl::InlinedVector<Hit, 64> hits;
  hits.reserve(lead.events);
  for (int32_t k = 0; k < lead.events; ++k) {
    const LeadSet::Event& e = leads.event(lead.first_event + k);
    auto it = m.rules_by_event.find(e.type);
    if (it == m.rules_by_event.end()) {
      continue;
    }
    const int64_t age = as_of_ns - e.time.ns();
    if (age < 0) {
      continue;  // after as_of
    }
    for (int index : it->second) {
      const EngagementRule& r = m.engagement_rules[index];
      if (r.window_ns > 0 && age > r.window_ns) {
        continue;
      }
      if (std::all_of(r.where.begin(), r.where.end(),
                      [&](const Condition& w) { return TestAttribute(w, leads, e.properties); })) {
        hits.push_back({index, age});
      }
    }
  }
  // Hits with the same rule and age are interchangeable, so an unstable sort is deterministic.
  std::sort(hits.begin(), hits.end(), [](const Hit& a, const Hit& b) {
    return a.rule != b.rule ? a.rule < b.rule : a.age < b.age;
  });
  absl::InlinedVector<double, 8> group_sums(m.engagement_groups.size(), 0.0);
  for (size_t i = 0; i < hits.size();) {
    const EngagementRule& r = m.engagement_rules[hits[i].rule];
    size_t end = i;
    while (end < hits.size() && hits[end].rule == hits[i].rule) {
      ++end;
    }
    size_t counted = end - i;
    if (r.max_events > 0 && counted > static_cast<size_t>(r.max_events)) {
      counted = r.max_events;  // the most recent ones: smallest ages first
    }
    double sum = 0;
    bool decayed = false;
    for (size_t k = i; k < i + counted; ++k) {
      double factor = DecayFactor(r, hits[k].age);
      decayed = decayed || factor != 1.0;
      sum += r.points * factor;
    }
    if (r.has_max_points && sum > r.max_points && !explain) {
      sum = r.max_points;
    }
    any_rule = true;
    group_sums[r.group] += explain ? 0 : sum;
    if (!explain) {
      i = end;
      continue;
    }
    absl::string_view detail = decayed ? absl::string_view(r.decay_detail) : "";
    evidence.clear();
    absl::StrAppend(&evidence, end - i, " ", r.event_type, " events, ", counted, " counted");
    reasons->Add({.kind = sv1::Reason::ENGAGEMENT,
                  .group = m.engagement_groups[r.group].name,
                  .rule = r.id,
                  .description = r.description,
                  .points = sum,
                  .events_counted = static_cast<int>(counted),
                  .evidence = evidence,
                  .detail = detail,
                  .head = r.reason_head});
    // The rule's own cap is a reason of its own, as a group's is: the reasons add up to the
    // score.
    if (r.has_max_points && sum > r.max_points) {
      reasons->Add({.kind = sv1::Reason::CAP,
                    .group = m.engagement_groups[r.group].name,
                    .rule = r.id,
                    .points = r.max_points - sum,
                    .detail = absl::StrCat("rule sum ", sum, " limited to ", r.max_points)});
      sum = r.max_points;
    }
    group_sums[r.group] += sum;
    i = end;
  }
  double engagement = 0;
  for (size_t g = 0; g < m.engagement_groups.size(); ++g) {
    double clamped = Clamp(m.engagement_groups[g], group_sums[g]);
    if (explain && clamped != group_sums[g]) {
      const std::string detail = absl::StrCat("group sum ", group_sums[g], " limited to ", clamped);
      reasons->Add({.kind = sv1::Reason::CAP,
                    .group = m.engagement_groups[g].name,
                    .points = clamped - group_sums[g],
                    .detail = detail});
    }
    engagement += clamped;
  }

  const double total = fit + engagement;
  out.set_fit(fit);
  out.set_engagement(engagement);
  out.set_total(total);
  out.set_no_rule_matched(!any_rule);
  out.set_fit_grade(GradeOf(m.fit_grades, fit));
  out.set_engagement_grade(GradeOf(m.engagement_grades, engagement));
  std::string* grade = out.mutable_grade();
  grade->assign(out.fit_grade());
  grade->append(out.engagement_grade());

  int level_rank = -1;
  for (size_t i = 0; i < m.levels.size(); ++i) {
    const Level& l = m.levels[i];
    if ((!l.has_fit || fit >= l.min_fit) && (!l.has_engagement || engagement >= l.min_engagement) &&
        (!l.has_total || total >= l.min_total)) {
      level_rank = static_cast<int>(i);
    }
  }
  for (const Model::Disqualifier& d : m.disqualifiers) {
    evidence.clear();
    if (ev.Holds(d.condition, explain ? &evidence : nullptr)) {
      out.set_disqualified(true);
      out.set_disqualification_reason(d.reason);
      if (explain) {
        reasons->Add({.kind = sv1::Reason::DISQUALIFIER,
                      .rule = d.id,
                      .description = d.reason,
                      .evidence = evidence,
                      .head = d.reason_head});
      }
      level_rank = -1;
      break;
    }
  }
  out.set_level(out.disqualified() ? "DISQUALIFIED"
                                   : (level_rank >= 0 ? m.levels[level_rank].name : ""));

  // Best persona among the model's.
  int best = -1;
  double best_match = 0;
  for (int p : m.personas) {
    if (p < 0) {
      continue;
    }
    double match = ev.PersonaMatch(p);
    const Persona& persona = set.personas[p];
    if (match > 0 && match >= persona.min_match &&
        (best < 0 || match > best_match ||
         (match == best_match && persona.name < set.personas[best].name))) {
      best = p;
      best_match = match;
    }
  }
  if (best >= 0) {
    sv1::PersonaMatch* pm = out.mutable_persona();
    pm->set_persona(set.personas[best].name);
    pm->set_revision(set.personas[best].revision);
    pm->set_match(best_match);
    pm->set_exclude(set.personas[best].exclude);
    if (explain) {
      std::vector<std::string> met;
      ev.PersonaMatch(best, &met);
      for (std::string& id : met) {
        pm->add_criteria_met(std::move(id));
      }
    }
    AddRef(out, set.personas[best].name, set.personas[best].revision);
  }
  if (explain) {
    ReportAttributes(set, m, leads, lead, out);
  }

  if (evaluation.journey >= 0) {
    const Journey& j = set.journeys[evaluation.journey];
    ev.SetScores({fit, engagement, total, level_rank});
    std::string stage;
    for (const Journey::Stage& s : j.stages) {
      if (!s.has_entry || ev.Holds(s.entry, nullptr)) {
        stage = s.id;
      }
    }
    out.set_journey_stage(stage);
    AddRef(out, j.name, j.revision);
  }
}

}  // namespace

void ScoreInto(const Evaluation& evaluation, const LeadSet& leads, size_t index, absl::Time as_of,
               sv1::LeadScore* out) {
  MessageReasons reasons(*out);
  ScoreLead(evaluation, leads, index, as_of, out, evaluation.reasons ? &reasons : nullptr);
}

void ScoreWire(const Evaluation& evaluation, const LeadSet& leads, size_t index, absl::Time as_of,
               sv1::LeadScore* out, std::string* reasons_wire) {
  WireReasons reasons(*reasons_wire);
  ScoreLead(evaluation, leads, index, as_of, out, evaluation.reasons ? &reasons : nullptr);
}

namespace {

// "sal" for a forward move, "engaged (recycle: no-budget|bad-timing)" for a backward one.
std::vector<std::string> AllowedMoves(const Journey& j, int from) {
  std::vector<std::string> moves;
  for (size_t i = from + 1; i < j.stages.size(); ++i) {
    moves.push_back(j.stages[i].id);
  }
  for (const Journey::Recycle& r : j.recycle) {
    if (r.from == from && r.to >= 0) {
      const auto& codes = r.reasons.empty() ? j.reason_codes : r.reasons;
      moves.push_back(
          absl::StrCat(j.stages[r.to].id, " (recycle: ", absl::StrJoin(codes, "|"), ")"));
    }
  }
  return moves;
}

int StageIndex(const Journey& j, const std::string& id) {
  for (size_t i = 0; i < j.stages.size(); ++i) {
    if (j.stages[i].id == id) {
      return static_cast<int>(i);
    }
  }
  return -1;
}

// The latest time the lead entered `stage` at or before as_of, or -1.
int64_t EnteredNs(const sv1::Lead& lead, const std::string& stage, int64_t as_of_ns) {
  int64_t entered = -1;
  for (const sv1::StageEntry& e : lead.stage_history()) {
    int64_t t = TimeNs(e.time());
    if (e.stage() == stage && t <= as_of_ns && t > entered) {
      entered = t;
    }
  }
  return entered;
}

}  // namespace

sv1::JourneyEvaluation EvaluateJourney(const Evaluation& evaluation, const sv1::Lead& lead,
                                       absl::Time as_of) {
  const Journey& j = evaluation.set->journeys[evaluation.journey];
  sv1::LeadScore score = Score(evaluation, lead, as_of);
  sv1::JourneyEvaluation out;
  out.mutable_journey()->set_name(j.name);
  out.mutable_journey()->set_revision(j.revision);
  *out.mutable_definitions() = score.definitions();
  out.set_stage(score.journey_stage());
  const int index = StageIndex(j, score.journey_stage());
  if (index < 0) {
    return out;
  }
  const Journey::Stage& stage = j.stages[index];
  out.set_owner_team(stage.owner_team);
  const int64_t as_of_ns = absl::ToUnixNanos(as_of);
  const int64_t entered = EnteredNs(lead, stage.id, as_of_ns);
  if (entered >= 0) {
    *out.mutable_entered() = TimeUtil::NanosecondsToTimestamp(entered);
    out.set_stalled(stage.max_duration_ns > 0 && as_of_ns - entered > stage.max_duration_ns);
  }
  for (std::string& move : AllowedMoves(j, index)) {
    out.add_allowed_moves(std::move(move));
  }
  return out;
}

absl::StatusOr<sv1::CheckTransitionResponse> CheckTransition(const Journey& j,
                                                             const std::string& from,
                                                             const std::string& to,
                                                             const std::string& reason) {
  std::vector<FieldViolation> violations;
  const int f = StageIndex(j, from);
  const int t = StageIndex(j, to);
  if (f < 0) {
    violations.push_back({"from", absl::StrCat("'", from, "' is not a stage of ", j.name)});
  }
  if (t < 0) {
    violations.push_back({"to", absl::StrCat("'", to, "' is not a stage of ", j.name)});
  }
  if (!violations.empty()) {
    return InvalidArgument(std::move(violations));
  }
  sv1::CheckTransitionResponse out;
  out.mutable_journey()->set_name(j.name);
  out.mutable_journey()->set_revision(j.revision);
  auto refuse = [&] {
    return ErrorWithReason(
        absl::StatusCode::kFailedPrecondition, "TRANSITION_NOT_ALLOWED",
        absl::StrCat(j.name, " does not allow ", from, " -> ", to, "; allowed from ", from, ": ",
                     absl::StrJoin(AllowedMoves(j, f), ", ")),
        {{"allowed", absl::StrJoin(AllowedMoves(j, f), ",")}});
  };
  if (t > f) {
    out.set_allowed(true);
    return out;
  }
  if (t == f) {
    return refuse();
  }
  for (const Journey::Recycle& r : j.recycle) {
    if (r.from != f || r.to != t) {
      continue;
    }
    const auto& codes = r.reasons.empty() ? j.reason_codes : r.reasons;
    if (reason.empty() || std::find(codes.begin(), codes.end(), reason) == codes.end()) {
      return InvalidField(
          "reason", absl::StrCat("a recycle move ", from, " -> ", to,
                                 " needs one of these reasons: ", absl::StrJoin(codes, ", ")));
    }
    out.set_allowed(true);
    out.set_recycle(true);
    return out;
  }
  return refuse();
}

int LevelRank(const Model& m, const std::string& level) {
  for (size_t i = 0; i < m.levels.size(); ++i) {
    if (m.levels[i].name == level) {
      return static_cast<int>(i);
    }
  }
  return -1;
}

namespace {}  // namespace

SlaTally::SlaTally(const CompiledSet& set, int sla, absl::Time as_of)
    : set_(set),
      sla_(set.slas[sla]),
      evaluation_{&set, set.slas[sla].model, set.slas[sla].journey, true, nullptr},
      as_of_(as_of),
      volume_(sla_.spec.volume_size(), 0),
      qualified_(sla_.spec.quality_size(), 0),
      accepted_(sla_.spec.quality_size(), 0) {}

void SlaTally::Add(const sv1::Lead& lead) {
  ++leads_;
  if (evaluation_.model < 0) {
    return;
  }
  const Model& m = set_.models[evaluation_.model];
  sv1::LeadScore score = Score(evaluation_, lead, as_of_);
  const int rank = score.disqualified() ? -1 : LevelRank(m, score.level());
  for (int i = 0; i < sla_.spec.volume_size(); ++i) {
    int need = LevelRank(m, sla_.spec.volume(i).level());
    if (need >= 0 && rank >= need) {
      ++volume_[i];
    }
  }
  for (int i = 0; i < sla_.spec.quality_size(); ++i) {
    const rv1::QualityCommitment& q = sla_.spec.quality(i);
    int need = LevelRank(m, q.level());
    if (need < 0 || rank < need) {
      continue;
    }
    ++qualified_[i];
    bool accepted = false;
    if (!q.accepted_event_type().empty()) {
      for (const sv1::Event& e : lead.events()) {
        accepted = accepted || (e.type() == q.accepted_event_type() &&
                                absl::FromUnixNanos(TimeNs(e.time())) <= as_of_);
      }
    } else if (evaluation_.journey >= 0) {
      const Journey& j = set_.journeys[evaluation_.journey];
      const int target = StageIndex(j, q.accepted_stage());
      accepted = target >= 0 && StageIndex(j, score.journey_stage()) >= target;
      for (const sv1::StageEntry& entry : lead.stage_history()) {
        accepted = accepted || entry.stage() == q.accepted_stage();
      }
    }
    accepted_[i] += accepted ? 1 : 0;
  }
}

sv1::SlaReport SlaTally::Report() const {
  sv1::SlaReport report;
  report.mutable_sla()->set_name(sla_.name);
  report.mutable_sla()->set_revision(sla_.revision);
  report.set_leads(leads_);
  AddRefTo(report.add_definitions(), sla_.name, sla_.revision);
  if (evaluation_.model >= 0) {
    const Model& m = set_.models[evaluation_.model];
    AddRefTo(report.add_definitions(), m.name, m.revision);
  }
  for (int i = 0; i < sla_.spec.volume_size(); ++i) {
    const rv1::VolumeCommitment& v = sla_.spec.volume(i);
    sv1::VolumeResult* r = report.add_volume();
    r->set_commitment(v.id());
    r->set_team(v.team());
    r->set_level(v.level());
    r->set_target(v.min_count());
    r->set_actual(volume_[i]);
    r->set_met(volume_[i] >= v.min_count());
  }
  for (int i = 0; i < sla_.spec.quality_size(); ++i) {
    const rv1::QualityCommitment& q = sla_.spec.quality(i);
    sv1::QualityResult* r = report.add_quality();
    r->set_commitment(q.id());
    r->set_team(q.team());
    r->set_level(q.level());
    r->set_qualified(qualified_[i]);
    r->set_accepted(accepted_[i]);
    r->set_accepted_fraction(qualified_[i] > 0 ? static_cast<double>(accepted_[i]) / qualified_[i]
                                               : 0);
    r->set_target(q.min_accepted_fraction());
    r->set_met(qualified_[i] > 0 && r->accepted_fraction() >= q.min_accepted_fraction());
  }
  return report;
}

sv1::EvaluateSlaResponse EvaluateSla(const Sla& sla, const sv1::Lead& lead, absl::Time as_of) {
  const int64_t as_of_ns = absl::ToUnixNanos(as_of);
  sv1::EvaluateSlaResponse out;
  out.mutable_sla()->set_name(sla.name);
  out.mutable_sla()->set_revision(sla.revision);
  for (const rv1::ResponseCommitment& c : sla.spec.response()) {
    sv1::ResponseStatus* s = out.add_responses();
    s->set_commitment(c.id());
    s->set_team(c.team());
    s->set_stage(c.stage());
    s->set_event_type(c.event_type());
    const int64_t entered = EnteredNs(lead, c.stage(), as_of_ns);
    if (entered < 0) {
      s->set_status(sv1::ResponseStatus::NOT_APPLICABLE);
      continue;
    }
    const int64_t within = DurationNs(c.within());
    const int64_t deadline = entered + within;
    *s->mutable_entered() = TimeUtil::NanosecondsToTimestamp(entered);
    *s->mutable_deadline() = TimeUtil::NanosecondsToTimestamp(deadline);
    int64_t met = -1;
    for (const sv1::Event& e : lead.events()) {
      const int64_t t = TimeNs(e.time());
      if (e.type() == c.event_type() && t >= entered && t <= as_of_ns && (met < 0 || t < met)) {
        met = t;
      }
    }
    const double warn = c.has_warn_fraction() ? c.warn_fraction() : 0.75;
    if (met >= 0) {
      *s->mutable_met_at() = TimeUtil::NanosecondsToTimestamp(met);
      s->set_status(met <= deadline ? sv1::ResponseStatus::MET : sv1::ResponseStatus::BREACHED);
    } else if (as_of_ns > deadline) {
      s->set_status(sv1::ResponseStatus::BREACHED);
    } else if (static_cast<double>(as_of_ns - entered) >= warn * static_cast<double>(within)) {
      s->set_status(sv1::ResponseStatus::AT_RISK);
    } else {
      s->set_status(sv1::ResponseStatus::PENDING);
    }
  }
  return out;
}

}  // namespace accord::scoring
