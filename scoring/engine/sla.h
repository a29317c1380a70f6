#pragma once

#include <cstdint>
#include <vector>

#include "absl/time/time.h"

#include "scoring/engine/compiled_set.h"

// The marketing-sales SLA: a lead's response commitments, and a period's volume and quality.
namespace accord::scoring {

// The lead's status for every response commitment of `sla` (from its stage history and
// events).
sv1::EvaluateSlaResponse EvaluateSla(const Sla& sla, const sv1::Lead& lead, absl::Time as_of);

// Volume and quality of a period's leads against an SLA: Add() each lead, then Report().
// Not thread-safe (one per ReportSla stream).
class SlaTally {
 public:
  // `sla` must belong to `set` and name a model (and usually a journey) of it.
  SlaTally(const CompiledSet& set, int sla, absl::Time as_of);
  void Add(const sv1::Lead& lead);
  sv1::SlaReport Report() const;

 private:
  const CompiledSet& set_;
  const Sla& sla_;
  Evaluation evaluation_;
  absl::Time as_of_;
  int64_t leads_ = 0;
  std::vector<int64_t> volume_;     // per volume commitment
  std::vector<int64_t> qualified_;  // per quality commitment
  std::vector<int64_t> accepted_;
};

}  // namespace accord::scoring
