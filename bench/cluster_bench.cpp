// Several devhosts on one PostgreSQL: how fast a change on one host reaches another, and how fast
// every host serves again after the database restarts. Wall-clock latencies of whole HTTP
// round trips between real processes, so a plain program with percentiles rather than Google
// Benchmark (which measures the throughput of a loop). Run through scripts/bench-cluster.sh.
//
//   cluster_bench revoke [TRIALS=100]
//     Three devhosts (default settings). Per trial: host A creates a key, hosts B and C each
//     answer one request with it (so both cache it), then A revokes it while one thread per
//     host polls B and C with the key, back to back on a keep-alive connection, until the
//     answer is 401 revoked_api_key. Latency: from sending the revoke to A until the first
//     refusal on B (resp. C); also reported from A's 200 answer to the revoke.
//   cluster_bench plan [TRIALS=50]
//     The same for a plan change: A cancels the api_access addon of a clinic whose key B and C
//     hold (until both answer 403 api_access_not_enabled), then buys it again (until 200).
//   cluster_bench recovery [TRIALS=5] [OUTAGE_MS=2000]
//     Three devhosts, an admin logged in on each, one cached key per host. Per trial:
//     `pg_ctl -m fast stop`, OUTAGE_MS without a server, `pg_ctl -w start`; from the moment
//     that start returns, four threads per host poll (every 5 ms) POST /login, the admin
//     route GET /plugins/api-access/keys and the API Keys page (both with the session from
//     before the outage) and GET /api/v1/patients (with the cached key) until each first
//     answers 200.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <latch>
#include <string>
#include <thread>
#include <vector>

#include "support/devhost_cluster.hpp"

namespace {

using namespace mdp::test;
using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

double ms_between(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration<double, std::milli>(b - a).count();
}

// Nearest-rank percentile of an already sorted sample.
double percentile(const std::vector<double>& sorted, double p) {
  if (sorted.empty()) return 0;
  std::size_t rank = static_cast<std::size_t>(std::max(1.0, std::ceil(p / 100.0 * sorted.size())));
  return sorted[std::min(rank, sorted.size()) - 1];
}

void report(const std::string& what, std::vector<double> v) {
  std::sort(v.begin(), v.end());
  std::printf("%-44s n=%-4zu p50 %8.2f  p90 %8.2f  p99 %8.2f  max %8.2f  min %8.2f  (ms)\n",
              what.c_str(), v.size(), percentile(v, 50), percentile(v, 90), percentile(v, 99),
              v.empty() ? 0.0 : v.back(), v.empty() ? 0.0 : v.front());
}

// Latency samples of one kind of change, made on host A and seen on hosts B and C.
struct ChangeLatency {
  std::vector<double> from_send[2], from_ack[2];  // per observing host
  std::vector<double> round_trip;                  // A's own answer to the change
  std::vector<int> polls[2];
  int failures = 0;
};

// One trial: B and C answer one request with `key` (caching it, and its clinic's plan), then
// both poll back to back while A makes `change`, until `reached` holds for their answer.
void measure_change(DevhostCluster& cluster, const std::string& key,
                    const std::function<void()>& change,
                    const std::function<bool(const HttpResult&)>& reached, ChangeLatency& out) {
  std::latch ready(2), go(1);  // blocking waits: no spinning thread steals a core
  Clock::time_point seen_at[2];
  bool seen[2] = {false, false};
  int n_polls[2] = {0, 0};
  std::vector<std::thread> pollers;
  for (int h = 0; h < 2; ++h) {
    pollers.emplace_back([&, h] {
      HttpClient c("127.0.0.1", cluster.host(1 + h).port(), true);
      call_api(c, key);  // caches the key (and the plan answer) on this host
      ready.count_down();
      go.wait();
      const auto give_up = Clock::now() + 10s;
      while (Clock::now() < give_up) {
        HttpResult r = call_api(c, key);
        ++n_polls[h];
        if (reached(r)) {
          seen_at[h] = Clock::now();
          seen[h] = true;
          return;
        }
      }
    });
  }
  ready.wait();  // both pollers have their connection open and the key cached
  go.count_down();
  const auto sent = Clock::now();
  change();
  const auto acked = Clock::now();
  out.round_trip.push_back(ms_between(sent, acked));
  for (auto& p : pollers) p.join();
  for (int h = 0; h < 2; ++h) {
    if (!seen[h]) {
      ++out.failures;
      std::fprintf(stderr, "host %d never saw the change within 10 s\n", 1 + h);
      continue;
    }
    out.from_send[h].push_back(ms_between(sent, seen_at[h]));
    out.from_ack[h].push_back(ms_between(acked, seen_at[h]));
    out.polls[h].push_back(n_polls[h]);
  }
}

void report_change(const std::string& what, const ChangeLatency& l) {
  std::vector<double> all_send, all_ack;
  for (int h = 0; h < 2; ++h) {
    const std::string name = h == 0 ? "B" : "C";
    report("from sending the " + what + ", host " + name, l.from_send[h]);
    report("from A's answer to the " + what + ", host " + name, l.from_ack[h]);
    all_send.insert(all_send.end(), l.from_send[h].begin(), l.from_send[h].end());
    all_ack.insert(all_ack.end(), l.from_ack[h].begin(), l.from_ack[h].end());
    double mean_polls = 0;
    for (int p : l.polls[h]) mean_polls += p;
    if (!l.polls[h].empty())
      std::printf("  host %s: %.1f polls per trial on average\n", name.c_str(),
                  mean_polls / static_cast<double>(l.polls[h].size()));
  }
  report("from sending the " + what + ", B and C", all_send);
  report("A's answer to the " + what + " (round trip)", l.round_trip);
  report("from A's answer to the " + what + ", B and C", all_ack);
  if (l.failures > 0) std::printf("FAILURES: %d changes never seen within 10 s\n", l.failures);
}

int revoke_bench(int trials) {
  DevhostCluster cluster(3);
  AdminSession a(cluster.host(0).port(), "owner@brightsmiles.test");
  ChangeLatency latency;
  for (int t = 0; t < trials; ++t) {
    const ApiKey key = a.create_key("Latency trial " + std::to_string(t));
    measure_change(cluster, key.secret, [&] { a.revoke(key.id); },
                   [](const HttpResult& r) { return describe(r) == "HTTP 401 revoked_api_key"; },
                   latency);
  }
  std::printf("revoke on host A -> first 401 revoked_api_key on another host, %d trials\n", trials);
  report_change("revoke", latency);
  return latency.failures == 0 ? 0 : 1;
}

// Lakeside Family Dentistry (professional tier + the api_access addon): A cancels the addon
// (until B and C answer 403 api_access_not_enabled), then buys it again (until they answer 200).
int plan_bench(int trials) {
  DevhostCluster cluster(3);
  AdminSession a(cluster.host(0).port(), "admin@lakeside.test");
  const ApiKey key = a.create_key("Plan latency");
  ChangeLatency cancel, buy;
  for (int t = 0; t < trials; ++t) {
    measure_change(cluster, key.secret, [&] { a.set_addon("api_access", false); },
                   [](const HttpResult& r) {
                     return describe(r) == "HTTP 403 api_access_not_enabled";
                   },
                   cancel);
    measure_change(cluster, key.secret, [&] { a.set_addon("api_access", true); },
                   [](const HttpResult& r) { return r.status == 200; }, buy);
  }
  std::printf("addon cancelled on host A -> first 403 api_access_not_enabled on another host, "
              "%d trials\n", trials);
  report_change("cancellation", cancel);
  std::printf("addon bought again on host A -> first 200 on another host, %d trials\n", trials);
  report_change("purchase", buy);
  return cancel.failures + buy.failures == 0 ? 0 : 1;
}

int recovery_bench(int trials, int outage_ms) {
  DevhostCluster cluster(3);
  const std::size_t n = cluster.size();
  std::vector<std::unique_ptr<AdminSession>> admins;
  std::vector<ApiKey> keys;
  for (std::size_t i = 0; i < n; ++i)
    admins.push_back(std::make_unique<AdminSession>(cluster.host(i).port(), "owner@brightsmiles.test"));
  for (std::size_t i = 0; i < n; ++i) {
    keys.push_back(admins[0]->create_key("Recovery " + std::to_string(i)));
    HttpClient c("127.0.0.1", cluster.host(i).port());
    if (call_api(c, keys[i].secret, "/api/v1/patients").status != 200) {
      std::fprintf(stderr, "host %zu does not serve the API before the first outage\n", i);
      return 1;
    }
  }
  constexpr int kEndpoints = 4;
  const char* names[kEndpoints] = {"POST /login", "GET admin route (old session)",
                                   "GET API Keys page (old session)", "GET /api/v1/patients"};
  std::vector<double> samples[kEndpoints];
  std::vector<double> all_ready;  // per host and trial: the last of the four
  int failures = 0;
  for (int t = 0; t < trials; ++t) {
    cluster.pg().stop();
    std::this_thread::sleep_for(std::chrono::milliseconds(outage_ms));
    cluster.pg().start();
    const auto started = Clock::now();
    std::vector<std::thread> pollers;
    std::vector<double> first_ok(n * kEndpoints, -1);
    for (std::size_t i = 0; i < n; ++i) {
      for (int what = 0; what < kEndpoints; ++what) {
        pollers.emplace_back([&, i, what] {
          HttpClient c("127.0.0.1", cluster.host(i).port());
          const auto give_up = started + 30s;
          while (Clock::now() < give_up) {
            HttpResult r;
            try {
              if (what == 0)
                r = c.post("/login", R"({"email":"owner@brightsmiles.test","password":"devpass"})");
              else if (what == 1)
                r = c.get("/plugins/api-access/keys", admins[i]->session().headers(false));
              else if (what == 2)
                r = c.get("/settings/integrations/api-keys", admins[i]->session().headers(false));
              else
                r = call_api(c, keys[i].secret, "/api/v1/patients");
            } catch (const std::exception&) {
              r.status = 0;
            }
            if (r.status == 200) {
              first_ok[i * kEndpoints + what] = ms_between(started, Clock::now());
              return;
            }
            std::this_thread::sleep_for(5ms);
          }
        });
      }
    }
    for (auto& p : pollers) p.join();
    for (std::size_t i = 0; i < n; ++i) {
      double ready = 0;
      for (int what = 0; what < kEndpoints; ++what) {
        const double v = first_ok[i * kEndpoints + what];
        if (v < 0) {
          ++failures;
          std::fprintf(stderr, "trial %d host %zu: %s never answered 200 within 30 s\n", t, i, names[what]);
          ready = -1;
          continue;
        }
        samples[what].push_back(v);
        if (ready >= 0) ready = std::max(ready, v);
      }
      if (ready >= 0) all_ready.push_back(ready);
    }
  }
  std::printf("recovery after a PostgreSQL restart (%d ms down), %d trials x %zu hosts, "
              "from `pg_ctl -w start` returning to the first 200\n", outage_ms, trials, n);
  for (int what = 0; what < kEndpoints; ++what) report(names[what], samples[what]);
  report("all four on a host", all_ready);
  if (failures > 0) std::printf("FAILURES: %d endpoints never recovered within 30 s\n", failures);
  return failures == 0 ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  const std::string mode = argc > 1 ? argv[1] : "";
  try {
    if (mode == "revoke") return revoke_bench(argc > 2 ? std::atoi(argv[2]) : 100);
    if (mode == "plan") return plan_bench(argc > 2 ? std::atoi(argv[2]) : 50);
    if (mode == "recovery")
      return recovery_bench(argc > 2 ? std::atoi(argv[2]) : 5, argc > 3 ? std::atoi(argv[3]) : 2000);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "cluster_bench: %s\n", e.what());
    return 1;
  }
  std::fprintf(stderr,
               "usage: cluster_bench revoke [TRIALS] | plan [TRIALS] | recovery [TRIALS] [OUTAGE_MS]\n");
  return 2;
}
