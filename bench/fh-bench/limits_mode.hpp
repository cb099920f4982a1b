#pragma once
// fh-bench limits: the host's own floor, measured in the same run as whatever it is compared
// with (DESIGN.md section 5 judges every figure as a ratio to these):
//   clock cost      rdtsc, clock_gettime(CLOCK_MONOTONIC), clock_gettime(CLOCK_REALTIME)
//   cache line      round trip of one 64-byte line between two pinned threads on two cores
//   loopback TCP    one-way latency of a 300-byte message (bench/loopback/kernel_oneway:
//                   blocking recv() and the feed's io_uring reactor)
//   memcpy          bandwidth on a cache-resident (64 KiB) and a DRAM-sized (64 MiB) buffer
//   noise           a pinned thread reading the clock in a tight loop; every gap > 1 us is time
//                   the core was taken from it (guest scheduler, interrupts, or the hypervisor)
// and the host's tuning state (scripts/tune-host.sh --check --json) under "host".
namespace fh::bench {

struct LimitsArgs {
  bool quick = false;       // under ~10 s in all
  bool json = false;        // only the JSON line
  int core = -1;            // first core (-1: the first this process may use)
  int peer_core = -1;       // second core for the cache-line round trip (-1: the next one)
  double noise_seconds = 0; // 0: 3 s quick, 20 s otherwise
};

int run_limits(const LimitsArgs &args);

// Parses `fh-bench limits` options (argv after the mode word); exit status.
int limits_main(int argc, char **argv);

} // namespace fh::bench
