#include "errors/error_catalogue.hpp"


namespace mdp::api_access {

namespace {

constexpr ErrorEntry kEntries[] = {
#define MDP_API_ERROR(code, status, message, action) ErrorEntry{#code, status, message, action},
#include "errors/error_codes.def"
#undef MDP_API_ERROR
};

std::string_view reason(int status) noexcept {
  switch (status) {
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 409: return "Conflict";
    case 429: return "Too Many Requests";
    case 500: return "Internal Server Error";
    case 503: return "Service Unavailable";
    default: return "";
  }
}

void html_escape(std::string& out, std::string_view s) {
  for (char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: out += c;
    }
  }
}

// Markdown text: '<' would open an HTML tag ("<key>" vanishes), '|' would end a table cell.
std::string md_text(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (c == '<') out += "&lt;";
    else if (c == '|') out += "\\|";
    else out += c;
  }
  return out;
}

}  // namespace

std::span<const ErrorEntry> error_catalogue() noexcept { return kEntries; }

const ErrorEntry* find_error(std::string_view code) noexcept {
  for (const auto& e : kEntries)
    if (e.code == code) return &e;
  return nullptr;
}

std::string error_doc_ref(std::string_view code) {
  std::string s(kErrorDocPath);
  s += '#';
  s += code;
  return s;
}

std::string errors_markdown() {
  std::string s =
      "# Error codes of the API access plugin\n\n"
      "<!-- Generated from plugin/src/errors/error_codes.def by the error-docs target; do not "
      "edit by hand. -->\n\n"
      "Every refusal of the public API (`/api/...`) and every failed call of the plugin's admin "
      "routes (`/plugins/api-access/...`) answers JSON:\n\n"
      "```json\n"
      "{\"error\": {\"code\": \"revoked_api_key\", \"message\": \"...\", "
      "\"doc\": \"/plugins/api-access/errors#revoked_api_key\"}}\n"
      "```\n\n"
      "`code` is stable: branch on it, never on `message`, which may be more specific than the "
      "one below. `doc` is a path on the host: the plugin serves this catalogue there, without "
      "login, with one anchor per code. `insufficient_scope` also names the missing `scope`.\n\n"
      "Errors the host writes itself (`not_authenticated`, `forbidden`, `csrf_token_invalid`, "
      "`not_found`, `method_not_allowed`, `body_too_large`) are the host's and are not listed "
      "here.\n\n"
      "| code | status | message |\n|---|---|---|\n";
  for (const auto& e : kEntries) {
    s += "| [`";
    s += e.code;
    s += "`](#";
    s += e.code;
    s += ") | ";
    s += std::to_string(e.status);
    s += " | ";
    s += md_text(e.message);
    s += " |\n";
  }
  for (const auto& e : kEntries) {
    s += "\n## ";
    s += e.code;
    s += "\n\nHTTP ";
    s += std::to_string(e.status);
    s += ' ';
    s += reason(e.status);
    s += ".\n\n";
    s += md_text(e.message);
    s += "\n\n**What to do:** ";
    s += md_text(e.action);
    s += "\n";
  }
  return s;
}

std::string errors_html() {
  std::string s =
      "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">"
      "<title>Error codes of the API access plugin</title></head><body>"
      "<h1>Error codes of the API access plugin</h1>"
      "<p>Every error answers JSON <code>{\"error\":{\"code\",\"message\",\"doc\"}}</code>. "
      "Branch on <code>code</code>, never on <code>message</code>.</p>";
  for (const auto& e : kEntries) {
    s += "<section id=\"";
    html_escape(s, e.code);
    s += "\"><h2>";
    html_escape(s, e.code);
    s += "</h2><p>HTTP ";
    s += std::to_string(e.status);
    s += ' ';
    s += reason(e.status);
    s += "</p><p>";
    html_escape(s, e.message);
    s += "</p><p><strong>What to do:</strong> ";
    html_escape(s, e.action);
    s += "</p></section>";
  }
  s += "</body></html>";
  return s;
}

}  // namespace mdp::api_access
