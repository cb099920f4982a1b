#pragma once
// Fault injection for fh-venue: what a real venue (or the network in between) does to a feed
// handler, applied to the recorded stream on purpose so reconnect and gap handling can be
// tested against real bytes.
//
// Why shaped so: every fault is one value (kind, number, connection it applies to), parsed
// from a `--fault SPEC` string, so a test states its scenario on the command line and the
// server only asks "is there a fault of kind K for connection C". Frame numbers are 1-based
// positions in what this connection serves (recorded received frames, acks included).
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace fh::venue_tool {

enum class FaultKind : std::uint8_t {
  CloseAfter,      // close-after=N: after N frames, TCP close (no close_notify, no WS close)
  Stall,           // stall=MS[:after=N]: after N frames (default 100) send nothing for MS ms
  Refuse,          // refuse=MS: connections accepted in the first MS ms are closed at once
  CorruptAt,       // corrupt-at=N: frame N is sent truncated to its first half
  DropAt,          // drop-at=N: frame N is not sent
  RejectSubscribe, // reject-subscribe: the first subscribe gets WS close 1008
};

struct Fault {
  FaultKind kind;
  std::uint64_t value = 0; // N or MS
  std::uint64_t after = 0; // Stall only
  std::uint32_t conn = 1;  // 1-based WebSocket connection it applies to (:conn=K); 0 = every one
};

// "close-after=50", "stall=2000:after=10", "drop-at=3:conn=2", "reject-subscribe:conn=0".
std::variant<Fault, std::string> parse_fault(std::string_view spec);

class FaultSet {
public:
  void add(const Fault &f) { faults_.push_back(f); }
  // The fault of `kind` that applies to connection `conn` (Refuse ignores conn), if any.
  std::optional<Fault> find(FaultKind kind, std::uint32_t conn) const;

private:
  std::vector<Fault> faults_;
};

} // namespace fh::venue_tool
