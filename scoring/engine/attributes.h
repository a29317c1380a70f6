#pragma once

#include "scoring/engine/compiled_set.h"
#include "scoring/lead_set.h"

// The attribute reports of a FULL result.
namespace accord::scoring {

// Adds to `out` what model `m` reads that the lead lacks (missing_attributes) and, at most
// kMaxUnreadAttributes of them, what the lead sent that no rule of the set reads
// (unread_attributes).
void ReportAttributes(const CompiledSet& set, const Model& m, const LeadSet& leads,
                      const LeadSet::Lead& lead, sv1::LeadScore& out);

}  // namespace accord::scoring
