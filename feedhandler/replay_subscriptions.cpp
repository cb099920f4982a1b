#include "feedhandler/replay_subscriptions.hpp"

#include <algorithm>
#include <cctype>
#include <set>
#include <string_view>
#include <vector>

namespace fh::replay {
namespace {

// Every string value of `"key":"..."` in `text`, in order.
std::vector<std::string> string_values(std::string_view text, std::string_view key) {
  std::vector<std::string> out;
  const std::string needle = "\"" + std::string(key) + "\":\"";
  for (std::size_t at = text.find(needle); at != std::string_view::npos;
       at = text.find(needle, at + 1)) {
    const std::size_t start = at + needle.size();
    const std::size_t end = text.find('"', start);
    if (end == std::string_view::npos) break;
    out.emplace_back(text.substr(start, end - start));
  }
  return out;
}

// The strings of a `"key":["a","b"]` array.
std::vector<std::string> string_array(std::string_view text, std::string_view key) {
  std::vector<std::string> out;
  const std::string needle = "\"" + std::string(key) + "\":[";
  const std::size_t at = text.find(needle);
  if (at == std::string_view::npos) return out;
  const std::size_t end = text.find(']', at);
  std::string_view list = text.substr(at + needle.size(), end - at - needle.size());
  for (std::size_t q = list.find('"'); q != std::string_view::npos; q = list.find('"', q + 1)) {
    const std::size_t close = list.find('"', q + 1);
    if (close == std::string_view::npos) break;
    out.emplace_back(list.substr(q + 1, close - q - 1));
    q = close;
  }
  return out;
}

std::optional<std::uint32_t> number_value(std::string_view text, std::string_view key) {
  const std::string needle = "\"" + std::string(key) + "\":";
  const std::size_t at = text.find(needle);
  if (at == std::string_view::npos) return std::nullopt;
  std::uint32_t v = 0;
  std::size_t i = at + needle.size(), digits = 0;
  for (; i < text.size() && std::isdigit(static_cast<unsigned char>(text[i])); ++i, ++digits)
    v = v * 10 + static_cast<std::uint32_t>(text[i] - '0');
  return digits != 0 ? std::optional(v) : std::nullopt;
}

std::string upper(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
  return s;
}

} // namespace

std::optional<venues::SubscriptionSet> recorded_subscriptions(Venue v, const capture::CaptureFile& f,
                                                              std::string& why) {
  venues::SubscriptionSet s;
  s.book = s.trades = s.bbo = false;
  std::set<std::string> natives;
  if (v == Venue::Okx || v == Venue::Kraken) {
    for (const auto& r : f.records()) {
      if (r.kind != capture::RecordKind::WsSent) continue;
      if (v == Venue::Okx) {
        if (r.payload.find("\"subscribe\"") == std::string_view::npos) continue;
        for (auto& id : string_values(r.payload, "instId")) natives.insert(id);
        for (auto& ch : string_values(r.payload, "channel")) {
          if (ch == "trades") s.trades = true;
          else if (ch == "tickers") s.bbo = true;
          else if (ch.starts_with("books")) {
            s.book = true;
            s.okx_book_channel = ch;
          }
        }
      } else {
        if (r.payload.find("\"subscribe\"") == std::string_view::npos) continue;
        s.kraken_api = venues::KrakenApi::V1; // the recordings speak v1
        for (auto& p : string_array(r.payload, "pair")) natives.insert(p);
        for (auto& name : string_values(r.payload, "name")) {
          if (name == "trade") s.trades = true;
          else if (name == "ticker") s.bbo = true;
          else if (name == "book") {
            s.book = true;
            if (auto d = number_value(r.payload, "depth")) s.kraken_depth = *d;
          }
        }
      }
    }
  } else if (v == Venue::Deribit) {
    // {"method":"public/subscribe","params":{"channels":["book.X.raw","trades.X.raw",..]}}
    for (const auto& r : f.records()) {
      if (r.kind != capture::RecordKind::WsSent ||
          r.payload.find("\"public/subscribe\"") == std::string_view::npos)
        continue;
      for (const auto& ch : string_array(r.payload, "channels")) {
        const std::size_t dot = ch.find('.'), last = ch.rfind('.');
        if (dot == std::string::npos || last == dot) continue;
        const std::string kind = ch.substr(0, dot);
        if (kind == "book") s.book = true;
        else if (kind == "trades") s.trades = true;
        else if (kind == "ticker") s.bbo = true;
        else continue;
        natives.insert(ch.substr(dot + 1, last - dot - 1));
        s.deribit_interval = ch.substr(last + 1);
      }
    }
  } else {
    // Binance: ".../stream?streams=a@depth@100ms/a@bookTicker/..."
    const std::string_view url = f.ws_url();
    const std::size_t q = url.find("streams=");
    if (q != std::string_view::npos) {
      std::string_view list = url.substr(q + 8);
      while (!list.empty()) {
        const std::size_t slash = list.find('/');
        const std::string_view stream = list.substr(0, slash);
        list = slash == std::string_view::npos ? std::string_view{} : list.substr(slash + 1);
        const std::size_t at = stream.find('@');
        if (at == std::string_view::npos) continue;
        const std::string_view kind = stream.substr(at + 1);
        if (kind.starts_with("depth")) {
          s.book = true;
          s.binance_depth_speed = std::string(kind.substr(5)); // "@100ms", "@0ms" or ""
        } else if (kind == "bookTicker") {
          s.bbo = true;
        } else if (kind == "trade" || kind == "aggTrade") {
          s.trades = true;
        } else {
          continue; // klines and the like: not market data we build
        }
        natives.insert(upper(std::string(stream.substr(0, at))));
      }
    }
  }
  if (natives.empty()) {
    why = f.path() + ": no recorded subscription (no subscribe request and no stream URL)";
    return std::nullopt;
  }
  s.natives.assign(natives.begin(), natives.end());
  return s;
}

} // namespace fh::replay
