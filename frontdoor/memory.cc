#include "frontdoor/memory.h"

#include <dlfcn.h>
#include <malloc.h>

namespace accord::frontdoor {

void ReleaseFreeMemory() {
  // Looked up rather than linked: the servers link tcmalloc, the tests and tools do not.
  using Release = void (*)();
  static const auto tcmalloc_release =
      reinterpret_cast<Release>(dlsym(RTLD_DEFAULT, "MallocExtension_ReleaseFreeMemory"));
  if (tcmalloc_release != nullptr) {
    tcmalloc_release();
  } else {
    malloc_trim(0);
  }
}

bool ReleaseAfter::MaybeRelease(absl::Time now) {
  if (freed_ < bytes_ || now - released_ < interval_) {
    return false;
  }
  freed_ = 0;
  released_ = now;
  ReleaseFreeMemory();
  return true;
}

}  // namespace accord::frontdoor
