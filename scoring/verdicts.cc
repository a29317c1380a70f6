#include "scoring/verdicts.h"

#include <algorithm>
#include <set>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "google/protobuf/util/time_util.h"

#include "common/status.h"
#include "registry/feedback/verdict_limits.h"
#include "scoring/engine.h"

namespace accord::scoring {
namespace {

using google::protobuf::util::TimeUtil;

using registry::feedback::kMaxCommentBytes;
using registry::feedback::kMaxLeadIdBytes;
using registry::feedback::kMaxVerdictIdBytes;
using registry::feedback::kMaxVerdictsPerCall;

bool IsSet(const google::protobuf::Timestamp& t) { return t.seconds() != 0 || t.nanos() != 0; }

// A property's value as a content key names it: strings as they are, numbers and booleans in
// their JSON form; other kinds (lists, structs, null) name no content.
bool ContentValue(const LeadSet::Value& v, std::string* out) {
  switch (v.kind) {
    case LeadSet::Value::Kind::kString:
      *out = std::string(v.text);
      return !out->empty();
    case LeadSet::Value::Kind::kNumber:
      *out = absl::StrCat(v.number);
      return true;
    case LeadSet::Value::Kind::kBool:
      *out = v.boolean ? "true" : "false";
      return true;
    default:
      return false;
  }
}

// The content keys of the events that the engagement rules in `scoring_rules` (ids) counted,
// as EvaluateLead counts them (CountedEvents), each keyed by the first of the model's content
// properties it has: "type:property=value".
std::vector<std::string> ContentKeys(const Model& model, const sv1::Lead& lead, absl::Time as_of,
                                     const std::set<std::string>& scoring_rules) {
  if (model.content_properties.empty() || scoring_rules.empty()) {
    return {};
  }
  LeadSet leads;
  leads.Add(lead);
  std::set<std::string> keys;
  for (const auto& [rule, event] : CountedEvents(model, leads, 0, absl::ToUnixNanos(as_of))) {
    if (scoring_rules.count(model.engagement_rules[rule].id) == 0) {
      continue;
    }
    const LeadSet::Event& e = leads.event(event);
    for (const std::string& property : model.content_properties) {
      const LeadSet::Value* value =
          e.properties < 0 ? nullptr : leads.Field(e.properties, property);
      std::string text;
      if (value != nullptr && ContentValue(*value, &text)) {
        keys.insert(absl::StrCat(e.type, ":", property, "=", text));
        break;
      }
    }
  }
  std::vector<std::string> out(keys.begin(), keys.end());
  if (out.size() > static_cast<size_t>(kMaxContentKeys)) {
    out.resize(kMaxContentKeys);
  }
  return out;
}

// What `score` says was scored, into `out`: revisions, level, grade, persona, rules fired and
// the content that scored.
void SetScored(const Evaluation& e, const sv1::Lead& lead, absl::Time as_of,
               const sv1::LeadScore& score, rv1::Verdict& out) {
  for (const sv1::DefinitionRef& d : score.definitions()) {
    out.add_revisions(absl::StrCat(d.name(), "/revisions/", d.revision()));
  }
  out.set_level(score.level());
  out.set_grade(score.grade());
  out.set_persona(score.persona().persona());
  std::set<std::string> fired;          // "group/rule"
  std::set<std::string> scoring_rules;  // engagement rule ids with points
  for (const sv1::Reason& r : score.reasons()) {
    const bool counts =
        r.kind() == sv1::Reason::DISQUALIFIER ||
        ((r.kind() == sv1::Reason::FIT || r.kind() == sv1::Reason::ENGAGEMENT) && r.points() != 0);
    if (!counts || r.rule().empty()) {
      continue;
    }
    // Disqualifiers have no group: "disqualifiers/<id>".
    fired.insert(absl::StrCat(r.group().empty() ? "disqualifiers" : r.group(), "/", r.rule()));
    if (r.kind() == sv1::Reason::ENGAGEMENT) {
      scoring_rules.insert(r.rule());
    }
  }
  for (const std::string& f : fired) {
    out.add_rules_fired(f);
  }
  for (std::string& key : ContentKeys(e.set->models[e.model], lead, as_of, scoring_rules)) {
    out.add_content_keys(std::move(key));
  }
}

}  // namespace

absl::StatusOr<rv1::StoreVerdictsRequest> DeriveVerdicts(const Scorer& scorer,
                                                         const sv1::RecordVerdictsRequest& request,
                                                         const std::string& actor) {
  if (request.verdicts().empty() || request.verdicts_size() > kMaxVerdictsPerCall) {
    return InvalidField("verdicts", absl::StrCat("must hold 1 to ", kMaxVerdictsPerCall));
  }
  std::shared_ptr<const Snapshot> snapshot = scorer.Current();
  if (snapshot == nullptr) {
    return absl::UnavailableError("no definitions loaded yet");
  }
  const std::string ns =
      request.selector().namespace_().empty() ? "default" : request.selector().namespace_();
  rv1::StoreVerdictsRequest out;
  out.set_parent(absl::StrCat("namespaces/", ns));
  std::vector<FieldViolation> violations;
  for (int i = 0; i < request.verdicts_size(); ++i) {
    const sv1::VerdictInput& in = request.verdicts(i);
    const std::string path = absl::StrCat("verdicts[", i, "]");
    auto violation = [&](absl::string_view field, std::string what) {
      violations.push_back({absl::StrCat(path, ".", field), std::move(what)});
    };
    const size_t before = violations.size();
    if (in.verdict_id().empty() || in.verdict_id().size() > kMaxVerdictIdBytes) {
      violation("verdict_id", "is required, at most 128 bytes");
    }
    if (in.outcome() == rv1::Verdict::OUTCOME_UNSPECIFIED ||
        !rv1::Verdict::Outcome_IsValid(in.outcome())) {
      violation("outcome", "is required: ACCEPTED, REJECTED, RECYCLED, OPPORTUNITY, WON or LOST");
    }
    if (in.comment().size() > kMaxCommentBytes) {
      violation("comment", "is longer than 2000 bytes");
    }
    if (!IsSet(in.handed_off_at())) {
      violation("handed_off_at", "is required: the lead is re-scored as of then");
    }
    if (!in.has_lead() || in.lead().id().empty() || in.lead().id().size() > kMaxLeadIdBytes) {
      violation("lead.id", "is required, at most 256 bytes");
    }
    const bool needs_reason =
        in.outcome() == rv1::Verdict::REJECTED || in.outcome() == rv1::Verdict::RECYCLED;
    if (needs_reason && in.reason_code().empty()) {
      violation("reason_code", "is required for REJECTED and RECYCLED (the journey's taxonomy)");
    }
    if (violations.size() > before) {
      continue;
    }
    if (absl::Status s = scorer.CheckLead(in.lead(), absl::StrCat(path, ".lead")); !s.ok()) {
      return s;
    }
    sv1::Selector selector = request.selector();
    selector.set_model_revision(in.model_revision());
    ACCORD_ASSIGN_OR_RETURN(Evaluation e, scorer.Resolve(*snapshot, selector, "selector"));
    if (!in.reason_code().empty()) {
      const std::vector<std::string>* codes =
          e.journey >= 0 ? &e.set->journeys[e.journey].reason_codes : nullptr;
      if (codes == nullptr || codes->empty()) {
        violation("reason_code", "no journey with a reason taxonomy is published for the model");
        continue;
      }
      if (std::find(codes->begin(), codes->end(), in.reason_code()) == codes->end()) {
        violation("reason_code",
                  absl::StrCat("'", in.reason_code(), "' is not in the journey's reason taxonomy"));
        continue;
      }
    }
    const absl::Time as_of =
        absl::FromUnixNanos(TimeUtil::TimestampToNanoseconds(in.handed_off_at()));
    e.reasons = true;
    const sv1::LeadScore score = Score(e, in.lead(), as_of);
    rv1::Verdict& v = *out.add_verdicts();
    v.set_verdict_id(in.verdict_id());
    v.set_lead_id(in.lead().id());
    v.set_outcome(in.outcome());
    v.set_reason_code(in.reason_code());
    v.set_comment(in.comment());
    *v.mutable_handed_off_at() = in.handed_off_at();
    v.set_namespace_(ns);
    v.set_actor(actor);
    SetScored(e, in.lead(), as_of, score, v);
  }
  if (!violations.empty()) {
    return InvalidArgument(std::move(violations));
  }
  return out;
}

}  // namespace accord::scoring
