#include "feedhandler/shm_output.hpp"

#include <chrono>

namespace fh {

std::variant<std::unique_ptr<ShmOutput>, std::string>
ShmOutput::open(const ShmOutputOptions& o) {
  shm::WriterOptions wo;
  wo.name = o.name;
  wo.depth = o.depth;
  wo.journal_capacity = o.journal_capacity;
  wo.max_instruments = o.max_instruments;
  wo.mode = o.mode;
  wo.if_exists = o.replace ? shm::IfExists::Replace : shm::IfExists::Fail;
  wo.remove_on_close = o.remove_on_close;
  if (o.huge_pages) wo.size_alignment = 2u << 20;
  auto created = shm::Writer::create(wo);
  if (auto* err = std::get_if<shm::CreateError>(&created))
    return "shm segment '" + o.name + "': " + err->message;
  return std::unique_ptr<ShmOutput>(
      new ShmOutput(std::move(std::get<shm::Writer>(created)), o.heartbeat_ms));
}

ShmOutput::ShmOutput(shm::Writer writer, std::uint32_t heartbeat_ms)
    : writer_(std::move(writer)), publisher_(writer_) {
  writer_.heartbeat();
  heartbeat_ = std::jthread([this, heartbeat_ms](std::stop_token stop) {
    const auto period = std::chrono::milliseconds(heartbeat_ms == 0 ? 10 : heartbeat_ms);
    while (!stop.stop_requested()) {
      std::this_thread::sleep_for(period);
      writer_.heartbeat();
    }
  });
}

ShmOutput::~ShmOutput() { close(); }

void ShmOutput::close() noexcept {
  if (heartbeat_.joinable()) {
    heartbeat_.request_stop();
    heartbeat_.join();
  }
  publisher_.sync_counters();
  writer_.close();
}

} // namespace fh
