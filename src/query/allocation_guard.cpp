#include "query/allocation_guard.h"

#include <atomic>
#include <cerrno>

#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

namespace da::query {
namespace {
std::atomic<size_t> g_largest_mapping{0};  // constant-initialised: safe before main()
}  // namespace

void SetLargestMappingBytes(size_t bytes) { g_largest_mapping.store(bytes, std::memory_order_relaxed); }

size_t LargestMappingBytes() { return g_largest_mapping.load(std::memory_order_relaxed); }

}  // namespace da::query

#if !defined(__SANITIZE_ADDRESS__) && !defined(__SANITIZE_THREAD__)
// Interposes libc's mmap for this executable and the shared libraries it loads (libduckdb's
// jemalloc calls mmap through the PLT). The real call is the raw system call.
extern "C" void* mmap(void* addr, size_t length, int prot, int flags, int fd,
                       off_t offset) noexcept {
  const size_t cap = da::query::LargestMappingBytes();
  if (cap != 0 && (flags & MAP_ANONYMOUS) != 0 && length > cap) {
    errno = ENOMEM;
    return MAP_FAILED;
  }
  return reinterpret_cast<void*>(::syscall(SYS_mmap, addr, length, prot, flags, fd, offset));
}
// glibc's malloc serves large requests with its own internal mmap, which the interposition
// above does not see; DuckDB's constant folding (repeat('x', 1000000000)) and Values use it.
extern "C" void* __libc_malloc(size_t size);
extern "C" void* __libc_calloc(size_t count, size_t size);
extern "C" void* __libc_realloc(void* ptr, size_t size);

namespace {
bool OverCap(size_t size) {
  const size_t cap = da::query::LargestMappingBytes();
  return cap != 0 && size > cap;
}
}  // namespace

extern "C" void* malloc(size_t size) noexcept {
  if (OverCap(size)) {
    errno = ENOMEM;
    return nullptr;
  }
  return __libc_malloc(size);
}
extern "C" void* calloc(size_t count, size_t size) noexcept {
  size_t total = 0;
  if (__builtin_mul_overflow(count, size, &total) || OverCap(total)) {
    errno = ENOMEM;
    return nullptr;
  }
  return __libc_calloc(count, size);
}
extern "C" void* realloc(void* ptr, size_t size) noexcept {
  if (OverCap(size)) {
    errno = ENOMEM;
    return nullptr;  // `ptr` stays valid, as realloc's contract says
  }
  return __libc_realloc(ptr, size);
}
extern "C" void* mmap64(void* addr, size_t length, int prot, int flags, int fd,
                         __off64_t offset) noexcept {
  return mmap(addr, length, prot, flags, fd, offset);
}
#endif
