// labels: unit replay
// L3Book over the real Bitfinex raw (R0) order-by-order capture
// (data/bitfinex/nautilus/book_R0_raw_L3_tBTCUSD.json.gz: 1 snapshot of 50 orders, 99,998
// updates [chanId,[orderId,price,amount]], PROVENANCE.md section "Bitfinex"). Messages are read
// here by string surgery (number tokens, exponents expanded by hand, test::ref_mantissa),
// not by the production parser, and checked against two oracles: the counts PROVENANCE.md
// gives for the capture, and an independent model of the same book (std::map of orders,
// std::list queue per level) computed in this test with the same queue rules.
#include "book/l3_book.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <iterator>
#include <list>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "tests/support/capture_records.hpp"
#include "tests/support/counting_new.hpp"
#include "tests/support/text_oracles.hpp"

namespace fh::book {
namespace {

constexpr const char *kRaw = "bitfinex/nautilus/book_R0_raw_L3_tBTCUSD.json.gz";
constexpr int kDecimals = 8; // Bitfinex: at most 8 decimals for prices and amounts

// ---- the capture, read independently ---------------------------------------------------

// The number tokens of a JSON text in order, as written.
std::vector<std::string> number_tokens(std::string_view s) {
  std::vector<std::string> out;
  std::size_t i = 0;
  while (i < s.size()) {
    const char c = s[i];
    if (c == '-' || (c >= '0' && c <= '9')) {
      std::size_t j = i + 1;
      while (j < s.size() &&
             std::string_view("0123456789.eE+-").find(s[j]) != std::string_view::npos)
        ++j;
      out.emplace_back(s.substr(i, j - i));
      i = j;
    } else {
      ++i;
    }
  }
  return out;
}

// "2e-8" -> "0.00000002", "1.5e3" -> "1500": exponent forms written out by moving the point.
std::string expand_exponent(const std::string &t) {
  const std::size_t e = t.find_first_of("eE");
  if (e == std::string::npos)
    return t;
  const bool negative = t[0] == '-';
  std::string mant = t.substr(negative ? 1 : 0, e - (negative ? 1 : 0));
  const int exp = std::stoi(t.substr(e + 1));
  const std::size_t dot = mant.find('.');
  std::string digits = mant;
  int int_len = static_cast<int>(mant.size());
  if (dot != std::string::npos) {
    digits = mant.substr(0, dot) + mant.substr(dot + 1);
    int_len = static_cast<int>(dot);
  }
  int point = int_len + exp; // digits before the point
  std::string out;
  if (point <= 0) {
    out = "0." + std::string(static_cast<std::size_t>(-point), '0') + digits;
  } else if (point >= static_cast<int>(digits.size())) {
    out = digits + std::string(static_cast<std::size_t>(point) - digits.size(), '0');
  } else {
    out = digits.substr(0, static_cast<std::size_t>(point)) + "." +
          digits.substr(static_cast<std::size_t>(point));
  }
  return (negative ? "-" : "") + out;
}

std::int64_t mantissa(const std::string &token) {
  const std::optional<std::int64_t> v = test::ref_mantissa(expand_exponent(token), kDecimals);
  EXPECT_TRUE(v.has_value()) << token;
  return v.value_or(0);
}

struct RawOrder {
  std::uint64_t id;
  std::int64_t price;    // 0: delete
  std::int64_t amount;   // signed: > 0 bid, < 0 ask
  std::uint32_t element; // 1-based element of the capture's JSON array
  Side side() const { return amount > 0 ? Side::Bid : Side::Ask; }
  std::int64_t qty() const { return amount > 0 ? amount : -amount; }
};

struct R0Capture {
  std::vector<RawOrder> snapshot;
  std::vector<RawOrder> updates;
};

const R0Capture &r0() {
  static const R0Capture capture = [] {
    R0Capture c;
    const test::CaptureRecords records = test::read_capture(kRaw);
    for (const test::Record &r : records) {
      if (!r.payload.empty() && r.payload.front() == '{')
        continue; // info, subscribed
      const std::vector<std::string> t = number_tokens(r.payload);
      // [chanId, [id, price, amount]] or [chanId, [[id, price, amount], ...]]
      const bool snapshot = r.payload.find("[[") != std::string_view::npos;
      EXPECT_EQ((t.size() - 1) % 3, 0U) << "element " << r.line;
      for (std::size_t i = 1; i + 2 < t.size(); i += 3) {
        const RawOrder o{std::stoull(t[i]), mantissa(t[i + 1]), mantissa(t[i + 2]), r.line};
        (snapshot ? c.snapshot : c.updates).push_back(o);
      }
    }
    return c;
  }();
  return capture;
}

// ---- the independent model ---------------------------------------------------------------

// The same book kept the obvious way: orders by id, a FIFO list of ids per (side, price).
// Queue rules: new orders and price moves go to the back; a larger size goes to the back; a
// smaller size keeps its place (QueuePolicy::KeepOnDecrease).
struct Model {
  struct O {
    Side side;
    std::int64_t price;
    std::int64_t qty;
  };
  using Key = std::pair<int, std::int64_t>; // side, price
  std::map<std::uint64_t, O> orders;
  std::map<Key, std::list<std::uint64_t>> queues;
  std::uint64_t adds = 0, modifies = 0, deletes = 0, unknown_deletes = 0, increases = 0;

  static Key key(Side s, std::int64_t p) { return {static_cast<int>(s), p}; }
  void unlink(std::uint64_t id, const O &o) {
    auto q = queues.find(key(o.side, o.price));
    q->second.remove(id);
    if (q->second.empty())
      queues.erase(q);
  }
  void apply(const RawOrder &m) {
    auto it = orders.find(m.id);
    if (m.price == 0) {
      if (it == orders.end()) {
        ++unknown_deletes;
        return;
      }
      unlink(m.id, it->second);
      orders.erase(it);
      ++deletes;
      return;
    }
    const O now{m.side(), m.price, m.qty()};
    if (it == orders.end()) {
      orders.emplace(m.id, now);
      queues[key(now.side, now.price)].push_back(m.id);
      ++adds;
      return;
    }
    ++modifies;
    O &was = it->second;
    if (was.side != now.side || was.price != now.price || now.qty > was.qty) {
      if (was.side == now.side && was.price == now.price)
        ++increases;
      unlink(m.id, was);
      queues[key(now.side, now.price)].push_back(m.id);
    }
    was = now;
  }
  // (total, count) of a level.
  std::pair<std::int64_t, std::uint32_t> level(Side s, std::int64_t p) const {
    std::pair<std::int64_t, std::uint32_t> r{0, 0};
    auto q = queues.find(key(s, p));
    if (q == queues.end())
      return r;
    for (std::uint64_t id : q->second) {
      r.first += orders.at(id).qty;
      ++r.second;
    }
    return r;
  }
  bool crossed() const {
    std::optional<std::int64_t> bid, ask;
    for (const auto &[k, q] : queues) {
      if (k.first == static_cast<int>(Side::Bid))
        bid = bid ? std::max(*bid, k.second) : k.second;
      else
        ask = ask ? std::min(*ask, k.second) : k.second;
    }
    return bid && ask && *bid >= *ask;
  }
};

L3Result apply(L3Book &b, const RawOrder &m) {
  if (m.price == 0)
    return b.remove(m.id);
  return b.upsert(m.id, m.side(), m.price, m.qty());
}

// Every level of both sides, in price order, with its total, count and queue order.
::testing::AssertionResult same_book(const L3Book &b, const Model &m) {
  if (b.order_count() != m.orders.size())
    return ::testing::AssertionFailure()
           << "orders " << b.order_count() << " vs model " << m.orders.size();
  for (const Side side : {Side::Bid, Side::Ask}) {
    std::vector<std::pair<std::int64_t, const std::list<std::uint64_t> *>> levels;
    for (const auto &[k, q] : m.queues)
      if (k.first == static_cast<int>(side))
        levels.emplace_back(k.second, &q);
    if (side == Side::Bid)
      std::reverse(levels.begin(), levels.end()); // best first
    const L2Book &l2 = b.l2();
    if (l2.depth(side) != levels.size())
      return ::testing::AssertionFailure() << "depth " << l2.depth(side) << " vs " << levels.size();
    for (std::size_t i = 0; i < levels.size(); ++i) {
      const Level &got = l2.at(side, i);
      const auto [total, count] = m.level(side, levels[i].first);
      if (got.price != levels[i].first || got.qty != total || got.orders != count)
        return ::testing::AssertionFailure()
               << "level " << i << ": " << got.price << " " << got.qty << " x" << got.orders
               << " vs " << levels[i].first << " " << total << " x" << count;
      const OrderLevel *l = b.level(side, got.price);
      if (l == nullptr || l->total != total || l->count != count)
        return ::testing::AssertionFailure() << "level() at " << got.price;
      auto want = levels[i].second->begin();
      for (const Order *o = b.front(*l); o != nullptr; o = b.next(*o), ++want) {
        if (want == levels[i].second->end() || o->id != *want)
          return ::testing::AssertionFailure() << "queue order at " << got.price;
        const Model::O &mo = m.orders.at(o->id);
        if (o->price != mo.price || o->qty != mo.qty || o->side != mo.side)
          return ::testing::AssertionFailure() << "order " << o->id;
      }
      if (want != levels[i].second->end())
        return ::testing::AssertionFailure() << "queue shorter at " << got.price;
    }
  }
  return ::testing::AssertionSuccess();
}

// Position of an order in its level's queue (0 = front).
std::size_t queue_position(const L3Book &b, std::uint64_t id) {
  const Order *o = b.find(id);
  const OrderLevel *l = b.level(o->side, o->price);
  std::size_t i = 0;
  for (const Order *p = b.front(*l); p != nullptr && p->id != id; p = b.next(*p))
    ++i;
  return i;
}

class L3BookTest : public ::testing::Test {
protected:
  void SetUp() override {
    ASSERT_EQ(r0().snapshot.size(), 50U); // PROVENANCE: 1 snapshot of 50 orders
    ASSERT_EQ(r0().updates.size(), 99998U);
  }
  static void load_snapshot(L3Book &b, Model &m) {
    for (const RawOrder &o : r0().snapshot) {
      ASSERT_EQ(b.add(o.id, o.side(), o.price, o.qty()), L3Result::Added);
      m.apply(o);
    }
  }
};

// ---- tests -----------------------------------------------------------------------------

TEST_F(L3BookTest, ReproducesTheCaptureCountsGivenInProvenance) {
  L3Book b(kDecimals, kDecimals);
  Model m;
  load_snapshot(b, m);
  ASSERT_EQ(b.counters().adds, 50U);
  std::size_t crossed_after = 0;
  for (const RawOrder &u : r0().updates) {
    const L3Result r = apply(b, u);
    ASSERT_NE(r, L3Result::NoMemory);
    ASSERT_NE(r, L3Result::BadOrder);
    crossed_after += b.crossed() ? 1U : 0U;
  }
  // PROVENANCE.md: 37,009 adds, 25,968 modifications, 37,021 deletions, 0 deletions of
  // unknown orders, crossed after 21 of the updates.
  EXPECT_EQ(b.counters().adds - 50U, 37009U);
  EXPECT_EQ(b.counters().modifies, 25968U);
  EXPECT_EQ(b.counters().deletes, 37021U);
  EXPECT_EQ(b.counters().unknown_deletes, 0U);
  EXPECT_EQ(crossed_after, 21U);
  EXPECT_EQ(b.order_count(), 50U + 37009U - 37021U);
}

TEST_F(L3BookTest, MatchesAnIndependentModelLevelByLevelAndQueueByQueue) {
  L3Book b(kDecimals, kDecimals);
  Model m;
  load_snapshot(b, m);
  ASSERT_TRUE(same_book(b, m));
  std::size_t model_crossed = 0, book_crossed = 0, i = 0;
  for (const RawOrder &u : r0().updates) {
    (void)apply(b, u);
    m.apply(u);
    model_crossed += m.crossed() ? 1U : 0U;
    book_crossed += b.crossed() ? 1U : 0U;
    if (++i % 97 == 0) {
      ASSERT_TRUE(same_book(b, m)) << "after update " << i << " (element " << u.element << ")";
    }
  }
  EXPECT_TRUE(same_book(b, m));
  EXPECT_EQ(b.counters().adds, m.adds);
  EXPECT_EQ(b.counters().modifies, m.modifies);
  EXPECT_EQ(b.counters().deletes, m.deletes);
  EXPECT_EQ(b.counters().requeues, m.increases); // same-price increases went to the back
  EXPECT_EQ(book_crossed, model_crossed);
  EXPECT_GT(m.increases, 0U); // the capture exercises the rule
}

TEST_F(L3BookTest, PriceChangeSendsTheOrderToTheBackOfItsNewLevel) {
  L3Book b(kDecimals, kDecimals);
  Model m;
  load_snapshot(b, m);
  std::size_t checked = 0;
  for (const RawOrder &u : r0().updates) {
    const auto it = m.orders.find(u.id);
    const bool moves_into_queue = u.price != 0 && it != m.orders.end() &&
                                  it->second.price != u.price &&
                                  m.queues.count(Model::key(u.side(), u.price)) != 0;
    std::size_t waiting = 0;
    if (moves_into_queue)
      waiting = m.queues[Model::key(u.side(), u.price)].size();
    (void)apply(b, u);
    m.apply(u);
    if (moves_into_queue) {
      const OrderLevel *l = b.level(u.side(), u.price);
      ASSERT_NE(l, nullptr);
      EXPECT_EQ(l->count, waiting + 1);
      EXPECT_EQ(queue_position(b, u.id), waiting) << "element " << u.element;
      EXPECT_EQ(b.find(u.id)->price, u.price);
      ++checked;
    }
  }
  EXPECT_GT(checked, 100U);
}

TEST_F(L3BookTest, SizeDecreaseKeepsThePlaceAndIncreaseLosesIt) {
  L3Book b(kDecimals, kDecimals);
  Model m;
  load_snapshot(b, m);
  std::size_t decreases = 0, increases = 0;
  for (const RawOrder &u : r0().updates) {
    const auto it = m.orders.find(u.id);
    const bool same_price = u.price != 0 && it != m.orders.end() && it->second.price == u.price;
    std::size_t before = 0, level_size = 0;
    if (same_price) {
      before = queue_position(b, u.id);
      level_size = b.level(u.side(), u.price)->count;
    }
    (void)apply(b, u);
    if (same_price && u.qty() < it->second.qty) {
      EXPECT_EQ(queue_position(b, u.id), before) << "element " << u.element;
      decreases += before + 1 < level_size ? 1U : 0U; // not at the back already
    } else if (same_price && u.qty() > it->second.qty) {
      EXPECT_EQ(queue_position(b, u.id), level_size - 1) << "element " << u.element;
      increases += before + 1 < level_size ? 1U : 0U;
    }
    m.apply(u);
  }
  // Both rules really moved (or kept) an order that had others behind it.
  EXPECT_GT(decreases, 10U);
  EXPECT_GT(increases, 0U);
}

TEST_F(L3BookTest, QueuePolicyDecidesWhatASizeDecreaseDoes) {
  // The model runs to the capture's first decrease of an order with others behind it; three
  // books with the three policies are then loaded with the model's queues as they stand and
  // get that update.
  Model m;
  for (const RawOrder &o : r0().snapshot)
    m.apply(o);
  for (const RawOrder &u : r0().updates) {
    const auto it = m.orders.find(u.id);
    if (u.price != 0 && it != m.orders.end() && it->second.price == u.price &&
        u.qty() < it->second.qty) {
      const auto &queue = m.queues[Model::key(u.side(), u.price)];
      const auto pos = static_cast<std::size_t>(
          std::distance(queue.begin(), std::find(queue.begin(), queue.end(), u.id)));
      if (pos + 1 < queue.size()) {
        L3Book keep_on(kDecimals, kDecimals, 4096, QueuePolicy::KeepOnDecrease);
        L3Book keep(kDecimals, kDecimals, 4096, QueuePolicy::KeepAlways);
        L3Book back(kDecimals, kDecimals, 4096, QueuePolicy::BackAlways);
        for (L3Book *b : {&keep_on, &keep, &back}) {
          for (const auto &[k, q] : m.queues)
            for (const std::uint64_t id : q) {
              const Model::O &o = m.orders.at(id);
              ASSERT_EQ(b->add(id, o.side, o.price, o.qty), L3Result::Added);
            }
          ASSERT_TRUE(same_book(*b, m));
          ASSERT_EQ(apply(*b, u), L3Result::Modified);
        }
        EXPECT_EQ(queue_position(keep_on, u.id), pos) << "element " << u.element;
        EXPECT_EQ(queue_position(keep, u.id), pos);
        EXPECT_EQ(queue_position(back, u.id), queue.size() - 1);
        EXPECT_EQ(back.counters().requeues, 1U);
        EXPECT_EQ(keep.counters().requeues, 0U);
        // The L2 view does not depend on queue order.
        EXPECT_EQ(back.level(u.side(), u.price)->total, keep.level(u.side(), u.price)->total);
        return;
      }
    }
    m.apply(u);
  }
  FAIL() << "no decrease with orders behind it in the capture";
}

TEST_F(L3BookTest, DeleteOfAnUnknownOrderIsCountedAndChangesNothing) {
  L3Book b(kDecimals, kDecimals);
  Model m;
  load_snapshot(b, m);
  // The capture's first delete, applied twice (the repeat is what a duplicated message does).
  for (const RawOrder &u : r0().updates) {
    (void)apply(b, u);
    m.apply(u);
    if (u.price != 0)
      continue;
    EXPECT_EQ(b.counters().deletes, 1U);
    EXPECT_EQ(b.remove(u.id), L3Result::UnknownDelete);
    EXPECT_EQ(b.counters().unknown_deletes, 1U);
    EXPECT_TRUE(b.last_changes().empty());
    EXPECT_TRUE(same_book(b, m));
    return;
  }
  FAIL() << "no delete in the capture";
}

TEST_F(L3BookTest, ExplicitAddOfAKnownIdAndModifyOfAnUnknownIdAreRefused) {
  L3Book b(kDecimals, kDecimals);
  Model m;
  load_snapshot(b, m);
  const RawOrder &first = r0().snapshot.front();
  // The snapshot's first order added again, at another real price of the snapshot.
  const RawOrder &other = r0().snapshot.back();
  EXPECT_EQ(b.add(first.id, first.side(), other.price, first.qty()), L3Result::DuplicateAdd);
  EXPECT_EQ(b.counters().duplicate_adds, 1U);
  EXPECT_TRUE(same_book(b, m));
  // The capture's first deleted order, modified after its delete.
  for (const RawOrder &u : r0().updates) {
    (void)apply(b, u);
    m.apply(u);
    if (u.price == 0) {
      EXPECT_EQ(b.modify(u.id, first.side(), first.price, first.qty()), L3Result::UnknownModify);
      EXPECT_EQ(b.counters().unknown_modifies, 1U);
      EXPECT_TRUE(same_book(b, m));
      return;
    }
  }
  FAIL() << "no delete in the capture";
}

TEST_F(L3BookTest, RefusesSizesThatAreNotPositive) {
  L3Book b(kDecimals, kDecimals);
  Model m;
  load_snapshot(b, m);
  const RawOrder &o = r0().snapshot.front();
  EXPECT_EQ(b.upsert(o.id, o.side(), o.price, 0), L3Result::BadOrder);
  EXPECT_EQ(b.add(o.id + 1, o.side(), o.price, -o.qty()), L3Result::BadOrder);
  EXPECT_EQ(b.counters().bad_orders, 2U);
  EXPECT_TRUE(same_book(b, m));
}

TEST_F(L3BookTest, LastChangesNameEveryLevelAnOperationTouched) {
  L3Book b(kDecimals, kDecimals);
  Model m;
  load_snapshot(b, m);
  std::size_t moves = 0;
  for (const RawOrder &u : r0().updates) {
    const auto it = m.orders.find(u.id);
    std::optional<Model::O> was;
    if (it != m.orders.end())
      was = it->second;
    (void)apply(b, u);
    m.apply(u);
    const auto changes = b.last_changes();
    // The levels named, in order: the old one (if the order left it), then the new one.
    std::vector<std::pair<Side, std::int64_t>> want;
    if (was && (u.price == 0 || was->price != u.price || was->side != u.side()))
      want.emplace_back(was->side, was->price);
    if (u.price != 0)
      want.emplace_back(u.side(), u.price);
    ASSERT_EQ(changes.size(), want.size()) << "element " << u.element;
    for (std::size_t i = 0; i < want.size(); ++i) {
      EXPECT_EQ(changes[i].side, want[i].first);
      EXPECT_EQ(changes[i].level.price, want[i].second);
      const auto [total, count] = m.level(want[i].first, want[i].second);
      EXPECT_EQ(changes[i].level.qty, total); // 0 when the level is gone
      EXPECT_EQ(changes[i].level.orders, count);
    }
    moves += want.size() == 2 ? 1U : 0U;
  }
  EXPECT_GT(moves, 1000U);
}

TEST_F(L3BookTest, GrowsPastItsReserveWithoutLosingAnOrder) {
  L3Book b(kDecimals, kDecimals, 16); // the snapshot alone holds 50 orders
  Model m;
  load_snapshot(b, m);
  EXPECT_GE(b.capacity(), 50U);
  for (const RawOrder &u : r0().updates) {
    ASSERT_NE(apply(b, u), L3Result::NoMemory);
    m.apply(u);
  }
  EXPECT_TRUE(same_book(b, m));
}

TEST_F(L3BookTest, ClearEmptiesTheBookAndKeepsCapacityAndCounters) {
  L3Book b(kDecimals, kDecimals);
  Model m;
  load_snapshot(b, m);
  for (std::size_t i = 0; i < 5000; ++i)
    (void)apply(b, r0().updates[i]);
  const std::size_t capacity = b.capacity();
  const std::uint64_t adds = b.counters().adds;
  b.clear();
  EXPECT_EQ(b.order_count(), 0U);
  EXPECT_EQ(b.l2().depth(Side::Bid) + b.l2().depth(Side::Ask), 0U);
  EXPECT_EQ(b.find(r0().snapshot.front().id), nullptr);
  EXPECT_EQ(b.capacity(), capacity);
  EXPECT_EQ(b.counters().adds, adds);
  // The snapshot loads again as on a fresh book.
  Model fresh;
  load_snapshot(b, fresh);
  EXPECT_TRUE(same_book(b, fresh));
}

TEST_F(L3BookTest, AllocatesNothingPerOperationOnceReserved) {
  L3Book b(kDecimals, kDecimals, 4096);
  Model m;
  load_snapshot(b, m);
  const std::size_t before = test::g_allocations.load();
  for (const RawOrder &u : r0().updates)
    (void)apply(b, u);
  EXPECT_EQ(test::g_allocations.load() - before, 0U);
  EXPECT_EQ(b.counters().deletes, 37021U);
}

} // namespace
} // namespace fh::book
