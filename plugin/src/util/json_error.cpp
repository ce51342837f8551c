#include "util/json_error.hpp"

#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>

#include "errors/error_catalogue.hpp"

namespace mdp::api_access {

std::string error_body(std::string_view code, std::string_view message) {
  boost::json::object err;
  err["code"] = code;
  err["message"] = message;
  // A code missing from the catalogue still answers (a test keeps that from happening); it only
  // lacks the link.
  if (find_error(code) != nullptr) err["doc"] = error_doc_ref(code);
  boost::json::object root;
  root["error"] = std::move(err);
  return boost::json::serialize(root);
}

std::string error_body(std::string_view code) {
  const ErrorEntry* e = find_error(code);
  return error_body(code, e != nullptr ? e->message : std::string_view("The request was refused."));
}

host::Response error_response(int status, std::string_view code, std::string_view message) {
  host::Response r;
  r.status = status;
  r.body = error_body(code, message);
  r.headers.emplace_back("Cache-Control", "no-store");
  return r;
}

host::Response json_response(int status, const boost::json::value& body) {
  host::Response r;
  r.status = status;
  r.body = boost::json::serialize(body);
  // Every answer of this plugin may describe keys; one holds a secret. None may be cached.
  r.headers.emplace_back("Cache-Control", "no-store");
  return r;
}

}  // namespace mdp::api_access
