#include "net/smtp.h"

#include <algorithm>
#include <cstring>

#include "net/curl_easy.h"
#include "net/http_transfer.h"

namespace da::net {
namespace {

struct Upload {
  const std::string* data = nullptr;
  size_t offset = 0;
};

size_t ReadUpload(char* buffer, size_t size, size_t n, void* user) {
  auto* up = static_cast<Upload*>(user);
  size_t len = std::min(size * n, up->data->size() - up->offset);
  std::memcpy(buffer, up->data->data() + up->offset, len);
  up->offset += len;
  return len;
}

}  // namespace

Status SendSmtp(const SmtpMessage& message) {
  DA_RETURN_IF_ERROR(CheckCaFile());
  CurlEasy curl = CurlEasy::Create();
  if (!curl) return Internal("curl_easy_init failed");
  CURL* c = curl.get();
  char errbuf[CURL_ERROR_SIZE] = {0};
  CurlSlist rcpt;
  Append(rcpt, message.rcpt_to);
  Upload upload{&message.data, 0};
  curl_easy_setopt(c, CURLOPT_URL, message.url.c_str());
  curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
  curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(message.connect_timeout_ms));
  curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, static_cast<long>(message.timeout_ms));
  if (message.url.starts_with("smtp://")) {
    curl_easy_setopt(c, CURLOPT_USE_SSL,
                     static_cast<long>(message.start_tls == StartTls::kRequire ? CURLUSESSL_ALL
                                                                               : CURLUSESSL_TRY));
  }
  ConfigureTls(c);
  curl_easy_setopt(c, CURLOPT_MAIL_FROM, message.mail_from.c_str());
  curl_easy_setopt(c, CURLOPT_MAIL_RCPT, rcpt.get());
  curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
  curl_easy_setopt(c, CURLOPT_READFUNCTION, &ReadUpload);
  curl_easy_setopt(c, CURLOPT_READDATA, &upload);
  curl_easy_setopt(c, CURLOPT_INFILESIZE_LARGE, static_cast<curl_off_t>(message.data.size()));
  const CURLcode rc = curl_easy_perform(c);
  if (rc != CURLE_OK) return Unavailable(errbuf[0] != '\0' ? errbuf : curl_easy_strerror(rc));
  return Status::Ok();
}

}  // namespace da::net
