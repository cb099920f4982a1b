#pragma once
// Marks the one region scripts/callgrind-gate.sh counts instructions in: the fused
// parse -> book -> shm pass over the book frames (the figure behind ns_per_book_frame).
// The gate runs fh-bench under `valgrind --tool=callgrind --instr-atstart=no`, so nothing is
// instrumented (and nothing counted) outside a CallgrindRegion: loading the capture, the other
// stages and the threaded run stay out of the count and run at near-native speed.
// Instruction counts, unlike wall time, do not move with the other tenants of a shared host.
// Without the valgrind headers the region compiles to nothing; with them, outside valgrind, each
// marker is a few no-op instructions per pass (never per frame).
#if defined(__has_include)
#if __has_include(<valgrind/callgrind.h>)
#include <valgrind/callgrind.h>
#define FH_BENCH_HAVE_CALLGRIND 1
#endif
#endif

namespace fh::bench {

// RAII: instrumentation on for the scope's lifetime (per process; only the calling thread runs
// in the region, so no other thread's work is counted).
class CallgrindRegion {
public:
  CallgrindRegion() noexcept {
#ifdef FH_BENCH_HAVE_CALLGRIND
    CALLGRIND_START_INSTRUMENTATION;
#endif
  }
  ~CallgrindRegion() {
#ifdef FH_BENCH_HAVE_CALLGRIND
    CALLGRIND_STOP_INSTRUMENTATION;
#endif
  }
  CallgrindRegion(const CallgrindRegion&) = delete;
  CallgrindRegion& operator=(const CallgrindRegion&) = delete;
};

} // namespace fh::bench
