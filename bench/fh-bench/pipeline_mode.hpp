#pragma once
// fh-bench pipeline: real captures replayed from memory through parse -> book -> shm at full
// speed, stage by stage, next to the parsing floor (bench/support/json_walk.hpp) measured on
// the same frames in the same run.
#include <optional>
#include <string>
#include <vector>

#include "feedhandler/venue.hpp"

namespace fh::bench {

struct PipelineArgs {
  std::vector<std::string> inputs;
  std::optional<Venue> venue;
  int passes = 5;
  int core = 0;         // the fused run's core (-1 = unpinned)
  int book_core = 1;    // the pipelined run's book thread
  bool json = false;
};

// Runs the measurements, prints the report (the JSON object last on stdout); exit status.
int run_pipeline(const PipelineArgs& args);

} // namespace fh::bench
