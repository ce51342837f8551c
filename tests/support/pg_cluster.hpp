// A private, restartable PostgreSQL server for tests that need to stop and start the database
// under running devhosts (outages, recovery, several processes on one database). Unlike
// MDP_TEST_PG (one shared server for the whole ctest run), each PgCluster owns its server:
// initdb into a fresh temp folder, socket only (no TCP port is opened; the port only names the
// socket file), fsync off. stop() and start() keep the same folder, port and socket, so
// conninfo() stays valid across restarts. The destructor stops the server and deletes the folder.
//
// Runs the server binaries from /usr/lib/postgresql/<newest>/bin; as root they run as the
// `postgres` user (initdb refuses root). Not thread-safe: drive one PgCluster from one thread.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

namespace mdp::test {

class PgCluster {
 public:
  // initdb, start, and create the database `mdp_test`. Throws std::runtime_error with the
  // server's log when any step fails (and cleans up what it made).
  PgCluster();
  ~PgCluster();  // stops the server (fast) if running, deletes the folder
  PgCluster(const PgCluster&) = delete;
  PgCluster& operator=(const PgCluster&) = delete;

  // `pg_ctl -m fast -w stop`: open connections are cut, the call returns once the server is
  // gone. No-op when already stopped.
  void stop();
  // `pg_ctl -w start` on the same data, port and socket folder; returns once the server
  // accepts connections. No-op when already running.
  void start();
  bool running() const noexcept { return running_; }

  // libpq key=value form: "host=<socket dir> port=<port> dbname=mdp_test user=postgres".
  std::string conninfo() const;
  // The same target as a postgresql:// URL (socket folder percent-encoded as the host).
  std::string url() const;
  // Runs SQL statements on mdp_test through libpq (e.g. pg_terminate_backend to cut the
  // clients' connections without stopping the server). Throws std::runtime_error on an error.
  void execute(const std::string& sql) const;

  const std::filesystem::path& dir() const noexcept { return dir_; }
  unsigned short port() const noexcept { return port_; }
  std::string server_log() const;  // everything the server wrote to its log so far

 private:
  void run_tool(const std::string& tool, const std::vector<std::string>& args,
                const std::string& what) const;
  void cleanup() noexcept;

  std::filesystem::path bin_;
  std::filesystem::path dir_;
  unsigned short port_ = 0;
  bool as_postgres_ = false;
  bool running_ = false;
};

}  // namespace mdp::test
