#include "feedhandler/instrument_registry.hpp"

#include <utility>

namespace fh {

std::uint32_t InstrumentRegistry::add(Instrument inst) {
  const auto v = static_cast<std::size_t>(inst.venue);
  auto& native = by_native_[v];
  if (auto it = native.find(inst.native); it != native.end()) {
    inst.id = it->second;
    auto& slot = instruments_[inst.id];
    by_canonical_[v].erase(slot.canonical);
    slot = std::move(inst);
    by_canonical_[v][slot.canonical] = slot.id;
    return slot.id;
  }
  if (instruments_.size() == kMaxInstruments) return kNoInstrument;
  inst.id = static_cast<std::uint32_t>(instruments_.size());
  native.emplace(inst.native, inst.id);
  by_canonical_[v].emplace(inst.canonical, inst.id);
  instruments_.push_back(std::move(inst));
  return instruments_.back().id;
}

void InstrumentRegistry::clear() {
  instruments_.clear();
  for (auto& m : by_native_) m.clear();
  for (auto& m : by_canonical_) m.clear();
  has_metadata_ = {};
}

const Instrument* InstrumentRegistry::find(Venue v, std::string_view native) const noexcept {
  const auto& index = by_native_[static_cast<std::size_t>(v)];
  const auto it = index.find(native);
  return it == index.end() ? nullptr : &instruments_[it->second];
}

const Instrument* InstrumentRegistry::find_canonical(Venue v,
                                                     std::string_view canonical) const noexcept {
  const auto& index = by_canonical_[static_cast<std::size_t>(v)];
  const auto it = index.find(canonical);
  return it == index.end() ? nullptr : &instruments_[it->second];
}

const Instrument* InstrumentRegistry::resolve(Venue v, std::string_view native,
                                              DefaultFactory make_default) {
  if (const Instrument* known = find(v, native)) return known;
  if (has_metadata(v) || make_default == nullptr || native.empty()) return nullptr;
  Instrument inst = make_default(v, native);
  inst.venue = v;
  inst.native = std::string(native);
  inst.from_metadata = false;
  const auto id = add(std::move(inst));
  return id == kNoInstrument ? nullptr : &instruments_[id];
}

} // namespace fh
