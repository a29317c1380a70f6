#include "scoring/engine/compile.h"

#include <algorithm>
#include <cmath>
#include <set>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

#include "common/call_scope.h"
#include "common/status.h"
#include "definitions/validation.h"
#include "scoring/engine/journey.h"
#include "scoring/wire/score_encoder.h"

namespace accord::scoring {
namespace {

using google::protobuf::Value;

constexpr double kNsPerSecond = 1e9;

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

std::vector<std::string> Sorted(const std::set<std::string>& paths) {
  return {paths.begin(), paths.end()};
}

// Validates every definition, resolving references within the set.
absl::Status ValidateAll(const std::vector<PublishedDefinition>& definitions,
                         CompiledPatterns& patterns) {
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
  return absl::OkStatus();
}

// The definitions of one kind, by name.
std::vector<const PublishedDefinition*> OfKind(const std::vector<PublishedDefinition>& definitions,
                                               rv1::DefinitionKind kind) {
  std::vector<const PublishedDefinition*> out;
  for (const PublishedDefinition& d : definitions) {
    if (KindOf(d.content) == kind) {
      out.push_back(&d);
    }
  }
  std::sort(out.begin(), out.end(), [](auto* a, auto* b) { return a->name < b->name; });
  return out;
}

// Personas are registered before their criteria compile, so that they may refer to each other.
absl::Status CompilePersonas(const std::vector<const PublishedDefinition*>& personas,
                             Compiler& compiler, CompiledSet& set) {
  for (const PublishedDefinition* d : personas) {
    set.persona_index[d->name] = static_cast<int>(set.personas.size());
    Persona& p = set.personas.emplace_back();
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
      set.personas[i].total_weight += criterion.weight;
      set.personas[i].criteria.push_back(std::move(criterion));
    }
  }
  return absl::OkStatus();
}

EngagementRule CompileEngagementRule(const rv1::EngagementRule& r, int group, Compiler& compiler) {
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
  return rule;
}

// Compiles a qualification model into set.models (an account model's fit rules too, as a
// model of fit groups only).
absl::Status CompileModel(const std::string& name, int64_t revision,
                          const rv1::QualificationModel& in, Compiler& compiler, CompiledSet& set) {
  Model& m = set.models.emplace_back();
  m.name = name;
  m.revision = revision;
  m.content_properties.assign(in.content_properties().begin(), in.content_properties().end());
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
      rule.reason_head = EncodeReasonHead(sv1::Reason::FIT, g.name(), r.id(), r.description());
      ACCORD_RETURN_IF_ERROR(compiler.Condition(r.condition(), &rule.condition, &m));
    }
  }
  for (const auto& g : in.engagement()) {
    const int group = static_cast<int>(m.engagement_groups.size());
    m.engagement_groups.push_back(
        {g.name(), g.has_max_points(), g.max_points(), g.has_min_points(), g.min_points()});
    for (const auto& r : g.rules()) {
      EngagementRule rule = CompileEngagementRule(r, group, compiler);
      rule.reason_head =
          EncodeReasonHead(sv1::Reason::ENGAGEMENT, g.name(), r.id(), r.description());
      m.rules_by_event[rule.event_type].push_back(static_cast<int>(m.engagement_rules.size()));
      m.engagement_rules.push_back(std::move(rule));
    }
  }
  for (const auto& dq : in.disqualifiers()) {
    Model::Disqualifier& out = m.disqualifiers.emplace_back();
    out.id = dq.id();
    out.reason = dq.reason();
    out.reason_head = EncodeReasonHead(sv1::Reason::DISQUALIFIER, "", dq.id(), dq.reason());
    ACCORD_RETURN_IF_ERROR(compiler.Condition(dq.condition(), &out.condition, &m));
  }
  for (const auto& b : in.fit_grades()) {
    m.fit_grades.push_back({b.label(), b.min()});
  }
  for (const auto& b : in.engagement_grades()) {
    m.engagement_grades.push_back({b.label(), b.min()});
  }
  if (in.personas_size() == 0) {
    for (size_t i = 0; i < set.personas.size(); ++i) {
      m.personas.push_back(static_cast<int>(i));
    }
  }
  for (const std::string& ref : in.personas()) {
    m.personas.push_back(IndexOf(set.persona_index, set.namespace_id, ref));
  }
  return absl::OkStatus();
}

absl::Status CompileJourney(const PublishedDefinition& d, Compiler& compiler, CompiledSet& set) {
  set.journey_index[d.name] = static_cast<int>(set.journeys.size());
  Journey& j = set.journeys.emplace_back();
  j.name = d.name;
  j.revision = d.revision;
  const rv1::BuyerJourney& in = d.content.buyer_journey();
  j.model = IndexOf(set.model_index, set.namespace_id, in.model());
  const Model* model = j.model >= 0 ? &set.models[j.model] : nullptr;
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
  for (const auto& r : in.recycle()) {
    j.recycle.push_back(
        {StageIndex(j, r.from()), StageIndex(j, r.to()), {r.reasons().begin(), r.reasons().end()}});
  }
  for (const auto& code : in.reason_taxonomy()) {
    j.reason_codes.push_back(code.code());
  }
  return absl::OkStatus();
}

void CompileSla(const PublishedDefinition& d, CompiledSet& set) {
  set.sla_index[d.name] = static_cast<int>(set.slas.size());
  Sla& s = set.slas.emplace_back();
  s.name = d.name;
  s.revision = d.revision;
  s.spec = d.content.service_level_agreement();
  s.journey = IndexOf(set.journey_index, set.namespace_id, s.spec.journey());
  s.model = IndexOf(set.model_index, set.namespace_id, s.spec.model());
}

absl::Status CompileAccount(const PublishedDefinition& d, Compiler& compiler, CompiledSet& set) {
  const rv1::AccountModel& in = d.content.account_model();
  AccountModelSpec a;
  a.name = d.name;
  a.revision = d.revision;
  a.member_model = IndexOf(set.model_index, set.namespace_id, in.model());
  rv1::QualificationModel fit;
  *fit.mutable_fit() = in.fit();
  a.fit_model = static_cast<int>(set.models.size());
  ACCORD_RETURN_IF_ERROR(CompileModel(d.name, d.revision, fit, compiler, set));
  set.models.back().personas.clear();  // an account matches no persona
  a.aggregation = in.engagement();
  const Model* members = a.member_model >= 0 ? &set.models[a.member_model] : nullptr;
  for (const rv1::BuyingRole& r : in.buying_group()) {
    AccountModelSpec::Role& role = a.roles.emplace_back();
    role.id = r.id();
    role.weight = r.weight() > 0 ? r.weight() : 1;
    role.persona =
        r.persona().empty() ? -1 : IndexOf(set.persona_index, set.namespace_id, r.persona());
    role.attribute = r.attribute();
    role.values.assign(r.values().begin(), r.values().end());
    role.min_level =
        members != nullptr && !r.min_level().empty() ? LevelRank(*members, r.min_level()) : -1;
  }
  a.levels.assign(in.levels().begin(), in.levels().end());
  a.has_consent = in.has_consent();
  a.consent = in.consent();
  a.allowed.assign(in.consent().allowed().begin(), in.consent().allowed().end());
  set.account_index[d.name] = static_cast<int>(set.accounts.size());
  set.accounts.push_back(std::move(a));
  return absl::OkStatus();
}

// Numbers the lead attribute paths and tests of every condition that reads the lead.
void NumberAllLeaves(CompiledSet& set) {
  LeafIds leaves;
  for (Model& m : set.models) {
    for (auto& group : m.fit_rules) {
      for (FitRule& r : group) {
        NumberLeaves(r.condition, leaves);
      }
    }
    for (Model::Disqualifier& d : m.disqualifiers) {
      NumberLeaves(d.condition, leaves);
    }
  }
  for (Persona& p : set.personas) {
    for (Persona::Criterion& c : p.criteria) {
      NumberLeaves(c.condition, leaves);
    }
  }
  for (Journey& j : set.journeys) {
    for (Journey::Stage& stage : j.stages) {
      NumberLeaves(stage.entry, leaves);
    }
  }
  set.attribute_paths = static_cast<int>(leaves.paths.size());
  set.attribute_tests = static_cast<int>(leaves.tests.size());
}

// What the rules read, for the attribute reports of FULL results.
void CollectReadPaths(const std::vector<PublishedDefinition>& definitions, CompiledSet& set) {
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
    set.read_tree.Add(path);
  }
  for (const PublishedDefinition* d : OfKind(definitions, rv1::BUYER_PERSONA)) {
    std::set<std::string> paths;
    CollectAttributePaths(d->content, &paths);
    set.personas[set.persona_index[d->name]].read_paths = Sorted(paths);
  }
  for (const PublishedDefinition* d : OfKind(definitions, rv1::QUALIFICATION_MODEL)) {
    Model& m = set.models[set.model_index[d->name]];
    std::set<std::string> paths;
    CollectAttributePaths(d->content, &paths);
    for (int p : m.personas) {
      if (p >= 0) {
        paths.insert(set.personas[p].read_paths.begin(), set.personas[p].read_paths.end());
      }
    }
    m.read_paths = Sorted(paths);
    for (const std::string& path : m.read_paths) {
      m.read_keys.push_back(absl::StrSplit(path, '.'));
    }
  }
}

}  // namespace

absl::StatusOr<std::shared_ptr<const CompiledSet>> Compile(
    const std::string& namespace_id, const std::vector<PublishedDefinition>& definitions) {
  auto set = std::make_shared<CompiledSet>();
  set->namespace_id = namespace_id;
  CompiledPatterns patterns;
  ACCORD_RETURN_IF_ERROR(ValidateAll(definitions, patterns));
  Compiler compiler(*set, namespace_id, patterns);
  ACCORD_RETURN_IF_ERROR(CompilePersonas(OfKind(definitions, rv1::BUYER_PERSONA), compiler, *set));
  for (const PublishedDefinition* d : OfKind(definitions, rv1::QUALIFICATION_MODEL)) {
    set->model_index[d->name] = static_cast<int>(set->models.size());
    ACCORD_RETURN_IF_ERROR(
        CompileModel(d->name, d->revision, d->content.qualification_model(), compiler, *set));
  }
  for (const PublishedDefinition* d : OfKind(definitions, rv1::BUYER_JOURNEY)) {
    ACCORD_RETURN_IF_ERROR(CompileJourney(*d, compiler, *set));
  }
  for (const PublishedDefinition* d : OfKind(definitions, rv1::SERVICE_LEVEL_AGREEMENT)) {
    CompileSla(*d, *set);
  }
  for (const PublishedDefinition* d : OfKind(definitions, rv1::ACCOUNT_MODEL)) {
    ACCORD_RETURN_IF_ERROR(CompileAccount(*d, compiler, *set));
  }
  NumberAllLeaves(*set);
  CollectReadPaths(definitions, *set);
  return std::shared_ptr<const CompiledSet>(std::move(set));
}

}  // namespace accord::scoring
