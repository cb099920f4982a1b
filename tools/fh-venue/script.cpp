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
    // A book's own subscribe ack ({"event":"subscribe","arg":{"channel":"books..","instId":X}})
    // names the book, so a resubscribe of that one book can be answered with it.
    simdjson::ondemand::object ack_arg;
    std::string_view ch, id;
    if (c.kind == FrameKind::Ack &&
        obj.find_field_unordered("arg").get_object().get(ack_arg) == simdjson::SUCCESS &&
        ack_arg.find_field_unordered("channel").get_string().get(ch) == simdjson::SUCCESS &&
        ch.rfind("books", 0) == 0) {
      const std::string ch_s(ch);
      if (ack_arg.find_field_unordered("instId").get_string().get(id) == simdjson::SUCCESS)
        c.book = ch_s + "|" + std::string(id);
    }
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
        obj.find_field_unordered("event").get_string().get(ev) == simdjson::SUCCESS) {
      c.kind = is_ack_event(ev) ? FrameKind::Ack : FrameKind::Control;
      // A book's subscriptionStatus names it (channelName "book-N" + pair).
      std::string_view status, name, pair;
      if (ev == "subscriptionStatus" &&
          obj.find_field_unordered("status").get_string().get(status) == simdjson::SUCCESS &&
          status == "subscribed" &&
          obj.find_field_unordered("channelName").get_string().get(name) == simdjson::SUCCESS &&
          name.rfind("book", 0) == 0) {
        const std::string name_s(name);
        if (obj.find_field_unordered("pair").get_string().get(pair) == simdjson::SUCCESS)
          c.book = name_s + "|" + std::string(pair);
      }
    }
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

// Deribit JSON-RPC: {"method":"subscription","params":{"channel":"book.X.raw","data":{"type":
// "snapshot"|"change",..}}} for data; {"id":..,"result":..} answers a request (the subscribe
// ack); {"method":"heartbeat"} is control.
Classified classify_deribit(simdjson::ondemand::parser &parser, std::string_view payload) {
  Classified c;
  simdjson::ondemand::document doc;
  if (parser.iterate(simdjson::padded_string_view(payload.data(), payload.size(),
                                                  payload.size() + simdjson::SIMDJSON_PADDING))
          .get(doc) != simdjson::SUCCESS)
    return c;
  simdjson::ondemand::object obj;
  if (doc.get_object().get(obj) != simdjson::SUCCESS) return c;
  std::string_view method;
  if (obj.find_field_unordered("method").get_string().get(method) != simdjson::SUCCESS) {
    c.kind = FrameKind::Ack; // a response to one of the client's requests
    return c;
  }
  if (method != "subscription") {
    c.kind = FrameKind::Control;
    return c;
  }
  simdjson::ondemand::object params, data;
  std::string_view channel, type;
  if (obj.find_field_unordered("params").get_object().get(params) != simdjson::SUCCESS ||
      params.find_field_unordered("channel").get_string().get(channel) != simdjson::SUCCESS ||
      channel.rfind("book.", 0) != 0)
    return c;
  const std::string channel_s(channel);
  if (params.find_field_unordered("data").get_object().get(data) != simdjson::SUCCESS ||
      data.find_field_unordered("type").get_string().get(type) != simdjson::SUCCESS)
    return c;
  const std::string_view ch(channel_s);
  const auto last_dot = ch.rfind('.');
  c.kind = type == "snapshot" ? FrameKind::BookSnapshot : FrameKind::BookUpdate;
  c.book = "book|" + std::string(ch.substr(5, last_dot == 4 ? std::string_view::npos : last_dot - 5));
  return c;
}

std::optional<Family> family_of(Venue v) {
  if (v == Venue::Deribit) return Family::Deribit;
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

std::optional<BookRequest> parse_book_request(Family family, std::string_view text) {
  if (family == Family::Binance) return std::nullopt;
  simdjson::ondemand::parser parser;
  const simdjson::padded_string padded(text);
  simdjson::ondemand::document doc;
  simdjson::ondemand::object obj;
  if (parser.iterate(padded).get(doc) != simdjson::SUCCESS ||
      doc.get_object().get(obj) != simdjson::SUCCESS)
    return std::nullopt;
  BookRequest req;
  if (family == Family::Deribit) {
    std::string_view method;
    if (obj.find_field_unordered("method").get_string().get(method) != simdjson::SUCCESS ||
        (method != "public/subscribe" && method != "public/unsubscribe"))
      return std::nullopt;
    req.subscribe = method == "public/subscribe";
    simdjson::ondemand::object params;
    simdjson::ondemand::array channels;
    if (obj.find_field_unordered("params").get_object().get(params) != simdjson::SUCCESS ||
        params.find_field_unordered("channels").get_array().get(channels) != simdjson::SUCCESS)
      return req;
    for (auto elem : channels) {
      std::string_view ch;
      if (elem.get_string().get(ch) != simdjson::SUCCESS) return std::nullopt;
      if (ch.rfind("book.", 0) != 0) continue;
      const auto last_dot = ch.rfind('.');
      req.books.push_back("book|" + std::string(ch.substr(5, last_dot == 4 ? std::string_view::npos
                                                                             : last_dot - 5)));
    }
    return req;
  }
  std::string_view op;
  if (obj.find_field_unordered(family == Family::Okx ? "op" : "event").get_string().get(op) !=
      simdjson::SUCCESS)
    return std::nullopt;
  if (op != "subscribe" && op != "unsubscribe") return std::nullopt;
  req.subscribe = op == "subscribe";
  if (family == Family::Okx) {
    // {"op":..,"args":[{"channel":"books..","instId":X},...]}
    simdjson::ondemand::array args;
    if (obj.find_field_unordered("args").get_array().get(args) != simdjson::SUCCESS) return req;
    for (auto elem : args) {
      simdjson::ondemand::object a;
      std::string_view ch, id;
      if (elem.get_object().get(a) != simdjson::SUCCESS ||
          a.find_field_unordered("channel").get_string().get(ch) != simdjson::SUCCESS)
        return std::nullopt;
      const std::string ch_s(ch);
      if (ch_s.rfind("books", 0) != 0) continue;
      if (a.find_field_unordered("instId").get_string().get(id) != simdjson::SUCCESS) continue;
      req.books.push_back(ch_s + "|" + std::string(id));
    }
    return req;
  }
  // Kraken v1: {"event":..,"pair":[X,..],"subscription":{"name":"book","depth":N}}; the
  // stream's channel name is "book-N" (N defaults to 10).
  std::vector<std::string> pairs;
  simdjson::ondemand::array arr;
  if (obj.find_field_unordered("pair").get_array().get(arr) != simdjson::SUCCESS) return req;
  for (auto elem : arr) {
    std::string_view p;
    if (elem.get_string().get(p) != simdjson::SUCCESS) return std::nullopt;
    pairs.emplace_back(p);
  }
  simdjson::ondemand::object sub;
  std::string_view name;
  if (obj.find_field_unordered("subscription").get_object().get(sub) != simdjson::SUCCESS ||
      sub.find_field_unordered("name").get_string().get(name) != simdjson::SUCCESS || name != "book")
    return req;
  std::uint64_t depth = 10;
  if (sub.find_field_unordered("depth").get_uint64().get(depth) != simdjson::SUCCESS) depth = 10;
  for (const auto &p : pairs) req.books.push_back("book-" + std::to_string(depth) + "|" + p);
  return req;
}

std::vector<std::uint32_t> unsubscribe_rest(const Script &script,
                                            const std::vector<std::uint32_t> &rest,
                                            std::int32_t book) {
  std::vector<std::uint32_t> out;
  for (const std::uint32_t i : rest) {
    const Frame &f = script.frames[i];
    const bool of_book = f.book == book && (f.kind == FrameKind::BookSnapshot ||
                                            f.kind == FrameKind::BookUpdate);
    if (!of_book) out.push_back(i);
  }
  return out;
}

std::vector<std::uint32_t> resubscribe_rest(const Script &script,
                                            const std::vector<std::uint32_t> &rest,
                                            std::int32_t book, std::size_t position) {
  const auto &frames = script.frames;
  const auto is_book_frame = [&](std::size_t i) {
    return frames[i].book == book && (frames[i].kind == FrameKind::BookSnapshot ||
                                      frames[i].kind == FrameKind::BookUpdate);
  };
  // The snapshot to restart from: the last one before `position`, else the first after it.
  constexpr std::size_t kNone = static_cast<std::size_t>(-1);
  std::size_t snap = kNone;
  for (std::size_t i = 0; i < frames.size(); ++i) {
    if (frames[i].book != book || frames[i].kind != FrameKind::BookSnapshot) continue;
    if (i < position || snap == kNone) snap = i;
    if (i >= position) break;
  }
  std::vector<std::uint32_t> out;
  for (std::size_t i = 0; i < frames.size(); ++i) // the book's own recorded ack, the first one
    if (frames[i].kind == FrameKind::Ack && frames[i].book == book) {
      out.push_back(static_cast<std::uint32_t>(i));
      break;
    }
  if (snap != kNone) {
    out.push_back(static_cast<std::uint32_t>(snap));
    for (std::size_t i = snap + 1; i < position; ++i)
      if (is_book_frame(i) && frames[i].kind == FrameKind::BookUpdate)
        out.push_back(static_cast<std::uint32_t>(i));
  }
  // Then the rest of the stream with this book's frames from the position on (an unsubscribe
  // took them out), in recorded order, but none at or before the snapshot just sent.
  const std::size_t from = snap != kNone && snap >= position ? snap + 1 : position;
  std::vector<std::uint32_t> tail;
  for (const std::uint32_t i : rest)
    if (!is_book_frame(i)) tail.push_back(i);
  for (std::size_t i = from; i < frames.size(); ++i)
    if (is_book_frame(i)) tail.push_back(static_cast<std::uint32_t>(i));
  std::stable_sort(tail.begin(), tail.end());
  out.insert(out.end(), tail.begin(), tail.end());
  return out;
}

ConnectionBooks::ConnectionBooks(const Script &script, Family family)
    : script_(&script), family_(family), state_(script.book_names.size(), kNever) {}

void ConnectionBooks::on_client_text(std::string_view text, std::vector<std::uint32_t> &plan,
                                     std::size_t next) {
  const auto req = parse_book_request(family_, text);
  if (!req || req->books.empty()) return;
  const auto &sent = script_->sent;
  const bool recorded = std::find(sent.begin(), sent.end(), text) != sent.end();
  // The stream position: one past the furthest recorded frame this connection has served.
  std::size_t position = 0;
  for (std::size_t i = 0; i < next && i < plan.size(); ++i)
    position = std::max<std::size_t>(position, plan[i] + std::size_t{1});
  for (const auto &key : req->books) {
    const auto it = std::find(script_->book_names.begin(), script_->book_names.end(), key);
    if (it == script_->book_names.end()) continue; // not in the capture: nothing to serve
    const auto book = static_cast<std::int32_t>(it - script_->book_names.begin());
    State &st = state_[static_cast<std::size_t>(book)];
    const std::vector<std::uint32_t> rest(plan.begin() + static_cast<std::ptrdiff_t>(next), plan.end());
    if (!req->subscribe) {
      st = kUnsubscribed;
      plan.resize(next);
      const auto kept = unsubscribe_rest(*script_, rest, book);
      plan.insert(plan.end(), kept.begin(), kept.end());
    } else if (st == kNever || (st == kSubscribed && recorded)) {
      st = kSubscribed;
    } else {
      st = kSubscribed;
      plan.resize(next);
      const auto again = resubscribe_rest(*script_, rest, book, position);
      plan.insert(plan.end(), again.begin(), again.end());
    }
  }
}

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
          Classified c = *file_family == Family::Okx      ? classify_okx(parser, r.payload)
                         : *file_family == Family::Deribit ? classify_deribit(parser, r.payload)
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
      case capture::RecordKind::WsClosed:
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
        return file.path() + ": venue not recognised (OKX, Kraken, Binance and Deribit captures only)";
      corpus.scripts_.push_back(std::move(script));
    }
  }
  if (!family) return std::string("no input with a recognised venue (OKX, Kraken, Binance, Deribit)");
  corpus.family_ = *family;
  corpus.venue_name_ = *family == Family::Okx       ? "okx"
                       : *family == Family::Kraken  ? "kraken"
                       : *family == Family::Deribit ? "deribit"
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
