#include <vector>

#include "absl/strings/str_split.h"
#include "re2/re2.h"

#include "common/call_scope.h"
#include "definitions/validation/checks.h"

namespace accord::validation {
namespace {

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

}  // namespace

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

void CheckReference(Checker& c, absl::string_view field, const std::string& ref,
                    registry::v1::DefinitionKind kind, const ConditionContext& ctx,
                    std::optional<registry::v1::Definition>* out) {
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

}  // namespace accord::validation
