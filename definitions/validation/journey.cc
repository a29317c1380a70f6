#include "definitions/validation/checks.h"

namespace accord::validation {

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

}  // namespace accord::validation
