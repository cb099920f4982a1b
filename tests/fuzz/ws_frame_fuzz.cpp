// Fuzz target for the WebSocket layer (net/ws_frame.hpp, net/ws_deflate.hpp, net/ws_handshake.hpp).
// The corpus driver's seeds are real recorded messages (OKX/Binance text, Huobi gzip binary
// frames), not WebSocket streams, so each input is used four ways:
//  1. as a raw stream of server frames: the parser (deflate allowed) must never read outside the
//     input, always make progress or ask for more than it has, and every RSV1 message goes
//     through the inflater, every binary one through the gzip/raw-deflate helper;
//  2. as a message payload wrapped into valid server frames by an independent builder: whole,
//     in 3 fragments with a ping between them, and permessage-deflate compressed with zlib; all
//     three must come back byte-identical, also when the stream is split at one point;
//  3. as a gzip / raw deflate payload (the Huobi seeds are real gzip frames and must inflate);
//  4. as a client message: the encoded, masked frame unmasks to the input; and as an HTTP
//     response given to the handshake parser (no crash, consumed <= size).
// Invariant violations abort, so the corpus run and libFuzzer both report them.
#include <zlib.h>

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <span>
#include <string_view>
#include <vector>

#include "net/ws_deflate.hpp"
#include "net/ws_frame.hpp"
#include "net/ws_handshake.hpp"

extern "C" const char *const fh_fuzz_seed_files[] = {
    "okx/cryptofeed/books-l2-tbt_2021-07-22_conn1_ws.txt.gz",
    "binance/cryptofeed/spot_2021-10-12_ws.txt.gz",
    "huobi/cryptofeed/depth_gzip_frames_2021-04-17_ws.txt.gz", nullptr};

namespace {

using namespace fh::net;
using Bytes = std::vector<std::uint8_t>;

constexpr std::size_t kMax = 256 * 1024;

void require(bool ok) {
  if (!ok) std::abort();
}

void put_frame(Bytes &out, std::uint8_t first, std::span<const std::uint8_t> p) {
  out.push_back(first);
  const std::uint64_t n = p.size();
  if (n < 126) {
    out.push_back(static_cast<std::uint8_t>(n));
  } else if (n < 65536) {
    out.push_back(126);
    out.push_back(static_cast<std::uint8_t>(n >> 8));
    out.push_back(static_cast<std::uint8_t>(n & 0xff));
  } else {
    out.push_back(127);
    for (int s = 56; s >= 0; s -= 8) out.push_back(static_cast<std::uint8_t>((n >> s) & 0xff));
  }
  out.insert(out.end(), p.begin(), p.end());
}

struct State {
  State() {
    require(deflateInit2(&z, 1, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY) == Z_OK);
  }
  WsFrameParser raw_parser{WsFrameConfig{kMax, true, true}};
  WsFrameParser parser{WsFrameConfig{kMax, true, false}};
  WsInflater inflater{4 * kMax, false};
  WsInflater fresh_inflater{4 * kMax, true};
  PayloadInflater payload{4 * kMax};
  z_stream z{};
  Bytes stream, deflated, out;
};

bool within(std::span<const std::uint8_t> inner, std::span<const std::uint8_t> outer) {
  return inner.empty() ||
         (inner.data() >= outer.data() && inner.data() + inner.size() <= outer.data() + outer.size());
}

// 1. Input as server frames.
void parse_raw(State &s, std::span<const std::uint8_t> in) {
  s.raw_parser.reset();
  s.inflater.reset(false);
  std::span<const std::uint8_t> rest = in;
  for (int guard = 0; guard < 100000; ++guard) {
    const WsFrameEvent ev = s.raw_parser.next(rest);
    require(ev.consumed <= rest.size());
    if (ev.type == WsEventType::NeedMore) {
      require(ev.need > rest.size());
      return;
    }
    if (ev.type == WsEventType::Error) {
      require(ev.error != WsFrameError::None && ev.close_code >= 1000);
      return;
    }
    require(ev.consumed > 0);
    if (ev.type == WsEventType::Ping || ev.type == WsEventType::Pong ||
        ev.type == WsEventType::Close)
      require(ev.payload.size() <= 125 && within(ev.payload, rest));
    if (ev.type == WsEventType::Text || ev.type == WsEventType::Binary) {
      require(ev.payload.size() <= kMax);
      std::span<const std::uint8_t> out;
      if (ev.compressed && s.inflater.inflate(ev.payload, out) == WsInflateStatus::Ok)
        require(out.size() <= 4 * kMax);
      if (ev.type == WsEventType::Binary) {
        (void)s.payload.inflate(PayloadCodec::Gzip, ev.payload, out);
        (void)s.payload.inflate(PayloadCodec::RawDeflate, ev.payload, out);
      }
    }
    if (ev.type == WsEventType::Close) return;
    rest = rest.subspan(ev.consumed);
  }
}

// Feeds `stream` split at `cut` through a caller-style buffer and checks the messages.
void expect_messages(WsFrameParser &p, const Bytes &stream, std::size_t cut,
                     std::span<const std::uint8_t> msg, int count, WsInflater *inf) {
  p.reset();
  Bytes buf(stream.begin(), stream.begin() + static_cast<std::ptrdiff_t>(cut));
  std::size_t fed = cut;
  int got = 0;
  for (int guard = 0; guard < 64; ++guard) {
    const WsFrameEvent ev = p.next(buf);
    require(ev.type != WsEventType::Error);
    if (ev.type == WsEventType::NeedMore) {
      buf.erase(buf.begin(), buf.begin() + static_cast<std::ptrdiff_t>(ev.consumed));
      if (fed == stream.size()) break;
      buf.insert(buf.end(), stream.begin() + static_cast<std::ptrdiff_t>(fed), stream.end());
      fed = stream.size();
      continue;
    }
    if (ev.type == WsEventType::Text || ev.type == WsEventType::Binary) {
      std::span<const std::uint8_t> data = ev.payload; // view into buf: use before erasing
      if (ev.compressed)
        require(inf != nullptr && inf->inflate(ev.payload, data) == WsInflateStatus::Ok);
      require(data.size() == msg.size() &&
              (msg.empty() || std::memcmp(data.data(), msg.data(), msg.size()) == 0));
      ++got;
    }
    buf.erase(buf.begin(), buf.begin() + static_cast<std::ptrdiff_t>(ev.consumed));
  }
  require(got == count && buf.empty());
}

// 2. Input as a message payload inside valid frames.
void wrap_and_parse(State &s, std::span<const std::uint8_t> in) {
  if (in.size() > kMax) return;
  s.stream.clear();
  put_frame(s.stream, 0x82, in);
  const std::size_t third = in.size() / 3;
  put_frame(s.stream, 0x02, in.subspan(0, third));
  put_frame(s.stream, 0x89, in.subspan(0, std::min<std::size_t>(in.size(), 125)));
  put_frame(s.stream, 0x00, in.subspan(third, third));
  put_frame(s.stream, 0x80, in.subspan(2 * third));
  expect_messages(s.parser, s.stream, s.stream.size() / 2, in, 2, nullptr);

  // permessage-deflate as a server compresses: sync flush, tail removed.
  require(deflateReset(&s.z) == Z_OK);
  s.deflated.resize(deflateBound(&s.z, in.size()) + 16);
  s.z.next_in = const_cast<Bytef *>(in.data());
  s.z.avail_in = static_cast<uInt>(in.size());
  s.z.next_out = s.deflated.data();
  s.z.avail_out = static_cast<uInt>(s.deflated.size());
  require(deflate(&s.z, Z_SYNC_FLUSH) == Z_OK && s.z.avail_in == 0);
  const std::size_t produced = s.deflated.size() - s.z.avail_out;
  require(produced >= 4); // ends with the 00 00 ff ff of the sync flush
  s.deflated.resize(produced - 4);
  if (s.deflated.size() > kMax) return;
  s.stream.clear();
  put_frame(s.stream, 0xc1, s.deflated);
  expect_messages(s.parser, s.stream, s.stream.size() / 3, in, 1, &s.fresh_inflater);
}

// 4. Client frame round trip.
void encode_client(State &s, std::span<const std::uint8_t> in) {
  s.out.resize(in.size() + WsFrameParser::kMaxHeader);
  const WsMaskKey key = {in.empty() ? std::uint8_t{1} : in[0], 0x5a, 0xa5, 0x3c};
  const std::size_t n = ws_encode_client_frame(WsOpcode::Binary, true, in, key, s.out);
  require(n >= in.size() + 6 && n <= s.out.size());
  const std::size_t header = n - in.size();
  for (std::size_t i = 0; i < in.size(); ++i)
    require((s.out[header + i] ^ key[i & 3]) == in[i]);
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t *data, std::size_t size) {
  static State *state = new State(); // lives for the process, like libFuzzer's
  State &s = *state;
  const std::span<const std::uint8_t> in(data, size);
  parse_raw(s, in);
  wrap_and_parse(s, in);
  std::span<const std::uint8_t> out;
  (void)s.payload.inflate(PayloadCodec::Gzip, in, out);
  require(out.size() <= 4 * kMax);
  (void)s.payload.inflate(PayloadCodec::RawDeflate, in, out);
  encode_client(s, in);
  WsHandshake hs(4096);
  std::array<char, 512> req{};
  std::size_t written = 0;
  WsRequest r;
  r.host = "fuzz.example";
  r.offer_deflate = true;
  require(hs.build_request(r, WsNonce{}, req, written) == WsHandshakeError::None);
  const WsHandshakeResult h =
      hs.parse_response({reinterpret_cast<const char *>(data), size});
  require(h.consumed <= size);
  return 0;
}
