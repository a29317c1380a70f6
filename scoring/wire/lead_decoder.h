#pragma once

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

#include "accord/scoring/v1/scoring.pb.h"
#include "scoring/lead_set.h"

// The scoring requests' wire bytes decoded straight into a LeadSet, with protobuf's semantics
// (tests/scoring/wire/lead_decoder_test.cc holds it to protobuf's parser, lead_fuzz too).
namespace accord::scoring {

// What a scoring request says besides its leads.
struct LeadRequest {
  sv1::Selector selector;
  bool has_selector = false;
  google::protobuf::Timestamp as_of;
  int view = 0;  // sv1::ScoreView
};

// Decodes a ScoreLeadRequest (`single` = true), a BatchScoreLeadsRequest or a
// StreamScoreLeadsRequest from `bytes` (all three: selector 1, lead or leads 2, as_of 3,
// view 4), appending its leads to `leads`. `leads_field` names the leads in errors ("lead",
// "leads", "messages[3].leads"). INVALID_ARGUMENT with the field path for bytes that are not
// such a message or hold a string that is not UTF-8.
absl::Status DecodeLeadRequest(absl::string_view bytes, bool single, absl::string_view leads_field,
                               LeadSet& leads, LeadRequest* request);

// Decodes a ScoreAccountRequest (selector 1, account 2, as_of 3): the account is appended as
// a lead of its own (its id and attributes), then its members, in order. Errors as
// DecodeLeadRequest's, under "account" ("account.members[2].events[0].time").
absl::Status DecodeAccountRequest(absl::string_view bytes, LeadSet& leads, LeadRequest* request);

}  // namespace accord::scoring
