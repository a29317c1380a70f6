#include "scoring/engine/reasons.h"

#include <string>

namespace accord::scoring {

void MessageReasons::Add(const Reason& r) {
  sv1::Reason* m = out_.add_reasons();
  m->set_kind(r.kind);
  // Empty strings are left unset: the same bytes, no allocation.
  auto set = [](absl::string_view v, std::string* (sv1::Reason::*field)(), sv1::Reason* m) {
    if (!v.empty()) {
      (m->*field)()->assign(v.data(), v.size());
    }
  };
  set(r.group, &sv1::Reason::mutable_group, m);
  set(r.rule, &sv1::Reason::mutable_rule, m);
  set(r.description, &sv1::Reason::mutable_description, m);
  m->set_points(r.points);
  m->set_events_counted(r.events_counted);
  set(r.evidence, &sv1::Reason::mutable_evidence, m);
  set(r.detail, &sv1::Reason::mutable_detail, m);
}

}  // namespace accord::scoring
