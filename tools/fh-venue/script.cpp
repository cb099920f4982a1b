// Capture loading and frame classification for fh-venue (see script.hpp).
// Classification uses simdjson's on-demand API with error codes; a frame that does not parse
// is simply Data (it is still served byte for byte).
#include "tools/fh-venue/script.hpp"

#include <simdjson.h>

#include <algorithm>
#include <map>
#include <utility>

#include "feedhandler/venues/dispatch.hpp"

namespace fh::venue_tool {
namespace {

struct Classified {
  FrameKind kind = FrameKind::Data;
  std::string book; // "channel|instrument" for book frames
};

bool is_ack_event(std::string_view ev) {
  // OKX: "subscribe"; Kraken: "subscriptionStatus" and the "systemStatus" greeting.
  return ev == "subscribe" || ev == "subscriptionStatus" || ev == "systemStatus";
}

Classified classify_okx(simdjson::ondemand::parser &parser, std::string_view payload) {
  Classified c;
  simdjson::ondemand::document doc;
  if (parser.iterate(simdjson::padded_string_view(payload.data(), payload.size(),
                                                  payload.size() + simdjson::SIMDJSON_PADDING))
          .get(doc) != simdjson::SUCCESS)
    return c;
  simdjson::ondemand::object obj;
  if (doc.get_object().get(obj) != simdjson::SUCCESS) return c;
  std::string_view ev;
  if (obj.find_field_unordered("event").get_string().get(ev) == simdjson::SUCCESS) {
    c.kind = is_ack_event(ev) ? FrameKind::Ack : FrameKind::Control;
    return c;
  }
  simdjson::ondemand::object arg;
  if (obj.find_field_unordered("arg").get_object().get(arg) != simdjson::SUCCESS) return c;
  std::string_view channel, inst;
  if (arg.find_field_unordered("channel").get_string().get(channel) != simdjson::SUCCESS) return c;
  const std::string channel_s(channel);
  if (arg.find_field_unordered("instId").get_string().get(inst) != simdjson::SUCCESS) return c;
  if (channel_s.rfind("books", 0) != 0) return c;
  std::string book = channel_s + "|" + std::string(inst);
  std::string_view action;
  if (obj.find_field_unordered("action").get_string().get(action) != simdjson::SUCCESS) {
    // books5 / bbo-tbt carry whole books without "action": each one is a snapshot.
    c.kind = FrameKind::BookSnapshot;
  } else {
    c.kind = action == "snapshot" ? FrameKind::BookSnapshot : FrameKind::BookUpdate;
  }
  c.book = std::move(book);
  return c;
}

// Kraken WS v1: [channelID, {..}, ({..},) channelName, pair] for data, {"event":..} for control.
Classified classify_kraken(simdjson::ondemand::parser &parser, std::string_view payload) {
  Classified c;
  simdjson::ondemand::document doc;
  if (parser.iterate(simdjson::padded_string_view(payload.data(), payload.size(),
                                                  payload.size() + simdjson::SIMDJSON_PADDING))
          .get(doc) != simdjson::SUCCESS)
    return c;
  simdjson::ondemand::json_type type;
  if (doc.type().get(type) != simdjson::SUCCESS) return c;
  if (type == simdjson::ondemand::json_type::object) {
    simdjson::ondemand::object obj;
    std::string_view ev;
    if (doc.get_object().get(obj) == simdjson::SUCCESS &&
        obj.find_field_unordered("event").get_string().get(ev) == simdjson::SUCCESS)
      c.kind = is_ack_event(ev) ? FrameKind::Ack : FrameKind::Control;
    return c;
  }
  if (type != simdjson::ondemand::json_type::array) return c;
  simdjson::ondemand::array arr;
  if (doc.get_array().get(arr) != simdjson::SUCCESS) return c;
  bool snapshot = false, update = false;
  std::vector<std::string> strings;
  for (auto elem : arr) {
    simdjson::ondemand::value v;
    if (elem.get(v) != simdjson::SUCCESS) return c;
    simdjson::ondemand::json_type t;
    if (v.type().get(t) != simdjson::SUCCESS) return c;
    if (t == simdjson::ondemand::json_type::object) {
      simdjson::ondemand::object o;
      if (v.get_object().get(o) != simdjson::SUCCESS) return c;
      for (auto field : o) {
        std::string_view key;
        if (field.unescaped_key().get(key) != simdjson::SUCCESS) return c;
        if (key == "as" || key == "bs") snapshot = true;
        if (key == "a" || key == "b") update = true;
      }
    } else if (t == simdjson::ondemand::json_type::string) {
      std::string_view s;
      if (v.get_string().get(s) != simdjson::SUCCESS) return c;
      strings.emplace_back(s);
    }
  }
  if (strings.size() < 2 || strings[0].rfind("book", 0) != 0) return c;
  if (!snapshot && !update) return c;
  c.kind = snapshot ? FrameKind::BookSnapshot : FrameKind::BookUpdate;
  c.book = strings[0] + "|" + strings[1];
  return c;
}

std::optional<Family> family_of(Venue v) {
  if (v == Venue::Okx) return Family::Okx;
  if (v == Venue::Kraken) return Family::Kraken;
  if (is_binance(v)) return Family::Binance;
  return std::nullopt;
}

// Sorted "k=v" parameters and the path of a target, for order-insensitive matching.
std::pair<std::string, std::vector<std::string>> split_target(std::string_view target) {
  const auto q = target.find('?');
  std::vector<std::string> params;
  if (q != std::string_view::npos) {
    std::string_view rest = target.substr(q + 1);
    while (!rest.empty()) {
      const auto amp = rest.find('&');
      params.emplace_back(rest.substr(0, amp));
      if (amp == std::string_view::npos) break;
      rest.remove_prefix(amp + 1);
    }
  }
  std::sort(params.begin(), params.end());
  return {std::string(target.substr(0, q)), std::move(params)};
}

} // namespace

std::string url_target(std::string_view url) {
  const auto scheme = url.find("://");
  if (scheme != std::string_view::npos) url.remove_prefix(scheme + 3);
  const auto slash = url.find_first_of("/?");
  if (slash == std::string_view::npos) return "/";
  std::string t(url.substr(slash));
  if (t.front() == '?') t.insert(0, "/");
  return t;
}

std::variant<Corpus, std::string> Corpus::load(const std::vector<std::string> &paths) {
  Corpus corpus;
  std::optional<Family> family;
  std::string family_source;
  for (std::size_t i = 0; i < paths.size(); ++i) {
    auto opened = capture::CaptureFile::open(paths[i], static_cast<std::uint32_t>(i));
    if (auto *err = std::get_if<capture::Error>(&opened)) return err->message;
    corpus.files_.push_back(std::move(std::get<capture::CaptureFile>(opened)));
  }
  simdjson::ondemand::parser parser;
  for (const auto &file : corpus.files_) {
    const bool hft = file.format() == capture::Format::Hftbacktest;
    std::optional<Family> file_family;
    if (hft) {
      if (file.path().find("binance") != std::string::npos) file_family = Family::Binance;
    } else if (!file.ws_url().empty()) {
      if (auto v = venues::venue_from_url(file.ws_url())) file_family = family_of(*v);
    }
    Script script;
    script.source = file.path();
    script.ws_url = std::string(file.ws_url());
    script.path = hft ? "/stream" : url_target(script.ws_url);
    std::map<std::string, std::int32_t> books;
    for (const auto &r : file.records()) {
      switch (r.kind) {
      case capture::RecordKind::WsSent:
        script.sent.push_back(r.payload);
        break;
      case capture::RecordKind::Http: {
        HttpEntry e;
        e.url = std::string(r.url);
        e.target = url_target(r.url);
        e.body = r.payload;
        if (!file_family) {
          if (auto v = venues::venue_from_url(r.url)) file_family = family_of(*v);
        }
        corpus.http_.push_back(std::move(e));
        break;
      }
      case capture::RecordKind::WsText: {
        if (hft && r.payload.find("\"lastUpdateId\"") != std::string_view::npos &&
            r.payload.find("\"stream\"") == std::string_view::npos) {
          corpus.inline_snapshot_ = r.payload; // served over REST, not on the stream
          break;
        }
        Frame f{r.payload, r.recv_ts_ns, r.line, static_cast<std::uint32_t>(script.sent.size()),
                FrameKind::Data, -1};
        if (file_family && *file_family != Family::Binance) {
          Classified c = *file_family == Family::Okx ? classify_okx(parser, r.payload)
                                                     : classify_kraken(parser, r.payload);
          f.kind = c.kind;
          if (!c.book.empty()) {
            auto [it, added] = books.emplace(c.book, static_cast<std::int32_t>(books.size()));
            if (added) script.book_names.push_back(c.book);
            f.book = it->second;
          }
        }
        script.frames.push_back(f);
        break;
      }
      case capture::RecordKind::WsBinary:
        return file.path() + ": binary frames are not served by fh-venue (no supported venue "
                             "sends book data that way)";
      case capture::RecordKind::WsOpen:
      case capture::RecordKind::Config:
        break;
      }
    }
    if (file_family) {
      if (family && *family != *file_family)
        return file.path() + ": venue differs from " + family_source +
               " (one fh-venue serves one venue)";
      if (!family) {
        family = file_family;
        family_source = file.path();
      }
    }
    if (!script.frames.empty()) {
      if (!file_family)
        return file.path() + ": venue not recognised (OKX, Kraken and Binance captures only)";
      corpus.scripts_.push_back(std::move(script));
    }
  }
  if (!family) return std::string("no input with a recognised venue (OKX, Kraken, Binance)");
  corpus.family_ = *family;
  corpus.venue_name_ = *family == Family::Okx      ? "okx"
                       : *family == Family::Kraken ? "kraken"
                                                   : "binance";
  return corpus;
}

std::optional<std::string_view> Corpus::find_http(std::string_view target) const {
  for (const auto &e : http_)
    if (e.target == target) return e.body;
  const auto want = split_target(target);
  for (const auto &e : http_)
    if (split_target(e.target) == want) return e.body;
  if (inline_snapshot_ && want.first.size() >= 6 &&
      want.first.compare(want.first.size() - 6, 6, "/depth") == 0)
    return inline_snapshot_;
  return std::nullopt;
}

std::vector<std::uint32_t> full_plan(const Script &script) {
  std::vector<std::uint32_t> plan(script.frames.size());
  for (std::size_t i = 0; i < plan.size(); ++i) plan[i] = static_cast<std::uint32_t>(i);
  return plan;
}

std::vector<std::uint32_t> resume_plan(const Script &script, Family family, std::size_t position) {
  if (position == 0) return full_plan(script);
  const auto &frames = script.frames;
  const std::size_t n = frames.size();
  std::vector<std::uint32_t> plan;
  for (std::size_t i = 0; i < n; ++i)
    if (frames[i].kind == FrameKind::Ack) plan.push_back(static_cast<std::uint32_t>(i));
  if (family == Family::Binance) {
    for (std::size_t i = position; i < n; ++i)
      if (frames[i].kind != FrameKind::Ack) plan.push_back(static_cast<std::uint32_t>(i));
    return plan;
  }
  // Per book: first snapshot at/after position, else the last one before it.
  constexpr std::size_t kNone = static_cast<std::size_t>(-1);
  std::vector<std::size_t> start(script.book_names.size(), kNone);
  std::vector<bool> after(script.book_names.size(), false);
  for (std::size_t i = 0; i < n; ++i) {
    const Frame &f = frames[i];
    if (f.kind != FrameKind::BookSnapshot || f.book < 0) continue;
    const auto b = static_cast<std::size_t>(f.book);
    if (after[b]) continue;
    start[b] = i;
    if (i >= position) after[b] = true;
  }
  for (std::size_t i = 0; i < n; ++i) {
    const Frame &f = frames[i];
    if (f.kind == FrameKind::Ack) continue;
    bool send;
    if ((f.kind == FrameKind::BookSnapshot || f.kind == FrameKind::BookUpdate) && f.book >= 0) {
      const std::size_t s = start[static_cast<std::size_t>(f.book)];
      send = s != kNone && i >= s;
    } else {
      send = i >= position;
    }
    if (send) plan.push_back(static_cast<std::uint32_t>(i));
  }
  return plan;
}

} // namespace fh::venue_tool
