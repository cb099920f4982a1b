#include "tools/fh-inspect/terminal.hpp"

#include <csignal>
#include <cstdarg>
#include <cstdlib>
#include <initializer_list>

#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

namespace fh::inspect {
namespace {

volatile std::sig_atomic_t g_stop = 0;

extern "C" void on_stop_signal(int) { g_stop = 1; }

int env_int(const char* name, int fallback) {
  const char* v = std::getenv(name);
  if (v == nullptr)
    return fallback;
  const long n = std::strtol(v, nullptr, 10);
  return n > 0 && n < 10'000 ? static_cast<int>(n) : fallback;
}

} // namespace

void install_stop_handlers() {
  struct sigaction sa {};
  sa.sa_handler = on_stop_signal;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = 0; // no SA_RESTART: nanosleep returns EINTR at once
  for (const int sig : {SIGINT, SIGTERM, SIGHUP})
    ::sigaction(sig, &sa, nullptr);
}

bool stop_requested() { return g_stop != 0; }

void sleep_ms(std::int64_t ms) {
  if (ms <= 0 || stop_requested())
    return;
  timespec ts{static_cast<time_t>(ms / 1000), static_cast<long>((ms % 1000) * 1'000'000)};
  ::nanosleep(&ts, nullptr); // EINTR on a stop signal: the caller checks stop_requested()
}

TerminalSize terminal_size() {
  winsize ws{};
  if (::isatty(STDOUT_FILENO) != 0 && ::ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 &&
      ws.ws_row > 0 && ws.ws_col > 0)
    return {ws.ws_row, ws.ws_col};
  return {env_int("LINES", 24), env_int("COLUMNS", 80)};
}

Screen::Screen(std::FILE* out) : out_(out) {
  std::fputs("\x1b[?1049h\x1b[?25l", out_); // alternate screen, hide cursor
  std::fflush(out_);
}

Screen::~Screen() {
  std::fputs("\x1b[?25h\x1b[?1049l", out_); // show cursor, back to the main screen
  std::fflush(out_);
}

void Screen::begin_frame() { std::fputs("\x1b[H", out_); }

void Screen::line(const char* fmt, ...) {
  va_list args;
  va_start(args, fmt);
  std::vfprintf(out_, fmt, args);
  va_end(args);
  std::fputs("\x1b[K\n", out_);
}

void Screen::end_frame() {
  std::fputs("\x1b[J", out_);
  std::fflush(out_);
}

} // namespace fh::inspect
