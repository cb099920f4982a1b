// labels: unit net
// WebSocket framing (net/ws_frame.hpp) and the connection state machine on top of it
// (net/ws_client.hpp). Protocol vectors are RFC 6455 section 5.7's example frames. Market data
// is real: OKX and Binance messages read from the cryptofeed captures in data/, wrapped into
// server frames by a test-side builder written from RFC 6455 5.2 (independent of the encoder),
// and they must come back byte-identical. Client frames are checked by unmasking them here.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "feedhandler/capture.hpp"
#include "net/ws_client.hpp"
#include "net/ws_frame.hpp"

namespace {

using namespace fh::net;
using Bytes = std::vector<std::uint8_t>;

Bytes bytes(std::string_view s) { return Bytes(s.begin(), s.end()); }
std::string str(std::span<const std::uint8_t> s) { return std::string(s.begin(), s.end()); }

// Received text frames of a cryptofeed capture (data/<rel>), in file order.
std::vector<std::string> real_messages(const char *rel) {
  std::vector<std::string> out;
  auto opened = fh::capture::CaptureFile::open(std::string(FH_DATA_DIR) + "/" + rel);
  if (auto *err = std::get_if<fh::capture::Error>(&opened)) {
    ADD_FAILURE() << err->message;
    return out;
  }
  for (const auto &r : std::get<fh::capture::CaptureFile>(opened).records())
    if (r.kind == fh::capture::RecordKind::WsText) out.emplace_back(r.payload);
  return out;
}

const std::vector<std::string> &okx() {
  static const auto m = real_messages("okx/cryptofeed/books-l2-tbt_2022-02-27_ws.txt.gz");
  return m;
}
const std::vector<std::string> &binance() {
  static const auto m = real_messages("binance/cryptofeed/spot_2021-10-12_ws.txt.gz");
  return m;
}

// A server frame as RFC 6455 5.2 draws it: never masked, shortest length form.
Bytes server_frame(std::uint8_t opcode, bool fin, std::string_view payload, bool rsv1 = false) {
  Bytes f;
  f.push_back(static_cast<std::uint8_t>((fin ? 0x80 : 0) | (rsv1 ? 0x40 : 0) | opcode));
  const std::uint64_t n = payload.size();
  if (n < 126) {
    f.push_back(static_cast<std::uint8_t>(n));
  } else if (n < 65536) {
    f.push_back(126);
    f.push_back(static_cast<std::uint8_t>(n >> 8));
    f.push_back(static_cast<std::uint8_t>(n & 0xff));
  } else {
    f.push_back(127);
    for (int shift = 56; shift >= 0; shift -= 8)
      f.push_back(static_cast<std::uint8_t>((n >> shift) & 0xff));
  }
  f.insert(f.end(), payload.begin(), payload.end());
  return f;
}

void append(Bytes &to, const Bytes &from) { to.insert(to.end(), from.begin(), from.end()); }

// Splits `msg` into `pieces` frames (text or binary first, then continuations).
Bytes fragmented(std::uint8_t opcode, std::string_view msg, std::size_t pieces) {
  Bytes out;
  const std::size_t step = (msg.size() + pieces - 1) / pieces;
  for (std::size_t i = 0; i < pieces; ++i) {
    const std::size_t from = std::min(i * step, msg.size());
    const std::size_t to = i + 1 == pieces ? msg.size() : std::min(from + step, msg.size());
    append(out, server_frame(i == 0 ? opcode : 0, i + 1 == pieces, msg.substr(from, to - from)));
  }
  return out;
}

// A client frame decoded the RFC way: must be masked; payload XORed with the key.
struct ClientFrame {
  bool fin = false;
  std::uint8_t opcode = 0xff;
  Bytes payload;
  std::size_t size = 0;
};
ClientFrame decode_client(std::span<const std::uint8_t> f) {
  ClientFrame c;
  if (f.size() < 6 || (f[1] & 0x80) == 0) return c;
  c.fin = (f[0] & 0x80) != 0;
  c.opcode = f[0] & 0x0f;
  std::uint64_t n = f[1] & 0x7f;
  std::size_t p = 2;
  if (n == 126) {
    n = (std::uint64_t{f[2]} << 8) | f[3];
    p = 4;
  } else if (n == 127) {
    n = 0;
    for (std::size_t k = 2; k < 10; ++k) n = (n << 8) | f[k];
    p = 10;
  }
  const std::uint8_t *key = f.data() + p;
  p += 4;
  if (f.size() < p + n) return ClientFrame{};
  for (std::size_t i = 0; i < n; ++i) c.payload.push_back(f[p + i] ^ key[i % 4]);
  c.size = p + static_cast<std::size_t>(n);
  return c;
}

struct Got {
  WsEventType type;
  std::string data;
  std::uint16_t code = 0;
  WsFrameError error = WsFrameError::None;
};

// The caller's side of the contract: one receive buffer, bytes appended as they arrive,
// consumed bytes erased after each event.
class Receiver {
public:
  explicit Receiver(WsFrameConfig c) : parser(c) {}
  void feed(std::span<const std::uint8_t> chunk) {
    buf.insert(buf.end(), chunk.begin(), chunk.end());
    for (;;) {
      const WsFrameEvent ev = parser.next(buf);
      if (ev.type == WsEventType::NeedMore) {
        EXPECT_GT(ev.need, buf.size()); // need counts from the start of buf
        buf.erase(buf.begin(), buf.begin() + static_cast<std::ptrdiff_t>(ev.consumed));
        return;
      }
      got.push_back({ev.type, ev.type == WsEventType::Close ? std::string(ev.close_reason)
                                                           : str(ev.payload),
                     ev.close_code, ev.error});
      buf.erase(buf.begin(), buf.begin() + static_cast<std::ptrdiff_t>(ev.consumed));
      if (ev.type == WsEventType::Error) return;
    }
  }
  WsFrameParser parser;
  Bytes buf;
  std::vector<Got> got;
};

class WsFrameTest : public ::testing::Test {
protected:
  static WsFrameConfig config(std::size_t max = 1 << 20) {
    WsFrameConfig c;
    c.max_message_size = max;
    return c;
  }
};

// --- RFC 6455 5.7 examples -------------------------------------------------------------------

TEST_F(WsFrameTest, ParsesRfcSingleFrameUnmaskedText) {
  const Bytes f = {0x81, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f};
  WsFrameParser p(config());
  const WsFrameEvent ev = p.next(f);
  ASSERT_EQ(ev.type, WsEventType::Text);
  EXPECT_EQ(ev.text(), "Hello");
  EXPECT_EQ(ev.consumed, 7u);
  EXPECT_EQ(ev.payload.data(), f.data() + 2); // zero-copy view
}

TEST_F(WsFrameTest, RejectsRfcMaskedTextFromServerWithProtocolError) {
  const Bytes f = {0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58};
  WsFrameParser p(config());
  const WsFrameEvent ev = p.next(f);
  ASSERT_EQ(ev.type, WsEventType::Error);
  EXPECT_EQ(ev.error, WsFrameError::MaskedServerFrame);
  EXPECT_EQ(ev.close_code, 1002);
  EXPECT_EQ(p.next(f).type, WsEventType::Error); // final
}

TEST_F(WsFrameTest, EncodesRfcMaskedTextAndPongExactly) {
  const WsMaskKey key = {0x37, 0xfa, 0x21, 0x3d};
  std::array<std::uint8_t, 32> out{};
  const Bytes hello = bytes("Hello");
  std::size_t n = ws_encode_client_frame(WsOpcode::Text, true, hello, key, out);
  EXPECT_EQ(Bytes(out.begin(), out.begin() + static_cast<std::ptrdiff_t>(n)),
            (Bytes{0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58}));
  n = ws_encode_client_frame(WsOpcode::Pong, true, hello, key, out);
  EXPECT_EQ(Bytes(out.begin(), out.begin() + static_cast<std::ptrdiff_t>(n)),
            (Bytes{0x8a, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58}));
}

TEST_F(WsFrameTest, ReassemblesRfcFragmentedText) {
  const Bytes f = {0x01, 0x03, 0x48, 0x65, 0x6c, 0x80, 0x02, 0x6c, 0x6f};
  WsFrameParser p(config());
  const WsFrameEvent ev = p.next(f);
  ASSERT_EQ(ev.type, WsEventType::Text);
  EXPECT_EQ(ev.text(), "Hello");
  EXPECT_EQ(ev.consumed, f.size());
}

TEST_F(WsFrameTest, ParsesRfcUnmaskedPing) {
  const Bytes f = {0x89, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f};
  WsFrameParser p(config());
  const WsFrameEvent ev = p.next(f);
  ASSERT_EQ(ev.type, WsEventType::Ping);
  EXPECT_EQ(ev.text(), "Hello");
}

TEST_F(WsFrameTest, ParsesRfc256ByteAnd64KiBBinaryLengthForms) {
  // RFC 6455 5.7: 0x82 0x7E 0x0100 and 0x82 0x7F 0x0000000000010000 headers. The payload bytes
  // are real OKX text (the RFC leaves them unspecified), cut to length.
  std::string data;
  for (const auto &m : okx()) {
    data += m;
    if (data.size() >= 65536) break;
  }
  ASSERT_GE(data.size(), 65536u);
  for (const std::size_t n : {std::size_t{256}, std::size_t{65536}}) {
    const Bytes f = server_frame(0x2, true, std::string_view(data).substr(0, n));
    if (n == 256) EXPECT_EQ(Bytes(f.begin(), f.begin() + 4), (Bytes{0x82, 0x7e, 0x01, 0x00}));
    else EXPECT_EQ(Bytes(f.begin(), f.begin() + 10),
                   (Bytes{0x82, 0x7f, 0, 0, 0, 0, 0, 1, 0, 0}));
    WsFrameParser p(config());
    const WsFrameEvent ev = p.next(f);
    ASSERT_EQ(ev.type, WsEventType::Binary);
    EXPECT_EQ(ev.text(), std::string_view(data).substr(0, n));
    EXPECT_EQ(ev.consumed, f.size());
  }
}

// --- real messages ---------------------------------------------------------------------------

TEST_F(WsFrameTest, DeliversEveryRealOkxAndBinanceMessageByteIdenticalWithoutCopy) {
  for (const auto *set : {&okx(), &binance()}) {
    ASSERT_GT(set->size(), 200u);
    Bytes stream;
    for (const auto &m : *set) append(stream, server_frame(0x1, true, m));
    WsFrameParser p(config());
    std::span<const std::uint8_t> rest(stream);
    for (const auto &m : *set) {
      const WsFrameEvent ev = p.next(rest);
      ASSERT_EQ(ev.type, WsEventType::Text);
      ASSERT_EQ(ev.text(), m);
      EXPECT_GE(ev.payload.data(), rest.data()); // points into the caller's buffer
      EXPECT_LE(ev.payload.data() + ev.payload.size(), rest.data() + rest.size());
      rest = rest.subspan(ev.consumed);
    }
    EXPECT_TRUE(rest.empty());
    EXPECT_EQ(p.next(rest).type, WsEventType::NeedMore);
  }
}

TEST_F(WsFrameTest, ReassemblesRealMessagesFragmentedIntoNPieces) {
  const auto &msgs = okx();
  for (std::size_t pieces = 1; pieces <= 9; ++pieces) {
    Bytes stream;
    std::vector<const std::string *> sent;
    for (std::size_t i = pieces; i < msgs.size(); i += 97) {
      append(stream, fragmented(i % 2 ? 0x1 : 0x2, msgs[i], pieces));
      sent.push_back(&msgs[i]);
    }
    Receiver r(config());
    r.feed(stream);
    ASSERT_EQ(r.got.size(), sent.size()) << pieces;
    for (std::size_t i = 0; i < sent.size(); ++i) EXPECT_EQ(r.got[i].data, *sent[i]);
  }
}

TEST_F(WsFrameTest, SurvivesASplitAtEveryByteOffset) {
  // A Binance message whole, an OKX message in 3 fragments with a ping between fragments,
  // a pong and a close: every split point of the stream gives the same events.
  const std::string &a = binance()[5];
  const std::string &b = okx()[40];
  Bytes stream = server_frame(0x1, true, a);
  const Bytes frags = fragmented(0x1, b, 3);
  const std::size_t first_len = server_frame(0x1, false, b.substr(0, (b.size() + 2) / 3)).size();
  stream.insert(stream.end(), frags.begin(), frags.begin() + static_cast<std::ptrdiff_t>(first_len));
  append(stream, server_frame(0x9, true, a.substr(0, 20)));
  stream.insert(stream.end(), frags.begin() + static_cast<std::ptrdiff_t>(first_len), frags.end());
  append(stream, server_frame(0xA, true, ""));
  append(stream, server_frame(0x8, true, std::string("\x03\xe8", 2) + "bye"));
  for (std::size_t cut = 0; cut <= stream.size(); ++cut) {
    Receiver r(config());
    r.feed(std::span<const std::uint8_t>(stream).subspan(0, cut));
    r.feed(std::span<const std::uint8_t>(stream).subspan(cut));
    ASSERT_EQ(r.got.size(), 5u) << cut;
    EXPECT_EQ(r.got[0].type, WsEventType::Text);
    EXPECT_EQ(r.got[0].data, a);
    EXPECT_EQ(r.got[1].type, WsEventType::Ping);
    EXPECT_EQ(r.got[1].data, a.substr(0, 20));
    EXPECT_EQ(r.got[2].type, WsEventType::Text);
    EXPECT_EQ(r.got[2].data, b) << cut;
    EXPECT_EQ(r.got[3].type, WsEventType::Pong);
    EXPECT_EQ(r.got[4].type, WsEventType::Close);
    EXPECT_EQ(r.got[4].code, 1000);
    EXPECT_EQ(r.got[4].data, "bye");
    EXPECT_TRUE(r.buf.empty());
  }
}

TEST_F(WsFrameTest, DeliversRealStreamFedOneByteAtATime) {
  Bytes stream;
  std::vector<std::string> sent;
  for (std::size_t i = 0; i < okx().size(); i += 50) {
    append(stream, i % 3 ? server_frame(0x1, true, okx()[i]) : fragmented(0x1, okx()[i], 4));
    sent.push_back(okx()[i]);
  }
  Receiver r(config());
  for (const std::uint8_t byte : stream) r.feed(std::span<const std::uint8_t>(&byte, 1));
  ASSERT_EQ(r.got.size(), sent.size());
  for (std::size_t i = 0; i < sent.size(); ++i) EXPECT_EQ(r.got[i].data, sent[i]);
}

TEST_F(WsFrameTest, FailsWith1009AsSoonAsHeaderAnnouncesOversizedMessage) {
  const std::string &small = binance()[0];
  std::string big;
  for (const auto &m : okx())
    if (m.size() > big.size()) big = m;
  ASSERT_GT(big.size(), small.size());
  const std::size_t limit = big.size() - 1;
  Bytes stream = server_frame(0x1, true, small);
  const Bytes big_frame = server_frame(0x1, true, big);
  stream.insert(stream.end(), big_frame.begin(), big_frame.begin() + 4); // header only
  Receiver r(config(limit));
  r.feed(stream);
  ASSERT_EQ(r.got.size(), 2u);
  EXPECT_EQ(r.got[0].data, small); // what came before is intact
  EXPECT_EQ(r.got[1].type, WsEventType::Error);
  EXPECT_EQ(r.got[1].error, WsFrameError::MessageTooBig);
  EXPECT_EQ(r.got[1].code, 1009);
  // The same message one byte under the limit passes.
  Receiver ok(config(big.size()));
  ok.feed(big_frame);
  ASSERT_EQ(ok.got.size(), 1u);
  EXPECT_EQ(ok.got[0].data, big);
}

TEST_F(WsFrameTest, CountsAllFragmentsAgainstTheLimit) {
  const std::string &m = okx()[3];
  Receiver r(config(m.size() - 1));
  r.feed(fragmented(0x1, m, 4)); // each fragment is small, the sum is one byte too many
  ASSERT_EQ(r.got.size(), 1u);
  EXPECT_EQ(r.got[0].error, WsFrameError::MessageTooBig);
  Receiver exact(config(m.size()));
  exact.feed(fragmented(0x1, m, 4));
  ASSERT_EQ(exact.got.size(), 1u);
  EXPECT_EQ(exact.got[0].data, m);
}

TEST_F(WsFrameTest, RejectsControlFrameRules) {
  std::string m; // the first real OKX message longer than a control frame may be
  for (const auto &x : okx())
    if (x.size() > 125 && m.empty()) m = x;
  ASSERT_GT(m.size(), 125u);
  struct Case {
    Bytes frame;
    WsFrameError want;
  };
  Bytes unfinished_ping = server_frame(0x9, true, "x");
  unfinished_ping[0] &= 0x7f; // mechanically clear FIN
  Bytes rsv_ping = server_frame(0x9, true, "x");
  rsv_ping[0] |= 0x40;
  const Case cases[] = {
      {server_frame(0x9, true, m.substr(0, 126)), WsFrameError::ControlTooLong},
      {server_frame(0x8, true, m.substr(0, 126)), WsFrameError::ControlTooLong},
      {unfinished_ping, WsFrameError::ControlFragmented},
      {rsv_ping, WsFrameError::ReservedBits},
  };
  for (const Case &c : cases) {
    WsFrameParser p(config());
    const WsFrameEvent ev = p.next(c.frame);
    EXPECT_EQ(ev.type, WsEventType::Error);
    EXPECT_EQ(ev.error, c.want) << to_cstring(ev.error);
    EXPECT_EQ(ev.close_code, 1002);
  }
  WsFrameParser p(config());
  EXPECT_EQ(p.next(server_frame(0x9, true, m.substr(0, 125))).type, WsEventType::Ping);
}

TEST_F(WsFrameTest, RejectsHeaderViolations) {
  const std::string &m = binance()[2];
  auto with = [&](auto edit) {
    Bytes f = server_frame(0x1, true, m);
    edit(f);
    return f;
  };
  struct Case {
    Bytes frame;
    WsFrameError want;
  };
  const Case cases[] = {
      {with([](Bytes &f) { f[0] |= 0x20; }), WsFrameError::ReservedBits},  // RSV2
      {with([](Bytes &f) { f[0] |= 0x10; }), WsFrameError::ReservedBits},  // RSV3
      {with([](Bytes &f) { f[0] |= 0x40; }), WsFrameError::ReservedBits},  // RSV1, no deflate
      {with([](Bytes &f) { f[0] = 0x83; }), WsFrameError::ReservedOpcode}, // opcode 3
      {with([](Bytes &f) { f[0] = 0x8b; }), WsFrameError::ReservedOpcode}, // opcode 0xB
      {with([](Bytes &f) { f[0] = 0x80; }), WsFrameError::UnexpectedContinuation},
      {with([](Bytes &f) { f[1] |= 0x80; }), WsFrameError::MaskedServerFrame},
      {Bytes{0x81, 126, 0x00, 0x7d}, WsFrameError::NonMinimalLength},
      {Bytes{0x82, 127, 0, 0, 0, 0, 0, 0, 0xff, 0xff}, WsFrameError::NonMinimalLength},
      {Bytes{0x82, 127, 0x80, 0, 0, 0, 0, 0, 0, 1}, WsFrameError::LengthTooLarge},
  };
  for (const Case &c : cases) {
    WsFrameParser p(config());
    const WsFrameEvent ev = p.next(c.frame);
    EXPECT_EQ(ev.type, WsEventType::Error);
    EXPECT_EQ(ev.error, c.want) << to_cstring(ev.error) << " want " << to_cstring(c.want);
    EXPECT_EQ(ev.close_code, 1002);
  }
  // A new text message while a fragmented one is open.
  Bytes f = server_frame(0x1, false, m.substr(0, 10));
  append(f, server_frame(0x1, true, m.substr(10)));
  WsFrameParser p(config());
  EXPECT_EQ(p.next(f).error, WsFrameError::ExpectedContinuation);
}

TEST_F(WsFrameTest, AllowsRsv1OnlyOnTheFirstFrameWhenDeflateNegotiated) {
  WsFrameConfig c = config();
  c.allow_rsv1 = true;
  const std::string &m = binance()[3];
  WsFrameParser p(c);
  const Bytes whole = server_frame(0x1, true, m, true);
  const WsFrameEvent ev = p.next(whole);
  ASSERT_EQ(ev.type, WsEventType::Text);
  EXPECT_TRUE(ev.compressed);
  Bytes bad = server_frame(0x1, false, m.substr(0, 5), true);
  append(bad, server_frame(0x0, true, m.substr(5), true)); // RSV1 on a continuation
  WsFrameParser q(c);
  EXPECT_EQ(q.next(bad).error, WsFrameError::ReservedBits);
}

TEST_F(WsFrameTest, ParsesCloseCodesAndReasons) {
  struct Case {
    std::string payload;
    WsEventType type;
    std::uint16_t code;
  };
  const Case cases[] = {
      {"", WsEventType::Close, 1005},
      {std::string("\x03\xe8", 2), WsEventType::Close, 1000},
      {std::string("\x0f\xa0", 2) + "reconnect", WsEventType::Close, 4000},
      {std::string("\x03", 1), WsEventType::Error, 1002},       // one byte
      {std::string("\x03\xed", 2), WsEventType::Error, 1002},   // 1005 must not be sent
      {std::string("\x03\xee", 2), WsEventType::Error, 1002},   // 1006 neither
      {std::string("\x03\xe7", 2), WsEventType::Error, 1002},   // 999
      {std::string("\x03\xe8\xff", 3), WsEventType::Error, 1007}, // reason not UTF-8
  };
  for (const Case &c : cases) {
    WsFrameParser p(config());
    const WsFrameEvent ev = p.next(server_frame(0x8, true, c.payload));
    EXPECT_EQ(ev.type, c.type) << c.payload.size();
    EXPECT_EQ(ev.close_code, c.code);
  }
}

TEST_F(WsFrameTest, ValidatesUtf8OfTextWhenAsked) {
  WsFrameConfig c = config();
  c.validate_utf8 = true;
  std::string m = okx()[7];
  WsFrameParser p(c);
  EXPECT_EQ(p.next(server_frame(0x1, true, m)).type, WsEventType::Text);
  m[m.size() / 2] = '\xff'; // mechanical corruption: one byte replaced by an invalid one
  WsFrameParser q(c);
  const WsFrameEvent ev = q.next(fragmented(0x1, m, 3));
  EXPECT_EQ(ev.error, WsFrameError::InvalidUtf8);
  EXPECT_EQ(ev.close_code, 1007);
  WsFrameParser binary(c); // binary messages are not text
  EXPECT_EQ(binary.next(server_frame(0x2, true, m)).type, WsEventType::Binary);
}

TEST_F(WsFrameTest, Utf8ValidatorAcceptsAndRejectsTheRightSequences) {
  EXPECT_TRUE(ws_valid_utf8(bytes("\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5")));
  EXPECT_TRUE(ws_valid_utf8(bytes("\xf4\x8f\xbf\xbf")));  // U+10FFFF
  EXPECT_FALSE(ws_valid_utf8(bytes("\xf4\x90\x80\x80"))); // above U+10FFFF
  EXPECT_FALSE(ws_valid_utf8(bytes("\xed\xa0\x80")));     // surrogate
  EXPECT_FALSE(ws_valid_utf8(bytes("\xc0\xaf")));         // overlong
  EXPECT_FALSE(ws_valid_utf8(bytes("\xe0\x80\xaf")));     // overlong
  EXPECT_FALSE(ws_valid_utf8(bytes("abc\xce")));          // cut
}

TEST_F(WsFrameTest, EncodesEveryLengthFormMaskedAndRoundTrips) {
  const std::string &src = okx()[10];
  std::string payload;
  while (payload.size() < 70000) payload += src;
  WsMaskSource masks(12345);
  Bytes out(70000 + 14);
  for (const std::size_t n : {std::size_t{0}, std::size_t{125}, std::size_t{126},
                              std::size_t{65535}, std::size_t{65536}, std::size_t{70000}}) {
    const Bytes body = bytes(std::string_view(payload).substr(0, n));
    const std::size_t len = ws_encode_client_frame(WsOpcode::Binary, true, body, masks.next(), out);
    ASSERT_NE(len, 0u);
    const std::size_t header = n < 126 ? 6 : n < 65536 ? 8 : 14;
    EXPECT_EQ(len, header + n);
    const ClientFrame f = decode_client(std::span<const std::uint8_t>(out).subspan(0, len));
    EXPECT_TRUE(f.fin);
    EXPECT_EQ(f.opcode, 0x2);
    EXPECT_EQ(f.payload, body);
    EXPECT_EQ(f.size, len);
    // One byte too few: nothing written.
    EXPECT_EQ(ws_encode_client_frame(WsOpcode::Binary, true, body, masks.next(),
                                     std::span<std::uint8_t>(out).subspan(0, len - 1)),
              0u);
  }
  EXPECT_EQ(ws_encode_client_frame(WsOpcode::Ping, true, bytes(payload.substr(0, 126)),
                                   masks.next(), out),
            0u);
  EXPECT_EQ(ws_encode_client_frame(WsOpcode::Ping, false, {}, masks.next(), out), 0u);
  const std::size_t n = ws_encode_close(1001, "going", masks.next(), out);
  const ClientFrame c = decode_client(std::span<const std::uint8_t>(out).subspan(0, n));
  EXPECT_EQ(c.opcode, 0x8);
  EXPECT_EQ(str(c.payload), std::string("\x03\xe9", 2) + "going");
}

TEST_F(WsFrameTest, MaskKeysVaryFrameToFrame) {
  WsMaskSource m(WsMaskSource::random_seed());
  const WsMaskKey a = m.next(), b = m.next(), c = m.next();
  EXPECT_FALSE(a == b && b == c);
}

// --- the connection state machine (net/ws_client.hpp) over frames ----------------------------

class WsClientFrameTest : public ::testing::Test {
protected:
  // A client already Open: handshake answered with the accept computed by the RFC rule.
  static void open(WsClient &c) {
    WsNonce nonce{};
    std::memcpy(nonce.data(), "the sample nonce", 16); // RFC 6455 4.1's example nonce
    WsRequest req;
    req.host = "server.example.com";
    req.path = "/chat";
    ASSERT_EQ(c.start(req, nonce), WsHandshakeError::None);
    c.consume_output(c.output().size());
    const std::string resp = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                             "Connection: Upgrade\r\n"
                             "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n";
    const WsClientEvent ev = c.next(bytes(resp));
    ASSERT_EQ(ev.type, WsClientEventType::Opened) << c.handshake().error_text();
    ASSERT_EQ(ev.consumed, resp.size());
  }
  static WsClientConfig cfg(std::size_t max = 1 << 20) {
    WsClientConfig c;
    c.max_message_size = max;
    c.mask_seed = 99;
    return c;
  }
};

TEST_F(WsClientFrameTest, AnswersPingWithPongCarryingTheSamePayload) {
  WsClient c(cfg());
  open(c);
  const std::string payload = okx()[0].substr(0, 30);
  const WsClientEvent ev = c.next(server_frame(0x9, true, payload));
  ASSERT_EQ(ev.type, WsClientEventType::Ping);
  const ClientFrame pong = decode_client(c.output());
  EXPECT_EQ(pong.opcode, 0xA);
  EXPECT_EQ(str(pong.payload), payload);
  EXPECT_EQ(pong.size, c.output().size());
}

TEST_F(WsClientFrameTest, EchoesServerCloseAndEndsClosed) {
  WsClient c(cfg());
  open(c);
  const Bytes frame = server_frame(0x8, true, std::string("\x03\xe9", 2) + "bye");
  const WsClientEvent ev = c.next(frame); // views into `frame`
  ASSERT_EQ(ev.type, WsClientEventType::PeerClose);
  EXPECT_EQ(ev.close_code, 1001);
  EXPECT_EQ(ev.close_reason, "bye");
  EXPECT_EQ(c.state(), WsState::Closed);
  const ClientFrame reply = decode_client(c.output());
  EXPECT_EQ(reply.opcode, 0x8);
  EXPECT_EQ(str(reply.payload), std::string("\x03\xe9", 2));
  EXPECT_FALSE(c.send_text("x"));
  EXPECT_EQ(c.next(server_frame(0x1, true, "late")).type, WsClientEventType::Closed);
}

TEST_F(WsClientFrameTest, ClientInitiatedCloseWaitsForServerCloseWhileStillDelivering) {
  WsClient c(cfg());
  open(c);
  ASSERT_TRUE(c.close(1000, "done"));
  EXPECT_EQ(c.state(), WsState::Closing);
  const ClientFrame sent = decode_client(c.output());
  EXPECT_EQ(str(sent.payload), std::string("\x03\xe8", 2) + "done");
  c.consume_output(c.output().size());
  Bytes stream = server_frame(0x1, true, okx()[2]);
  append(stream, server_frame(0x9, true, "p"));
  append(stream, server_frame(0x8, true, std::string("\x03\xe8", 2)));
  std::span<const std::uint8_t> rest(stream);
  WsClientEvent ev = c.next(rest);
  ASSERT_EQ(ev.type, WsClientEventType::Text);
  EXPECT_EQ(ev.text(), okx()[2]);
  rest = rest.subspan(ev.consumed);
  ev = c.next(rest);
  EXPECT_EQ(ev.type, WsClientEventType::Ping);
  EXPECT_TRUE(c.output().empty()); // nothing is sent after our close
  rest = rest.subspan(ev.consumed);
  ev = c.next(rest);
  EXPECT_EQ(ev.type, WsClientEventType::Closed);
  EXPECT_EQ(ev.close_code, 1000);
  EXPECT_EQ(c.state(), WsState::Closed);
}

TEST_F(WsClientFrameTest, OversizedMessageClosesSessionWith1009AfterEarlierMessages) {
  std::string m; // the longest real OKX message, one byte over the limit
  for (const auto &x : okx())
    if (x.size() > m.size()) m = x;
  WsClient c(cfg(m.size() - 1));
  open(c);
  Bytes stream = server_frame(0x1, true, binance()[0]);
  append(stream, server_frame(0x1, true, m));
  std::span<const std::uint8_t> rest(stream);
  WsClientEvent ev = c.next(rest);
  ASSERT_EQ(ev.type, WsClientEventType::Text);
  EXPECT_EQ(ev.text(), binance()[0]);
  rest = rest.subspan(ev.consumed);
  ev = c.next(rest);
  ASSERT_EQ(ev.type, WsClientEventType::Error);
  EXPECT_EQ(ev.frame_error, WsFrameError::MessageTooBig);
  EXPECT_EQ(ev.close_code, 1009);
  const ClientFrame close = decode_client(c.output());
  EXPECT_EQ(close.opcode, 0x8);
  EXPECT_EQ(str(close.payload), std::string("\x03\xf1", 2)); // 1009
  EXPECT_EQ(c.state(), WsState::Closed);
}

TEST_F(WsClientFrameTest, MaskedServerFrameClosesWith1002) {
  WsClient c(cfg());
  open(c);
  Bytes f = server_frame(0x1, true, binance()[1]);
  f[1] |= 0x80; // mechanically set the mask bit on a real message's frame
  const WsClientEvent ev = c.next(f);
  ASSERT_EQ(ev.type, WsClientEventType::Error);
  EXPECT_EQ(ev.close_code, 1002);
  EXPECT_EQ(str(decode_client(c.output()).payload), std::string("\x03\xea", 2));
}

TEST_F(WsClientFrameTest, SendsMaskedClientMessages) {
  WsClient c(cfg());
  open(c);
  // A real subscribe request, as the OKX recorder sent it.
  auto opened = fh::capture::CaptureFile::open(std::string(FH_DATA_DIR) +
                                               "/okx/cryptofeed/books-l2-tbt_2022-02-27_ws.txt.gz");
  ASSERT_TRUE(std::holds_alternative<fh::capture::CaptureFile>(opened));
  std::string_view sub;
  for (const auto &r : std::get<fh::capture::CaptureFile>(opened).records())
    if (r.kind == fh::capture::RecordKind::WsSent) {
      sub = r.payload;
      break;
    }
  ASSERT_FALSE(sub.empty());
  ASSERT_TRUE(c.send_text(sub));
  const ClientFrame f = decode_client(c.output());
  EXPECT_EQ(f.opcode, 0x1);
  EXPECT_EQ(str(f.payload), sub);
  EXPECT_EQ(f.size, c.output().size());
}

} // namespace
