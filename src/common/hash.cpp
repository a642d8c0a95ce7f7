#include "common/hash.h"

#include <openssl/evp.h>
#include <openssl/rand.h>

#include <fstream>
#include <memory>
#include <vector>

namespace da {
namespace {
std::string ToHex(const unsigned char* data, size_t n) {
  static const char* kHex = "0123456789abcdef";
  std::string out(n * 2, '0');
  for (size_t i = 0; i < n; ++i) {
    out[2 * i] = kHex[data[i] >> 4];
    out[2 * i + 1] = kHex[data[i] & 0xf];
  }
  return out;
}

struct MdCtxDeleter {
  void operator()(EVP_MD_CTX* c) const { EVP_MD_CTX_free(c); }
};
using MdCtx = std::unique_ptr<EVP_MD_CTX, MdCtxDeleter>;

std::string DigestHex(const EVP_MD* md, std::string_view bytes) {
  MdCtx ctx(EVP_MD_CTX_new());
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_DigestInit_ex(ctx.get(), md, nullptr);
  EVP_DigestUpdate(ctx.get(), bytes.data(), bytes.size());
  EVP_DigestFinal_ex(ctx.get(), out, &len);
  return ToHex(out, len);
}
}  // namespace

Result<std::string> Md5File(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return NotFound("cannot open '" + path.string() + "' for hashing");
  MdCtx ctx(EVP_MD_CTX_new());
  EVP_DigestInit_ex(ctx.get(), EVP_md5(), nullptr);
  std::vector<char> buf(1 << 20);
  while (in) {
    in.read(buf.data(), static_cast<std::streamsize>(buf.size()));
    auto got = in.gcount();
    if (got > 0) EVP_DigestUpdate(ctx.get(), buf.data(), static_cast<size_t>(got));
  }
  if (in.bad()) return Internal("read error while hashing '" + path.string() + "'");
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_DigestFinal_ex(ctx.get(), out, &len);
  return ToHex(out, len);
}

std::string Md5Hex(std::string_view bytes) { return DigestHex(EVP_md5(), bytes); }
std::string Sha256Hex(std::string_view bytes) { return DigestHex(EVP_sha256(), bytes); }

std::string RandomHex(size_t n_bytes) {
  std::vector<unsigned char> buf(n_bytes);
  RAND_bytes(buf.data(), static_cast<int>(n_bytes));
  return ToHex(buf.data(), n_bytes);
}

}  // namespace da
