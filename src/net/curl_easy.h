#pragma once
/// The owner of one libcurl easy handle, for the files of src/net only. Creating one
/// initialises libcurl for the process first (curl_global_init, once, thread-safe): this is
/// the one place da calls it.
#include <curl/curl.h>

#include <memory>
#include <string>

namespace da::net {

class CurlEasy {
 public:
  /// A fresh handle; empty (`!*this`) when libcurl cannot make one.
  static CurlEasy Create();

  CURL* get() const { return handle_.get(); }
  explicit operator bool() const { return handle_ != nullptr; }

 private:
  struct Deleter {
    void operator()(CURL* c) const { curl_easy_cleanup(c); }
  };
  std::unique_ptr<CURL, Deleter> handle_;
};

/// Owner of a curl_slist (request headers, mail recipients).
struct CurlSlistDeleter {
  void operator()(curl_slist* l) const { curl_slist_free_all(l); }
};
using CurlSlist = std::unique_ptr<curl_slist, CurlSlistDeleter>;

/// Appends `line` to `list` (keeps the list when libcurl is out of memory).
inline void Append(CurlSlist& list, const std::string& line) {
  if (curl_slist* grown = curl_slist_append(list.get(), line.c_str())) {
    list.release();
    list.reset(grown);
  }
}

}  // namespace da::net
