#include "feedhandler/instrument.hpp"

namespace fh {

std::uint8_t decimals_of(std::string_view text) noexcept {
  const auto dot = text.find('.');
  if (dot == std::string_view::npos) return 0;
  auto end = text.size();
  while (end > dot + 1 && text[end - 1] == '0') --end;
  return static_cast<std::uint8_t>(end - dot - 1);
}

std::string_view kind_name(InstrumentKind k) noexcept {
  switch (k) {
  case InstrumentKind::Spot: return "spot";
  case InstrumentKind::Perpetual: return "perpetual";
  case InstrumentKind::Future: return "future";
  case InstrumentKind::Option: return "option";
  }
  return "unknown";
}

} // namespace fh
