#pragma once
// Thread pinning as configuration. A core that does not exist (a 2-core host running a
// config written for 8) or a refused affinity call leaves the thread unpinned and says so
// once; it never stops the feed.
#include <string>

namespace fh {

// Pins the calling thread to `core` (< 0: leave it alone). Returns an empty string on
// success, else the reason it stayed unpinned.
std::string pin_current_thread(int core);

// Number of cores this process may run on.
int usable_cores() noexcept;

} // namespace fh
