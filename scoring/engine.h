#pragma once

// The rule engine, one file per step (as cel-cpp keeps its runtime), in scoring/engine/:
// - compiled_set.h: the compiled model's plain structs;
// - compile.h: published definitions, validated, compiled into a CompiledSet;
// - conditions.h: condition evaluation with its evidence (internal);
// - qualification.h: fit, engagement, grades, levels, disqualifiers and persona of a lead
//   (EvaluateLead), with its reasons going to a ReasonSink (reasons.h);
// - attributes.h: the attribute reports of a FULL result;
// - journey.h and sla.h: stages and moves of a buyer journey, the marketing-sales SLA.
// Evaluation is a pure function of (compiled set, lead, as_of): same inputs, same result, bit
// for bit. The scoring wire codec is apart, in scoring/wire/.
#include "scoring/engine/compile.h"
#include "scoring/engine/compiled_set.h"
#include "scoring/engine/journey.h"
#include "scoring/engine/qualification.h"
#include "scoring/engine/sla.h"
