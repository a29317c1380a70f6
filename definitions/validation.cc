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
#include "definitions/validation/checks.h"

namespace accord {
namespace {

using validation::Checker;
using validation::ConditionContext;

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
  validation::CheckLimits(d, c, 0);
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
        c.Add(validation::Index("required_teams", i),
              absl::StrCat("unknown team '", team, "' (marketing or sales)"));
      } else if (!seen.insert(team).second) {
        c.Add(validation::Index("required_teams", i),
              absl::StrCat("team '", team, "' is listed twice"));
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
      validation::CheckPersona(d.buyer_persona(), c, ctx);
      break;
    }
    case registry::v1::Definition::kQualificationModel: {
      Checker::Scope s(c, "qualification_model");
      validation::CheckModel(d.qualification_model(), c, ctx);
      break;
    }
    case registry::v1::Definition::kBuyerJourney: {
      Checker::Scope s(c, "buyer_journey");
      validation::CheckJourney(d.buyer_journey(), c, ctx);
      break;
    }
    case registry::v1::Definition::kServiceLevelAgreement: {
      Checker::Scope s(c, "service_level_agreement");
      validation::CheckSla(d.service_level_agreement(), c, ctx);
      break;
    }
    case registry::v1::Definition::kAccountModel: {
      Checker::Scope s(c, "account_model");
      validation::CheckAccountModel(d.account_model(), c, ctx);
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
