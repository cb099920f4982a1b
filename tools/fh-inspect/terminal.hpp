#pragma once
// Terminal and signal handling for the live views (book --watch, top, tail --follow).
//
// Why this shape: a live view must always give the terminal back. SIGINT/SIGTERM/SIGHUP only
// set a flag (async-signal-safe); the view loop sees it within one interval, leaves, and the
// Screen destructor restores the cursor and the main screen. Sleeps are nanosleep, which a
// signal interrupts, so Ctrl-C is answered at once, not after the interval.
#include <cstdint>
#include <cstdio>

namespace fh::inspect {

// Installs the handlers (no SA_RESTART, so a sleep returns early).
void install_stop_handlers();
[[nodiscard]] bool stop_requested();
// Sleeps `ms` milliseconds or until a stop signal arrives.
void sleep_ms(std::int64_t ms);

struct TerminalSize {
  int rows;
  int cols;
};
// Of stdout when it is a terminal, else $LINES/$COLUMNS, else 24 x 80.
TerminalSize terminal_size();

// Full-screen drawing with ANSI escapes: the alternate screen with the cursor hidden while
// alive; each frame starts at the home position and overwrites the previous one line by line.
class Screen {
public:
  explicit Screen(std::FILE* out);
  Screen(const Screen&) = delete;
  Screen& operator=(const Screen&) = delete;
  ~Screen(); // shows the cursor and leaves the alternate screen

  void begin_frame();
  // One line (no '\n'); the rest of the old line is erased.
  [[gnu::format(printf, 2, 3)]] void line(const char* fmt, ...);
  void end_frame(); // erases what is left below the last line and flushes

private:
  std::FILE* out_;
};

} // namespace fh::inspect
