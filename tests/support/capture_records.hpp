#pragma once
// Shared by the parser and metadata tests: the records of real captures in data/, read with the
// project's own reader (fh::capture::CaptureFile), so the tests see the bytes exactly as
// replay hands them to the parsers: every payload is followed by SIMDJSON_PADDING readable
// bytes, ready for simdjson. CaptureRecords owns the files its records point into, so a
// selection of records (from one file or several) stays valid as long as it lives.
// A file that cannot be read, or one with a line matching no capture pattern, fails the test.
#include <gtest/gtest.h>

#include <cstddef>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "feedhandler/capture.hpp"

namespace fh::test {

using capture::Record;
using capture::RecordKind;

// A received text frame (cryptofeed "<t>: <text>", hftbacktest "<ts> <json>").
inline bool is_received(const Record &r) {
  return r.kind == RecordKind::WsText;
}

class CaptureRecords {
public:
  // Appends the records of data/<rel> for which keep(record) is true, in file order.
  template <class Keep> CaptureRecords &add(const std::string &rel, Keep keep) {
    const std::string path = std::string(FH_DATA_DIR) + "/" + rel;
    auto opened = capture::CaptureFile::open(path);
    if (const auto *err = std::get_if<capture::Error>(&opened)) {
      ADD_FAILURE() << err->message;
      return *this;
    }
    auto &file = files_.emplace_back(std::move(std::get<capture::CaptureFile>(opened)));
    EXPECT_EQ(file.skipped_lines(), 0U) << path << ":" << file.first_skipped_line();
    for (const Record &r : file.records())
      if (keep(r))
        records_.push_back(r);
    return *this;
  }
  CaptureRecords &add(const std::string &rel) {
    return add(rel, [](const Record &) { return true; });
  }

  [[nodiscard]] auto begin() const { return records_.begin(); }
  [[nodiscard]] auto end() const { return records_.end(); }
  [[nodiscard]] std::size_t size() const { return records_.size(); }
  [[nodiscard]] const Record &operator[](std::size_t i) const { return records_[i]; }

private:
  std::vector<capture::CaptureFile> files_; // views stay valid when a CaptureFile moves
  std::vector<Record> records_;
};

// All records of data/<rel>, or those for which keep(record) is true.
inline CaptureRecords read_capture(const std::string &rel) {
  CaptureRecords records;
  records.add(rel);
  return records;
}
template <class Keep> CaptureRecords read_capture(const std::string &rel, Keep keep) {
  CaptureRecords records;
  records.add(rel, std::move(keep));
  return records;
}

} // namespace fh::test
