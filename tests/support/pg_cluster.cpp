#include "support/pg_cluster.hpp"

#include <fcntl.h>
#include <pwd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <libpq-fe.h>

#include <atomic>
#include <cerrno>
#include <fstream>
#include <memory>
#include <sstream>
#include <stdexcept>

namespace mdp::test {

namespace {

std::string read_file(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// The newest /usr/lib/postgresql/<major>/bin that has pg_ctl.
std::filesystem::path find_server_bin() {
  std::filesystem::path best;
  int best_major = -1;
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator("/usr/lib/postgresql", ec)) {
    const std::string name = e.path().filename().string();
    if (name.empty() || name.find_first_not_of("0123456789") != std::string::npos) continue;
    if (!std::filesystem::exists(e.path() / "bin" / "pg_ctl")) continue;
    int major = std::stoi(name);
    if (major > best_major) {
      best_major = major;
      best = e.path() / "bin";
    }
  }
  if (best.empty()) throw std::runtime_error("PgCluster: no /usr/lib/postgresql/<N>/bin/pg_ctl");
  return best;
}

// The socket only names the port (listen_addresses is empty and the socket folder is private),
// so two clusters never collide; still vary it so logs are easy to tell apart.
unsigned short pick_port() {
  static std::atomic<unsigned> counter{0};
  return static_cast<unsigned short>(20000 + (static_cast<unsigned>(getpid()) * 31 + counter++) % 20000);
}

std::string percent_encode(const std::string& s) {
  static const char* hex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  return out;
}

}  // namespace

PgCluster::PgCluster() : bin_(find_server_bin()), port_(pick_port()), as_postgres_(geteuid() == 0) {
  std::string pattern = "/tmp/mdp-pgc.XXXXXX";  // short: a socket path has a 107-byte limit
  if (mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("PgCluster: mkdtemp failed");
  dir_ = pattern;
  try {
    if (as_postgres_) {
      const passwd* pw = getpwnam("postgres");
      if (pw == nullptr) throw std::runtime_error("PgCluster: running as root but no postgres user");
      if (chown(dir_.c_str(), pw->pw_uid, pw->pw_gid) != 0)
        throw std::runtime_error("PgCluster: chown of the cluster folder failed");
    }
    chmod(dir_.c_str(), 0755);
    run_tool("initdb", {"-D", (dir_ / "data").string(), "-A", "trust", "-E", "UTF8",
                        "--locale=C.UTF-8", "--no-sync", "-U", "postgres"},
             "initdb");
    start();
    run_tool("createdb", {"-h", dir_.string(), "-p", std::to_string(port_), "-U", "postgres",
                          "mdp_test"},
             "createdb");
  } catch (...) {
    cleanup();
    throw;
  }
}

PgCluster::~PgCluster() { cleanup(); }

void PgCluster::cleanup() noexcept {
  try {
    stop();
  } catch (...) {
    // Best effort: a server that will not stop still has its folder removed below; it then
    // exits on its own once it notices its data directory is gone.
  }
  std::error_code ec;
  if (!dir_.empty()) std::filesystem::remove_all(dir_, ec);
}

void PgCluster::start() {
  if (running_) return;
  run_tool("pg_ctl", {"-D", (dir_ / "data").string(), "-l", (dir_ / "server.log").string(), "-w",
                      "start", "-o",
                      "-c listen_addresses='' -c unix_socket_directories=" + dir_.string() +
                          " -p " + std::to_string(port_) +
                          " -c fsync=off -c max_connections=200"},
           "pg_ctl start");
  running_ = true;
}

void PgCluster::stop() {
  if (!running_) return;
  run_tool("pg_ctl", {"-D", (dir_ / "data").string(), "-m", "fast", "-w", "stop"}, "pg_ctl stop");
  running_ = false;
}

std::string PgCluster::conninfo() const {
  return "host=" + dir_.string() + " port=" + std::to_string(port_) +
         " dbname=mdp_test user=postgres";
}

std::string PgCluster::url() const {
  return "postgresql://postgres@" + percent_encode(dir_.string()) + ":" + std::to_string(port_) +
         "/mdp_test";
}

std::string PgCluster::server_log() const { return read_file(dir_ / "server.log"); }

void PgCluster::execute(const std::string& sql) const {
  std::unique_ptr<PGconn, decltype(&PQfinish)> conn(PQconnectdb(conninfo().c_str()), &PQfinish);
  if (PQstatus(conn.get()) != CONNECTION_OK)
    throw std::runtime_error(std::string("PgCluster: connect failed: ") +
                             PQerrorMessage(conn.get()));
  std::unique_ptr<PGresult, decltype(&PQclear)> res(PQexec(conn.get(), sql.c_str()), &PQclear);
  auto st = PQresultStatus(res.get());
  if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK)
    throw std::runtime_error(std::string("PgCluster: ") + sql + ": " +
                             PQresultErrorMessage(res.get()));
}

// Runs bin_/tool with args, from "/", as postgres when root; output goes to tools.log in the
// cluster folder. Throws with that log and the server log when the tool fails.
void PgCluster::run_tool(const std::string& tool, const std::vector<std::string>& args,
                         const std::string& what) const {
  std::vector<std::string> argv;
  if (as_postgres_) argv = {"runuser", "-u", "postgres", "--"};
  argv.push_back((bin_ / tool).string());
  argv.insert(argv.end(), args.begin(), args.end());
  std::vector<char*> cargv;
  for (auto& a : argv) cargv.push_back(a.data());
  cargv.push_back(nullptr);
  const std::string log = (dir_ / "tools.log").string();

  pid_t pid = fork();
  if (pid < 0) throw std::runtime_error("PgCluster: fork failed");
  if (pid == 0) {
    // Child: only async-signal-safe calls until exec.
    int fd = open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (fd >= 0) {
      dup2(fd, STDOUT_FILENO);
      dup2(fd, STDERR_FILENO);
    }
    int devnull = open("/dev/null", O_RDONLY);
    if (devnull >= 0) dup2(devnull, STDIN_FILENO);
    if (chdir("/") != 0) _exit(126);
    execvp(cargv[0], cargv.data());
    _exit(127);
  }
  int status = 0;
  while (waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) throw std::runtime_error("PgCluster: waitpid failed");
  }
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
    throw std::runtime_error("PgCluster: " + what + " failed (status " + std::to_string(status) +
                             ")\n--- tools.log ---\n" + read_file(dir_ / "tools.log") +
                             "\n--- server.log ---\n" + server_log());
}

}  // namespace mdp::test
