#include "definitions/validation.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <set>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "absl/strings/strip.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/reflection.h"
#include "google/protobuf/util/time_util.h"
#include "re2/re2.h"

#include "common/call_scope.h"

namespace accord {
namespace {

using google::protobuf::Duration;
using google::protobuf::FieldDescriptor;
using google::protobuf::Message;
using google::protobuf::Value;

// Collects violations under a path that grows and shrinks as the checks descend.
// What the definition being checked has spent of its pattern budget.
struct PatternBudget {
  CompiledPatterns* patterns = nullptr;
  int count = 0;
  int64_t program = 0;
  absl::Time start = absl::Now();
  bool exhausted = false;  // compile nothing more
};

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

std::string Index(absl::string_view field, int i) { return absl::StrCat(field, "[", i, "]"); }

// ------------------------------------------------------------ format limits (all fields)

// Unknown fields, strings over 4 KiB, lists over 1000, NaN or infinite numbers, anywhere.
void CheckLimits(const Message& message, Checker& c, int depth) {
  if (depth > 4 * kMaxConditionDepth) {
    c.Add("", "nested too deeply");
    return;
  }
  const auto* reflection = message.GetReflection();
  if (!reflection->GetUnknownFields(message).empty()) {
    c.Add("", "has unknown fields");
  }
  std::vector<const FieldDescriptor*> fields;
  reflection->ListFields(message, &fields);
  for (const FieldDescriptor* field : fields) {
    const std::string& name = field->name();
    if (field->is_map()) {
      int size = reflection->FieldSize(message, field);
      if (size > kMaxListSize) {
        c.Add(name, absl::StrCat("has ", size, " entries; at most ", kMaxListSize, " allowed"));
      }
      for (int i = 0; i < size; ++i) {
        const Message& entry = reflection->GetRepeatedMessage(message, field, i);
        Checker::Scope s(c, name);
        CheckLimits(entry, c, depth + 1);
      }
      continue;
    }
    if (field->is_repeated()) {
      int size = reflection->FieldSize(message, field);
      if (size > kMaxListSize) {
        c.Add(name, absl::StrCat("has ", size, " items; at most ", kMaxListSize, " allowed"));
        continue;
      }
      for (int i = 0; i < size; ++i) {
        Checker::Scope s(c, Index(name, i));
        switch (field->cpp_type()) {
          case FieldDescriptor::CPPTYPE_STRING:
            if (reflection->GetRepeatedStringReference(message, field, i, nullptr).size() >
                kMaxStringBytes) {
              c.Add("", "is longer than 4096 bytes");
            }
            break;
          case FieldDescriptor::CPPTYPE_DOUBLE:
            if (!std::isfinite(reflection->GetRepeatedDouble(message, field, i))) {
              c.Add("", "must be a finite number");
            }
            break;
          case FieldDescriptor::CPPTYPE_MESSAGE:
            CheckLimits(reflection->GetRepeatedMessage(message, field, i), c, depth + 1);
            break;
          default:
            break;
        }
      }
      continue;
    }
    switch (field->cpp_type()) {
      case FieldDescriptor::CPPTYPE_STRING: {
        std::string scratch;
        if (reflection->GetStringReference(message, field, &scratch).size() > kMaxStringBytes) {
          c.Add(name, "is longer than 4096 bytes");
        }
        break;
      }
      case FieldDescriptor::CPPTYPE_DOUBLE:
        if (!std::isfinite(reflection->GetDouble(message, field))) {
          c.Add(name, "must be a finite number");
        }
        break;
      case FieldDescriptor::CPPTYPE_MESSAGE: {
        Checker::Scope s(c, name);
        CheckLimits(reflection->GetMessage(message, field), c, depth + 1);
        break;
      }
      default:
        break;
    }
  }
}

// ------------------------------------------------------------ helpers

bool Positive(const Duration& d) { return d.seconds() > 0 || (d.seconds() == 0 && d.nanos() > 0); }
bool Negative(const Duration& d) { return d.seconds() < 0 || d.nanos() < 0; }

void CheckDurationNotNegative(Checker& c, absl::string_view field, const Duration& d) {
  if (Negative(d)) {
    c.Add(field, "must not be negative");
  }
}

void CheckUniqueId(Checker& c, std::set<std::string>& seen, absl::string_view field,
                   const std::string& id, absl::string_view what) {
  if (id.empty()) {
    c.Add(field, absl::StrCat("is required (the ", what, "'s id)"));
  } else if (!seen.insert(id).second) {
    c.Add(field, absl::StrCat("duplicate ", what, " '", id, "'"));
  }
}

bool IsKnownTeam(absl::string_view team) {
  const auto& teams = KnownTeams();
  return std::find(teams.begin(), teams.end(), team) != teams.end();
}

bool IsValueString(const Value& v) { return v.kind_case() == Value::kStringValue; }
bool IsValueNumber(const Value& v) { return v.kind_case() == Value::kNumberValue; }
bool IsValueScalar(const Value& v) {
  return v.kind_case() == Value::kStringValue || v.kind_case() == Value::kNumberValue ||
         v.kind_case() == Value::kBoolValue;
}

// ------------------------------------------------------------ conditions

// Compiles a MATCHES pattern within the definition's budget (count, RE2 instructions, time,
// and the call's own deadline), before and between compilations.
void CheckPattern(const std::string& pattern, bool ignore_case, Checker& c) {
  PatternBudget& b = c.budget();
  if (b.exhausted) {
    return;  // the first violation says why; compiling more would only cost
  }
  if (++b.count > kMaxPatterns) {
    c.Add("value", absl::StrCat("the definition has more than ", kMaxPatterns,
                                " MATCHES patterns (its budget)"));
    b.exhausted = true;
    return;
  }
  if (absl::Status s = CallScope::Check(); !s.ok()) {
    c.Add("value", absl::StrCat("not checked: ", s.message()));
    b.exhausted = true;
    return;
  }
  if (absl::Now() - b.start > kMaxPatternCompileTime) {
    c.Add("value",
          absl::StrCat("the definition's patterns took more than ",
                       absl::FormatDuration(kMaxPatternCompileTime), " to compile (its budget)"));
    b.exhausted = true;
    return;
  }
  std::shared_ptr<const RE2> re;
  if (b.patterns != nullptr) {
    re = b.patterns->Compile(pattern, ignore_case);
  } else {
    CompiledPatterns once;
    re = once.Compile(pattern, ignore_case);
  }
  if (!re->ok()) {
    c.Add("value", absl::StrCat("is not a valid RE2 pattern: ", re->error()));
    return;
  }
  b.program += re->ProgramSize();
  if (b.program > kMaxPatternProgram) {
    c.Add("value", absl::StrCat("brings the definition's patterns to ", b.program,
                                " RE2 instructions, over its budget of ", kMaxPatternProgram,
                                " (this one: ", re->ProgramSize(), ")"));
    b.exhausted = true;
  }
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

size_t EditDistance(absl::string_view a, absl::string_view b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) {
    row[j] = j;
  }
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diagonal = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      size_t up = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] != b[j - 1])});
      diagonal = up;
    }
  }
  return row[b.size()];
}

// An attribute path the dictionary names, or one inside a path it names as a STRUCT.
void CheckInDictionary(const registry::v1::AttributeCondition& a, Checker& c,
                       const ConditionContext& ctx) {
  if (ctx.dictionary == nullptr || a.field().empty() || ctx.dictionary->count(a.field()) > 0) {
    return;
  }
  for (size_t dot = a.field().find('.'); dot != std::string::npos;
       dot = a.field().find('.', dot + 1)) {
    auto it = ctx.dictionary->find(a.field().substr(0, dot));
    if (it != ctx.dictionary->end() && it->second == registry::v1::AttributeField::STRUCT) {
      return;
    }
  }
  std::string closest;
  size_t best = 4;  // suggest only a near miss
  for (const auto& [path, type] : *ctx.dictionary) {
    size_t d = EditDistance(path, a.field());
    if (d < best) {
      best = d;
      closest = path;
    }
  }
  c.Add("field",
        absl::StrCat("'", a.field(),
                     "' is not in the model's field dictionary (qualification_model.fields)",
                     closest.empty() ? "" : absl::StrCat("; did you mean '", closest, "'?")));
}

void CheckAttribute(const registry::v1::AttributeCondition& a, Checker& c) {
  if (a.field().empty()) {
    c.Add("field", "is required");
  } else {
    std::vector<absl::string_view> parts = absl::StrSplit(a.field(), '.');
    if (parts.size() > static_cast<size_t>(kMaxConditionDepth)) {
      c.Add("field", "has more than 16 path segments");
    }
    for (absl::string_view part : parts) {
      if (part.empty() || part.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVW"
                                                 "XYZ0123456789_-") != absl::string_view::npos) {
        c.Add("field",
              absl::StrCat("'", a.field(), "' is not a dotted path of [A-Za-z0-9_-] segments"));
        break;
      }
    }
  }
  const bool has_value = a.has_value();
  const int n_values = a.values_size();
  auto need_value = [&](bool (*ok)(const Value&), const char* what) {
    if (!has_value) {
      c.Add("value", absl::StrCat("is required for ", registry::v1::Operator_Name(a.op())));
    } else if (!ok(a.value())) {
      c.Add("value", absl::StrCat("must be ", what, " for ", registry::v1::Operator_Name(a.op())));
    }
    if (n_values > 0) {
      c.Add("values",
            absl::StrCat("is not used by ", registry::v1::Operator_Name(a.op()), "; use value"));
    }
  };
  bool string_op = false;
  switch (a.op()) {
    case registry::v1::OPERATOR_UNSPECIFIED:
      c.Add("op", "is required");
      break;
    case registry::v1::EQ:
    case registry::v1::NE:
      need_value(IsValueScalar, "a string, number or boolean");
      string_op = has_value && IsValueString(a.value());
      break;
    case registry::v1::LT:
    case registry::v1::LE:
    case registry::v1::GT:
    case registry::v1::GE:
      need_value([](const Value& v) { return IsValueNumber(v) || IsValueString(v); },
                 "a number or string");
      break;
    case registry::v1::CONTAINS:
    case registry::v1::STARTS_WITH:
    case registry::v1::ENDS_WITH:
      need_value(IsValueString, "a string");
      string_op = true;
      break;
    case registry::v1::MATCHES: {
      need_value(IsValueString, "a string (an RE2 pattern)");
      if (has_value && IsValueString(a.value())) {
        CheckPattern(a.value().string_value(), a.ignore_case(), c);
      }
      string_op = true;
      break;
    }
    case registry::v1::IN:
    case registry::v1::NOT_IN:
      if (has_value) {
        c.Add("value",
              absl::StrCat("is not used by ", registry::v1::Operator_Name(a.op()), "; use values"));
      }
      if (n_values == 0) {
        c.Add("values",
              absl::StrCat("needs at least one value for ", registry::v1::Operator_Name(a.op())));
      }
      for (int i = 0; i < n_values; ++i) {
        if (!IsValueScalar(a.values(i))) {
          c.Add(Index("values", i), "must be a string, number or boolean");
        }
        string_op = string_op || IsValueString(a.values(i));
      }
      break;
    case registry::v1::BETWEEN:
      if (has_value) {
        c.Add("value", "is not used by BETWEEN; use values: [low, high]");
      }
      if (n_values != 2) {
        c.Add("values", "needs exactly two values [low, high] for BETWEEN");
      } else {
        const Value& lo = a.values(0);
        const Value& hi = a.values(1);
        if (!(IsValueNumber(lo) && IsValueNumber(hi)) &&
            !(IsValueString(lo) && IsValueString(hi))) {
          c.Add("values", "must be two numbers or two strings");
        } else if (IsValueNumber(lo) && lo.number_value() > hi.number_value()) {
          c.Add("values", "low must not be greater than high");
        }
      }
      break;
    case registry::v1::EXISTS:
    case registry::v1::NOT_EXISTS:
      if (has_value || n_values > 0) {
        c.Add("value", absl::StrCat(registry::v1::Operator_Name(a.op()), " takes no value"));
      }
      break;
    default:
      c.Add("op", absl::StrCat("unknown operator ", static_cast<int>(a.op())));
  }
  if (a.ignore_case() && !string_op) {
    c.Add("ignore_case", "applies only to string comparisons");
  }
}

void CheckEventCondition(const registry::v1::EventCondition& e, Checker& c) {
  if (e.type().empty()) {
    c.Add("type", "is required");
  }
  if (e.min_count() < 0) {
    c.Add("min_count", "must not be negative");
  }
  CheckDurationNotNegative(c, "window", e.window());
  for (int i = 0; i < e.where_size(); ++i) {
    Checker::Scope s(c, Index("where", i));
    CheckAttribute(e.where(i), c);
  }
}

void CheckReference(Checker& c, absl::string_view field, const std::string& ref,
                    registry::v1::DefinitionKind kind, const ConditionContext& ctx,
                    std::optional<registry::v1::Definition>* out = nullptr) {
  if (ref.empty()) {
    c.Add(field, "is required");
    return;
  }
  if (ctx.resolver == nullptr) {
    return;
  }
  std::optional<registry::v1::Definition> target = ctx.resolver->Resolve(ctx.namespace_id, ref);
  if (!target.has_value()) {
    c.Add(field, absl::StrCat("refers to ", ResolveReferenceName(ctx.namespace_id, ref),
                              ", which does not exist"));
    return;
  }
  if (KindOf(*target) != kind) {
    c.Add(field, absl::StrCat("refers to ", ResolveReferenceName(ctx.namespace_id, ref),
                              ", which is a ", registry::v1::DefinitionKind_Name(KindOf(*target)),
                              ", not a ", registry::v1::DefinitionKind_Name(kind)));
    return;
  }
  if (out != nullptr) {
    *out = std::move(target);
  }
}

void CheckCondition(const registry::v1::Condition& cond, Checker& c, const ConditionContext& ctx,
                    int depth) {
  if (depth > kMaxConditionDepth) {
    c.Add("", absl::StrCat("conditions are nested deeper than ", kMaxConditionDepth, " levels"));
    return;
  }
  int set = (cond.all_size() > 0) + (cond.any_size() > 0) + cond.has_not_() + cond.has_attribute() +
            cond.has_persona() + cond.has_event() + cond.has_score();
  if (set == 0) {
    c.Add("",
          "is empty: set one of all, any (non-empty lists), not, attribute, persona, event, "
          "score");
    return;
  }
  if (set > 1) {
    c.Add("", "sets more than one of all, any, not, attribute, persona, event, score");
    return;
  }
  for (int i = 0; i < cond.all_size(); ++i) {
    Checker::Scope s(c, Index("all", i));
    CheckCondition(cond.all(i), c, ctx, depth + 1);
  }
  for (int i = 0; i < cond.any_size(); ++i) {
    Checker::Scope s(c, Index("any", i));
    CheckCondition(cond.any(i), c, ctx, depth + 1);
  }
  if (cond.has_not_()) {
    Checker::Scope s(c, "not");
    CheckCondition(cond.not_(), c, ctx, depth + 1);
  }
  if (cond.has_attribute()) {
    Checker::Scope s(c, "attribute");
    CheckAttribute(cond.attribute(), c);
    CheckInDictionary(cond.attribute(), c, ctx);
  }
  if (ctx.attributes_only && (cond.has_persona() || cond.has_event())) {
    c.Add(cond.has_persona() ? "persona" : "event",
          "account fit rules test the account's attributes only");
  }
  if (cond.has_persona()) {
    Checker::Scope s(c, "persona");
    if (cond.persona().min_match() < 0 || cond.persona().min_match() > 1) {
      c.Add("min_match", "must be between 0 and 1");
    }
    CheckReference(c, "persona", cond.persona().persona(), registry::v1::BUYER_PERSONA, ctx);
  }
  if (cond.has_event()) {
    Checker::Scope s(c, "event");
    CheckEventCondition(cond.event(), c);
  }
  if (cond.has_score()) {
    Checker::Scope s(c, "score");
    const registry::v1::ScoreCondition& sc = cond.score();
    if (!ctx.allow_score) {
      c.Add("", ctx.score_denied_reason);
    }
    if (sc.metric() == registry::v1::SCORE_METRIC_UNSPECIFIED) {
      c.Add("metric", "is required (FIT, ENGAGEMENT, TOTAL or LEVEL)");
    }
    switch (sc.op()) {
      case registry::v1::EQ:
      case registry::v1::NE:
      case registry::v1::LT:
      case registry::v1::LE:
      case registry::v1::GT:
      case registry::v1::GE:
        break;
      default:
        c.Add("op", "must be one of EQ NE LT LE GT GE");
    }
    if (sc.metric() == registry::v1::LEVEL && sc.level().empty()) {
      c.Add("level", "is required for the LEVEL metric");
    }
  }
}

void CheckConditionField(Checker& c, absl::string_view field, bool present,
                         const registry::v1::Condition& cond, const ConditionContext& ctx) {
  if (!present) {
    c.Add(field, "is required");
    return;
  }
  Checker::Scope s(c, field);
  CheckCondition(cond, c, ctx, 1);
}

// ------------------------------------------------------------ kinds

void CheckPersona(const registry::v1::BuyerPersona& p, Checker& c, const ConditionContext& ctx) {
  if (p.criteria_size() == 0) {
    c.Add("criteria", "needs at least one criterion");
  }
  std::set<std::string> ids;
  for (int i = 0; i < p.criteria_size(); ++i) {
    Checker::Scope s(c, Index("criteria", i));
    const registry::v1::PersonaCriterion& cr = p.criteria(i);
    CheckUniqueId(c, ids, "id", cr.id(), "criterion");
    if (cr.weight() < 0) {
      c.Add("weight", "must not be negative");
    }
    CheckConditionField(c, "condition", cr.has_condition(), cr.condition(), ctx);
  }
  if (p.has_min_match() && (p.min_match() < 0 || p.min_match() > 1)) {
    c.Add("min_match", "must be between 0 and 1");
  }
}

void CheckBands(Checker& c, absl::string_view field,
                const google::protobuf::RepeatedPtrField<registry::v1::GradeBand>& bands) {
  std::set<std::string> labels;
  for (int i = 0; i < bands.size(); ++i) {
    Checker::Scope s(c, Index(field, i));
    CheckUniqueId(c, labels, "label", bands[i].label(), "grade label");
  }
}

void CheckDecay(const registry::v1::Decay& d, Checker& c) {
  switch (d.kind()) {
    case registry::v1::Decay::KIND_UNSPECIFIED:
    case registry::v1::Decay::NONE:
      break;
    case registry::v1::Decay::EXPONENTIAL:
      if (!Positive(d.half_life())) {
        c.Add("half_life", "must be positive for EXPONENTIAL decay");
      }
      break;
    case registry::v1::Decay::LINEAR:
      if (!Positive(d.period())) {
        c.Add("period", "must be positive for LINEAR decay");
      }
      if (!(d.fraction() > 0 && d.fraction() <= 1)) {
        c.Add("fraction", "must be in (0, 1] for LINEAR decay");
      }
      break;
    default:
      c.Add("kind", "is not a known decay kind");
  }
}

template <typename Group>
void CheckCaps(const Group& g, Checker& c) {
  if (g.has_max_points() && g.has_min_points() && g.min_points() > g.max_points()) {
    c.Add("min_points", "must not be greater than max_points");
  }
}

void CheckModel(const registry::v1::QualificationModel& m, Checker& c,
                const ConditionContext& model_ctx) {
  std::map<std::string, registry::v1::AttributeField::Type> dictionary;
  for (int i = 0; i < m.fields_size(); ++i) {
    Checker::Scope s(c, Index("fields", i));
    const registry::v1::AttributeField& f = m.fields(i);
    std::vector<absl::string_view> parts = absl::StrSplit(f.path(), '.');
    if (f.path().empty()) {
      c.Add("path", "is required");
    } else if (std::any_of(parts.begin(), parts.end(),
                           [](absl::string_view p) { return p.empty(); }) ||
               parts.size() > static_cast<size_t>(kMaxConditionDepth)) {
      c.Add("path",
            absl::StrCat("'", f.path(), "' is not a dotted path such as company.employees"));
    } else if (!dictionary.emplace(f.path(), f.type()).second) {
      c.Add("path", absl::StrCat("'", f.path(), "' is listed twice"));
    }
  }
  ConditionContext ctx = model_ctx;
  if (m.fields_size() > 0) {
    ctx.dictionary = &dictionary;
  }
  std::set<std::string> groups;
  std::set<std::string> rules;
  for (int i = 0; i < m.fit_size(); ++i) {
    Checker::Scope s(c, Index("fit", i));
    const registry::v1::FitGroup& g = m.fit(i);
    CheckUniqueId(c, groups, "name", g.name(), "group");
    CheckCaps(g, c);
    for (int j = 0; j < g.rules_size(); ++j) {
      Checker::Scope r(c, Index("rules", j));
      CheckUniqueId(c, rules, "id", g.rules(j).id(), "rule");
      CheckConditionField(c, "condition", g.rules(j).has_condition(), g.rules(j).condition(), ctx);
    }
  }
  for (int i = 0; i < m.engagement_size(); ++i) {
    Checker::Scope s(c, Index("engagement", i));
    const registry::v1::EngagementGroup& g = m.engagement(i);
    CheckUniqueId(c, groups, "name", g.name(), "group");
    CheckCaps(g, c);
    for (int j = 0; j < g.rules_size(); ++j) {
      Checker::Scope r(c, Index("rules", j));
      const registry::v1::EngagementRule& rule = g.rules(j);
      CheckUniqueId(c, rules, "id", rule.id(), "rule");
      if (rule.event_type().empty()) {
        c.Add("event_type", "is required");
      }
      for (int k = 0; k < rule.where_size(); ++k) {
        Checker::Scope w(c, Index("where", k));
        CheckAttribute(rule.where(k), c);
      }
      CheckDurationNotNegative(c, "window", rule.window());
      if (rule.max_events() < 0) {
        c.Add("max_events", "must not be negative");
      }
      Checker::Scope d(c, "decay");
      CheckDecay(rule.decay(), c);
    }
  }
  std::set<std::string> disqualifiers;
  for (int i = 0; i < m.disqualifiers_size(); ++i) {
    Checker::Scope s(c, Index("disqualifiers", i));
    const registry::v1::Disqualifier& d = m.disqualifiers(i);
    CheckUniqueId(c, disqualifiers, "id", d.id(), "disqualifier");
    if (d.reason().empty()) {
      c.Add("reason", "is required (sales sees it)");
    }
    CheckConditionField(c, "condition", d.has_condition(), d.condition(), ctx);
  }
  CheckBands(c, "fit_grades", m.fit_grades());
  CheckBands(c, "engagement_grades", m.engagement_grades());
  std::set<std::string> levels;
  for (int i = 0; i < m.levels_size(); ++i) {
    Checker::Scope s(c, Index("levels", i));
    CheckUniqueId(c, levels, "name", m.levels(i).name(), "level");
  }
  for (int i = 0; i < m.personas_size(); ++i) {
    CheckReference(c, Index("personas", i), m.personas(i), registry::v1::BUYER_PERSONA, ctx);
  }
}

void CheckJourney(const registry::v1::BuyerJourney& j, Checker& c, ConditionContext ctx) {
  if (!j.model().empty()) {
    CheckReference(c, "model", j.model(), registry::v1::QUALIFICATION_MODEL, ctx);
  }
  ctx.allow_score = !j.model().empty();
  ctx.score_denied_reason = "score conditions need the journey's `model`";
  if (j.stages_size() == 0) {
    c.Add("stages", "needs at least one stage");
  }
  std::set<std::string> stage_ids;
  std::vector<std::string> order;
  for (int i = 0; i < j.stages_size(); ++i) {
    Checker::Scope s(c, Index("stages", i));
    const registry::v1::JourneyStage& st = j.stages(i);
    CheckUniqueId(c, stage_ids, "id", st.id(), "stage");
    order.push_back(st.id());
    if (!st.owner_team().empty() && !IsKnownTeam(st.owner_team())) {
      c.Add("owner_team",
            absl::StrCat("unknown team '", st.owner_team(), "' (marketing or sales)"));
    }
    if (st.has_entry()) {
      Checker::Scope e(c, "entry");
      CheckCondition(st.entry(), c, ctx, 1);
    }
    CheckDurationNotNegative(c, "max_duration", st.max_duration());
  }
  std::set<std::string> codes;
  for (int i = 0; i < j.reason_taxonomy_size(); ++i) {
    Checker::Scope s(c, Index("reason_taxonomy", i));
    CheckUniqueId(c, codes, "code", j.reason_taxonomy(i).code(), "reason code");
  }
  auto position = [&](const std::string& id) {
    return std::find(order.begin(), order.end(), id) - order.begin();
  };
  for (int i = 0; i < j.recycle_size(); ++i) {
    Checker::Scope s(c, Index("recycle", i));
    const registry::v1::RecycleEdge& e = j.recycle(i);
    bool from_ok = stage_ids.count(e.from()) > 0;
    bool to_ok = stage_ids.count(e.to()) > 0;
    if (!from_ok) {
      c.Add("from", absl::StrCat("unknown stage '", e.from(), "'"));
    }
    if (!to_ok) {
      c.Add("to", absl::StrCat("unknown stage '", e.to(), "'"));
    }
    if (from_ok && to_ok && position(e.to()) >= position(e.from())) {
      c.Add("to", "a recycle edge must lead to an earlier stage");
    }
    if (j.reason_taxonomy_size() == 0) {
      c.Add("", "recycle edges need a reason_taxonomy");
    }
    for (int k = 0; k < e.reasons_size(); ++k) {
      if (codes.count(e.reasons(k)) == 0) {
        c.Add(Index("reasons", k), absl::StrCat("'", e.reasons(k), "' is not in reason_taxonomy"));
      }
    }
  }
}

void CheckValueList(Checker& c, absl::string_view field,
                    const google::protobuf::RepeatedPtrField<google::protobuf::Value>& values) {
  if (values.empty() || values.size() > 100) {
    c.Add(field, "needs 1 to 100 values");
  }
}

void CheckAccountModel(const registry::v1::AccountModel& a, Checker& c,
                       const ConditionContext& ctx) {
  std::optional<registry::v1::Definition> model;
  CheckReference(c, "model", a.model(), registry::v1::QUALIFICATION_MODEL, ctx, &model);
  std::vector<std::string> levels;
  if (model.has_value()) {
    for (const auto& l : model->qualification_model().levels()) {
      levels.push_back(l.name());
    }
  }
  ConditionContext fit_ctx = ctx;
  fit_ctx.attributes_only = true;
  std::set<std::string> groups, rules;
  for (int i = 0; i < a.fit_size(); ++i) {
    Checker::Scope s(c, Index("fit", i));
    const registry::v1::FitGroup& g = a.fit(i);
    CheckUniqueId(c, groups, "name", g.name(), "group");
    CheckCaps(g, c);
    for (int j = 0; j < g.rules_size(); ++j) {
      Checker::Scope r(c, Index("rules", j));
      CheckUniqueId(c, rules, "id", g.rules(j).id(), "rule");
      CheckConditionField(c, "condition", g.rules(j).has_condition(), g.rules(j).condition(),
                          fit_ctx);
    }
  }
  {
    Checker::Scope s(c, "engagement");
    const registry::v1::MemberAggregation& e = a.engagement();
    if (!registry::v1::MemberAggregation::Method_IsValid(e.method())) {
      c.Add("method", "unknown method");
    }
    if (e.metric() == registry::v1::LEVEL) {
      c.Add("metric", "must be FIT, ENGAGEMENT or TOTAL");
    }
    if (e.method() == registry::v1::MemberAggregation::TOP_N && e.top_n() < 1) {
      c.Add("top_n", "must be at least 1 for TOP_N");
    }
    if (e.top_n() < 0 || e.top_n() > 1000) {
      c.Add("top_n", "must be between 0 and 1000");
    }
    if (e.trim_fraction() < 0 || e.trim_fraction() >= 0.5) {
      c.Add("trim_fraction", "must be in [0, 0.5)");
    }
  }
  std::set<std::string> roles;
  for (int i = 0; i < a.buying_group_size(); ++i) {
    Checker::Scope s(c, Index("buying_group", i));
    const registry::v1::BuyingRole& r = a.buying_group(i);
    CheckUniqueId(c, roles, "id", r.id(), "buying role");
    if (r.persona().empty() == r.attribute().empty()) {
      c.Add("", "sets exactly one of persona and attribute");
    } else if (!r.persona().empty()) {
      CheckReference(c, "persona", r.persona(), registry::v1::BUYER_PERSONA, ctx);
    } else {
      CheckValueList(c, "values", r.values());
    }
    if (r.weight() < 0) {
      c.Add("weight", "must not be negative");
    }
    if (!r.min_level().empty() && model.has_value() &&
        std::find(levels.begin(), levels.end(), r.min_level()) == levels.end()) {
      c.Add("min_level", absl::StrCat("'", r.min_level(), "' is not a level of ", a.model()));
    }
  }
  std::set<std::string> account_levels;
  for (int i = 0; i < a.levels_size(); ++i) {
    Checker::Scope s(c, Index("levels", i));
    const registry::v1::AccountLevel& l = a.levels(i);
    CheckUniqueId(c, account_levels, "name", l.name(), "level");
    if (l.has_min_coverage() && (l.min_coverage() < 0 || l.min_coverage() > 1)) {
      c.Add("min_coverage", "must be between 0 and 1");
    }
  }
  if (a.has_consent()) {
    Checker::Scope s(c, "consent");
    if (a.consent().attribute().empty()) {
      c.Add("attribute", "is required");
    }
    CheckValueList(c, "allowed", a.consent().allowed());
  }
}

void CheckSla(const registry::v1::ServiceLevelAgreement& sla, Checker& c,
              const ConditionContext& ctx) {
  std::optional<registry::v1::Definition> journey;
  std::optional<registry::v1::Definition> model;
  CheckReference(c, "journey", sla.journey(), registry::v1::BUYER_JOURNEY, ctx, &journey);
  CheckReference(c, "model", sla.model(), registry::v1::QUALIFICATION_MODEL, ctx, &model);
  std::set<std::string> stages;
  std::set<std::string> levels;
  if (journey.has_value()) {
    for (const auto& st : journey->buyer_journey().stages()) {
      stages.insert(st.id());
    }
  }
  if (model.has_value()) {
    for (const auto& l : model->qualification_model().levels()) {
      levels.insert(l.name());
    }
  }
  auto check_stage = [&](absl::string_view field, const std::string& stage) {
    if (journey.has_value() && stages.count(stage) == 0) {
      c.Add(field, absl::StrCat("'", stage, "' is not a stage of ", sla.journey()));
    }
  };
  auto check_level = [&](absl::string_view field, const std::string& level) {
    if (level.empty()) {
      c.Add(field, "is required");
    } else if (model.has_value() && levels.count(level) == 0) {
      c.Add(field, absl::StrCat("'", level, "' is not a level of ", sla.model()));
    }
  };
  auto check_team = [&](const std::string& team) {
    if (team.empty()) {
      c.Add("team", "is required");
    } else if (!IsKnownTeam(team)) {
      c.Add("team", absl::StrCat("unknown team '", team, "' (marketing or sales)"));
    }
  };
  std::set<std::string> ids;
  for (int i = 0; i < sla.response_size(); ++i) {
    Checker::Scope s(c, Index("response", i));
    const registry::v1::ResponseCommitment& r = sla.response(i);
    CheckUniqueId(c, ids, "id", r.id(), "commitment");
    if (r.stage().empty()) {
      c.Add("stage", "is required");
    } else {
      check_stage("stage", r.stage());
    }
    check_team(r.team());
    if (r.event_type().empty()) {
      c.Add("event_type", "is required");
    }
    if (!Positive(r.within())) {
      c.Add("within", "must be positive");
    }
    if (r.has_warn_fraction() && !(r.warn_fraction() > 0 && r.warn_fraction() < 1)) {
      c.Add("warn_fraction", "must be in (0, 1)");
    }
  }
  for (int i = 0; i < sla.volume_size(); ++i) {
    Checker::Scope s(c, Index("volume", i));
    const registry::v1::VolumeCommitment& v = sla.volume(i);
    CheckUniqueId(c, ids, "id", v.id(), "commitment");
    check_team(v.team());
    check_level("level", v.level());
    if (v.min_count() < 0) {
      c.Add("min_count", "must not be negative");
    }
    if (v.period() == registry::v1::PERIOD_UNSPECIFIED) {
      c.Add("period", "is required (DAY, WEEK, MONTH or QUARTER)");
    }
  }
  for (int i = 0; i < sla.quality_size(); ++i) {
    Checker::Scope s(c, Index("quality", i));
    const registry::v1::QualityCommitment& q = sla.quality(i);
    CheckUniqueId(c, ids, "id", q.id(), "commitment");
    check_team(q.team());
    check_level("level", q.level());
    if (q.accepted_event_type().empty() == q.accepted_stage().empty()) {
      c.Add("accepted_event_type", "set exactly one of accepted_event_type and accepted_stage");
    }
    if (!q.accepted_stage().empty()) {
      check_stage("accepted_stage", q.accepted_stage());
    }
    if (q.min_accepted_fraction() < 0 || q.min_accepted_fraction() > 1) {
      c.Add("min_accepted_fraction", "must be between 0 and 1");
    }
    if (q.period() == registry::v1::PERIOD_UNSPECIFIED) {
      c.Add("period", "is required (DAY, WEEK, MONTH or QUARTER)");
    }
  }
  std::set<std::string> metrics;
  for (int i = 0; i < sla.metrics_size(); ++i) {
    Checker::Scope s(c, Index("metrics", i));
    CheckUniqueId(c, metrics, "name", sla.metrics(i).name(), "metric");
    if (!sla.metrics(i).team().empty() && !IsKnownTeam(sla.metrics(i).team())) {
      c.Add("team", absl::StrCat("unknown team '", sla.metrics(i).team(), "'"));
    }
  }
}

// A definition's namespace, for references relative to it: "default" for a definition without
// a (valid) name, as a file checked offline may be.
std::string NamespaceOf(absl::string_view name) {
  return NamespaceOfName(name).value_or("default");
}

void CollectConditionRefs(const registry::v1::Condition& c, absl::string_view ns,
                          std::vector<std::string>& out) {
  for (const auto& x : c.all()) {
    CollectConditionRefs(x, ns, out);
  }
  for (const auto& x : c.any()) {
    CollectConditionRefs(x, ns, out);
  }
  if (c.has_not_()) {
    CollectConditionRefs(c.not_(), ns, out);
  }
  if (c.has_persona() && !c.persona().persona().empty()) {
    out.push_back(ResolveReferenceName(ns, c.persona().persona()));
  }
  if (c.has_score() && !c.score().model().empty()) {
    out.push_back(ResolveReferenceName(ns, c.score().model()));
  }
}

}  // namespace

const std::vector<std::string>& KnownTeams() {
  static const auto* teams = new std::vector<std::string>{"marketing", "sales"};
  return *teams;
}

const std::vector<std::string>& DefaultApprovalTeams() { return KnownTeams(); }

std::optional<std::string> NamespaceOfName(absl::string_view name) {
  if (!absl::ConsumePrefix(&name, "namespaces/")) {
    return std::nullopt;
  }
  absl::string_view ns = name.substr(0, name.find('/'));
  if (!IsValidId(ns)) {
    return std::nullopt;
  }
  return std::string(ns);
}

bool IsValidId(absl::string_view id) {
  if (id.empty() || id.size() > 63 || !(id[0] >= 'a' && id[0] <= 'z')) {
    return false;
  }
  return id.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789-") == absl::string_view::npos;
}

std::string ResolveReferenceName(absl::string_view namespace_id, absl::string_view ref) {
  if (absl::StartsWith(ref, "namespaces/")) {
    return std::string(ref);
  }
  return absl::StrCat("namespaces/", namespace_id, "/definitions/", ref);
}

registry::v1::DefinitionKind KindOf(const registry::v1::Definition& d) {
  switch (d.body_case()) {
    case registry::v1::Definition::kBuyerPersona:
      return registry::v1::BUYER_PERSONA;
    case registry::v1::Definition::kQualificationModel:
      return registry::v1::QUALIFICATION_MODEL;
    case registry::v1::Definition::kBuyerJourney:
      return registry::v1::BUYER_JOURNEY;
    case registry::v1::Definition::kServiceLevelAgreement:
      return registry::v1::SERVICE_LEVEL_AGREEMENT;
    case registry::v1::Definition::kAccountModel:
      return registry::v1::ACCOUNT_MODEL;
    default:
      return registry::v1::DEFINITION_KIND_UNSPECIFIED;
  }
}

std::vector<std::string> CollectReferences(const registry::v1::Definition& d) {
  std::string ns = NamespaceOf(d.name());
  std::vector<std::string> out;
  auto add = [&](const std::string& ref) {
    if (!ref.empty()) {
      out.push_back(ResolveReferenceName(ns, ref));
    }
  };
  switch (d.body_case()) {
    case registry::v1::Definition::kBuyerPersona:
      for (const auto& cr : d.buyer_persona().criteria()) {
        CollectConditionRefs(cr.condition(), ns, out);
      }
      break;
    case registry::v1::Definition::kQualificationModel: {
      const auto& m = d.qualification_model();
      for (const auto& g : m.fit()) {
        for (const auto& r : g.rules()) {
          CollectConditionRefs(r.condition(), ns, out);
        }
      }
      for (const auto& dq : m.disqualifiers()) {
        CollectConditionRefs(dq.condition(), ns, out);
      }
      for (const auto& p : m.personas()) {
        add(p);
      }
      break;
    }
    case registry::v1::Definition::kBuyerJourney:
      add(d.buyer_journey().model());
      for (const auto& st : d.buyer_journey().stages()) {
        CollectConditionRefs(st.entry(), ns, out);
      }
      break;
    case registry::v1::Definition::kServiceLevelAgreement:
      add(d.service_level_agreement().journey());
      add(d.service_level_agreement().model());
      break;
    case registry::v1::Definition::kAccountModel:
      add(d.account_model().model());
      for (const auto& r : d.account_model().buying_group()) {
        add(r.persona());
      }
      break;
    default:
      break;
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

std::shared_ptr<const RE2> CompiledPatterns::Find(const std::string& pattern,
                                                  bool ignore_case) const {
  auto it = compiled_.find({pattern, ignore_case});
  return it == compiled_.end() ? nullptr : it->second;
}

std::shared_ptr<const RE2> CompiledPatterns::Compile(const std::string& pattern, bool ignore_case) {
  std::shared_ptr<const RE2>& slot = compiled_[{pattern, ignore_case}];
  if (slot == nullptr) {
    RE2::Options options;
    options.set_max_mem(kMaxRegexMemory);
    options.set_log_errors(false);
    options.set_case_sensitive(!ignore_case);
    slot = std::make_shared<const RE2>(pattern, options);
  }
  return slot;
}

std::vector<FieldViolation> ValidateDefinition(const registry::v1::Definition& d,
                                               absl::string_view prefix,
                                               const ReferenceResolver* resolver) {
  ValidationOptions options;
  options.resolver = resolver;
  return ValidateDefinition(d, prefix, options);
}

std::vector<FieldViolation> ValidateDefinition(const registry::v1::Definition& d,
                                               absl::string_view prefix,
                                               const ValidationOptions& options) {
  const ReferenceResolver* resolver = options.resolver;
  Checker c{std::string(prefix)};
  c.budget().patterns = options.patterns;
  if (d.ByteSizeLong() > kMaxDefinitionBytes) {
    c.Add("", absl::StrCat("is ", d.ByteSizeLong(), " bytes encoded; a definition may be at most ",
                           kMaxDefinitionBytes));
    return c.Take();  // checking it would cost what the limit is there to refuse
  }
  CheckLimits(d, c, 0);
  if (d.labels_size() > 64) {
    c.Add("labels", "at most 64 labels");
  }
  for (const auto& [key, value] : d.labels()) {
    if (key.empty() || key.size() > 63 ||
        key.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789-_./") != std::string::npos) {
      c.Add(absl::StrCat("labels[", key, "]"), "label keys are 1-63 of [a-z0-9-_./]");
    }
    if (value.size() > 253) {
      c.Add(absl::StrCat("labels[", key, "]"), "label values are at most 253 bytes");
    }
  }
  {
    Checker::Scope s(c, "approval_policy");
    std::set<std::string> seen;
    for (int i = 0; i < d.approval_policy().required_teams_size(); ++i) {
      const std::string& team = d.approval_policy().required_teams(i);
      if (!IsKnownTeam(team)) {
        c.Add(Index("required_teams", i),
              absl::StrCat("unknown team '", team, "' (marketing or sales)"));
      } else if (!seen.insert(team).second) {
        c.Add(Index("required_teams", i), absl::StrCat("team '", team, "' is listed twice"));
      }
    }
  }
  ConditionContext ctx;
  std::string ns = NamespaceOf(d.name());
  ctx.namespace_id = ns;
  ctx.resolver = resolver;
  ctx.score_denied_reason = "score conditions are allowed only in journeys and SLAs";
  switch (d.body_case()) {
    case registry::v1::Definition::kBuyerPersona: {
      Checker::Scope s(c, "buyer_persona");
      CheckPersona(d.buyer_persona(), c, ctx);
      break;
    }
    case registry::v1::Definition::kQualificationModel: {
      Checker::Scope s(c, "qualification_model");
      CheckModel(d.qualification_model(), c, ctx);
      break;
    }
    case registry::v1::Definition::kBuyerJourney: {
      Checker::Scope s(c, "buyer_journey");
      CheckJourney(d.buyer_journey(), c, ctx);
      break;
    }
    case registry::v1::Definition::kServiceLevelAgreement: {
      Checker::Scope s(c, "service_level_agreement");
      CheckSla(d.service_level_agreement(), c, ctx);
      break;
    }
    case registry::v1::Definition::kAccountModel: {
      Checker::Scope s(c, "account_model");
      CheckAccountModel(d.account_model(), c, ctx);
      break;
    }
    default:
      c.Add("",
            "needs a body: one of buyer_persona, qualification_model, buyer_journey, "
            "service_level_agreement, account_model");
  }
  return c.Take();
}

}  // namespace accord
