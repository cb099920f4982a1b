// fh-replay --pcap: an IEX multicast capture through the live packet path (pcap_mode.hpp).
#include "tools/fh-replay/pcap_mode.hpp"

#include <array>
#include <chrono>
#include <cstdio>
#include <memory>
#include <string>
#include <variant>

#include "feedhandler/affinity.hpp"
#include "feedhandler/iex/iex_ingest.hpp"
#include "feedhandler/pipeline.hpp"
#include "feedhandler/replay_totals.hpp"
#include "feedhandler/summary_json.hpp"
#include "net/pcap_reader.hpp"

namespace fh::replay {
namespace {

struct Run {
  std::uint64_t packets = 0;
  std::uint64_t payload_bytes = 0;
  std::uint64_t events = 0;
  std::array<std::uint64_t, static_cast<std::size_t>(ParseStatus::kCount)> by_status{};
  std::string read_error; // the capture file ended in damage ("" if it ended cleanly)
  bool cut_record = false; // ... namely a last record cut short by the end of the file
  double elapsed_s = 0;
};

template <class Pipeline>
void drive(net::PcapReader& reader, net::UdpFrameParser& udp, iex::IexFeed& feed,
           Pipeline& pipeline, EventBatch& batch, bool progress, Run& run) {
  using Clock = std::chrono::steady_clock;
  const auto start = Clock::now();
  auto next_report = start + std::chrono::seconds(2);
  iex::IexFrameIngest<Pipeline> ingest(udp, feed, pipeline, batch);
  net::PcapPacket pkt;
  net::PcapNext n;
  while ((n = reader.next(pkt)) == net::PcapNext::Packet) {
    ++run.packets;
    const iex::FrameResult r = ingest.on_frame(pkt.data, pkt.caplen, pkt.ts_ns);
    if (r.frame == net::FrameError::None) ++run.by_status[static_cast<std::size_t>(r.parse)];
    if (progress && (run.packets & 4095) == 0 && Clock::now() >= next_report) [[unlikely]] {
      next_report += std::chrono::seconds(2);
      std::fprintf(stderr, "fh-replay: %llu packets\n",
                   static_cast<unsigned long long>(run.packets));
    }
  }
  if (n == net::PcapNext::Error) {
    run.read_error = reader.error();
    run.cut_record = reader.truncated_record();
  }
  pipeline.finish();
  run.events = ingest.events();
  run.payload_bytes = ingest.payload_bytes();
  run.elapsed_s = std::chrono::duration<double>(Clock::now() - start).count();
}

template <class Publisher>
void drive_with(const PcapModeOptions& o, net::PcapReader& reader, net::UdpFrameParser& udp,
                iex::IexFeed& feed, BookBuilder& builder, Publisher& publisher, EventBatch& batch,
                Run& run, std::string& pin_error) {
  pin_error = pin_current_thread(o.parse_core);
  if (o.threaded) {
    ThreadedPipeline<Publisher> pipeline(builder, publisher, 1u << 16, o.book_core);
    drive(reader, udp, feed, pipeline, batch, o.progress, run);
    if (pin_error.empty()) pin_error = pipeline.pin_error();
  } else {
    FusedPipeline<Publisher> pipeline(builder, publisher);
    drive(reader, udp, feed, pipeline, batch, o.progress, run);
  }
}

void field(std::string& out, const char* name, std::uint64_t v) {
  out += ",\"";
  out += name;
  out += "\":";
  out += std::to_string(v);
}

// The usual summary's top-level seq_gaps sums per-book sequence checks; an IEX feed's gaps
// are breaks of the one stream every book shares, counted once.
void set_top_level_seq_gaps(std::string& summary, std::uint64_t gaps) {
  const std::string key = "\"seq_gaps\":";
  const std::size_t at = summary.find(key);
  if (at == std::string::npos) return;
  const std::size_t from = at + key.size();
  const std::size_t to = summary.find_first_of(",}", from);
  summary.replace(from, to - from, std::to_string(gaps));
}

std::string pcap_summary(const PcapModeOptions& o, const BookBuilder& builder,
                         const net::PcapReader& reader, const net::UdpFrameParser& udp,
                         const iex::IexFeed& feed, const Run& run) {
  const iex::IexCounters& c = feed.counters();
  const net::UdpCounters& u = udp.counters();
  ReplayTotals totals;
  totals.messages = c.messages;
  totals.events = run.events;
  totals.ignored = c.heartbeats;
  std::uint64_t segment_errors = c.wrong_protocol + c.batch_overflow;
  for (const auto n : c.segment_errors) segment_errors += n;
  totals.parse_errors = segment_errors + c.short_messages + c.bad_symbols;
  totals.unknown_instruments = c.unknown_instruments;
  totals.by_status = run.by_status;
  totals.elapsed_s = run.elapsed_s;

  std::string s = summary_json(builder, totals, o.threaded ? "threaded" : "fused");
  set_top_level_seq_gaps(s, c.seq_gaps);
  s.pop_back(); // '}'
  // packets: records in the file, a last record cut short by its end included (it is counted,
  // not delivered: packets_truncated).
  field(s, "packets", run.packets + (run.cut_record ? 1 : 0));
  field(s, "packets_truncated", run.cut_record ? 1 : 0);
  field(s, "datagrams", u.delivered);
  field(s, "heartbeats", c.heartbeats);
  s += ",\"messages_by_type\":{";
  std::uint64_t other = c.messages;
  bool first = true;
  for (const char t : {'S', 'D', 'H', 'O', 'P', 'E', '8', '5', 'T', 'X', 'B', 'A', 'Q'}) {
    const std::uint64_t n = c.by_type[static_cast<unsigned char>(t)];
    other -= n;
    if (!first) s += ',';
    first = false;
    s += '"';
    s += t;
    s += "\":" + std::to_string(n);
  }
  s += ",\"other\":" + std::to_string(other) + "}";
  s += ",\"seq_gap_detail\":{\"gaps\":" + std::to_string(c.gaps);
  field(s, "restarts", c.restarts);
  field(s, "lost_messages", c.lost_messages);
  field(s, "duplicate_segments", c.duplicate_segments);
  field(s, "overlap_messages", c.overlap_messages);
  s += "}";
  s += ",\"udp\":{\"frames\":" + std::to_string(u.frames);
  field(s, "delivered", u.delivered);
  field(s, "checksum_verified", u.checksum_verified);
  field(s, "checksum_placeholder", u.checksum_placeholder);
  field(s, "checksum_absent", u.checksum_absent);
  for (std::size_t e = 1; e < u.errors.size(); ++e)
    field(s, net::to_cstring(static_cast<net::FrameError>(e)), u.errors[e]);
  s += "}";
  s += ",\"iex\":{\"protocol\":";
  append_json_string(s, feed.protocol() == iex::kProtocolDeep10   ? "DEEP 1.0"
                        : feed.protocol() == iex::kProtocolTops16 ? "TOPS 1.6"
                        : feed.protocol() == iex::kProtocolTops15 ? "TOPS 1.5"
                                                                  : "none");
  field(s, "segments", c.segments);
  for (std::size_t e = 1; e < c.segment_errors.size(); ++e)
    field(s, iex::to_cstring(static_cast<iex::TpError>(e)), c.segment_errors[e]);
  field(s, "wrong_protocol", c.wrong_protocol);
  field(s, "short_messages", c.short_messages);
  field(s, "bad_symbols", c.bad_symbols);
  field(s, "unknown_types", c.unknown_types);
  field(s, "book_events", c.book_events);
  field(s, "empty_snapshots", c.empty_snapshots);
  field(s, "stale_marks", c.stale_marks);
  field(s, "abandoned_events", c.abandoned_events);
  field(s, "pending_overflow", c.pending_overflow);
  field(s, "trades", c.trades);
  field(s, "trade_breaks", c.trade_breaks);
  field(s, "quotes", c.quotes);
  field(s, "batch_overflow", c.batch_overflow);
  s += ",\"trusted_at_end\":";
  s += feed.trusted() ? "true" : "false";
  s += "}";
  s += ",\"pcap\":{\"file\":";
  append_json_string(s, o.path);
  s += ",\"compressed\":";
  s += reader.compressed() ? "true" : "false";
  field(s, "link_type", static_cast<std::uint64_t>(reader.link_type()));
  field(s, "bytes", reader.file_bytes());
  s += ",\"read_error\":";
  append_json_string(s, run.read_error);
  s += "}}";
  return s;
}

} // namespace

int run_pcap(const PcapModeOptions& o, PrintBooks print_books) {
  auto opened = net::PcapReader::open(o.path);
  if (auto* err = std::get_if<std::string>(&opened)) {
    std::fprintf(stderr, "fh-replay: %s\n", err->c_str());
    return 2;
  }
  net::PcapReader& reader = *std::get<std::unique_ptr<net::PcapReader>>(opened);
  if (reader.link_type() != net::kLinkEthernet) {
    std::fprintf(stderr, "fh-replay: %s: link type %d, only Ethernet (1) captures are read\n",
                 o.path.c_str(), reader.link_type());
    return 2;
  }

  InstrumentRegistry registry;
  BookBuilder::Options book_options;
  // Per side, per booked symbol (those with price level updates): the sample's deepest books
  // stay inside it, so the pool never grows mid-run (iex_allocation_test).
  book_options.reserve_levels = 256;
  book_options.reserve_buffer = 0;  // no REST snapshot chain to buffer for
  BookBuilder builder(registry, book_options);
  iex::IexFeed feed(registry);
  net::UdpFrameParser udp(net::UdpFilter{},
                          o.strict_udp_checksum ? net::UdpChecksumPolicy::Strict
                                                : net::UdpChecksumPolicy::AcceptOffloadPlaceholder);
  EventBatch batch(iex::IexFeed::kBatchCapacity);
  Run run;
  std::string pin_error;

  std::unique_ptr<ShmOutput> shm;
  if (!o.shm.name.empty()) {
    auto out = ShmOutput::open(o.shm);
    if (auto* err = std::get_if<std::string>(&out)) {
      std::fprintf(stderr, "fh-replay: %s\n", err->c_str());
      return 2;
    }
    shm = std::move(std::get<std::unique_ptr<ShmOutput>>(out));
  }
  if (shm) {
    drive_with(o, reader, udp, feed, builder, shm->publisher(), batch, run, pin_error);
    shm::Writer& w = shm->writer();
    const auto id = static_cast<std::uint8_t>(Venue::Iex);
    (void)w.set_venue_name(id, venue_name(Venue::Iex));
    w.set_counter(id, shm::VenueCounter::Messages, feed.counters().messages);
    w.set_counter(id, shm::VenueCounter::Bytes, run.payload_bytes);
    shm->close();
  } else {
    NullPublisher publisher;
    drive_with(o, reader, udp, feed, builder, publisher, batch, run, pin_error);
  }
  if (!pin_error.empty()) std::fprintf(stderr, "fh-replay: %s\n", pin_error.c_str());
  if (!run.read_error.empty()) std::fprintf(stderr, "fh-replay: %s\n", run.read_error.c_str());

  print_books(builder, o.depth);
  std::string summary = pcap_summary(o, builder, reader, udp, feed, run);
  if (shm) {
    summary.pop_back();
    summary += ",\"shm\":{\"segment\":";
    append_json_string(summary, shm->writer().path());
    summary += ",\"book_publishes\":" + std::to_string(shm->publisher().counters().book_publishes) +
               ",\"journal_records\":" +
               std::to_string(shm->publisher().counters().journal_records) + "}}";
  }
  std::printf("%s\n", summary.c_str());
  return 0;
}

} // namespace fh::replay
