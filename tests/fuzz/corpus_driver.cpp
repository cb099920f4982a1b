// Runs a fuzz target over its seed corpus without libFuzzer, so every build (gcc, ASan)
// exercises it under CTest. Seeds are the real messages of the capture files the target
// names in fh_fuzz_seed_files (paths relative to data/). Each seed runs whole and then in
// mechanically mutated forms: truncated at several points, one byte flipped at several
// positions, one digit changed, the message repeated twice. Crashes and sanitizer reports
// fail the test; the target itself checks its invariants.
#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include "feedhandler/capture.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size);
extern "C" const char* const fh_fuzz_seed_files[];

namespace {

std::size_t g_runs = 0;

void run(const std::string& input) {
  // A fresh heap copy of exactly the input size, so ASan sees reads past the end.
  std::vector<std::uint8_t> copy(input.begin(), input.end());
  LLVMFuzzerTestOneInput(copy.data(), copy.size());
  ++g_runs;
}

void run_mutations(const std::string& seed) {
  run(seed);
  const std::size_t n = seed.size();
  if (n == 0) return;
  for (const std::size_t cut : {n / 4, n / 2, (3 * n) / 4, n - 1}) run(seed.substr(0, cut));
  for (std::size_t k = 1; k <= 6; ++k) {
    std::string flipped = seed;
    const std::size_t pos = (n * k) / 7;
    flipped[pos] = static_cast<char>(flipped[pos] ^ 0x5a);
    run(flipped);
  }
  for (std::size_t i = n / 2; i < n; ++i) {
    if (seed[i] >= '0' && seed[i] <= '9') {
      std::string digit = seed;
      digit[i] = seed[i] == '9' ? '0' : static_cast<char>(seed[i] + 1);
      run(digit);
      break;
    }
  }
  run(seed + seed);
}

} // namespace

int main(int argc, char** argv) {
  const std::string data_dir = argc > 1 ? argv[1] : "data";
  const std::size_t max_seeds_per_file = argc > 2 ? std::stoul(argv[2]) : 1500;
  std::size_t seeds = 0;
  for (const char* const* f = fh_fuzz_seed_files; *f != nullptr; ++f) {
    const std::string path = data_dir + "/" + *f;
    auto opened = fh::capture::CaptureFile::open(path);
    if (auto* err = std::get_if<fh::capture::Error>(&opened)) {
      std::fprintf(stderr, "corpus: %s: %s\n", path.c_str(), err->message.c_str());
      return 1;
    }
    const auto& file = std::get<fh::capture::CaptureFile>(opened);
    std::size_t used = 0;
    // Spread the seeds over the whole file rather than taking only its start.
    const std::size_t total = file.records().size();
    const std::size_t stride = total > max_seeds_per_file ? total / max_seeds_per_file : 1;
    for (std::size_t i = 0; i < total && used < max_seeds_per_file; i += stride) {
      const auto& r = file.records()[i];
      if (r.payload.empty()) continue;
      run_mutations(std::string(r.payload));
      ++used;
    }
    seeds += used;
  }
  std::printf("corpus: %zu seeds from real captures, %zu inputs run, no crash\n", seeds, g_runs);
  return seeds == 0 ? 1 : 0;
}
