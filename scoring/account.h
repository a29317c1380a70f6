#pragma once

#include "absl/time/time.h"

#include "accord/scoring/v1/scoring.pb.h"
#include "scoring/engine.h"
#include "scoring/lead_set.h"

// Account-level qualification (docs/scoring.md, "Accounts"): the account's own fit from the
// account model's fit rules, its member leads scored with the member model and combined, the
// buying group's coverage, and the account level. Consent is checked before a member is
// scored: a member that does not allow profiling is counted and never scored.
namespace accord::scoring {

// Members an account may have in one request.
inline constexpr int kMaxAccountMembers = 1000;

// Scores the account at lead `account` of `leads` (its id and attributes, as
// DecodeAccountRequest or LeadSet::Add(Account) put it) and its `members` leads after it,
// with account model `account_model` (an index into set.accounts, whose member model the set holds)
// as of `as_of`. The members must have been checked (Scorer::CheckAccount). Thread-safe: the
// set and the leads are only read.
sv1::AccountScore ScoreAccount(const CompiledSet& set, int account_model, const LeadSet& leads,
                               size_t account, size_t members, absl::Time as_of);
// The same for an Account message.
sv1::AccountScore ScoreAccount(const CompiledSet& set, int account_model,
                               const sv1::Account& account, absl::Time as_of);

// The rules whose points differ between two sets of reasons, by (kind, group, rule), in
// that order: the "reasons that moved" of a preview or an explained change.
void AddReasonDeltas(const google::protobuf::RepeatedPtrField<sv1::Reason>& before,
                     const google::protobuf::RepeatedPtrField<sv1::Reason>& after,
                     google::protobuf::RepeatedPtrField<sv1::ReasonDelta>* out);

}  // namespace accord::scoring
