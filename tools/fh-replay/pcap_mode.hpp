#pragma once
// `fh-replay --pcap FILE`: a UDP multicast capture (pcap or pcapng, gzip or plain) of an IEX
// DEEP/TOPS feed through the packet path the live feed will use (frame -> UDP checks ->
// IEX-TP continuity -> decoder -> book builder -> optional shm), then the usual summary JSON
// plus the packet-level counts: packets, messages_by_type, seq_gaps (stream continuity breaks)
// and their details. Same exit codes as the other modes.
#include <cstddef>
#include <string>

#include "feedhandler/book_builder.hpp"
#include "feedhandler/shm_output.hpp"

namespace fh::replay {

struct PcapModeOptions {
  std::string path;
  std::size_t depth = 5;           // book levels printed per side (0 = none)
  bool threaded = false;           // book builder on its own thread
  int parse_core = -1, book_core = -1;
  bool progress = true;
  bool strict_udp_checksum = false; // reject transmit-offload placeholders (see udp_packet.hpp)
  ShmOutputOptions shm;            // name empty: no shm output
};

using PrintBooks = void (*)(const BookBuilder& builder, std::size_t depth);

int run_pcap(const PcapModeOptions& options, PrintBooks print_books);

} // namespace fh::replay
