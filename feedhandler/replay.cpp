#include "feedhandler/replay.hpp"
#include "feedhandler/summary_json.hpp"

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
  // Captures whose records carry no URL (Bybit's historical file, Bitfinex's JSON array,
  // hftbacktest Hyperliquid): the corpus directory names the venue.
  if (dir.find("bybit") != std::string::npos) return Venue::BybitLinear;
  if (dir.find("bitfinex") != std::string::npos) return Venue::Bitfinex;
  if (dir.find("hyperliquid") != std::string::npos) return Venue::Hyperliquid;
  return std::nullopt;
}

std::optional<Venue> detect_venue(const capture::CaptureFile& f) {
  if (!f.venue_hint().empty())
    if (auto v = venue_from_name(f.venue_hint())) return v;
  if (auto v = venues::venue_from_url(f.ws_url())) return v;
  for (const auto& r : f.records()) {
    if (!r.url.empty()) return venues::venue_from_url(r.url);
  }
  return venue_from_path(f.path());
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
             "--venue NAME (binance, okx, kraken, bybit-linear, coinbase, deribit, ...)";
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
    st = parsers_.parse_binary(v, rec.payload, rec.recv_ts_ns, batch_);
    break;
  case capture::RecordKind::Http:
    if (!venues::is_depth_snapshot_url(rec.url)) return ParseStatus::Ignored; // metadata: done
    ++totals_.messages;
    st = parsers_.parse_rest_snapshot(
        v, rec.payload, capture::url_param(rec.url, venues::rest_snapshot_symbol_key(v)),
        rec.recv_ts_ns, batch_);
    break;
  case capture::RecordKind::WsClosed:
    // Our recordings: the session lost a connection and marked its books stale, in band.
    for (std::string_view rest = rec.payload; !rest.empty();) {
      const std::size_t nl = rest.find('\n');
      const std::string_view native = rest.substr(0, nl);
      rest = nl == std::string_view::npos ? std::string_view{} : rest.substr(nl + 1);
      const Instrument* inst = registry_.find(v, native);
      if (inst == nullptr || batch_.size() == batch_.capacity()) continue;
      Event e = make_event(EventType::Status, v, inst->id, rec.recv_ts_ns);
      e.status.status = BookStatus::Stale;
      e.status.reason = static_cast<std::uint8_t>(BookError::Disconnected);
      batch_.push(e);
    }
    totals_.events += batch_.size();
    return batch_.size() != 0 ? ParseStatus::Ok : ParseStatus::Ignored;
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
  return fh::summary_json(builder_, totals_, options_.threaded ? "threaded" : "fused");
}

} // namespace fh
