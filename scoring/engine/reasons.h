#pragma once

#include "absl/strings/string_view.h"

#include "accord/scoring/v1/scoring.pb.h"

// The reasons of a score, as evaluation finds them (cel-cpp's evaluation listener idea): the
// engine hands each to a sink, which builds Reason messages (MessageReasons) or writes their
// wire bytes (scoring/wire/score_encoder.h).
namespace accord::scoring {

namespace sv1 = ::accord::scoring::v1;

class ReasonSink {
 public:
  struct Reason {
    sv1::Reason::Kind kind;
    absl::string_view group;
    absl::string_view rule;
    absl::string_view description;
    double points = 0;
    int events_counted = 0;
    absl::string_view evidence;
    absl::string_view detail;
    // kind, group, rule and description as the wire encoder wrote them at compile time
    // (EncodeReasonHead), when the reason is a rule's; empty otherwise.
    absl::string_view head;
  };
  virtual ~ReasonSink() = default;
  virtual void Add(const Reason& r) = 0;
};

// Adds each reason to a LeadScore as a Reason message.
class MessageReasons final : public ReasonSink {
 public:
  explicit MessageReasons(sv1::LeadScore& out) : out_(out) {}
  void Add(const Reason& r) override;

 private:
  sv1::LeadScore& out_;
};

}  // namespace accord::scoring
