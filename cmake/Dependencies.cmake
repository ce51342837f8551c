# Finds every third-party library once, as imported targets; subfolders only link targets.
# Debian 12 package names: scripts/install-deps.sh.
find_package(Threads REQUIRED)
find_package(Boost 1.81.0 CONFIG REQUIRED COMPONENTS json url)
find_package(PkgConfig REQUIRED)
pkg_check_modules(BOTAN REQUIRED IMPORTED_TARGET botan-2)
find_package(SQLite3 REQUIRED)
find_package(PostgreSQL REQUIRED)
find_package(ZLIB REQUIRED)  # the devhost gzips its pages
find_package(prometheus-cpp CONFIG REQUIRED)  # the devhost's metrics (prometheus-cpp::core)
# Clinic time zones in the plugin: Howard Hinnant's date library (libhowardhinnant-date-dev);
# date::date-tz reads the system's tz database (USE_OS_TZDB=1, package tzdata).
find_package(date CONFIG REQUIRED)

# libcrypto: SHA-256 of migration files in the SDK (libpq already brings it into a host).
find_package(OpenSSL REQUIRED COMPONENTS Crypto)
include("${PROJECT_SOURCE_DIR}/host_interface/cmake/MdpSoci.cmake")

if(MDP_BUILD_TESTS OR MDP_FUZZ)  # the plugin fuzzers reuse the plugin tests' host
  find_package(GTest REQUIRED)
  include(GoogleTest)
endif()
if(MDP_BUILD_BENCHMARKS)
  find_package(benchmark REQUIRED)
endif()
