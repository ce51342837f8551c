# SOCI 4.0 ships neither a CMake config nor a .pc file: find its headers and libraries and make
# the imported targets SOCI::core, SOCI::sqlite3 and SOCI::postgresql. Used by this repository's
# build and by the installed MdpHostInterface package (the SDK's targets link them).
# Needs SQLite::SQLite3 and PostgreSQL::PostgreSQL (the backend headers include theirs).
if(NOT TARGET SOCI::core)
  find_path(SOCI_INCLUDE_DIR soci/soci.h REQUIRED)
  foreach(part core sqlite3 postgresql)
    find_library(SOCI_${part}_LIBRARY NAMES soci_${part} REQUIRED)
    add_library(SOCI::${part} SHARED IMPORTED)
    set_target_properties(SOCI::${part} PROPERTIES
      IMPORTED_LOCATION "${SOCI_${part}_LIBRARY}"
      INTERFACE_INCLUDE_DIRECTORIES "${SOCI_INCLUDE_DIR}")
  endforeach()
  target_link_libraries(SOCI::sqlite3 INTERFACE SOCI::core SQLite::SQLite3)
  target_link_libraries(SOCI::postgresql INTERFACE SOCI::core PostgreSQL::PostgreSQL)
endif()
