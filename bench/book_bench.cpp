// L2Book (chunked sorted array) vs the previous L2Book (one double-ended sorted array per
// side, kept below verbatim as SortedArrayBook) vs a std::map book (one map per side), on
// real update streams, levels pre-extracted into vectors at setup; items = level updates
// applied. All three run in this one binary, so their ratios come from the same run.
//  - USD-M BTCUSDT depth@0ms (hftbacktest): the inline REST snapshot is loaded, then every
//    level update of every depth event not older than it. This feed diffs the WHOLE book
//    (~5,000 levels a side; two thirds of the updates land over 128 levels from the top), the
//    worst case for a contiguous array. One iteration replays the stream from a copy of the
//    snapshot book (BM_CopySnapshotOnly is that copy alone, to subtract).
//  - OKX books-l2-tbt 2022-02-27 (10 instruments, 400-level books, snapshots included) and
//    Kraken book-1000 2021-04-17 (10 pairs, truncated to 1,000 after every message): the
//    shallower, top-heavy books most venues send. One iteration replays the whole capture
//    into fresh books.
// Checksums: okx_checksum / kraken_checksum (SWAR digits + libdeflate crc32) vs the previous
// implementation (format_decimal per number + zlib crc32, kept below as *_zlib_reference) on
// real books: every OKX book and every Kraken book at the end of its capture (400 and 1,000
// levels a side), and the USD-M snapshot book. Setup checks both give the same CRC.
#include <benchmark/benchmark.h>
#include <simdjson.h>
#include <zlib.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <functional>
#include <map>
#include <memory>
#include <new>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "book/checksum.hpp"
#include "book/decimal.hpp"
#include "book/l2_book.hpp"

namespace {

using fh::book::Level;
using fh::book::Side;

// ---- baseline 1: the previous L2Book (same algorithm and code, renamed, folded into one class)
// One contiguous sorted array per side, best level at the END; a short linear probe from
// the end, binary search below; an insert/erase shifts whichever part is shorter.
class SortedArrayBook {
public:
  SortedArrayBook(std::uint8_t price_decimals, std::uint8_t qty_decimals,
                  std::size_t reserve_per_side = 1024)
      : sides_{SideArray(reserve_per_side * 2), SideArray(reserve_per_side * 2)},
        price_decimals_(price_decimals), qty_decimals_(qty_decimals) {}

  void clear() noexcept {
    sides_[0].clear();
    sides_[1].clear();
  }
  [[nodiscard]] bool apply(Side side, const Level &level) noexcept {
    return side == Side::Bid ? sides_[0].apply<true>(level) : sides_[1].apply<false>(level);
  }
  std::size_t depth(Side side) const noexcept { return side_of(side).size(); }
  const Level &at(Side side, std::size_t i) const noexcept { return side_of(side).at(i); }
  const Level *best(Side side) const noexcept {
    const SideArray &s = side_of(side);
    return s.size() == 0 ? nullptr : &s.at(0);
  }
  void truncate(Side side, std::size_t max_levels) noexcept { side_of(side).truncate(max_levels); }
  std::uint8_t price_decimals() const noexcept { return price_decimals_; }
  std::uint8_t qty_decimals() const noexcept { return qty_decimals_; }

private:
  class SideArray {
  public:
    explicit SideArray(std::size_t capacity)
        : buf_(std::make_unique_for_overwrite<Level[]>(std::max(capacity, kMinCapacity))),
          capacity_(std::max(capacity, kMinCapacity)), begin_(capacity_ / 2), end_(capacity_ / 2) {}
    SideArray(const SideArray &other)
        : buf_(std::make_unique_for_overwrite<Level[]>(other.capacity_)),
          capacity_(other.capacity_), begin_(other.begin_), end_(other.end_) {
      std::copy(other.buf_.get() + begin_, other.buf_.get() + end_, buf_.get() + begin_);
    }
    SideArray &operator=(const SideArray &) = delete;
    SideArray(SideArray &&) noexcept = default;
    SideArray &operator=(SideArray &&) noexcept = default;
    ~SideArray() = default;

    std::size_t size() const noexcept { return end_ - begin_; }
    const Level &at(std::size_t i) const noexcept { return buf_[end_ - 1 - i]; }
    void clear() noexcept { begin_ = end_ = capacity_ / 2; }
    void truncate(std::size_t max_levels) noexcept {
      if (size() > max_levels)
        begin_ = end_ - max_levels;
    }

    template <bool kBid> bool apply(const Level &level) noexcept {
      const std::size_t pos = find<kBid>(level.price);
      if (pos != end_ && buf_[pos].price == level.price) {
        if (level.qty == 0)
          erase_at(pos);
        else
          buf_[pos] = level;
        return true;
      }
      if (level.qty == 0)
        return true;
      if (begin_ == 0 || end_ == capacity_) [[unlikely]] {
        const std::size_t offset = pos - begin_;
        if (!make_room())
          return false;
        insert_at(begin_ + offset, level);
        return true;
      }
      insert_at(pos, level);
      return true;
    }

  private:
    static constexpr std::size_t kMinCapacity = 16;
    template <bool kBid> static bool not_worse(std::int64_t a, std::int64_t b) noexcept {
      if constexpr (kBid)
        return a >= b;
      else
        return a <= b;
    }
    template <bool kBid> std::size_t find(std::int64_t price) const noexcept {
      constexpr std::size_t kProbe = 8;
      std::size_t hi = end_;
      const std::size_t stop = size() > kProbe ? end_ - kProbe : begin_;
      while (hi > stop) {
        if (!not_worse<kBid>(buf_[hi - 1].price, price))
          return hi;
        --hi;
      }
      if (hi == begin_)
        return hi;
      const Level *base = buf_.get() + begin_;
      std::size_t n = hi - begin_;
      while (n > 1) {
        const std::size_t half = n / 2;
        base = not_worse<kBid>(base[half].price, price) ? base : base + half;
        n -= half;
      }
      const auto idx = static_cast<std::size_t>(base - buf_.get());
      return not_worse<kBid>(base->price, price) ? idx : idx + 1;
    }
    void insert_at(std::size_t pos, const Level &level) noexcept {
      Level *const b = buf_.get();
      if (pos - begin_ < end_ - pos) {
        std::copy(b + begin_, b + pos, b + begin_ - 1);
        --begin_;
        b[pos - 1] = level;
      } else {
        std::copy_backward(b + pos, b + end_, b + end_ + 1);
        ++end_;
        b[pos] = level;
      }
    }
    void erase_at(std::size_t pos) noexcept {
      Level *const b = buf_.get();
      if (pos - begin_ < end_ - pos - 1) {
        std::copy_backward(b + begin_, b + pos, b + pos + 1);
        ++begin_;
      } else {
        std::copy(b + pos + 1, b + end_, b + pos);
        --end_;
      }
    }
    [[gnu::cold, gnu::noinline]] bool make_room() noexcept {
      const std::size_t n = size();
      if (n + 1 > capacity_ - capacity_ / 4) {
        const std::size_t new_capacity = std::max(capacity_ * 2, kMinCapacity);
        std::unique_ptr<Level[]> grown(new (std::nothrow) Level[new_capacity]);
        if (!grown)
          return false;
        const std::size_t new_begin = (new_capacity - n) / 2;
        std::copy(buf_.get() + begin_, buf_.get() + end_, grown.get() + new_begin);
        buf_ = std::move(grown);
        capacity_ = new_capacity;
        begin_ = new_begin;
        end_ = new_begin + n;
        return true;
      }
      const std::size_t new_begin = (capacity_ - n) / 2;
      Level *const b = buf_.get();
      if (new_begin < begin_)
        std::copy(b + begin_, b + end_, b + new_begin);
      else if (new_begin > begin_)
        std::copy_backward(b + begin_, b + end_, b + new_begin + n);
      begin_ = new_begin;
      end_ = new_begin + n;
      return true;
    }

    std::unique_ptr<Level[]> buf_;
    std::size_t capacity_ = 0;
    std::size_t begin_ = 0;
    std::size_t end_ = 0;
  };

  const SideArray &side_of(Side s) const noexcept { return sides_[s == Side::Bid ? 0 : 1]; }
  SideArray &side_of(Side s) noexcept { return sides_[s == Side::Bid ? 0 : 1]; }

  SideArray sides_[2];
  std::uint8_t price_decimals_;
  std::uint8_t qty_decimals_;
};

// ---- baseline 2: the textbook book, one std::map per side keyed by price ----------------
struct MapBook {
  std::map<std::int64_t, Level, std::greater<>> bids;
  std::map<std::int64_t, Level> asks;
  MapBook() = default;
  MapBook(std::uint8_t, std::uint8_t, std::size_t = 0) {}
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
  void clear() {
    bids.clear();
    asks.clear();
  }
  void truncate(Side side, std::size_t max_levels) {
    auto go = [&](auto &m) {
      while (m.size() > max_levels)
        m.erase(std::prev(m.end()));
    };
    if (side == Side::Bid)
      go(bids);
    else
      go(asks);
  }
  const Level *best(Side side) const {
    if (side == Side::Bid)
      return bids.empty() ? nullptr : &bids.begin()->second;
    return asks.empty() ? nullptr : &asks.begin()->second;
  }
};

template <typename Book> void apply_to(Book &book, Side side, const Level &level) {
  if constexpr (std::is_same_v<Book, MapBook>)
    book.apply(side, level);
  else
    benchmark::DoNotOptimize(book.apply(side, level));
}

// ---- the previous checksum implementation (format_decimal per number + zlib crc32) ------
std::uint32_t zlib_crc32_of(const char *data, std::size_t len) {
  const uLong crc = ::crc32(0L, Z_NULL, 0);
  return static_cast<std::uint32_t>(
      ::crc32(crc, reinterpret_cast<const Bytef *>(data), static_cast<uInt>(len)));
}

template <typename Book> std::uint32_t okx_checksum_zlib_reference(const Book &book) {
  constexpr std::size_t kLevels = 25;
  char buf[kLevels * 4 * fh::book::kDecimalBufferSize];
  char *o = buf;
  auto put = [&](bool first, const Level &level) {
    if (!first)
      *o++ = ':';
    o += fh::book::format_decimal(level.price, book.price_decimals(), level.price_text_dp, o);
    *o++ = ':';
    o += fh::book::format_decimal(level.qty, book.qty_decimals(), level.qty_text_dp, o);
  };
  const std::size_t bids = std::min(book.depth(Side::Bid), kLevels);
  const std::size_t asks = std::min(book.depth(Side::Ask), kLevels);
  for (std::size_t i = 0; i < std::max(bids, asks); ++i) {
    if (i < bids)
      put(o == buf, book.at(Side::Bid, i));
    if (i < asks)
      put(o == buf, book.at(Side::Ask, i));
  }
  return zlib_crc32_of(buf, static_cast<std::size_t>(o - buf));
}

template <typename Book> std::uint32_t kraken_checksum_zlib_reference(const Book &book) {
  constexpr std::size_t kLevels = 10;
  char buf[kLevels * 4 * fh::book::kDecimalBufferSize];
  char *o = buf;
  auto put = [&](std::int64_t mantissa, std::uint8_t decimals, std::uint8_t text_dp) {
    char tmp[fh::book::kDecimalBufferSize];
    const std::size_t len = fh::book::format_decimal(mantissa, decimals, text_dp, tmp);
    bool leading = true;
    for (std::size_t i = 0; i < len; ++i) {
      if (tmp[i] == '.' || (leading && tmp[i] == '0'))
        continue;
      leading = false;
      *o++ = tmp[i];
    }
  };
  for (const Side side : {Side::Ask, Side::Bid}) {
    const std::size_t n = std::min(book.depth(side), kLevels);
    for (std::size_t i = 0; i < n; ++i) {
      const Level &l = book.at(side, i);
      put(l.price, book.price_decimals(), l.price_text_dp);
      put(l.qty, book.qty_decimals(), l.qty_text_dp);
    }
  }
  return zlib_crc32_of(buf, static_cast<std::size_t>(o - buf));
}

// ---- USD-M stream ----------------------------------------------------------------------

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

Stream load() {
  Stream s;
  const std::string all = read_gz("binance/hftbacktest/usdm_btcusdt_20240808.gz");
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

template <typename Book> void run_stream(benchmark::State &state) {
  const Stream &s = stream();
  Book base(kPriceDp, kQtyDp, 1024);
  for (const auto &u : s.snapshot)
    apply_to(base, u.side, u.level);
  for (auto _ : state) {
    Book book = base;
    for (const auto &u : s.updates)
      apply_to(book, u.side, u.level);
    benchmark::DoNotOptimize(book.best(Side::Bid));
  }
  state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(s.updates.size()));
}

void BM_L2BookApplyStream(benchmark::State &state) {
  run_stream<fh::book::L2Book>(state);
}
void BM_SortedArrayBookApplyStream(benchmark::State &state) {
  run_stream<SortedArrayBook>(state);
}
void BM_StdMapBookApplyStream(benchmark::State &state) {
  run_stream<MapBook>(state);
}
BENCHMARK(BM_L2BookApplyStream)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_SortedArrayBookApplyStream)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_StdMapBookApplyStream)->Unit(benchmark::kMillisecond);

// Cost of the per-iteration copies above, to subtract: copying the snapshot books only.
// Arg: 0 = L2Book, 1 = std::map, 2 = SortedArrayBook.
void BM_CopySnapshotOnly(benchmark::State &state) {
  const Stream &s = stream();
  fh::book::L2Book base(kPriceDp, kQtyDp);
  MapBook mbase;
  SortedArrayBook sbase(kPriceDp, kQtyDp);
  for (const auto &u : s.snapshot) {
    (void)base.apply(u.side, u.level);
    mbase.apply(u.side, u.level);
    (void)sbase.apply(u.side, u.level);
  }
  const auto which = state.range(0);
  for (auto _ : state) {
    if (which == 1) {
      MapBook b = mbase;
      benchmark::DoNotOptimize(b.bids.begin()->second);
    } else if (which == 2) {
      SortedArrayBook b = sbase;
      benchmark::DoNotOptimize(b.best(Side::Bid));
    } else {
      fh::book::L2Book b = base;
      benchmark::DoNotOptimize(b.best(Side::Bid));
    }
  }
}
BENCHMARK(BM_CopySnapshotOnly)->Arg(0)->Arg(1)->Arg(2)->Unit(benchmark::kMicrosecond);

// ---- multi-book captures (OKX, Kraken) ----------------------------------------------------

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

// Replays all ops into fresh books; returns the books (for the checksum benches).
template <typename Book> std::vector<Book> replay(const MultiStream &ms) {
  std::vector<Book> books;
  books.reserve(ms.names.size());
  for (std::size_t i = 0; i < ms.names.size(); ++i)
    books.emplace_back(ms.price_dp[i], ms.qty_dp[i], 1024);
  for (const Op &op : ms.ops) {
    Book &b = books[op.book];
    switch (op.kind) {
    case OpKind::Apply:
      apply_to(b, op.side, op.level);
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
  return books;
}

template <typename Book> void run_multi(benchmark::State &state, const MultiStream &ms) {
  for (auto _ : state) {
    std::vector<Book> books = replay<Book>(ms);
    benchmark::DoNotOptimize(books.front().best(Side::Bid));
  }
  state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(ms.applies));
}

void BM_L2BookApplyOkx(benchmark::State &state) {
  run_multi<fh::book::L2Book>(state, okx_stream());
}
void BM_SortedArrayBookApplyOkx(benchmark::State &state) {
  run_multi<SortedArrayBook>(state, okx_stream());
}
void BM_StdMapBookApplyOkx(benchmark::State &state) {
  run_multi<MapBook>(state, okx_stream());
}
void BM_L2BookApplyKraken(benchmark::State &state) {
  run_multi<fh::book::L2Book>(state, kraken_stream());
}
void BM_SortedArrayBookApplyKraken(benchmark::State &state) {
  run_multi<SortedArrayBook>(state, kraken_stream());
}
void BM_StdMapBookApplyKraken(benchmark::State &state) {
  run_multi<MapBook>(state, kraken_stream());
}
BENCHMARK(BM_L2BookApplyOkx)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_SortedArrayBookApplyOkx)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_StdMapBookApplyOkx)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_L2BookApplyKraken)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_SortedArrayBookApplyKraken)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_StdMapBookApplyKraken)->Unit(benchmark::kMicrosecond);

// ---- checksums -----------------------------------------------------------------------------

// The books at the end of a capture; setup checks the new and the reference CRC agree.
const std::vector<fh::book::L2Book> &final_books(const MultiStream &ms, bool kraken) {
  static std::map<const MultiStream *, std::vector<fh::book::L2Book>> cache;
  auto it = cache.find(&ms);
  if (it == cache.end()) {
    auto books = replay<fh::book::L2Book>(ms);
    for (const auto &b : books) {
      const bool same = kraken ? fh::book::kraken_checksum(b) == kraken_checksum_zlib_reference(b)
                               : fh::book::okx_checksum(b) == okx_checksum_zlib_reference(b);
      if (!same)
        std::abort(); // the rewrite must be byte-identical
    }
    it = cache.emplace(&ms, std::move(books)).first;
  }
  return it->second;
}

// Items = checksums computed (one per book, all books of the capture in turn).
template <typename Fn>
void run_checksums(benchmark::State &state, const std::vector<fh::book::L2Book> &books, Fn fn) {
  for (auto _ : state)
    for (const auto &b : books)
      benchmark::DoNotOptimize(fn(b));
  state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(books.size()));
}

void BM_OkxChecksum(benchmark::State &state) {
  run_checksums(state, final_books(okx_stream(), false),
                [](const fh::book::L2Book &b) { return fh::book::okx_checksum(b); });
}
void BM_OkxChecksumZlibReference(benchmark::State &state) {
  run_checksums(state, final_books(okx_stream(), false),
                [](const fh::book::L2Book &b) { return okx_checksum_zlib_reference(b); });
}
void BM_KrakenChecksum(benchmark::State &state) {
  run_checksums(state, final_books(kraken_stream(), true),
                [](const fh::book::L2Book &b) { return fh::book::kraken_checksum(b); });
}
void BM_KrakenChecksumZlibReference(benchmark::State &state) {
  run_checksums(state, final_books(kraken_stream(), true),
                [](const fh::book::L2Book &b) { return kraken_checksum_zlib_reference(b); });
}
BENCHMARK(BM_OkxChecksum);
BENCHMARK(BM_OkxChecksumZlibReference);
BENCHMARK(BM_KrakenChecksum);
BENCHMARK(BM_KrakenChecksumZlibReference);

// OKX-style checksum of the USD-M snapshot book (BTCUSDT texts).
void BM_OkxChecksumOfBook(benchmark::State &state) {
  const Stream &s = stream();
  fh::book::L2Book book(kPriceDp, kQtyDp);
  for (const auto &u : s.snapshot)
    (void)book.apply(u.side, u.level);
  if (fh::book::okx_checksum(book) != okx_checksum_zlib_reference(book))
    std::abort();
  const bool reference = state.range(0) != 0;
  for (auto _ : state)
    benchmark::DoNotOptimize(reference ? okx_checksum_zlib_reference(book)
                                       : fh::book::okx_checksum(book));
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_OkxChecksumOfBook)->Arg(0)->Arg(1);

} // namespace

BENCHMARK_MAIN();
