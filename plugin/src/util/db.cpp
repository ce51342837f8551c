#include "util/db.hpp"

#include <soci/soci.h>

namespace mdp::api_access {

WriteTransaction::WriteTransaction(soci::session& sql, host::Dialect dialect) : sql_(sql) {
  if (dialect == host::Dialect::sqlite)
    sql_ << "BEGIN IMMEDIATE";
  else
    sql_ << "BEGIN";
}

WriteTransaction::~WriteTransaction() {
  if (!open_) return;
  try {
    sql_ << "ROLLBACK";
  } catch (...) {
    // The connection may be gone; the server rolls back on its own. Nothing crosses out.
  }
}

void WriteTransaction::commit() {
  sql_ << "COMMIT";
  open_ = false;
}

}  // namespace mdp::api_access
