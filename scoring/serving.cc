#include "scoring/serving.h"

#include "absl/strings/str_cat.h"

#include "common/status.h"
#include "scoring/shadow.h"
#include "scoring/wire/lead_decoder.h"
#include "scoring/wire/score_encoder.h"

namespace accord::scoring {
namespace {

// What a scoring call (or a stream's message) reuses from the last one on its thread.
struct Scratch {
  LeadSet leads;

  // Gives back what one very large request grew.
  void Trim() {
    if (leads.MemoryBytes() > (8u << 20)) {
      leads = LeadSet();
    }
  }
};

Scratch& ThreadScratch() {
  thread_local std::unique_ptr<Scratch> scratch = std::make_unique<Scratch>();
  return *scratch;
}

}  // namespace

absl::Status ScoreRequest(const Scorer& scorer, absl::string_view request, bool single,
                          std::string& out) {
  Scratch& scratch = ThreadScratch();
  scratch.leads.Clear();
  LeadRequest decoded;
  absl::Status status =
      DecodeLeadRequest(request, single, single ? "lead" : "leads", scratch.leads, &decoded);
  // A request sampled for shadow scoring keeps what it was answered, lead by lead.
  ShadowScorer* shadow = scorer.shadow();
  const bool sampled = shadow != nullptr && shadow->Sample();
  ShadowScorer::Served served;
  if (status.ok()) {
    ScoreWriter writer(single, out);
    status = scorer.ScoreLeads(
        scratch.leads, decoded, single,
        [&writer, &served, sampled](const sv1::LeadScore& score, const std::string& reasons) {
          writer.Add(score, reasons);
          if (sampled) {
            served.emplace_back(score.level(), score.grade());
          }
        });
  }
  scratch.Trim();
  if (sampled && status.ok()) {
    shadow->Offer(request, single, nullptr, std::move(served));
  }
  return status;
}

absl::Status StreamScoring::Score(absl::string_view message, std::string& out) {
  const std::string field = absl::StrCat("messages[", index_, "].leads");
  // The thread's scratch, not the stream's: many open streams hold no decoded leads.
  Scratch& scratch = ThreadScratch();
  scratch.leads.Clear();
  ShadowScorer* shadow = scorer_.shadow();
  ShadowScorer::Served served;
  const bool sampled = shadow != nullptr && shadow->Sample();
  absl::Status status = ScoreInto(scratch.leads, message, field, out, sampled ? &served : nullptr);
  scratch.Trim();
  if (sampled && status.ok()) {
    shadow->Offer(message, false, &selector_, std::move(served));
  }
  return status;
}

absl::Status StreamScoring::ScoreInto(LeadSet& leads, absl::string_view message,
                                      const std::string& field, std::string& out,
                                      std::vector<std::pair<std::string, std::string>>* served) {
  LeadRequest request;
  ACCORD_RETURN_IF_ERROR(DecodeLeadRequest(message, false, field, leads, &request));
  if (snapshot_ == nullptr || request.has_selector) {
    snapshot_ = scorer_.Current();
    if (snapshot_ == nullptr) {
      return absl::UnavailableError("no definitions loaded yet");
    }
    if (request.has_selector) {
      selector_ = request.selector;
    }
    ACCORD_ASSIGN_OR_RETURN(evaluation_, scorer_.Resolve(*snapshot_, selector_, "selector"));
  }
  if (leads.size() > static_cast<size_t>(Scorer::kMaxBatch)) {
    return InvalidField(field, absl::StrCat("at most ", Scorer::kMaxBatch, " leads per message"));
  }
  ACCORD_RETURN_IF_ERROR(scorer_.CheckLeads(leads, field, false));
  const absl::Time as_of = scorer_.AsOf(request.as_of);
  evaluation_.reasons = request.view != sv1::BASIC;
  ScoreWriter writer(false, out);
  Scorer::ScoreWith(evaluation_, leads, as_of,
                    [&writer, served](const sv1::LeadScore& score, const std::string& reasons) {
                      writer.Add(score, reasons);
                      if (served != nullptr) {
                        served->emplace_back(score.level(), score.grade());
                      }
                    });
  ++index_;
  return absl::OkStatus();
}

absl::Status ScoreAccountRequest(const Scorer& scorer, absl::string_view request,
                                 std::string& out) {
  Scratch& scratch = ThreadScratch();
  scratch.leads.Clear();
  LeadRequest decoded;
  absl::Status status = DecodeAccountRequest(request, scratch.leads, &decoded);
  if (status.ok()) {
    absl::StatusOr<sv1::AccountScore> scored = scorer.ScoreAccount(scratch.leads, decoded);
    status = scored.status();
    if (scored.ok()) {
      scored->AppendToString(&out);
    }
  }
  scratch.Trim();
  return status;
}

}  // namespace accord::scoring
