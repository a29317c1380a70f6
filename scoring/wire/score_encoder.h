#pragma once

#include <cstdint>
#include <string>

#include "absl/strings/string_view.h"

#include "accord/scoring/v1/scoring.pb.h"
#include "scoring/engine/reasons.h"

// Scoring responses written as protobuf wire bytes without building them as messages: the
// reasons of a score (WireReasons, from heads encoded once per rule at compile time) and the
// LeadScores of a response (ScoreWriter). The only place, with lead_decoder.cc, that knows
// the scoring messages' field numbers; tests/scoring/wire/score_encoder_test.cc holds it to
// protobuf's serializer.
namespace accord::scoring {

// Appends `v` as a protobuf varint.
void AppendWireVarint(std::string& to, uint64_t v);

// Reason fields 1-4 (kind, group, rule, description) as wire bytes: the same for every reason
// of a rule, so encoded once, when the rule is compiled.
std::string EncodeReasonHead(sv1::Reason::Kind kind, absl::string_view group,
                             absl::string_view rule, absl::string_view description);

// Appends each reason as LeadScore field 14 in protobuf's wire format, the bytes protobuf
// would write for the same Reason message.
class WireReasons final : public ReasonSink {
 public:
  explicit WireReasons(std::string& out) : out_(out) {}
  void Add(const Reason& r) override;

 private:
  std::string& out_;
};

// Writes a LeadScore (ScoreLead, `single`), or one LeadScore per lead in field 1
// (BatchScoreLeadsResponse, StreamScoreLeadsResponse), each followed by its reasons' bytes.
class ScoreWriter {
 public:
  ScoreWriter(bool single, std::string& out) : single_(single), out_(out) {}
  void Add(const sv1::LeadScore& score, const std::string& reasons);

 private:
  bool single_;
  std::string& out_;
};

}  // namespace accord::scoring
