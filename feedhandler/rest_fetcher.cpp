#include "feedhandler/rest_fetcher.hpp"

#include <chrono>

#include <curl/curl.h>

#include "shm/segment_file.hpp" // realtime_ns

namespace fh {

namespace {

struct Sink {
  std::string* body;
  std::size_t max;
  bool too_large = false;
};

std::size_t on_data(char* data, std::size_t size, std::size_t n, void* user) {
  auto* sink = static_cast<Sink*>(user);
  const std::size_t bytes = size * n;
  if (sink->body->size() + bytes > sink->max) {
    sink->too_large = true;
    return 0; // aborts the transfer (CURLE_WRITE_ERROR)
  }
  sink->body->append(data, bytes);
  return bytes;
}

std::once_flag g_curl_init;

} // namespace

std::variant<std::unique_ptr<RestFetcher>, std::string> RestFetcher::start(RestOptions options) {
  CURLcode init = CURLE_OK;
  std::call_once(g_curl_init, [&] { init = curl_global_init(CURL_GLOBAL_DEFAULT); });
  if (init != CURLE_OK) return std::string("rest: curl_global_init: ") + curl_easy_strerror(init);
  std::unique_ptr<RestFetcher> f(new RestFetcher(std::move(options)));
  f->worker_ = std::thread([p = f.get()] { p->run(); });
  return f;
}

RestFetcher::RestFetcher(RestOptions options) : options_(std::move(options)) {}

RestFetcher::~RestFetcher() {
  {
    std::lock_guard lock(mutex_);
    stop_ = true;
  }
  wake_.notify_all();
  if (worker_.joinable()) worker_.join();
}

void RestFetcher::submit(RestRequest request) {
  outstanding_.fetch_add(1, std::memory_order_relaxed);
  {
    std::lock_guard lock(mutex_);
    requests_.push_back(std::move(request));
  }
  wake_.notify_one();
}

bool RestFetcher::poll(RestResponse& out) {
  if (ready_.load(std::memory_order_acquire) == 0) return false;
  std::lock_guard lock(mutex_);
  if (responses_.empty()) return false;
  out = std::move(responses_.front());
  responses_.pop_front();
  ready_.fetch_sub(1, std::memory_order_release);
  outstanding_.fetch_sub(1, std::memory_order_relaxed);
  return true;
}

RestResponse RestFetcher::perform(void* handle, const RestRequest& r) {
  CURL* curl = static_cast<CURL*>(handle);
  RestResponse resp;
  resp.id = r.id;
  resp.url = r.url;
  Sink sink{&resp.body, options_.max_body_bytes};
  char errbuf[CURL_ERROR_SIZE] = {};
  curl_easy_reset(curl); // keeps the connection cache: the next request to the host reuses it
  curl_easy_setopt(curl, CURLOPT_URL, r.url.c_str());
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, &on_data);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &sink);
  curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, errbuf);
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 0L);
  curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "https,http");
  curl_easy_setopt(curl, CURLOPT_USERAGENT, options_.user_agent.c_str());
  curl_easy_setopt(curl, CURLOPT_ACCEPT_ENCODING, ""); // gzip/deflate if the venue offers it
  curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(options_.connect_timeout_ms));
  curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, static_cast<long>(r.timeout_ms));
  const long verify = options_.insecure_skip_verify ? 0L : 1L;
  curl_easy_setopt(curl, CURLOPT_SSL_VERIFYPEER, verify);
  curl_easy_setopt(curl, CURLOPT_SSL_VERIFYHOST, verify * 2L);
  if (!options_.ca_file.empty()) curl_easy_setopt(curl, CURLOPT_CAINFO, options_.ca_file.c_str());
  const auto t0 = std::chrono::steady_clock::now();
  const CURLcode rc = curl_easy_perform(curl);
  resp.elapsed_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(
                        std::chrono::steady_clock::now() - t0)
                        .count();
  resp.recv_ts_ns = shm::realtime_ns();
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &resp.status);
  if (rc != CURLE_OK) {
    resp.error = sink.too_large ? "response larger than max_body_bytes"
                                : std::string(curl_easy_strerror(rc)) +
                                      (errbuf[0] != '\0' ? std::string(": ") + errbuf : "");
    resp.status = 0;
  }
  return resp;
}

void RestFetcher::run() {
  CURL* curl = curl_easy_init();
  for (;;) {
    RestRequest r;
    {
      std::unique_lock lock(mutex_);
      wake_.wait(lock, [&] { return stop_ || !requests_.empty(); });
      if (stop_) break;
      r = std::move(requests_.front());
      requests_.pop_front();
    }
    RestResponse resp;
    if (curl == nullptr) {
      resp.id = r.id;
      resp.url = r.url;
      resp.error = "curl_easy_init failed";
    } else {
      resp = perform(curl, r);
    }
    {
      std::lock_guard lock(mutex_);
      responses_.push_back(std::move(resp));
    }
    ready_.fetch_add(1, std::memory_order_release);
  }
  if (curl != nullptr) curl_easy_cleanup(curl);
}

} // namespace fh
