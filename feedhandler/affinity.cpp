#include "feedhandler/affinity.hpp"

#include <pthread.h>
#include <sched.h>

#include <cstring>

namespace fh {

int usable_cores() noexcept {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof(set), &set) != 0) return 1;
  return CPU_COUNT(&set);
}

std::string pin_current_thread(int core) {
  if (core < 0) return {};
  cpu_set_t allowed;
  CPU_ZERO(&allowed);
  if (sched_getaffinity(0, sizeof(allowed), &allowed) != 0 || !CPU_ISSET(static_cast<std::size_t>(core), &allowed)) {
    return "core " + std::to_string(core) + " not available (" + std::to_string(usable_cores()) +
           " usable): running unpinned";
  }
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(static_cast<std::size_t>(core), &set);
  if (const int rc = pthread_setaffinity_np(pthread_self(), sizeof(set), &set); rc != 0) {
    return "pin to core " + std::to_string(core) + " failed: " + std::strerror(rc) +
           ": running unpinned";
  }
  return {};
}

} // namespace fh
