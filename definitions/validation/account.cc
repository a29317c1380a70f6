#include "definitions/validation/checks.h"

namespace accord::validation {
namespace {

void CheckValueList(Checker& c, absl::string_view field,
                    const google::protobuf::RepeatedPtrField<google::protobuf::Value>& values) {
  if (values.empty() || values.size() > 100) {
    c.Add(field, "needs 1 to 100 values");
  }
}

}  // namespace

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

}  // namespace accord::validation
