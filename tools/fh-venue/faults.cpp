// Fault spec parsing (see faults.hpp).
#include "tools/fh-venue/faults.hpp"

#include <charconv>

namespace fh::venue_tool {
namespace {

bool to_u64(std::string_view s, std::uint64_t &out) {
  if (s.empty()) return false;
  const auto r = std::from_chars(s.data(), s.data() + s.size(), out);
  return r.ec == std::errc() && r.ptr == s.data() + s.size();
}

} // namespace

std::variant<Fault, std::string> parse_fault(std::string_view spec) {
  const std::string bad = "bad --fault '" + std::string(spec) + "'";
  std::string_view head = spec.substr(0, spec.find(':'));
  std::string_view opts = head.size() < spec.size() ? spec.substr(head.size() + 1) : "";
  const auto eq = head.find('=');
  const std::string_view name = head.substr(0, eq);
  const std::string_view value = eq == std::string_view::npos ? "" : head.substr(eq + 1);
  Fault f{FaultKind::CloseAfter};
  if (name == "close-after") f.kind = FaultKind::CloseAfter;
  else if (name == "stall") f.kind = FaultKind::Stall, f.after = 100;
  else if (name == "refuse") f.kind = FaultKind::Refuse;
  else if (name == "corrupt-at") f.kind = FaultKind::CorruptAt;
  else if (name == "drop-at") f.kind = FaultKind::DropAt;
  else if (name == "reject-subscribe") f.kind = FaultKind::RejectSubscribe;
  else return bad + ": unknown fault";
  if (f.kind == FaultKind::RejectSubscribe) {
    if (!value.empty()) return bad + ": reject-subscribe takes no value";
  } else if (!to_u64(value, f.value)) {
    return bad + ": needs =NUMBER";
  }
  if ((f.kind == FaultKind::CorruptAt || f.kind == FaultKind::DropAt) && f.value == 0)
    return bad + ": frames are numbered from 1";
  while (!opts.empty()) {
    const std::string_view opt = opts.substr(0, opts.find(':'));
    opts.remove_prefix(opt.size() < opts.size() ? opt.size() + 1 : opt.size());
    std::uint64_t v = 0;
    if (opt.rfind("conn=", 0) == 0 && to_u64(opt.substr(5), v) && v <= 0xffffffffU)
      f.conn = static_cast<std::uint32_t>(v);
    else if (f.kind == FaultKind::Stall && opt.rfind("after=", 0) == 0 && to_u64(opt.substr(6), v))
      f.after = v;
    else
      return bad + ": unknown option '" + std::string(opt) + "'";
  }
  return f;
}

std::optional<Fault> FaultSet::find(FaultKind kind, std::uint32_t conn) const {
  for (const Fault &f : faults_)
    if (f.kind == kind && (kind == FaultKind::Refuse || f.conn == 0 || f.conn == conn)) return f;
  return std::nullopt;
}

} // namespace fh::venue_tool
