#include "feedhandler/replay.hpp"

#include <algorithm>
#include <cinttypes>

#include "book/decimal.hpp"

namespace fh {

namespace {

// hftbacktest files carry no URL: the file name says the market (spot_/usdm_/coinm_).
std::optional<Venue> venue_from_path(const std::string& path) {
  const auto slash = path.find_last_of('/');
  const std::string name = slash == std::string::npos ? path : path.substr(slash + 1);
  const std::string dir = slash == std::string::npos ? std::string() : path.substr(0, slash);
  if (dir.find("binance_us") != std::string::npos) return Venue::BinanceUs;
  if (name.find("usdm") != std::string::npos) return Venue::BinanceUsdm;
  if (name.find("coinm") != std::string::npos) return Venue::BinanceCoinm;
  if (dir.find("binance") != std::string::npos && name.find("spot") != std::string::npos)
    return Venue::BinanceSpot;
  if (dir.find("okx") != std::string::npos) return Venue::Okx;
  if (dir.find("kraken") != std::string::npos) return Venue::Kraken;
  return std::nullopt;
}

std::optional<Venue> detect_venue(const capture::CaptureFile& f) {
  if (auto v = venues::venue_from_url(f.ws_url())) return v;
  for (const auto& r : f.records()) {
    if (!r.url.empty()) return venues::venue_from_url(r.url);
  }
  return venue_from_path(f.path());
}

void append_json_string(std::string& out, std::string_view s) {
  out += '"';
  for (const char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (static_cast<unsigned char>(c) < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04x", static_cast<unsigned>(c));
      out += buf;
    } else {
      out += c;
    }
  }
  out += '"';
}

void append_field(std::string& out, const char* name, std::uint64_t v) {
  out += '"';
  out += name;
  out += "\":";
  out += std::to_string(v);
  out += ',';
}

void append_price(std::string& out, const book::Level* level, std::uint8_t decimals) {
  if (level == nullptr) {
    out += "null";
    return;
  }
  append_json_string(out, book::to_string(level->price, decimals));
}

} // namespace

Replay::Replay(const ReplayOptions& options)
    : options_(options), builder_(registry_, options.book) {}

std::variant<std::unique_ptr<Replay>, std::string>
Replay::open(const std::vector<std::string>& paths, const ReplayOptions& options) {
  if (paths.empty()) return std::string("no input files");
  std::unique_ptr<Replay> r(new Replay(options));
  for (std::size_t i = 0; i < paths.size(); ++i) {
    auto opened = capture::CaptureFile::open(paths[i], static_cast<std::uint32_t>(i));
    if (auto* err = std::get_if<capture::Error>(&opened)) return err->message; // names the path
    auto& file = r->files_.emplace_back(std::move(std::get<capture::CaptureFile>(opened)));
    std::optional<Venue> v = options.venue ? options.venue : detect_venue(file);
    if (!v) {
      return paths[i] +
             ": cannot tell the venue (no URL in the capture, no hint in the file name); pass "
             "--venue binance|binance-usdm|binance-coinm|binance-us|okx|kraken";
    }
    r->file_venue_.push_back(*v);
  }
  r->file_symbol_hint_.assign(r->files_.size(), std::string_view{});

  r->load_metadata();
  for (const capture::Record* rec : capture::merge_by_time(r->files_)) r->order_.push_back(*rec);
  return r;
}

void Replay::load_metadata() {
  // Metadata first: instruments and their decimals must be known before any price parses.
  for (std::size_t i = 0; i < files_.size(); ++i) {
    const Venue v = file_venue_[i];
    for (const auto& rec : files_[i].records()) {
      if (rec.kind != capture::RecordKind::Http) continue;
      if (auto n = venues::load_metadata(v, rec.url, rec.payload, registry_))
        totals_.metadata_instruments += *n;
    }
  }
}

void Replay::reset() {
  builder_ = BookBuilder(registry_, options_.book); // drops books that point at instruments
  registry_.clear();
  totals_ = ReplayTotals{};
  file_symbol_hint_.assign(files_.size(), std::string_view{});
  load_metadata();
}

ParseStatus Replay::parse_record(const capture::Record& rec) noexcept {
  batch_.clear();
  const Venue v = file_venue_[rec.file_index];
  ParseStatus st = ParseStatus::Ignored;
  switch (rec.kind) {
  case capture::RecordKind::WsText:
    ++totals_.messages;
    st = parsers_.parse(v, rec.payload, rec.recv_ts_ns, batch_, file_symbol_hint_[rec.file_index]);
    break;
  case capture::RecordKind::WsBinary:
    ++totals_.messages;
    ++totals_.binary_frames;
    break;
  case capture::RecordKind::Http:
    if (!venues::is_depth_snapshot_url(rec.url)) return ParseStatus::Ignored; // metadata: done
    ++totals_.messages;
    st = parsers_.parse_rest_snapshot(v, rec.payload, capture::url_param(rec.url, "symbol"),
                                      rec.recv_ts_ns, batch_);
    break;
  case capture::RecordKind::WsOpen:
  case capture::RecordKind::WsSent:
  case capture::RecordKind::Config:
    return ParseStatus::Ignored; // not received market data
  }
  ++totals_.by_status[static_cast<std::size_t>(st)];
  VenueTotals& vt = totals_.by_venue[static_cast<std::size_t>(v)];
  ++vt.messages;
  vt.bytes += rec.payload.size();
  if (st == ParseStatus::Ok) {
    totals_.events += batch_.size();
    if (batch_.size() != 0)
      file_symbol_hint_[rec.file_index] = registry_.at(batch_[0].instrument).native;
  } else if (st == ParseStatus::Ignored) {
    ++totals_.ignored;
  } else {
    ++totals_.parse_errors;
    ++vt.parse_errors;
    if (st == ParseStatus::UnknownInstrument) ++totals_.unknown_instruments;
  }
  return st;
}

std::string Replay::summary_json() const {
  BookCounters sum;
  std::uint64_t instruments = 0, synced = 0, stale = 0;
  std::string per;
  for (std::uint32_t id = 0; id < builder_.instrument_slots(); ++id) {
    const InstrumentBook* b = builder_.book(id);
    if (b == nullptr) continue;
    ++instruments;
    const BookCounters& c = b->counters();
    sum.checksum_ok += c.checksum_ok;
    sum.checksum_fail += c.checksum_fail;
    sum.seq_gaps += c.seq_gaps;
    sum.resyncs += c.resyncs;
    sum.bbo_checks_ok += c.bbo_checks_ok;
    sum.bbo_checks_fail += c.bbo_checks_fail;
    sum.book_messages += c.book_messages;
    sum.trades += c.trades;
    sum.dropped += c.dropped;
    sum.crossed += c.crossed;
    const bool has_book = c.book_messages != 0;
    if (b->status() == BookStatus::Synced) ++synced;
    else if (has_book) ++stale;

    const Instrument& inst = b->instrument();
    if (!per.empty()) per += ',';
    per += "{\"instrument\":";
    append_json_string(per, std::string(venue_name(inst.venue)) + ":" + inst.canonical);
    per += ",\"native\":";
    append_json_string(per, inst.native);
    per += ',';
    append_field(per, "checksum_ok", c.checksum_ok);
    append_field(per, "checksum_fail", c.checksum_fail);
    append_field(per, "seq_gaps", c.seq_gaps);
    append_field(per, "resyncs", c.resyncs);
    append_field(per, "bbo_checks_ok", c.bbo_checks_ok);
    append_field(per, "bbo_checks_fail", c.bbo_checks_fail);
    append_field(per, "book_messages", c.book_messages);
    append_field(per, "trades", c.trades);
    per += "\"state\":";
    append_json_string(per, has_book ? to_cstring(b->status()) : "no_book");
    per += ",\"last_error\":";
    append_json_string(per, to_cstring(b->last_error()));
    per += ",\"best_bid\":";
    append_price(per, b->book().best(book::Side::Bid), inst.price_decimals);
    per += ",\"best_ask\":";
    append_price(per, b->book().best(book::Side::Ask), inst.price_decimals);
    per += '}';
  }

  std::string out = "{";
  append_field(out, "messages", totals_.messages);
  append_field(out, "events", totals_.events);
  append_field(out, "instruments", instruments);
  append_field(out, "books_synced", synced);
  append_field(out, "books_stale", stale);
  append_field(out, "checksum_ok", sum.checksum_ok);
  append_field(out, "checksum_fail", sum.checksum_fail);
  append_field(out, "seq_gaps", sum.seq_gaps);
  append_field(out, "resyncs", sum.resyncs);
  append_field(out, "bbo_checks_ok", sum.bbo_checks_ok);
  append_field(out, "bbo_checks_fail", sum.bbo_checks_fail);
  append_field(out, "parse_errors", totals_.parse_errors);
  append_field(out, "unknown_instruments", totals_.unknown_instruments);
  append_field(out, "book_messages", sum.book_messages);
  append_field(out, "trades", sum.trades);
  append_field(out, "dropped_stale_updates", sum.dropped);
  append_field(out, "crossed", sum.crossed);
  append_field(out, "ignored", totals_.ignored);
  append_field(out, "resync_requests", builder_.resync_requests());
  append_field(out, "malformed_batches", builder_.orphan_counters().malformed_batches);
  out += "\"parse_status\":{";
  for (std::size_t i = 0; i < totals_.by_status.size(); ++i) {
    if (i) out += ',';
    append_json_string(out, to_cstring(static_cast<ParseStatus>(i)));
    out += ':';
    out += std::to_string(totals_.by_status[i]);
  }
  out += "},";
  char elapsed[32];
  std::snprintf(elapsed, sizeof elapsed, "%.3f", totals_.elapsed_s);
  out += "\"elapsed_s\":";
  out += elapsed;
  out += ",\"mode\":";
  append_json_string(out, options_.threaded ? "threaded" : "fused");
  out += ",\"per_instrument\":[";
  out += per;
  out += "]}";
  return out;
}

} // namespace fh
