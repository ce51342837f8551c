// Runs mdp-devhost (the one this build made) as a child process for tests: on a database the
// test chooses, with --listen 127.0.0.1:0 --test-clock, parses the URL it prints, and stops it
// with SIGTERM (graceful: plugins flush on on_stop). Restartable on the same database.
#pragma once

#include <filesystem>
#include <string>
#include <sys/types.h>
#include <vector>

#include "support/temp_dir.hpp"

namespace mdp::test {

struct DevhostOptions {
  std::string database;                     // the --database value (see sqlite_database())
  std::string plugins_dir = MDP_TEST_PLUGINS_DIR;  // empty: no --plugins flag
  bool test_clock = true;
  std::vector<std::string> extra_args;
  unsigned long open_files_limit = 0;  // > 0: the child's RLIMIT_NOFILE (like `ulimit -n`)
  std::string executable = MDP_TEST_DEVHOST_EXE;
  // --record-responses: the file the devhost appends every plugin-route and public-API answer
  // to. Empty: a file of its own in $MDP_RECORD_RESPONSES_DIR when that is set (ctest sets it
  // for the HTTP suites, and openapi.responses checks the files against docs/openapi.json),
  // otherwise nothing is recorded.
  std::string record_responses;
};

// "sqlite:<dir>/devhost.db", a fresh SQLite file in `dir`.
std::string sqlite_database(const TempDir& dir);

struct ExitResult {
  int exit_code = -1;  // 128 + signal if killed by one
  std::string out;
  std::string err;
};

class DevhostProcess {
 public:
  explicit DevhostProcess(DevhostOptions options);
  ~DevhostProcess();  // stops the child if still running; a non-zero exit fails the test
  DevhostProcess(const DevhostProcess&) = delete;
  DevhostProcess& operator=(const DevhostProcess&) = delete;

  // Starts and waits (at most 60 s) for "mdp-devhost listening on http://127.0.0.1:PORT".
  // Throws std::runtime_error with the child's stderr if it exits or never says so.
  void start();
  // SIGTERM and wait; returns the exit code (128 + signal if it died of one). Safe to call twice.
  int stop();
  bool running() const noexcept { return pid_ > 0; }

  unsigned short port() const noexcept { return port_; }
  std::string base_url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  std::string stderr_text() const;  // everything the child wrote to stderr so far
  const DevhostOptions& options() const noexcept { return options_; }
  // The file this devhost records its answers to; empty when it records none.
  const std::string& recorded_responses() const noexcept { return options_.record_responses; }

  // Runs the devhost with `args` until it exits on its own (e.g. a refused plugin); kills it
  // after `timeout_s` seconds (then exit_code is 128 + SIGKILL).
  static ExitResult run_to_exit(const std::vector<std::string>& args, int timeout_s = 60,
                                const std::string& executable = MDP_TEST_DEVHOST_EXE);

 private:
  DevhostOptions options_;
  TempDir logs_;
  pid_t pid_ = -1;
  int stdout_fd_ = -1;
  unsigned short port_ = 0;
  int starts_ = 0;
};

}  // namespace mdp::test
