#pragma once
// One Ethernet frame in, events into a pipeline out: the packet path of an IEX feed.
//
// Why this shape: the frame is the unit every packet source hands out (a pcap record now; a
// DPDK mbuf in an rx burst loop, or a kernel socket's datagram, later), so this is the one
// function such a loop calls per packet: UDP checks and filter (net/udp_packet.hpp), then the
// IEX-TP segment (IexFeed), then the batch into the pipeline (FusedPipeline or
// ThreadedPipeline: a template, so the per-event path has no virtual call). Everything it
// touches is pre-sized; nothing here allocates or blocks.
#include <cstdint>

#include "feedhandler/event_batch.hpp"
#include "feedhandler/iex/iex_feed.hpp"
#include "net/udp_packet.hpp"

namespace fh::iex {

struct FrameResult {
  net::FrameError frame = net::FrameError::None; // not None: the frame never reached IEX-TP
  ParseStatus parse = ParseStatus::Ignored;
};

template <class Pipeline> class IexFrameIngest {
public:
  IexFrameIngest(net::UdpFrameParser& udp, IexFeed& feed, Pipeline& pipeline,
                 EventBatch& batch) noexcept
      : udp_(&udp), feed_(&feed), pipeline_(&pipeline), batch_(&batch) {}

  FrameResult on_frame(const std::uint8_t* frame, std::size_t len, std::int64_t recv_ts_ns) noexcept {
    FrameResult r;
    net::UdpDatagram d;
    r.frame = udp_->parse(frame, len, d);
    if (r.frame != net::FrameError::None) return r;
    bytes_ += d.length;
    batch_->clear();
    r.parse = feed_->on_segment(d.payload, d.length, recv_ts_ns, *batch_);
    events_ += batch_->size();
    if (batch_->size() != 0) pipeline_->push(*batch_);
    return r;
  }

  std::uint64_t events() const noexcept { return events_; }
  std::uint64_t payload_bytes() const noexcept { return bytes_; } // UDP payloads delivered

private:
  net::UdpFrameParser* udp_;
  IexFeed* feed_;
  Pipeline* pipeline_;
  EventBatch* batch_;
  std::uint64_t events_ = 0;
  std::uint64_t bytes_ = 0;
};

} // namespace fh::iex
