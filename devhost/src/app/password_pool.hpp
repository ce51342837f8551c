// The threads that check passwords (Argon2id, ~19 MiB and tens of milliseconds each), so that no
// login ever runs on a request thread. Bounded both ways: `threads` workers at lowered CPU
// priority (nice +10: under load, request threads win the CPU), and at most `queue` checks
// waiting; beyond that submit() refuses and the caller answers 503 at once.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace mdp::devhost {

class PasswordPool {
 public:
  PasswordPool(int threads, std::size_t queue);
  ~PasswordPool();  // stop()
  PasswordPool(const PasswordPool&) = delete;
  PasswordPool& operator=(const PasswordPool&) = delete;

  // Queues `job` (it must not throw); false if the queue is full.
  bool submit(std::function<void()> job);

  // Refuses new jobs, runs what is queued and joins the threads; safe to call twice. After it
  // returns no pool thread holds a job, so whatever a job captured (a connection of the HTTP
  // server) has been released here, before its owner goes away.
  void stop() noexcept;

 private:
  void work();

  std::size_t capacity_;
  std::mutex mutex_;
  std::condition_variable ready_;
  std::deque<std::function<void()>> jobs_;
  bool stopping_ = false;
  std::vector<std::thread> threads_;
};

}  // namespace mdp::devhost
