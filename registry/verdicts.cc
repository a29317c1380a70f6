#include "registry/verdicts.h"

#include <algorithm>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "google/protobuf/util/time_util.h"

#include "common/hash.h"
#include "common/status.h"
#include "definitions/resource_name.h"

namespace accord::registry {
namespace {

using google::protobuf::util::TimeUtil;

using feedback::kMaxCommentBytes;
using feedback::kMaxLeadIdBytes;
using feedback::kMaxVerdictIdBytes;

constexpr int kDefaultPageSize = 100;

bool IsSet(const google::protobuf::Timestamp& t) { return t.seconds() != 0 || t.nanos() != 0; }

absl::Time TimeOf(const google::protobuf::Timestamp& t) {
  return absl::FromUnixNanos(TimeUtil::TimestampToNanoseconds(t));
}

google::protobuf::Timestamp TimestampOf(absl::Time t) {
  return TimeUtil::NanosecondsToTimestamp(absl::ToUnixNanos(t));
}

// [start, end) of a request: end defaults to now, start to `span` before end.
absl::StatusOr<std::pair<absl::Time, absl::Time>> RangeOf(const google::protobuf::Timestamp& start,
                                                          const google::protobuf::Timestamp& end,
                                                          absl::Duration span, absl::Time now) {
  absl::Time to = IsSet(end) ? TimeOf(end) : now;
  absl::Time from = IsSet(start) ? TimeOf(start) : to - span;
  if (from >= to) {
    return InvalidField("start_time", "must be before end_time");
  }
  return std::make_pair(from, to);
}

void AddRate(const std::string& key, const feedback::Rate& rate, v1::AcceptanceRate* out) {
  out->set_key(key);
  out->set_accepted(rate.accepted);
  out->set_total(rate.total);
  out->set_rate(rate.rate);
  out->set_low(rate.low);
  out->set_high(rate.high);
}

void AddRates(const std::map<std::string, feedback::Rate>& rates,
              google::protobuf::RepeatedPtrField<v1::AcceptanceRate>* out) {
  for (const auto& [key, rate] : rates) {
    AddRate(key, rate, out->Add());
  }
}

}  // namespace

records::StoredVerdict StoredVerdictOf(const std::string& namespace_id,
                                       const v1::Verdict& verdict) {
  records::StoredVerdict s;
  s.set_namespace_id(namespace_id);
  s.set_verdict_id(verdict.verdict_id());
  s.set_lead_id(verdict.lead_id());
  s.set_outcome(v1::Verdict::Outcome_Name(verdict.outcome()));
  s.set_reason_code(verdict.reason_code());
  s.set_comment(verdict.comment());
  s.set_actor(verdict.actor());
  *s.mutable_recorded_at() = verdict.record_time();
  *s.mutable_handed_off_at() = verdict.handed_off_at();
  s.mutable_revisions()->CopyFrom(verdict.revisions());
  s.set_level(verdict.level());
  s.set_grade(verdict.grade());
  s.set_persona(verdict.persona());
  s.mutable_rules_fired()->CopyFrom(verdict.rules_fired());
  s.mutable_content_keys()->CopyFrom(verdict.content_keys());
  return s;
}

v1::Verdict VerdictOf(const records::StoredVerdict& s) {
  v1::Verdict v;
  v.set_verdict_id(s.verdict_id());
  v.set_lead_id(s.lead_id());
  v1::Verdict::Outcome outcome = v1::Verdict::OUTCOME_UNSPECIFIED;
  v1::Verdict::Outcome_Parse(s.outcome(), &outcome);
  v.set_outcome(outcome);
  v.set_reason_code(s.reason_code());
  v.set_comment(s.comment());
  *v.mutable_handed_off_at() = s.handed_off_at();
  v.set_namespace_(s.namespace_id());
  v.set_actor(s.actor());
  *v.mutable_record_time() = s.recorded_at();
  v.mutable_revisions()->CopyFrom(s.revisions());
  v.set_level(s.level());
  v.set_grade(s.grade());
  v.set_persona(s.persona());
  v.mutable_rules_fired()->CopyFrom(s.rules_fired());
  v.mutable_content_keys()->CopyFrom(s.content_keys());
  return v;
}

absl::StatusOr<v1::StoreVerdictsResponse> Verdicts::StoreVerdicts(
    const v1::StoreVerdictsRequest& request) {
  ACCORD_ASSIGN_OR_RETURN(std::string ns, ParseParent("parent", request.parent(), false));
  if (request.verdicts().empty() || request.verdicts_size() > kMaxVerdictsPerCall) {
    return InvalidField("verdicts", absl::StrCat("must hold 1 to ", kMaxVerdictsPerCall));
  }
  std::vector<FieldViolation> violations;
  const absl::Time now = clock_.Now();
  std::vector<records::StoredVerdict> stored;
  stored.reserve(request.verdicts_size());
  for (int i = 0; i < request.verdicts_size(); ++i) {
    const v1::Verdict& v = request.verdicts(i);
    const std::string path = absl::StrCat("verdicts[", i, "]");
    auto check = [&](bool ok, absl::string_view field, absl::string_view what) {
      if (!ok) {
        violations.push_back({absl::StrCat(path, ".", field), std::string(what)});
      }
    };
    check(!v.verdict_id().empty() && v.verdict_id().size() <= kMaxVerdictIdBytes, "verdict_id",
          "is required, at most 128 bytes");
    check(!v.lead_id().empty() && v.lead_id().size() <= kMaxLeadIdBytes, "lead_id",
          "is required, at most 256 bytes");
    check(v.outcome() != v1::Verdict::OUTCOME_UNSPECIFIED &&
              v1::Verdict::Outcome_IsValid(v.outcome()),
          "outcome", "is required");
    check(v.comment().size() <= kMaxCommentBytes, "comment", "is longer than 2000 bytes");
    check(IsSet(v.handed_off_at()), "handed_off_at", "is required");
    check(!v.actor().empty(), "actor", "is required (the principal that recorded the verdict)");
    check(!v.revisions().empty(), "revisions", "is required (what was scored at hand-off)");
    v1::Verdict copy = v;
    *copy.mutable_record_time() = TimestampOf(now);
    stored.push_back(StoredVerdictOf(ns, copy));
  }
  if (!violations.empty()) {
    return InvalidArgument(std::move(violations));
  }
  ACCORD_ASSIGN_OR_RETURN(std::vector<bool> recorded, store_.RecordVerdicts(stored));
  v1::StoreVerdictsResponse response;
  for (bool r : recorded) {
    response.add_recorded(r);
  }
  *response.mutable_record_time() = TimestampOf(now);
  return response;
}

absl::StatusOr<v1::ListVerdictsResponse> Verdicts::ListVerdicts(
    const v1::ListVerdictsRequest& request) {
  ACCORD_ASSIGN_OR_RETURN(std::string ns, ParseParent("parent", request.parent(), false));
  ACCORD_ASSIGN_OR_RETURN(auto range, RangeOf(request.start_time(), request.end_time(),
                                              absl::Hours(24 * 30), clock_.Now()));
  if (request.page_size() < 0 || request.page_size() > kMaxVerdictsPerCall) {
    return InvalidField("page_size", absl::StrCat("must be 0 to ", kMaxVerdictsPerCall));
  }
  VerdictQuery query;
  query.lead_id = request.lead_id();
  query.limit = request.page_size() == 0 ? kDefaultPageSize : request.page_size();
  if (!request.page_token().empty() &&
      (!absl::SimpleAtoi(request.page_token(), &query.offset) || query.offset < 0)) {
    return InvalidField("page_token", "is not a token this method returned");
  }
  // One more than asked: whether there is a next page.
  ++query.limit;
  ACCORD_ASSIGN_OR_RETURN(std::vector<records::StoredVerdict> page,
                          store_.ListVerdicts(ns, range.first, range.second, query));
  v1::ListVerdictsResponse response;
  const int64_t wanted = query.limit - 1;
  for (int64_t i = 0; i < static_cast<int64_t>(page.size()) && i < wanted; ++i) {
    *response.add_verdicts() = VerdictOf(page[i]);
  }
  if (static_cast<int64_t>(page.size()) > wanted) {
    response.set_next_page_token(absl::StrCat(query.offset + wanted));
  }
  return response;
}

absl::StatusOr<v1::QualityReport> Verdicts::GetQualityReport(
    const v1::GetQualityReportRequest& request) {
  ACCORD_ASSIGN_OR_RETURN(std::string ns, ParseParent("parent", request.parent(), false));
  ACCORD_ASSIGN_OR_RETURN(auto range, RangeOf(request.start_time(), request.end_time(),
                                              absl::Hours(24 * 90), clock_.Now()));
  ACCORD_ASSIGN_OR_RETURN(feedback::QualityCounts counts,
                          store_.CountVerdicts(ns, range.first, range.second));
  const feedback::QualityReport report = feedback::ReportFromCounts(counts);
  v1::QualityReport out;
  out.set_parent(request.parent());
  // The whole days counted (CountVerdicts rounds the range out to days, UTC).
  const absl::Time first_day = absl::FromUnixMicros(DayOfMicros(absl::ToUnixMicros(range.first)) *
                                                    absl::ToInt64Microseconds(absl::Hours(24)));
  const int64_t last = absl::ToUnixMicros(range.second) - 1;
  const absl::Time day_after =
      absl::FromUnixMicros((DayOfMicros(last) + 1) * absl::ToInt64Microseconds(absl::Hours(24)));
  *out.mutable_start_time() = TimestampOf(first_day);
  *out.mutable_end_time() = TimestampOf(day_after);
  AddRate("", report.overall, out.mutable_overall());
  AddRates(report.by_level, out.mutable_by_level());
  AddRates(report.by_grade, out.mutable_by_grade());
  AddRates(report.by_persona, out.mutable_by_persona());
  AddRates(report.by_content_key, out.mutable_by_content_key());
  for (const feedback::RuleQuality& rule : report.by_rule) {
    v1::RuleQuality* r = out.add_by_rule();
    r->set_rule(rule.rule);
    AddRate(rule.rule, rule.fired, r->mutable_fired());
    AddRate(rule.rule, rule.not_fired, r->mutable_not_fired());
    r->set_has_lift(rule.lift.has_value());
    r->set_lift(rule.lift.value_or(0));
  }
  for (const auto& [reason, leads] : report.not_accepted_by_reason) {
    v1::ReasonCount* c = out.add_not_accepted_by_reason();
    c->set_reason_code(reason);
    c->set_leads(leads);
  }
  ACCORD_RETURN_IF_ERROR(AddSlaQuality(ns, counts, out));
  return out;
}

absl::Status Verdicts::AddSlaQuality(const std::string& ns, const feedback::QualityCounts& counts,
                                     v1::QualityReport& out) {
  v1::ListDefinitionsRequest list;
  list.set_parent(absl::StrCat("namespaces/", ns));
  list.set_page_size(1000);
  ACCORD_ASSIGN_OR_RETURN(v1::ListDefinitionsResponse definitions, registry_.ListDefinitions(list));
  auto published = [this](const std::string& name) -> absl::StatusOr<v1::Definition> {
    v1::GetRevisionRequest get;
    get.set_name(absl::StrCat(name, "/revisions/published"));
    ACCORD_ASSIGN_OR_RETURN(v1::Revision revision, registry_.GetRevision(get));
    return revision.snapshot();
  };
  for (const v1::Definition& d : definitions.definitions()) {
    if (d.kind() != v1::SERVICE_LEVEL_AGREEMENT || d.published_revision() == 0 ||
        d.state() != v1::Definition::ACTIVE) {
      continue;
    }
    ACCORD_ASSIGN_OR_RETURN(v1::Definition sla, published(d.name()));
    const std::string& model_ref = sla.service_level_agreement().model();
    const std::string model_name =
        absl::StartsWith(model_ref, "namespaces/")
            ? model_ref
            : absl::StrCat("namespaces/", ns, "/definitions/", model_ref);
    absl::StatusOr<v1::Definition> model = published(model_name);
    if (!model.ok()) {
      continue;  // the SLA names no published model: nothing to count by
    }
    // The model's levels in order: a commitment counts its level and every higher one.
    std::vector<std::string> levels;
    for (const v1::QualificationLevel& l : model->qualification_model().levels()) {
      levels.push_back(l.name());
    }
    for (const v1::QualityCommitment& q : sla.service_level_agreement().quality()) {
      auto from = std::find(levels.begin(), levels.end(), q.level());
      feedback::Count sum;
      for (auto it = from; it != levels.end(); ++it) {
        if (auto c = counts.by_level.find(*it); c != counts.by_level.end()) {
          sum.total += c->second.total;
          sum.accepted += c->second.accepted;
        }
      }
      const feedback::Rate rate = feedback::WilsonRate(sum.accepted, sum.total);
      v1::SlaQuality* r = out.add_sla_quality();
      r->set_sla(d.name());
      r->set_commitment(q.id());
      r->set_team(q.team());
      r->set_level(q.level());
      AddRate(q.level(), rate, r->mutable_accepted());
      r->set_target(q.min_accepted_fraction());
      r->set_met(sum.total > 0 && rate.rate >= q.min_accepted_fraction());
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<v1::EraseLeadVerdictsResponse> Verdicts::EraseLeadVerdicts(
    const Principal& caller, const v1::EraseLeadVerdictsRequest& request) {
  ACCORD_ASSIGN_OR_RETURN(std::string ns, ParseParent("parent", request.parent(), false));
  if (request.lead_id().empty() || request.lead_id().size() > kMaxLeadIdBytes) {
    return InvalidField("lead_id", "is required, at most 256 bytes");
  }
  if (request.request_id().size() > kMaxVerdictIdBytes) {
    return InvalidField("request_id", "is longer than 128 characters");
  }
  ACCORD_ASSIGN_OR_RETURN(int64_t erased, store_.EraseLeadVerdicts(ns, request.lead_id()));
  // After the erasure: a crash between the two leaves the erasure done and unaudited; a retry
  // erases nothing more and records it.
  ACCORD_RETURN_IF_ERROR(
      registry_.RecordAudit(caller, "EraseLeadVerdicts",
                            absl::StrCat("namespaces/", ns, "/verdicts"), request.request_id(),
                            absl::StrCat("lead sha256:", Sha256Hex(request.lead_id()), ": ", erased,
                                         " verdicts erased")));
  v1::EraseLeadVerdictsResponse response;
  response.set_erased(erased);
  return response;
}

}  // namespace accord::registry
