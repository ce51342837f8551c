// The version header of another SOCI release (4.1.0), put before the system's SOCI headers when
// the loader tests build their "other SOCI" plugin: that plugin then reports the SOCI it was
// compiled against, as a plugin built on a machine with SOCI 4.1 would.
#ifndef SOCI_VERSION_HPP
#define SOCI_VERSION_HPP
#define SOCI_VERSION 400100
#define SOCI_LIB_VERSION "4_1_0"
#endif
