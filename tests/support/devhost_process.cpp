#include "support/devhost_process.hpp"

#include <gtest/gtest.h>

#include <fcntl.h>
#include <poll.h>
#include <sys/resource.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

namespace mdp::test {

namespace {

std::string read_file(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// fork + exec with stdout to `out_fd` and stderr appended to `err_path`, in `cwd`.
pid_t spawn(const std::vector<std::string>& argv, int out_fd, const std::string& err_path,
            const std::string& cwd, unsigned long open_files_limit = 0) {
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_t pid = fork();
  if (pid < 0) throw std::runtime_error("fork failed");
  if (pid == 0) {
    // Child: only async-signal-safe calls until exec.
    int err = open(err_path.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (err >= 0) dup2(err, STDERR_FILENO);
    dup2(out_fd, STDOUT_FILENO);
    if (chdir(cwd.c_str()) != 0) _exit(126);
    if (open_files_limit > 0) {
      rlimit rl{open_files_limit, open_files_limit};
      if (setrlimit(RLIMIT_NOFILE, &rl) != 0) _exit(125);
    }
    execv(args[0], args.data());
    _exit(127);
  }
  return pid;
}

// Waits for `pid` at most `timeout_s`; SIGKILLs it after that. Returns the exit code.
int wait_for(pid_t pid, int timeout_s) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(timeout_s);
  int status = 0;
  for (;;) {
    pid_t r = waitpid(pid, &status, WNOHANG);
    if (r == pid) break;
    if (r < 0) return -1;
    if (std::chrono::steady_clock::now() > deadline) {
      kill(pid, SIGKILL);
      waitpid(pid, &status, 0);
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return -1;
}

}  // namespace

std::string sqlite_database(const TempDir& dir) { return "sqlite:" + (dir / "devhost.db").string(); }

DevhostProcess::DevhostProcess(DevhostOptions options) : options_(std::move(options)) {
  const char* dir = std::getenv("MDP_RECORD_RESPONSES_DIR");
  if (options_.record_responses.empty() && dir != nullptr && *dir != '\0') {
    // One file per devhost of this test process; restarts append to it.
    static std::atomic<int> next{0};
    std::filesystem::create_directories(dir);
    options_.record_responses = (std::filesystem::path(dir) / ("devhost-" + std::to_string(getpid()) + "-" +
                                                              std::to_string(next++) + ".jsonl")).string();
  }
}

// A devhost the test left running must still shut down cleanly: a crash or hang at exit (exit
// code other than 0) is a bug of the host even when every request was answered right.
DevhostProcess::~DevhostProcess() {
  if (!running()) return;
  const int code = stop();
  if (code != 0) {
    const std::string err = stderr_text();
    ADD_FAILURE() << "mdp-devhost did not stop cleanly on SIGTERM (exit " << code << ")\n"
                  << err.substr(err.size() > 4000 ? err.size() - 4000 : 0);
  }
}

std::string DevhostProcess::stderr_text() const { return read_file(logs_ / "stderr.txt"); }

void DevhostProcess::start() {
  if (running()) throw std::runtime_error("devhost already running");
  std::vector<std::string> argv{options_.executable, "--listen", "127.0.0.1:0"};
  if (!options_.database.empty()) {
    argv.push_back("--database");
    argv.push_back(options_.database);
  }
  if (!options_.plugins_dir.empty()) {
    argv.push_back("--plugins");
    argv.push_back(options_.plugins_dir);
  }
  if (options_.test_clock) argv.push_back("--test-clock");
  if (!options_.record_responses.empty()) {
    argv.push_back("--record-responses");
    argv.push_back(options_.record_responses);
  }
  for (const auto& a : options_.extra_args) argv.push_back(a);

  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) throw std::runtime_error("pipe failed");
  pid_ = spawn(argv, fds[1], (logs_ / "stderr.txt").string(), logs_.path().string(),
               options_.open_files_limit);
  close(fds[1]);
  stdout_fd_ = fds[0];
  ++starts_;

  std::string out;
  const std::string marker = "mdp-devhost listening on http://127.0.0.1:";
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (out.find('\n') == std::string::npos) {
    pollfd p{stdout_fd_, POLLIN, 0};
    int ms = static_cast<int>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                  deadline - std::chrono::steady_clock::now()).count());
    if (ms <= 0 || poll(&p, 1, ms) <= 0) break;
    char buf[256];
    ssize_t n = read(stdout_fd_, buf, sizeof buf);
    if (n <= 0) break;
    out.append(buf, static_cast<std::size_t>(n));
  }
  auto pos = out.find(marker);
  if (pos == std::string::npos || out.find('\n') == std::string::npos) {
    int code = stop();
    throw std::runtime_error("mdp-devhost did not start (exit " + std::to_string(code) +
                             "); stdout: " + out + "; stderr: " + stderr_text());
  }
  port_ = static_cast<unsigned short>(std::stoi(out.substr(pos + marker.size())));
}

int DevhostProcess::stop() {
  if (pid_ <= 0) return -1;
  kill(pid_, SIGTERM);
  int code = wait_for(pid_, 60);
  pid_ = -1;
  if (stdout_fd_ >= 0) close(stdout_fd_);
  stdout_fd_ = -1;
  return code;
}

ExitResult DevhostProcess::run_to_exit(const std::vector<std::string>& args, int timeout_s,
                                       const std::string& executable) {
  TempDir dir;
  std::vector<std::string> argv{executable};
  argv.insert(argv.end(), args.begin(), args.end());
  int out_fd = open((dir / "stdout.txt").c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (out_fd < 0) throw std::runtime_error("cannot create stdout file");
  pid_t pid = spawn(argv, out_fd, (dir / "stderr.txt").string(), dir.path().string());
  close(out_fd);
  ExitResult r;
  r.exit_code = wait_for(pid, timeout_s);
  r.out = read_file(dir / "stdout.txt");
  r.err = read_file(dir / "stderr.txt");
  return r;
}

}  // namespace mdp::test
