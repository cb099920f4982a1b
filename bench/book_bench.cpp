// L2Book vs a std::map book (one map per side) on real update streams, levels
// pre-extracted into vectors at setup; items = level updates applied.
//  - USD-M BTCUSDT depth@0ms (hftbacktest): the inline REST snapshot is loaded, then every
//    level update of every depth event not older than it. This feed diffs the WHOLE book
//    (it grows to ~5,000 levels a side; the median update is ~200 levels from the top), the
//    worst case for a contiguous array. One iteration replays the stream from a copy of the
//    snapshot book.
//  - OKX books-l2-tbt 2022-02-27 (10 instruments, 400-level books, snapshots included) and
//    Kraken book-1000 2021-04-17 (10 pairs, truncated to 1,000 after every message): the
//    shallower, top-heavy books most venues send. One iteration replays the whole capture
//    into fresh books.
// Also: OKX-style checksum of a book (top 25 x 2 sides rebuilt as text + zlib crc32).
#include <benchmark/benchmark.h>
#include <simdjson.h>
#include <zlib.h>

#include <algorithm>
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "book/checksum.hpp"
#include "book/decimal.hpp"
#include "book/l2_book.hpp"

namespace {

using fh::book::Level;
using fh::book::Side;

struct Update {
  Side side;
  Level level;
};

struct Stream {
  std::vector<Update> snapshot;
  std::vector<Update> updates;
};

constexpr std::uint8_t kPriceDp = 2; // BTCUSDT USD-M texts: "61800.20", "0.014"
constexpr std::uint8_t kQtyDp = 3;

void append(simdjson::dom::array levels, Side side, std::vector<Update> &out) {
  for (simdjson::dom::element lv : levels) {
    std::string_view px;
    std::string_view qty;
    fh::book::ParsedDecimal p{};
    fh::book::ParsedDecimal q{};
    if (lv.at(0).get_string().get(px) || lv.at(1).get_string().get(qty) ||
        fh::book::parse_decimal(px, kPriceDp, p) != fh::book::DecimalError::Ok ||
        fh::book::parse_decimal(qty, kQtyDp, q) != fh::book::DecimalError::Ok)
      continue;
    out.push_back({side, Level{p.mantissa, q.mantissa, 0, p.text_decimals, q.text_decimals}});
  }
}

Stream load() {
  Stream s;
  const std::string path =
      std::string(FH_DATA_DIR) + "/binance/hftbacktest/usdm_btcusdt_20240808.gz";
  gzFile f = gzopen(path.c_str(), "rb");
  if (f == nullptr)
    return s;
  std::string all;
  char buf[1 << 16];
  int n = 0;
  while ((n = gzread(f, buf, sizeof buf)) > 0)
    all.append(buf, static_cast<std::size_t>(n));
  gzclose(f);
  simdjson::dom::parser parser;
  std::uint64_t lid = 0;
  bool have = false;
  std::size_t start = 0;
  while (start < all.size()) {
    std::size_t end = all.find('\n', start);
    if (end == std::string::npos)
      end = all.size();
    const std::string_view line(all.data() + start, end - start);
    start = end + 1;
    const auto sp = line.find(' ');
    simdjson::dom::element doc;
    if (sp == std::string_view::npos ||
        parser.parse(line.data() + sp + 1, line.size() - sp - 1).get(doc))
      continue;
    simdjson::dom::array bids;
    simdjson::dom::array asks;
    if (!doc["lastUpdateId"].get_uint64().get(lid)) {
      if (!doc["bids"].get_array().get(bids) && !doc["asks"].get_array().get(asks)) {
        append(bids, Side::Bid, s.snapshot);
        append(asks, Side::Ask, s.snapshot);
        have = true;
      }
      continue;
    }
    std::string_view stream;
    std::uint64_t u = 0;
    if (!have || doc["stream"].get_string().get(stream) ||
        stream.find("@depth") == std::string_view::npos || doc["data"]["u"].get_uint64().get(u) ||
        u < lid)
      continue;
    if (!doc["data"]["b"].get_array().get(bids) && !doc["data"]["a"].get_array().get(asks)) {
      append(bids, Side::Bid, s.updates);
      append(asks, Side::Ask, s.updates);
    }
  }
  return s;
}

const Stream &stream() {
  static const Stream s = load();
  return s;
}

void BM_L2BookApplyStream(benchmark::State &state) {
  const Stream &s = stream();
  fh::book::L2Book base(kPriceDp, kQtyDp);
  for (const auto &u : s.snapshot)
    (void)base.apply(u.side, u.level);
  for (auto _ : state) {
    fh::book::L2Book book = base;
    for (const auto &u : s.updates)
      benchmark::DoNotOptimize(book.apply(u.side, u.level));
    benchmark::DoNotOptimize(book.best(Side::Bid));
  }
  state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(s.updates.size()));
}
BENCHMARK(BM_L2BookApplyStream)->Unit(benchmark::kMillisecond);

// Baseline: the textbook book, one std::map per side keyed by price.
struct MapBook {
  std::map<std::int64_t, Level, std::greater<>> bids;
  std::map<std::int64_t, Level> asks;
  void apply(Side side, const Level &l) {
    auto go = [&](auto &m) {
      if (l.qty == 0)
        m.erase(l.price);
      else
        m[l.price] = l;
    };
    if (side == Side::Bid)
      go(bids);
    else
      go(asks);
  }
};

void BM_StdMapBookApplyStream(benchmark::State &state) {
  const Stream &s = stream();
  MapBook base;
  for (const auto &u : s.snapshot)
    base.apply(u.side, u.level);
  for (auto _ : state) {
    MapBook book = base;
    for (const auto &u : s.updates)
      book.apply(u.side, u.level);
    benchmark::DoNotOptimize(book.bids.begin()->second);
  }
  state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(s.updates.size()));
}
BENCHMARK(BM_StdMapBookApplyStream)->Unit(benchmark::kMillisecond);

// Cost of the per-iteration copies above, to subtract: copying the snapshot books only.
void BM_CopySnapshotOnly(benchmark::State &state) {
  const Stream &s = stream();
  fh::book::L2Book base(kPriceDp, kQtyDp);
  MapBook mbase;
  for (const auto &u : s.snapshot) {
    (void)base.apply(u.side, u.level);
    mbase.apply(u.side, u.level);
  }
  const bool map = state.range(0) != 0;
  for (auto _ : state) {
    if (map) {
      MapBook b = mbase;
      benchmark::DoNotOptimize(b.bids.begin()->second);
    } else {
      fh::book::L2Book b = base;
      benchmark::DoNotOptimize(b.best(Side::Bid));
    }
  }
}
BENCHMARK(BM_CopySnapshotOnly)->Arg(0)->Arg(1)->Unit(benchmark::kMicrosecond);

// ---- multi-book captures (OKX, Kraken) ----------------------------------------------------

std::string read_gz(const std::string &rel) {
  const std::string path = std::string(FH_DATA_DIR) + "/" + rel;
  gzFile f = gzopen(path.c_str(), "rb");
  std::string all;
  if (f == nullptr)
    return all;
  char buf[1 << 16];
  int n = 0;
  while ((n = gzread(f, buf, sizeof buf)) > 0)
    all.append(buf, static_cast<std::size_t>(n));
  gzclose(f);
  return all;
}

enum class OpKind : std::uint8_t { Apply, Clear, Truncate };
struct Op {
  std::uint32_t book;
  OpKind kind;
  Side side;
  Level level;
};
struct MultiStream {
  std::vector<std::string> names;
  std::vector<std::uint8_t> price_dp;
  std::vector<std::uint8_t> qty_dp;
  std::vector<Op> ops;
  std::size_t applies = 0;
};

int text_dp(std::string_view s) {
  const auto dot = s.find('.');
  return dot == std::string_view::npos ? 0 : static_cast<int>(s.size() - dot - 1);
}

// Received JSON messages of a cryptofeed capture ("<t>: <json>").
std::vector<std::string_view> messages(const std::string &all) {
  std::vector<std::string_view> out;
  std::size_t start = 0;
  while (start < all.size()) {
    std::size_t end = all.find('\n', start);
    if (end == std::string::npos)
      end = all.size();
    const std::string_view line(all.data() + start, end - start);
    start = end + 1;
    const auto colon = line.find(": ");
    if (line.find(" <-") == std::string_view::npos && colon != std::string_view::npos)
      out.push_back(line.substr(colon + 2));
  }
  return out;
}

// Two passes: decimals per book (most fractional digits used), then the ops.
template <typename Visit>
MultiStream build(const std::vector<std::string_view> &msgs, Visit visit) {
  MultiStream ms;
  simdjson::dom::parser parser;
  auto book_of = [&](std::string_view name) {
    const auto it = std::find(ms.names.begin(), ms.names.end(), name);
    if (it != ms.names.end())
      return static_cast<std::uint32_t>(it - ms.names.begin());
    ms.names.emplace_back(name);
    ms.price_dp.push_back(0);
    ms.qty_dp.push_back(0);
    return static_cast<std::uint32_t>(ms.names.size() - 1);
  };
  for (int pass = 0; pass < 2; ++pass) {
    for (const auto m : msgs) {
      simdjson::dom::element doc;
      if (parser.parse(m.data(), m.size()).get(doc))
        continue;
      visit(doc, [&](std::string_view name, OpKind kind, Side side, std::string_view px,
                     std::string_view qty) {
        const std::uint32_t b = book_of(name);
        if (pass == 0) {
          if (kind == OpKind::Apply) {
            ms.price_dp[b] = std::max(ms.price_dp[b], static_cast<std::uint8_t>(text_dp(px)));
            ms.qty_dp[b] = std::max(ms.qty_dp[b], static_cast<std::uint8_t>(text_dp(qty)));
          }
          return;
        }
        Op op{b, kind, side, Level{0, 0, 0, 0, 0}};
        if (kind == OpKind::Apply) {
          fh::book::ParsedDecimal p{};
          fh::book::ParsedDecimal q{};
          if (fh::book::parse_decimal(px, ms.price_dp[b], p) != fh::book::DecimalError::Ok ||
              fh::book::parse_decimal(qty, ms.qty_dp[b], q) != fh::book::DecimalError::Ok)
            return;
          op.level = Level{p.mantissa, q.mantissa, 0, p.text_decimals, q.text_decimals};
          ++ms.applies;
        }
        ms.ops.push_back(op);
      });
    }
  }
  return ms;
}

const MultiStream &okx_stream() {
  static const MultiStream s = [] {
    const std::string all = read_gz("okx/cryptofeed/books-l2-tbt_2022-02-27_ws.txt.gz");
    return build(messages(all), [](simdjson::dom::element doc, auto emit) {
      std::string_view inst;
      std::string_view action;
      simdjson::dom::element data0;
      if (doc["arg"]["instId"].get_string().get(inst) || doc["action"].get_string().get(action) ||
          doc["data"].at(0).get(data0))
        return;
      if (action == "snapshot")
        emit(inst, OpKind::Clear, Side::Bid, {}, {});
      for (const auto &[key, side] : {std::pair{"bids", Side::Bid}, std::pair{"asks", Side::Ask}}) {
        simdjson::dom::array levels;
        if (data0[key].get_array().get(levels))
          continue;
        for (simdjson::dom::element lv : levels) {
          std::string_view px;
          std::string_view sz;
          if (!lv.at(0).get_string().get(px) && !lv.at(1).get_string().get(sz))
            emit(inst, OpKind::Apply, side, px, sz);
        }
      }
    });
  }();
  return s;
}

const MultiStream &kraken_stream() {
  static const MultiStream s = [] {
    const std::string all = read_gz("kraken/cryptofeed/book1000_2021-04-17_ws.txt.gz");
    return build(messages(all), [](simdjson::dom::element doc, auto emit) {
      simdjson::dom::array arr;
      std::string_view pair;
      if (doc.get_array().get(arr) || arr.size() < 4 ||
          arr.at(arr.size() - 1).get_string().get(pair))
        return;
      for (std::size_t k = 1; k + 2 < arr.size(); ++k) {
        simdjson::dom::object o;
        if (arr.at(k).get_object().get(o))
          return;
        for (const auto &field : o) {
          const Side side = field.key.front() == 'a' ? Side::Ask : Side::Bid;
          simdjson::dom::array levels;
          if (field.key == "c" || field.value.get_array().get(levels))
            continue;
          if (field.key == "as")
            emit(pair, OpKind::Clear, side, {}, {});
          for (simdjson::dom::element lv : levels) {
            std::string_view px;
            std::string_view vol;
            if (!lv.at(0).get_string().get(px) && !lv.at(1).get_string().get(vol))
              emit(pair, OpKind::Apply, side, px, vol);
          }
        }
      }
      emit(pair, OpKind::Truncate, Side::Bid, {}, {});
    });
  }();
  return s;
}

constexpr std::size_t kKrakenDepth = 1000;

void run_multi_l2(benchmark::State &state, const MultiStream &ms) {
  for (auto _ : state) {
    std::vector<fh::book::L2Book> books;
    books.reserve(ms.names.size());
    for (std::size_t i = 0; i < ms.names.size(); ++i)
      books.emplace_back(ms.price_dp[i], ms.qty_dp[i], 1024);
    for (const Op &op : ms.ops) {
      fh::book::L2Book &b = books[op.book];
      switch (op.kind) {
      case OpKind::Apply:
        benchmark::DoNotOptimize(b.apply(op.side, op.level));
        break;
      case OpKind::Clear:
        b.clear();
        break;
      case OpKind::Truncate:
        b.truncate(Side::Bid, kKrakenDepth);
        b.truncate(Side::Ask, kKrakenDepth);
        break;
      }
    }
    benchmark::DoNotOptimize(books.front().best(Side::Bid));
  }
  state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(ms.applies));
}

void run_multi_map(benchmark::State &state, const MultiStream &ms) {
  for (auto _ : state) {
    std::vector<MapBook> books(ms.names.size());
    for (const Op &op : ms.ops) {
      MapBook &b = books[op.book];
      switch (op.kind) {
      case OpKind::Apply:
        b.apply(op.side, op.level);
        break;
      case OpKind::Clear:
        b.bids.clear();
        b.asks.clear();
        break;
      case OpKind::Truncate:
        while (b.bids.size() > kKrakenDepth)
          b.bids.erase(std::prev(b.bids.end()));
        while (b.asks.size() > kKrakenDepth)
          b.asks.erase(std::prev(b.asks.end()));
        break;
      }
    }
    benchmark::DoNotOptimize(books.front().bids.size());
  }
  state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(ms.applies));
}

void BM_L2BookApplyOkx(benchmark::State &state) {
  run_multi_l2(state, okx_stream());
}
void BM_StdMapBookApplyOkx(benchmark::State &state) {
  run_multi_map(state, okx_stream());
}
void BM_L2BookApplyKraken(benchmark::State &state) {
  run_multi_l2(state, kraken_stream());
}
void BM_StdMapBookApplyKraken(benchmark::State &state) {
  run_multi_map(state, kraken_stream());
}
BENCHMARK(BM_L2BookApplyOkx)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_StdMapBookApplyOkx)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_L2BookApplyKraken)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_StdMapBookApplyKraken)->Unit(benchmark::kMicrosecond);

void BM_OkxChecksumOfBook(benchmark::State &state) {
  const Stream &s = stream();
  fh::book::L2Book book(kPriceDp, kQtyDp);
  for (const auto &u : s.snapshot)
    (void)book.apply(u.side, u.level);
  for (auto _ : state)
    benchmark::DoNotOptimize(fh::book::okx_checksum(book));
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_OkxChecksumOfBook);

} // namespace

BENCHMARK_MAIN();
