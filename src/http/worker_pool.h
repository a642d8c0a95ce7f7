#pragma once
/// A fixed set of threads running queued tasks, with a bounded queue: the HTTP engine's pool
/// for long handlers (queries, password hashing, sync triggers), apart from its io threads.
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace da::http {

class WorkerPool {
 public:
  /// Starts `threads` (>= 1) threads; at most `max_queued` tasks wait beyond those running.
  WorkerPool(size_t threads, size_t max_queued);
  /// Runs every task already queued, then joins the threads.
  ~WorkerPool();
  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;

  /// Queues `task`; false (and `task` is not run) when the queue is full or the pool is
  /// stopping. Thread-safe. A task must not throw (the engine's tasks catch everything).
  bool TrySubmit(std::function<void()> task);

  size_t threads() const { return threads_.size(); }
  size_t max_queued() const { return max_queued_; }

  /// Threads from `DA_HTTP_WORKERS` when set to a positive number, else
  /// max(4, 2 * hardware_concurrency); the queue holds 64 tasks per thread.
  static size_t DefaultThreads();

 private:
  void Run();

  const size_t max_queued_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> queue_;
  bool stopping_ = false;
  std::vector<std::thread> threads_;
};

}  // namespace da::http
