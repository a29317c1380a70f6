#include "definitions/validation/checks.h"

namespace accord::validation {

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

}  // namespace accord::validation
