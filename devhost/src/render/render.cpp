// Renders view models (host_interface/VIEW_MODEL.md) to HTML. One pass: the walker checks each part
// as it writes it and throws VmError on the first thing it cannot read; the caller then discards
// the partial output and renders the error notice instead, so a page is never half shown.
#include "render/render.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <set>
#include <stdexcept>
#include <string>

#include <boost/json.hpp>
#include <boost/url/url.hpp>

#include "render/assets.hpp"

namespace mdp::devhost::render {
namespace json = boost::json;

std::string escape_html(std::string_view text) {
  std::string out;
  out.reserve(text.size() + text.size() / 8);
  for (char c : text) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      case '\0': out += "\xEF\xBF\xBD"; break;  // U+FFFD: a NUL has no business in a page
      default: out += c;
    }
  }
  return out;
}

namespace {

struct VmError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

[[noreturn]] void fail(const std::string& at, const std::string& why) {
  throw VmError(at.empty() ? why : at + ": " + why);
}

bool is_id(std::string_view s) {
  if (s.empty() || s.size() > 64) return false;
  return std::all_of(s.begin(), s.end(), [](unsigned char c) {
    return std::isalnum(c) || c == '-' || c == '_';
  });
}

// Action routes are relative to the plugin's mount point and may not climb out of it.
bool is_route(std::string_view r) {
  if (r.empty() || r.size() > 512 || r.front() == '/') return false;
  for (unsigned char c : r)
    if (!(std::isalnum(c) || c == '/' || c == '_' || c == '-' || c == '.' || c == '~' || c == '%'))
      return false;
  std::size_t start = 0;
  while (start <= r.size()) {
    auto end = r.find('/', start);
    if (end == std::string_view::npos) end = r.size();
    auto seg = r.substr(start, end - start);
    if (seg == ".." || seg == "." || (seg.empty() && end != r.size())) return false;
    start = end + 1;
  }
  return true;
}

// Links stay on the host: a path with one leading '/', no scheme, no control characters.
bool is_host_path(std::string_view h) {
  if (h.empty() || h.size() > 1024 || h.front() != '/') return false;
  if (h.size() > 1 && (h[1] == '/' || h[1] == '\\')) return false;
  return std::none_of(h.begin(), h.end(), [](unsigned char c) { return c < 0x20 || c == 0x7f || c == '\\'; });
}

std::string format_number(double v) {
  char buf[64];
  if (std::floor(v) == v && std::fabs(v) < 1e15)
    std::snprintf(buf, sizeof buf, "%.0f", v);
  else
    std::snprintf(buf, sizeof buf, "%.4g", v);
  return buf;
}

// Decorative icons as inline SVG (no icon font, no emoji font needed in a headless browser).
std::string_view icon_svg(std::string_view name) {
  if (name == "check")
    return R"(<svg class="icon" aria-hidden="true" viewBox="0 0 16 16" width="14" height="14"><path d="M3 8.5l3 3 7-7" fill="none" stroke="currentColor" stroke-width="2.2" stroke-linecap="round" stroke-linejoin="round"/></svg>)";
  if (name == "lock")
    return R"(<svg class="icon" aria-hidden="true" viewBox="0 0 16 16" width="14" height="14"><rect x="3" y="7" width="10" height="7" rx="1.5" fill="currentColor"/><path d="M5 7V5a3 3 0 016 0v2" fill="none" stroke="currentColor" stroke-width="1.8"/></svg>)";
  if (name == "clock")
    return R"(<svg class="icon" aria-hidden="true" viewBox="0 0 16 16" width="14" height="14"><circle cx="8" cy="8" r="6" fill="none" stroke="currentColor" stroke-width="1.8"/><path d="M8 4.5V8l2.5 1.5" fill="none" stroke="currentColor" stroke-width="1.8" stroke-linecap="round"/></svg>)";
  if (name == "warning")
    return R"(<svg class="icon" aria-hidden="true" viewBox="0 0 16 16" width="14" height="14"><path d="M8 1.5l7 13H1z" fill="currentColor"/><path d="M8 6v4M8 11.8v.4" stroke="#fff" stroke-width="1.6" stroke-linecap="round"/></svg>)";
  return {};
}

class Walker {
 public:
  explicit Walker(const PageChrome& chrome) : chrome_(chrome) {
    base_ = chrome.action_base;
    if (!is_host_path(base_)) base_ = "/";
    if (base_.back() != '/') base_ += '/';
  }

  std::string out;

  void page(const json::value& v) {
    const auto& o = object(v, "");
    auto type = opt_str(o, "type", "");
    if (type && *type != "page") fail("type", "the document must be a \"page\", not \"" + std::string(*type) + "\"");
    const auto* ver = o.if_contains("vm_version");
    if (ver == nullptr) fail("vm_version", "missing (this host renders versions 1 and 2)");
    if (ver->is_int64() && (ver->as_int64() == 1 || ver->as_int64() == 2)) version_ = static_cast<int>(ver->as_int64());
    else if (ver->is_uint64() && (ver->as_uint64() == 1 || ver->as_uint64() == 2)) version_ = static_cast<int>(ver->as_uint64());
    else fail("vm_version", "this host renders versions 1 and 2, not " + json::serialize(*ver));

    // Modal ids first, so a button that opens a modal not in the page is caught.
    if (const auto* modals = opt_array(o, "modals", "")) {
      for (std::size_t i = 0; i < modals->size(); ++i) {
        auto at = "modals[" + std::to_string(i) + "]";
        const auto& m = object((*modals)[i], at);
        expect_type(m, "modal", at);
        auto id = str(m, "id", at);
        if (!is_id(id)) fail(at + ".id", "use letters, digits, '-' and '_'");
        if (!modal_ids_.insert(std::string(id)).second) fail(at + ".id", "duplicate modal id");
      }
    }

    out += R"(<div class="page-head"><div class="page-titles"><h1 id="page-title">)";
    out += escape_html(str(o, "title", ""));
    out += "</h1>";
    if (auto d = opt_str(o, "description", "")) out += "<p class=\"page-desc\">" + escape_html(*d) + "</p>";
    out += "</div>";
    if (const auto* acts = opt_array(o, "actions", "")) {
      out += R"(<div class="page-actions">)";
      for (std::size_t i = 0; i < acts->size(); ++i) button((*acts)[i], "actions[" + std::to_string(i) + "]");
      out += "</div>";
    }
    out += "</div>";
    out += R"(<div id="mdp-flash" class="notice tone-danger flash" role="alert" hidden></div>)";
    const auto* children = o.if_contains("children");
    if (children == nullptr || !children->is_array()) fail("children", "required: an array of parts");
    blocks(children->as_array(), "children");
    if (const auto* modals = opt_array(o, "modals", ""))
      for (std::size_t i = 0; i < modals->size(); ++i) modal((*modals)[i], "modals[" + std::to_string(i) + "]");
  }

 private:
  const PageChrome& chrome_;
  std::string base_;
  std::set<std::string> modal_ids_;
  int next_uid_ = 0;
  bool in_modal_ = false;
  int version_ = 1;

  // Parts and fields new in version 2 are unknown to a version-1 document.
  void need_v2(const std::string& at, std::string_view what) const {
    if (version_ < 2) fail(at, std::string(what) + " needs vm_version 2");
  }

  // A link to this page with other query parameters: {"name": "value", ...} (strings or
  // numbers), percent-encoded by Boost.URL. An empty object is the plain page.
  std::string query_href(const json::value& v, const std::string& at) const {
    if (!v.is_object()) fail(at, "expected an object of query parameters");
    boost::urls::url u;
    u.set_path(is_host_path(chrome_.current_path) ? chrome_.current_path : "/");
    for (const auto& [k, val] : v.as_object()) {
      if (k.empty() || k.size() > 64) fail(at, "a parameter name has 1 to 64 characters");
      std::string value;
      if (val.is_string()) value = val.as_string();
      else if (val.is_int64() || val.is_uint64()) value = json::serialize(val);
      else fail(at + "." + std::string(k), "expected a string or a whole number");
      u.params().append({std::string_view(k), value});
    }
    return std::string(u.buffer());
  }

  std::string uid(std::string_view stem) { return "vm-" + std::string(stem) + "-" + std::to_string(++next_uid_); }

  // ---- reading ---------------------------------------------------------------------------
  static const json::object& object(const json::value& v, const std::string& at) {
    if (!v.is_object()) fail(at, "expected an object");
    return v.as_object();
  }
  static std::string_view str(const json::object& o, std::string_view key, const std::string& at) {
    const auto* v = o.if_contains(key);
    auto where = at.empty() ? std::string(key) : at + "." + std::string(key);
    if (v == nullptr) fail(where, "required");
    if (!v->is_string()) fail(where, "expected a string");
    return v->as_string();
  }
  static std::optional<std::string_view> opt_str(const json::object& o, std::string_view key, const std::string& at) {
    const auto* v = o.if_contains(key);
    if (v == nullptr || v->is_null()) return std::nullopt;
    if (!v->is_string()) fail(at.empty() ? std::string(key) : at + "." + std::string(key), "expected a string");
    return std::string_view(v->as_string());
  }
  static const json::array* opt_array(const json::object& o, std::string_view key, const std::string& at) {
    const auto* v = o.if_contains(key);
    if (v == nullptr || v->is_null()) return nullptr;
    if (!v->is_array()) fail(at.empty() ? std::string(key) : at + "." + std::string(key), "expected an array");
    return &v->as_array();
  }
  static bool opt_bool(const json::object& o, std::string_view key, const std::string& at, bool dflt = false) {
    const auto* v = o.if_contains(key);
    if (v == nullptr || v->is_null()) return dflt;
    if (!v->is_bool()) fail(at + "." + std::string(key), "expected true or false");
    return v->as_bool();
  }
  static std::string_view opt_tone(const json::object& o, const std::string& at, std::string_view dflt,
                                   std::initializer_list<std::string_view> allowed) {
    auto t = opt_str(o, "tone", at);
    if (!t) return dflt;
    for (auto a : allowed)
      if (*t == a) return a;
    fail(at + ".tone", "unknown tone \"" + std::string(*t) + "\"");
  }
  static void expect_type(const json::object& o, std::string_view type, const std::string& at) {
    auto t = str(o, "type", at);
    if (t != type) fail(at + ".type", "expected \"" + std::string(type) + "\", not \"" + std::string(t) + "\"");
  }
  static double number(const json::value& v, const std::string& at) {
    double d = 0;
    if (v.is_int64()) d = static_cast<double>(v.as_int64());
    else if (v.is_uint64()) d = static_cast<double>(v.as_uint64());
    else if (v.is_double()) d = v.as_double();
    else fail(at, "expected a number");
    if (!std::isfinite(d) || d < 0) fail(at, "expected a number of 0 or more");
    return d;
  }

  // ---- blocks ----------------------------------------------------------------------------
  void blocks(const json::array& a, const std::string& at) {
    for (std::size_t i = 0; i < a.size(); ++i) block(a[i], at + "[" + std::to_string(i) + "]");
  }

  void block(const json::value& v, const std::string& at) {
    if (v.is_string()) {
      out += "<p class=\"text\">" + escape_html(v.as_string()) + "</p>";
      return;
    }
    const auto& o = object(v, at);
    auto type = str(o, "type", at);
    if (type == "section") section(o, at);
    else if (type == "notice") notice(o, at);
    else if (type == "empty_state") empty_state(o, at);
    else if (type == "table") table(o, at);
    else if (type == "form") form(o, at);
    else if (type == "text") text(o, at, true);
    else if (type == "facts") facts(o, at);
    else if (type == "bar_chart") bar_chart(o, at);
    else if (type == "tabs") tabs(o, at);
    else if (type == "query_form") query_form(o, at);
    else if (type == "pagination") pagination(o, at);
    else if (type == "button" || type == "badge" || type == "time" || type == "link") {
      out += "<p>";
      inline_part(v, at);
      out += "</p>";
    } else if (type == "modal") fail(at, "a modal belongs in page.modals");
    else fail(at + ".type", "unknown type \"" + std::string(type) + "\"");
  }

  void section(const json::object& o, const std::string& at) {
    auto id = uid("section");
    out += "<section class=\"vm-section\" aria-labelledby=\"" + id + "\"><h2 id=\"" + id + "\">";
    out += escape_html(str(o, "title", at)) + "</h2>";
    if (auto d = opt_str(o, "description", at)) out += "<p class=\"section-desc\">" + escape_html(*d) + "</p>";
    const auto* c = opt_array(o, "children", at);
    if (c == nullptr) fail(at + ".children", "required: an array of parts");
    blocks(*c, at + ".children");
    out += "</section>";
  }

  void notice(const json::object& o, const std::string& at) {
    auto tone = opt_tone(o, at, "info", {"info", "success", "warning", "danger"});
    out += "<div class=\"notice tone-" + std::string(tone) + "\" role=\"" + (tone == "danger" ? "alert" : "status") + "\">";
    if (auto t = opt_str(o, "title", at)) out += "<p class=\"notice-title\">" + escape_html(*t) + "</p>";
    out += "<p>" + escape_html(str(o, "text", at)) + "</p>";
    if (const auto* l = o.if_contains("link"); l && !l->is_null()) {
      out += "<p>";
      link(object(*l, at + ".link"), at + ".link");
      out += "</p>";
    }
    out += "</div>";
  }

  void empty_state(const json::object& o, const std::string& at) {
    out += "<div class=\"empty-state\"><h2 class=\"empty-title\">" + escape_html(str(o, "title", at)) + "</h2>";
    out += "<p>" + escape_html(str(o, "text", at)) + "</p>";
    if (const auto* l = o.if_contains("link"); l && !l->is_null()) {
      out += "<p>";
      link(object(*l, at + ".link"), at + ".link");
      out += "</p>";
    }
    if (const auto* acts = opt_array(o, "actions", at)) {
      out += "<div class=\"empty-actions\">";
      for (std::size_t i = 0; i < acts->size(); ++i) button((*acts)[i], at + ".actions[" + std::to_string(i) + "]");
      out += "</div>";
    }
    out += "</div>";
  }

  void table(const json::object& o, const std::string& at) {
    const auto* cols = opt_array(o, "columns", at);
    if (cols == nullptr || cols->empty()) fail(at + ".columns", "required: at least one column");
    std::vector<std::string> keys, labels;
    out += "<table class=\"vm-table\">";
    if (auto c = opt_str(o, "caption", at)) out += "<caption>" + escape_html(*c) + "</caption>";
    out += "<thead><tr>";
    for (std::size_t i = 0; i < cols->size(); ++i) {
      auto cat = at + ".columns[" + std::to_string(i) + "]";
      const auto& col = object((*cols)[i], cat);
      keys.emplace_back(str(col, "key", cat));
      labels.push_back(escape_html(str(col, "label", cat)));
      out += "<th scope=\"col\">" + labels.back() + "</th>";
    }
    const auto* rows = opt_array(o, "rows", at);
    if (rows == nullptr) fail(at + ".rows", "required: an array of rows");
    bool any_actions = std::any_of(rows->begin(), rows->end(), [](const json::value& r) {
      const auto* a = r.is_object() ? r.as_object().if_contains("actions") : nullptr;
      return a && a->is_array() && !a->as_array().empty();
    });
    if (any_actions) out += "<th scope=\"col\">Actions</th>";
    out += "</tr></thead><tbody>";
    for (std::size_t r = 0; r < rows->size(); ++r) {
      auto rat = at + ".rows[" + std::to_string(r) + "]";
      const auto& row = object((*rows)[r], rat);
      out += "<tr";
      if (auto id = opt_str(row, "id", rat)) {
        if (!is_id(*id)) fail(rat + ".id", "use letters, digits, '-' and '_'");
        out += " id=\"row-" + std::string(*id) + "\"";
      }
      out += ">";
      const auto* cells_v = row.if_contains("cells");
      if (cells_v == nullptr || !cells_v->is_object()) fail(rat + ".cells", "required: an object of column key to value");
      const auto& cells = cells_v->as_object();
      for (std::size_t c = 0; c < keys.size(); ++c) {
        const bool head = c == 0;
        // data-label: the column's name, shown above the value when the row becomes a card.
        out += head ? "<th scope=\"row\">" : "<td data-label=\"" + labels[c] + "\">";
        if (const auto* cell = cells.if_contains(keys[c]))
          inline_value(*cell, rat + ".cells." + keys[c]);
        out += head ? "</th>" : "</td>";
      }
      if (any_actions) {
        out += "<td class=\"row-actions\"><div class=\"actions-list\">";
        if (const auto* acts = opt_array(row, "actions", rat))
          for (std::size_t i = 0; i < acts->size(); ++i) button((*acts)[i], rat + ".actions[" + std::to_string(i) + "]");
        out += "</div></td>";
      }
      out += "</tr>";
    }
    out += "</tbody></table>";
  }

  void facts(const json::object& o, const std::string& at) {
    const auto* items = opt_array(o, "items", at);
    if (items == nullptr) fail(at + ".items", "required: an array of {label, value}");
    out += "<dl class=\"facts\">";
    for (std::size_t i = 0; i < items->size(); ++i) {
      auto iat = at + ".items[" + std::to_string(i) + "]";
      const auto& it = object((*items)[i], iat);
      out += "<div><dt>" + escape_html(str(it, "label", iat)) + "</dt><dd>";
      const auto* v = it.if_contains("value");
      if (v == nullptr) fail(iat + ".value", "required");
      inline_value(*v, iat + ".value");
      out += "</dd></div>";
    }
    out += "</dl>";
  }

  void bar_chart(const json::object& o, const std::string& at) {
    auto label = str(o, "label", at);
    auto unit = opt_str(o, "unit", at).value_or("");
    const auto* bars = opt_array(o, "bars", at);
    if (bars == nullptr) fail(at + ".bars", "required: an array of {label, value}");
    if (bars->size() > 400) fail(at + ".bars", "at most 400 bars");
    struct Bar { std::string_view label; double value; std::string_view tone; };
    std::vector<Bar> parsed;
    double max = 0, total = 0;
    std::string_view peak_label;
    for (std::size_t i = 0; i < bars->size(); ++i) {
      auto bat = at + ".bars[" + std::to_string(i) + "]";
      const auto& b = object((*bars)[i], bat);
      const auto* val = b.if_contains("value");
      if (val == nullptr) fail(bat + ".value", "required");
      Bar bar{str(b, "label", bat), number(*val, bat + ".value"), opt_tone(b, bat, "", {"warning", "danger"})};
      if (bar.value > max) { max = bar.value; peak_label = bar.label; }
      total += bar.value;
      parsed.push_back(bar);
    }
    // An optional shared scale, so charts in different rows compare; never below this chart's peak.
    double scale = max;
    if (const auto* m = o.if_contains("max"); m && !m->is_null()) scale = std::max(scale, number(*m, at + ".max"));
    std::string unit_sfx = unit.empty() ? "" : " " + std::string(unit);
    std::string aria = std::string(label) + ": " + format_number(total) + unit_sfx + " in total";
    if (max > 0) aria += ", peak " + format_number(max) + " on " + std::string(peak_label);
    // An SVG (geometry in attributes, colours in the stylesheet: no inline style), the scale's
    // maximum as text, and every value in a table behind a disclosure for keyboard and
    // screen-reader users.
    out += "<div class=\"chart-wrap\"><p class=\"chart-scale\"><span>" +
           escape_html(scale > 0 ? "max " + format_number(scale) + unit_sfx
                                 : "no " + std::string(unit.empty() ? "values" : unit)) +
           "</span></p>";
    const std::size_t n = parsed.size();
    out += "<svg class=\"chart\" viewBox=\"0 0 " + std::to_string(std::max<std::size_t>(n, 1) * 10) +
           " 100\" preserveAspectRatio=\"none\" role=\"img\" aria-label=\"" + escape_html(aria) + "\">";
    for (std::size_t i = 0; i < n; ++i) {
      const auto& b = parsed[i];
      char h[32], y[32];
      const double height = b.value > 0 && scale > 0 ? std::max(3.0, b.value / scale * 100.0) : 2.0;
      std::snprintf(h, sizeof h, "%.1f", height);
      std::snprintf(y, sizeof y, "%.1f", 100.0 - height);
      out += "<rect x=\"" + std::to_string(i * 10 + 1) + "\" y=\"" + y + "\" width=\"8\" height=\"" + h + "\"";
      std::string cls = b.value > 0 ? "" : "zero";
      if (!b.tone.empty()) cls += (cls.empty() ? "tone-" : " tone-") + std::string(b.tone);
      if (!cls.empty()) out += " class=\"" + cls + "\"";
      out += "><title>" + escape_html(std::string(b.label) + ": " + format_number(b.value) + unit_sfx) + "</title></rect>";
    }
    out += "</svg><details class=\"chart-values\"><summary>Values<span class=\"visually-hidden\"> of " +
           escape_html(label) + "</span></summary><table><caption class=\"visually-hidden\">" + escape_html(label) +
           "</caption><thead class=\"visually-hidden\"><tr><th scope=\"col\">Bar</th><th scope=\"col\">" +
           escape_html(unit.empty() ? std::string_view("Value") : unit) + "</th></tr></thead><tbody>";
    for (const auto& b : parsed)
      out += "<tr><th scope=\"row\">" + escape_html(b.label) + "</th><td>" + format_number(b.value) + "</td></tr>";
    out += "</tbody></table></details></div>";
  }

  void form(const json::object& o, const std::string& at) {
    const auto* act = o.if_contains("action");
    if (act == nullptr) fail(at + ".action", "required");
    auto data = action_attrs(object(*act, at + ".action"), at + ".action");
    out += "<form class=\"vm-form\"";
    if (auto id = opt_str(o, "id", at)) {
      if (!is_id(*id)) fail(at + ".id", "use letters, digits, '-' and '_'");
      out += " id=\"form-" + std::string(*id) + "\"";
    }
    out += data + ">";
    const auto* fields = opt_array(o, "fields", at);
    if (fields == nullptr) fail(at + ".fields", "required: an array of fields");
    for (std::size_t i = 0; i < fields->size(); ++i) field((*fields)[i], at + ".fields[" + std::to_string(i) + "]");
    out += "<p class=\"form-error\" role=\"alert\" hidden></p><div class=\"form-actions\">";
    if (in_modal_) out += "<button type=\"button\" class=\"btn\" data-close>Cancel</button>";
    out += "<button type=\"submit\" class=\"btn btn-primary\">" +
           escape_html(opt_str(o, "submit_label", at).value_or("Save")) + "</button></div></form>";
  }

  void field(const json::value& v, const std::string& at) {
    const auto& f = object(v, at);
    auto type = str(f, "type", at);
    auto name = str(f, "name", at);
    if (name.empty() || name.size() > 64) fail(at + ".name", "1 to 64 characters");
    auto label = str(f, "label", at);
    auto id = uid("field");
    if (type == "text") {
      auto hint = opt_str(f, "hint", at);
      out += "<div class=\"field\"><label for=\"" + id + "\">" + escape_html(label) + "</label>";
      out += "<input type=\"text\" id=\"" + id + "\" data-field=\"" + escape_html(name) + "\" data-kind=\"text\"";
      if (opt_bool(f, "required", at)) out += " required aria-required=\"true\"";
      if (const auto* ml = f.if_contains("max_length"); ml && !ml->is_null())
        out += " maxlength=\"" + format_number(number(*ml, at + ".max_length")) + "\"";
      if (auto p = opt_str(f, "placeholder", at)) out += " placeholder=\"" + escape_html(*p) + "\"";
      if (auto v = opt_str(f, "value", at)) {
        need_v2(at + ".value", "a text field's value");
        out += " value=\"" + escape_html(*v) + "\"";
      }
      if (hint) out += " aria-describedby=\"" + id + "-hint\"";
      out += " autocomplete=\"off\">";
      if (hint) out += "<p class=\"hint\" id=\"" + id + "-hint\">" + escape_html(*hint) + "</p>";
      out += "</div>";
    } else if (type == "textarea") {
      // v2: several lines; with "list": true the value sent is the array of its entries (lines,
      // spaces or commas separate them; empty entries dropped).
      need_v2(at, "a textarea field");
      auto hint = opt_str(f, "hint", at);
      const bool list = opt_bool(f, "list", at);
      out += "<div class=\"field\"><label for=\"" + id + "\">" + escape_html(label) + "</label>";
      out += "<textarea id=\"" + id + "\" data-field=\"" + escape_html(name) + "\" data-kind=\"" +
             (list ? "list" : "textarea") + "\" rows=\"3\"";
      if (const auto* ml = f.if_contains("max_length"); ml && !ml->is_null())
        out += " maxlength=\"" + format_number(number(*ml, at + ".max_length")) + "\"";
      if (auto p = opt_str(f, "placeholder", at)) out += " placeholder=\"" + escape_html(*p) + "\"";
      if (hint) out += " aria-describedby=\"" + id + "-hint\"";
      out += " spellcheck=\"" + std::string(list ? "false" : "true") + "\">";
      out += escape_html(opt_str(f, "value", at).value_or(""));
      out += "</textarea>";
      if (hint) out += "<p class=\"hint\" id=\"" + id + "-hint\">" + escape_html(*hint) + "</p>";
      out += "</div>";
    } else if (type == "choice") {
      const bool multiple = opt_bool(f, "multiple", at);
      const auto* opts = opt_array(f, "options", at);
      if (opts == nullptr || opts->empty()) fail(at + ".options", "required: at least one option");
      out += "<fieldset class=\"field choice\" data-field=\"" + escape_html(name) + "\" data-kind=\"" +
             (multiple ? "multi" : "single") + "\"";
      // v2: a chosen option whose value is null is sent as null (e.g. "back to the default")
      // instead of leaving the field out.
      if (opt_bool(f, "send_null", at)) {
        need_v2(at + ".send_null", "send_null");
        out += " data-send-null";
      }
      if (const auto* mn = f.if_contains("min_selected"); mn && !mn->is_null())
        out += " data-min=\"" + format_number(number(*mn, at + ".min_selected")) + "\"";
      out += "><legend>" + escape_html(label) + "</legend>";
      if (auto h = opt_str(f, "hint", at)) out += "<p class=\"hint\">" + escape_html(*h) + "</p>";
      for (std::size_t i = 0; i < opts->size(); ++i) {
        auto oat = at + ".options[" + std::to_string(i) + "]";
        const auto& op = object((*opts)[i], oat);
        const auto* val = op.if_contains("value");
        if (val == nullptr || !(val->is_string() || val->is_number() || val->is_bool() || val->is_null() || val->is_object()))
          fail(oat + ".value", "required: a string, number, boolean, null or (v2) an object");
        if (val->is_object()) need_v2(oat + ".value", "an object as an option's value");
        auto oid = id + "-" + std::to_string(i);
        auto desc = opt_str(op, "description", oat);
        auto warn = opt_str(op, "warning", oat);
        std::string described;
        if (desc) described += oid + "-desc";
        if (warn) described += (described.empty() ? "" : " ") + oid + "-warn";
        out += "<div class=\"option\"><input type=\"" + std::string(multiple ? "checkbox" : "radio") + "\" id=\"" + oid +
               "\" name=\"" + id + "\" data-value=\"" + escape_html(json::serialize(*val)) + "\"";
        if (opt_bool(op, "checked", oat)) out += " checked";
        if (!described.empty()) out += " aria-describedby=\"" + described + "\"";
        out += "><label for=\"" + oid + "\">" + escape_html(str(op, "label", oat)) + "</label>";
        if (desc) out += "<p class=\"option-desc\" id=\"" + oid + "-desc\">" + escape_html(*desc) + "</p>";
        if (const auto* in = op.if_contains("input"); in && !in->is_null()) option_input(*in, oat + ".input", oid, multiple, opt_bool(op, "checked", oat));
        if (warn)
          out += "<p class=\"option-warn\" id=\"" + oid + "-warn\">" + std::string(icon_svg("warning")) + escape_html(*warn) + "</p>";
        out += "</div>";
      }
      out += "</fieldset>";
    } else {
      fail(at + ".type", "unknown field type \"" + std::string(type) + "\"");
    }
  }

  // v2: an input that belongs to a single-choice option (e.g. "On a date" with a date input).
  // It is enabled while its option is chosen, and its value is then sent as the field's value.
  void option_input(const json::value& v, const std::string& at, const std::string& oid, bool multiple, bool chosen) {
    need_v2(at, "an option's input");
    if (multiple) fail(at, "only options of a single choice (multiple: false) have an input");
    const auto& in = object(v, at);
    auto type = str(in, "type", at);
    if (type != "date") fail(at + ".type", "unknown option input type \"" + std::string(type) + "\" (date)");
    auto is_date = [](std::string_view d) {
      return d.size() == 10 && d[4] == '-' && d[7] == '-' &&
             std::all_of(d.begin(), d.end(), [](char c) { return (c >= '0' && c <= '9') || c == '-'; });
    };
    const std::string iid = oid + "-input";
    out += "<div class=\"option-input\"><label for=\"" + iid + "\">" + escape_html(str(in, "label", at)) +
           "</label><input type=\"date\" id=\"" + iid + "\" data-option-input=\"" + oid + "\"";
    for (const char* bound : {"min", "max"})
      if (auto b = opt_str(in, bound, at)) {
        if (!is_date(*b)) fail(at + "." + bound, "expected a date YYYY-MM-DD");
        out += std::string(" ") + bound + "=\"" + std::string(*b) + "\"";
      }
    out += chosen ? "></div>" : " disabled></div>";
  }

  void modal(const json::value& v, const std::string& at) {
    const auto& m = object(v, at);
    auto id = std::string(str(m, "id", at));
    out += "<dialog class=\"modal\" id=\"modal-" + id + "\" aria-modal=\"true\" aria-labelledby=\"modal-" + id + "-title\">";
    out += "<div class=\"modal-head\"><h2 id=\"modal-" + id + "-title\">" + escape_html(str(m, "title", at)) +
           "</h2><button type=\"button\" class=\"btn-close\" data-close aria-label=\"Close\">&times;</button></div>";
    if (auto d = opt_str(m, "description", at)) out += "<p class=\"modal-desc\">" + escape_html(*d) + "</p>";
    const auto* c = opt_array(m, "children", at);
    if (c == nullptr) fail(at + ".children", "required: an array of parts");
    in_modal_ = true;
    blocks(*c, at + ".children");
    in_modal_ = false;
    out += "</dialog>";
  }

  // ---- inline ----------------------------------------------------------------------------
  void inline_value(const json::value& v, const std::string& at) {
    if (v.is_array()) {
      out += "<div class=\"stack\">";
      const auto& a = v.as_array();
      for (std::size_t i = 0; i < a.size(); ++i) {
        out += "<div>";
        inline_part(a[i], at + "[" + std::to_string(i) + "]");
        out += "</div>";
      }
      out += "</div>";
    } else {
      inline_part(v, at);
    }
  }

  void inline_part(const json::value& v, const std::string& at) {
    if (v.is_string()) {
      out += escape_html(v.as_string());
      return;
    }
    const auto& o = object(v, at);
    auto type = str(o, "type", at);
    if (type == "text") text(o, at, false);
    else if (type == "time") time(o, at);
    else if (type == "link") link(o, at);
    else if (type == "badge") badge(o, at);
    else if (type == "button") button(v, at);
    else if (type == "facts") facts(o, at);
    else if (type == "bar_chart") bar_chart(o, at);
    else fail(at + ".type", "unknown or misplaced type \"" + std::string(type) + "\"");
  }

  void text(const json::object& o, const std::string& at, bool as_block) {
    auto tone = opt_tone(o, at, "", {"muted", "warning", "danger", "success"});
    out += as_block ? "<p class=\"text" : "<span class=\"text";
    if (!tone.empty()) out += " tone-" + std::string(tone);
    out += "\"";
    if (auto t = opt_str(o, "title", at)) out += " title=\"" + escape_html(*t) + "\"";
    out += ">" + escape_html(str(o, "text", at)) + (as_block ? "</p>" : "</span>");
  }

  void time(const json::object& o, const std::string& at) {
    auto dt = str(o, "datetime", at);
    if (dt.empty() || dt.size() > 40) fail(at + ".datetime", "expected an RFC 3339 time");
    // The hover text spells the exact time in a readable form: 2026-11-24 08:15:00 UTC.
    std::string exact(dt);
    if (exact.size() > 10 && exact[10] == 'T') exact[10] = ' ';
    if (!exact.empty() && exact.back() == 'Z') exact.replace(exact.size() - 1, 1, " UTC");
    if (auto t = opt_str(o, "title", at)) exact = std::string(*t);  // e.g. the clinic's local time
    out += "<time datetime=\"" + escape_html(dt) + "\" title=\"" + escape_html(exact) + "\">" +
           escape_html(str(o, "text", at)) + "</time>";
  }

  void link(const json::object& o, const std::string& at) {
    std::string href;
    if (const auto* q = o.if_contains("query"); q && !q->is_null()) {
      need_v2(at + ".query", "a link to this page with a query");
      href = query_href(*q, at + ".query");
    } else {
      href = std::string(str(o, "href", at));
      if (!is_host_path(href)) fail(at + ".href", "must be a host path starting with one '/'");
    }
    out += "<a href=\"" + escape_html(href) + "\">" + escape_html(str(o, "text", at)) + "</a>";
  }

  // ---- version 2: views of one page (tabs), a search form, pages of a long list ----------
  void tabs(const json::object& o, const std::string& at) {
    need_v2(at, "tabs");
    const auto* items = opt_array(o, "items", at);
    if (items == nullptr || items->empty()) fail(at + ".items", "required: at least one item");
    out += "<nav class=\"vm-tabs\" aria-label=\"" + escape_html(str(o, "label", at)) + "\"><ul>";
    for (std::size_t i = 0; i < items->size(); ++i) {
      auto iat = at + ".items[" + std::to_string(i) + "]";
      const auto& it = object((*items)[i], iat);
      const auto* q = it.if_contains("query");
      if (q == nullptr) fail(iat + ".query", "required");
      out += "<li><a href=\"" + escape_html(query_href(*q, iat + ".query")) + "\"";
      if (opt_bool(it, "current", iat)) out += " aria-current=\"page\"";
      out += ">" + escape_html(str(it, "text", iat)) + "</a></li>";
    }
    out += "</ul></nav>";
  }

  // A GET form that reloads this page with its fields as query parameters: works without script.
  void query_form(const json::object& o, const std::string& at) {
    need_v2(at, "query_form");
    const auto* fields = opt_array(o, "fields", at);
    if (fields == nullptr || fields->empty()) fail(at + ".fields", "required: at least one field");
    const std::string action = is_host_path(chrome_.current_path) ? chrome_.current_path : "/";
    out += "<form class=\"vm-query\" method=\"get\" action=\"" + escape_html(action) +
           "\" role=\"search\" aria-label=\"" + escape_html(str(o, "label", at)) + "\">";
    for (std::size_t i = 0; i < fields->size(); ++i) {
      auto fat = at + ".fields[" + std::to_string(i) + "]";
      const auto& f = object((*fields)[i], fat);
      auto type = str(f, "type", fat);
      auto name = str(f, "name", fat);
      if (name.empty() || name.size() > 64) fail(fat + ".name", "1 to 64 characters");
      auto id = uid("query");
      if (type == "hidden") {
        out += "<input type=\"hidden\" name=\"" + escape_html(name) + "\" value=\"" +
               escape_html(str(f, "value", fat)) + "\">";
      } else if (type == "search") {
        out += "<div class=\"field\"><label for=\"" + id + "\">" + escape_html(str(f, "label", fat)) +
               "</label><input type=\"search\" id=\"" + id + "\" name=\"" + escape_html(name) + "\" value=\"" +
               escape_html(opt_str(f, "value", fat).value_or("")) + "\"";
        if (const auto* ml = f.if_contains("max_length"); ml && !ml->is_null())
          out += " maxlength=\"" + format_number(number(*ml, fat + ".max_length")) + "\"";
        if (auto p = opt_str(f, "placeholder", fat)) out += " placeholder=\"" + escape_html(*p) + "\"";
        out += " autocomplete=\"off\"></div>";
      } else if (type == "select") {
        select(f, fat, id, name);
      } else {
        fail(fat + ".type", "unknown query field type \"" + std::string(type) + "\"");
      }
    }
    out += "<div class=\"query-actions\"><button type=\"submit\" class=\"btn\">" +
           escape_html(opt_str(o, "submit_label", at).value_or("Apply")) + "</button>";
    if (const auto* r = o.if_contains("reset"); r && !r->is_null()) link(object(*r, at + ".reset"), at + ".reset");
    out += "</div></form>";
  }

  void select(const json::object& f, const std::string& at, const std::string& id, std::string_view name) {
    const auto* opts = opt_array(f, "options", at);
    if (opts == nullptr || opts->empty()) fail(at + ".options", "required: at least one option");
    out += "<div class=\"field\"><label for=\"" + id + "\">" + escape_html(str(f, "label", at)) +
           "</label><select id=\"" + id + "\" name=\"" + escape_html(name) + "\">";
    for (std::size_t i = 0; i < opts->size(); ++i) {
      auto oat = at + ".options[" + std::to_string(i) + "]";
      const auto& op = object((*opts)[i], oat);
      out += "<option value=\"" + escape_html(str(op, "value", oat)) + "\"";
      if (opt_bool(op, "selected", oat)) out += " selected";
      out += ">" + escape_html(str(op, "label", oat)) + "</option>";
    }
    out += "</select></div>";
  }

  void pagination(const json::object& o, const std::string& at) {
    need_v2(at, "pagination");
    out += "<nav class=\"vm-pagination\" aria-label=\"" + escape_html(str(o, "label", at)) + "\">";
    if (auto sm = opt_str(o, "summary", at)) out += "<p class=\"pagination-summary\">" + escape_html(*sm) + "</p>";
    out += "<ul>";
    if (const auto* prev = o.if_contains("previous"); prev && !prev->is_null())
      out += "<li><a rel=\"prev\" href=\"" + escape_html(query_href(*prev, at + ".previous")) + "\">Previous</a></li>";
    std::int64_t last = 0;
    if (const auto* pages = opt_array(o, "pages", at)) {
      for (std::size_t i = 0; i < pages->size(); ++i) {
        auto pat = at + ".pages[" + std::to_string(i) + "]";
        const auto& p = object((*pages)[i], pat);
        const auto* num = p.if_contains("number");
        if (num == nullptr) fail(pat + ".number", "required");
        const auto n = static_cast<std::int64_t>(number(*num, pat + ".number"));
        const auto* q = p.if_contains("query");
        if (q == nullptr) fail(pat + ".query", "required");
        if (last != 0 && n > last + 1) out += "<li class=\"gap\" aria-hidden=\"true\">\u2026</li>";
        last = n;
        out += "<li><a href=\"" + escape_html(query_href(*q, pat + ".query")) + "\"";
        if (opt_bool(p, "current", pat)) out += " aria-current=\"page\"";
        out += "><span class=\"visually-hidden\">Page </span>" + std::to_string(n) + "</a></li>";
      }
    }
    if (const auto* next = o.if_contains("next"); next && !next->is_null())
      out += "<li><a rel=\"next\" href=\"" + escape_html(query_href(*next, at + ".next")) + "\">Next</a></li>";
    out += "</ul></nav>";
  }

  void badge(const json::object& o, const std::string& at) {
    auto tone = opt_tone(o, at, "neutral", {"neutral", "success", "warning", "danger", "info"});
    auto icon = opt_str(o, "icon", at);
    if (icon && icon_svg(*icon).empty()) fail(at + ".icon", "unknown icon \"" + std::string(*icon) + "\"");
    out += "<span class=\"badge tone-" + std::string(tone) + "\"";
    if (auto t = opt_str(o, "title", at)) out += " title=\"" + escape_html(*t) + "\"";
    out += ">";
    if (icon) out += icon_svg(*icon);
    out += escape_html(str(o, "text", at)) + "</span>";
  }

  void button(const json::value& v, const std::string& at) {
    const auto& o = object(v, at);
    expect_type(o, "button", at);
    auto label = str(o, "label", at);
    auto style = opt_str(o, "style", at).value_or("secondary");
    if (style != "primary" && style != "secondary" && style != "danger")
      fail(at + ".style", "unknown style \"" + std::string(style) + "\"");
    out += "<button type=\"button\" class=\"btn";
    if (style != "secondary") out += " btn-" + std::string(style);
    out += "\"";
    auto opens = opt_str(o, "opens", at);
    const auto* act = o.if_contains("action");
    if (opens && act) fail(at, "a button either opens a modal or runs an action, not both");
    if (opens) {
      if (!modal_ids_.count(std::string(*opens))) fail(at + ".opens", "no modal with id \"" + std::string(*opens) + "\"");
      out += " data-opens=\"modal-" + std::string(*opens) + "\" aria-haspopup=\"dialog\"";
    } else if (act) {
      out += " data-action" + action_attrs(object(*act, at + ".action"), at + ".action");
    } else if (!opt_bool(o, "disabled", at)) {
      fail(at, "needs \"opens\" or \"action\" (or \"disabled\": true)");
    }
    if (opt_bool(o, "disabled", at)) out += " disabled";
    if (auto t = opt_str(o, "title", at)) out += " title=\"" + escape_html(*t) + "\"";
    out += ">" + escape_html(label) + "</button>";
  }

  // data-* attributes the page's script reads to run an action (VIEW_MODEL.md "action").
  std::string action_attrs(const json::object& a, const std::string& at) {
    auto method = str(a, "method", at);
    if (method != "POST" && method != "PUT" && method != "PATCH" && method != "DELETE")
      fail(at + ".method", "POST, PUT, PATCH or DELETE");
    auto route = str(a, "route", at);
    if (!is_route(route)) fail(at + ".route", "must be relative to the plugin's mount point, without '..'");
    std::string s = " data-method=\"" + std::string(method) + "\" data-url=\"" + escape_html(base_ + std::string(route)) + "\"";
    if (const auto* body = a.if_contains("body"); body && !body->is_null()) {
      if (!body->is_object()) fail(at + ".body", "expected an object");
      s += " data-body=\"" + escape_html(json::serialize(*body)) + "\"";
    }
    if (auto c = opt_str(a, "confirm", at)) s += " data-confirm=\"" + escape_html(*c) + "\"";
    if (const auto* sec = a.if_contains("secret"); sec && !sec->is_null()) {
      auto sat = at + ".secret";
      const auto& so = object(*sec, sat);
      json::object spec;
      spec["field"] = str(so, "field", sat);
      if (auto t = opt_str(so, "title", sat)) spec["title"] = *t;
      if (auto w = opt_str(so, "warning", sat)) spec["warning"] = *w;
      s += " data-secret=\"" + escape_html(json::serialize(spec)) + "\"";
    }
    return s;
  }
};

std::string initials(std::string_view name) {
  std::string out;
  int letters = 0;
  bool at_word = true;
  for (std::size_t i = 0; i < name.size() && letters < 2;) {
    unsigned char c = static_cast<unsigned char>(name[i]);
    std::size_t len = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 1;
    if (c == ' ' || c == '.') {
      at_word = true;
    } else if (at_word) {
      // "Dr." is a title, not a name: skip it so "Dr. Olivia Hart" gives "OH".
      if (name.substr(i, 3) != "Dr." && name.substr(i, 3) != "dr.") {
        out += std::string(name.substr(i, std::min(len, name.size() - i)));
        ++letters;
      }
      at_word = false;
    }
    i += len;
  }
  for (auto& ch : out)
    if (ch >= 'a' && ch <= 'z') ch = static_cast<char>(ch - 'a' + 'A');
  return out.empty() ? "?" : out;
}

bool is_safe_next(std::string_view p) { return is_host_path(p); }

// The document around every page: header with the avatar menu, settings navigation, main.
std::string shell(const PageChrome& chrome, std::string_view main_html) {
  std::string out;
  out.reserve(main_html.size() + 16384);
  out += "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">"
         "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">";
  out += "<meta name=\"csrf-token\" content=\"" + escape_html(chrome.csrf_token) + "\">";
  out += "<title>" + escape_html(chrome.title.empty() ? "Settings" : chrome.title) + " · MyDentalPractice</title>";
  out += "<link rel=\"stylesheet\" href=\"" + asset_url("app.css") + "\"></head><body>";
  out += "<a class=\"skip\" href=\"#main\">Skip to content</a>";
  out += "<header class=\"topbar\"><a class=\"brand\" href=\"/settings\">MyDentalPractice</a>";
  if (!chrome.clinic_name.empty()) out += "<span class=\"clinic\">" + escape_html(chrome.clinic_name) + "</span>";
  if (chrome.unread_notifications >= 0) {
    const auto n = chrome.unread_notifications;
    const std::string label = n == 0 ? "Notifications" : "Notifications, " + std::to_string(n) + " unread";
    out += "<a class=\"bell\" id=\"notifications-bell\" href=\"/settings/notifications\" aria-label=\"" + label + "\"";
    if (chrome.current_path == "/settings/notifications") out += " aria-current=\"page\"";
    out += "><svg aria-hidden=\"true\" width=\"18\" height=\"18\" viewBox=\"0 0 24 24\"><path fill=\"currentColor\" "
           "d=\"M12 22a2.5 2.5 0 0 0 2.45-2h-4.9A2.5 2.5 0 0 0 12 22zm7-6V11a7 7 0 0 0-5.5-6.84V3a1.5 1.5 0 0 0-3 0v1.16A7 7 0 0 0 5 11v5l-2 2v1h18v-1z\"/></svg>";
    if (n > 0) out += "<span class=\"bell-count\" aria-hidden=\"true\">" + std::to_string(n > 99 ? 99 : n) + (n > 99 ? "+" : "") + "</span>";
    out += "</a>";
  }
  if (!chrome.user_name.empty()) {
    out += "<div class=\"avatar-wrap\"><button type=\"button\" id=\"avatar-button\" class=\"avatar\" "
           "aria-haspopup=\"menu\" aria-expanded=\"false\" aria-controls=\"avatar-menu\">"
           "<span class=\"initials\" aria-hidden=\"true\">" + escape_html(initials(chrome.user_name)) +
           "</span><span class=\"who\">" + escape_html(chrome.user_name) + "</span></button>"
           "<ul id=\"avatar-menu\" class=\"menu\" role=\"menu\" aria-labelledby=\"avatar-button\" hidden>"
           "<li role=\"none\"><a role=\"menuitem\" href=\"/settings\">Settings</a></li>"
           "<li role=\"none\"><button type=\"button\" role=\"menuitem\" data-logout>Log out</button></li>"
           "</ul></div>";
  }
  out += "</header><div class=\"layout\">";
  if (!chrome.nav.empty()) {
    out += "<nav class=\"settings-nav\" aria-label=\"Settings\"><p class=\"nav-title\">Settings</p>";
    std::vector<std::string> sections;
    for (const auto& e : chrome.nav)
      if (std::find(sections.begin(), sections.end(), e.section) == sections.end()) sections.push_back(e.section);
    for (const auto& sec : sections) {
      out += "<div class=\"nav-group\"><p class=\"nav-section\">" + escape_html(sec) + "</p><ul>";
      for (const auto& e : chrome.nav) {
        if (e.section != sec) continue;
        out += "<li><a href=\"" + escape_html(is_host_path(e.href) ? e.href : "/settings") + "\"";
        if (e.href == chrome.current_path) out += " aria-current=\"page\"";
        out += ">" + escape_html(e.title) + "</a></li>";
      }
      out += "</ul></div>";
    }
    out += "</nav>";
  }
  out += "<main id=\"main\" tabindex=\"-1\">";
  out += main_html;
  out += "</main></div>";
  out += kDialogs;
  out += "<script src=\"" + asset_url("app.js") + "\"></script></body></html>";
  return out;
}

std::string error_notice(std::string_view why_for_people) {
  return "<div class=\"page-head\"><div class=\"page-titles\"><h1 id=\"page-title\">This page could not be displayed</h1></div></div>"
         "<div class=\"notice tone-danger\" role=\"alert\"><p class=\"notice-title\">The page's content was not understood</p><p>" +
         escape_html(why_for_people) + "</p></div>";
}

}  // namespace

std::string render_settings_page(const json::value& view_model, const PageChrome& chrome, std::string* error) {
  std::string body;
  try {
    Walker w(chrome);
    w.page(view_model);
    body = std::move(w.out);
    if (error) error->clear();
  } catch (const VmError& e) {
    if (error) *error = std::string("invalid view model: ") + e.what();
    body = error_notice("The plugin that provides this page sent something this host cannot show. "
                        "The host's log has the details; try again after updating the plugin.");
  } catch (const std::exception& e) {  // e.g. boost::json::system_error from a bad accessor
    if (error) *error = std::string("invalid view model: ") + e.what();
    body = error_notice("The plugin that provides this page sent something this host cannot show.");
  }
  return shell(chrome, body);
}

std::string render_settings_page(std::string_view view_model_json, const PageChrome& chrome, std::string* error) {
  boost::system::error_code ec;
  json::value v = json::parse(view_model_json, ec);
  if (ec) {
    if (error) *error = "invalid view model: not JSON (" + ec.message() + ")";
    return shell(chrome, error_notice("The plugin that provides this page sent something this host cannot show. "
                                      "The host's log has the details."));
  }
  return render_settings_page(v, chrome, error);
}

std::string validate_view_model(const json::value& view_model) {
  try {
    PageChrome chrome;
    Walker w(chrome);
    w.page(view_model);
    return {};
  } catch (const std::exception& e) {
    return e.what();
  }
}

std::string render_settings_index(const PageChrome& chrome) {
  std::string body = "<div class=\"page-head\"><div class=\"page-titles\"><h1 id=\"page-title\">Settings</h1>"
                     "<p class=\"page-desc\">Choose what to manage.</p></div></div>";
  std::vector<std::string> sections;
  for (const auto& e : chrome.nav)
    if (std::find(sections.begin(), sections.end(), e.section) == sections.end()) sections.push_back(e.section);
  if (sections.empty()) body += "<p class=\"text\">There are no settings you can change.</p>";
  int n = 0;
  for (const auto& sec : sections) {
    auto id = "index-" + std::to_string(++n);
    body += "<section class=\"vm-section\" aria-labelledby=\"" + id + "\"><h2 id=\"" + id + "\">" + escape_html(sec) + "</h2><ul class=\"index-list\">";
    for (const auto& e : chrome.nav)
      if (e.section == sec)
        body += "<li><a href=\"" + escape_html(is_host_path(e.href) ? e.href : "/settings") + "\">" + escape_html(e.title) + "</a></li>";
    body += "</ul></section>";
  }
  return shell(chrome, body);
}

std::string render_message_page(const PageChrome& chrome, std::string_view heading, std::string_view text) {
  return shell(chrome, "<div class=\"page-head\"><div class=\"page-titles\"><h1 id=\"page-title\">" + escape_html(heading) +
                           "</h1></div></div><div class=\"notice tone-warning\" role=\"status\"><p>" + escape_html(text) +
                           "</p></div>");
}

std::string render_login_page(std::string_view next_path) {
  std::string next = is_safe_next(next_path) ? std::string(next_path) : "/settings";
  std::string out;
  out += "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">"
         "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><title>Log in · MyDentalPractice</title>"
         "<link rel=\"stylesheet\" href=\"" + asset_url("app.css") + "\"></head><body class=\"login-body\"><main id=\"main\" class=\"login\">"
         "<h1>MyDentalPractice</h1><p class=\"page-desc\">Log in to manage your clinic.</p>"
         "<form id=\"login-form\" class=\"vm-form\" data-next=\"" + escape_html(next) + "\">"
         "<div class=\"field\"><label for=\"login-email\">Email</label>"
         "<input type=\"email\" id=\"login-email\" name=\"email\" autocomplete=\"username\" required></div>"
         "<div class=\"field\"><label for=\"login-password\">Password</label>"
         "<input type=\"password\" id=\"login-password\" name=\"password\" autocomplete=\"current-password\" required></div>"
         "<p class=\"form-error\" role=\"alert\" hidden></p>"
         "<div class=\"form-actions\"><button type=\"submit\" class=\"btn btn-primary\">Log in</button></div></form>"
         "<p class=\"hint\">Development host only: the demo accounts (owner@brightsmiles.test, frontdesk@brightsmiles.test, "
         "admin@downtown.test, admin@lakeside.test) use the password <code>devpass</code>.</p></main>"
         "<script src=\"" + asset_url("login.js") + "\"></script></body></html>";
  return out;
}

json::value notifications_view_model(const std::vector<NotificationItem>& items, std::size_t unread) {
  json::object page{{"vm_version", 1}, {"type", "page"}, {"title", "Notifications"}};
  page["description"] = "Messages for your clinic's admins, from the features you use. Each one is also sent to you by e-mail.";
  if (unread > 0)
    page["actions"] = json::array{json::object{
        {"type", "button"}, {"label", "Mark all as read"}, {"style", "secondary"},
        {"action", json::object{{"method", "POST"}, {"route", "notifications/read"}}}}};
  json::array children;
  if (items.empty()) {
    children.push_back(json::object{{"type", "empty_state"}, {"title", "No notifications"},
                                    {"text", "When something needs your attention (a key due for rotation, a spike in "
                                             "requests), it shows here and in your e-mail."}});
  } else {
    json::array rows;
    for (const auto& n : items) {
      json::array message{json::object{{"type", "text"}, {"text", n.subject}}};
      if (!n.body.empty()) message.push_back(json::object{{"type", "text"}, {"text", n.body}, {"tone", "muted"}});
      if (is_host_path(n.link)) message.push_back(json::object{{"type", "link"}, {"text", "Open"}, {"href", n.link}});
      const std::string tone = n.severity == "danger" ? "danger" : n.severity == "warning" ? "warning" : "info";
      json::array state{json::object{{"type", "badge"}, {"text", n.read ? "Read" : "New"}, {"tone", n.read ? "neutral" : tone}}};
      std::string shown = n.at.size() >= 16 ? n.at.substr(0, 10) + " " + n.at.substr(11, 5) + " UTC" : n.at;
      json::object row{{"id", "notification-" + std::to_string(n.id)},
                       {"cells", json::object{{"message", std::move(message)},
                                              {"received", json::object{{"type", "time"}, {"datetime", n.at}, {"text", shown}}},
                                              {"state", std::move(state)}}}};
      rows.push_back(std::move(row));
    }
    children.push_back(json::object{
        {"type", "table"}, {"caption", "Notifications, newest first"},
        {"columns", json::array{json::object{{"key", "message"}, {"label", "Message"}},
                                json::object{{"key", "received"}, {"label", "Received"}},
                                json::object{{"key", "state"}, {"label", "State"}}}},
        {"rows", std::move(rows)}});
  }
  page["children"] = std::move(children);
  return page;
}

json::value billing_view_model(std::string_view clinic_name, std::string_view tier,
                               const std::vector<BillingFeature>& features, bool can_manage_billing) {
  std::string tier_name(tier);
  if (!tier_name.empty()) tier_name[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(tier_name[0])));
  json::array rows;
  bool any_action = false;
  for (const auto& f : features) {
    json::object badge{{"type", "badge"}};
    json::value how;
    if (f.enabled) {
      badge["text"] = "Included";
      badge["tone"] = "success";
      badge["icon"] = "check";
      how = f.source == "addon" ? json::value("Unlocked by the " + f.label + " addon")
                                : json::value("Included in your " + tier_name + " plan");
    } else {
      badge["text"] = "Locked";
      badge["tone"] = "neutral";
      badge["icon"] = "lock";
      how = f.addon.empty() ? json::value("Not in your plan: upgrade your tier")
                            : json::value("Not in your plan: upgrade your tier or buy the " + f.label + " addon" +
                                          (f.addon_price.empty() ? "" : " (" + f.addon_price + ")"));
    }
    badge["title"] = how;
    json::object row{{"id", "feature-" + f.id},
                     {"cells", json::object{{"feature", f.label}, {"status", badge}, {"how", how}}}};
    json::array actions;
    if (can_manage_billing && !f.addon.empty()) {
      if (f.enabled && f.source == "addon") {
        actions.push_back(json::object{
            {"type", "button"}, {"label", "Cancel " + f.label + " addon"}, {"style", "danger"},
            {"action", json::object{{"method", "DELETE"}, {"route", "billing/addons/" + f.addon},
                                    {"confirm", "Cancel the " + f.label + " addon? Features it unlocks stop working at once."}}}});
      } else if (!f.enabled) {
        // A purchase names its price and asks first: one click never buys anything.
        const std::string price = f.addon_price.empty() ? "at your plan's addon price" : "for " + f.addon_price;
        actions.push_back(json::object{
            {"type", "button"},
            {"label", "Buy " + f.label + " addon" + (f.addon_price.empty() ? "" : " (" + f.addon_price + ")")},
            {"style", "primary"},
            {"action", json::object{{"method", "POST"}, {"route", "billing/addons/" + f.addon},
                                    {"confirm", "Buy the " + f.label + " addon " + price +
                                                    ", billed with your plan from today? " + f.label +
                                                    " is unlocked at once; you can cancel the addon at any time."}}}});
      }
    }
    if (!actions.empty()) {
      any_action = true;
      row["actions"] = std::move(actions);
    }
    rows.push_back(std::move(row));
  }
  json::array children;
  children.push_back(json::object{
      {"type", "section"}, {"title", "Plan"},
      {"children", json::array{json::object{
                       {"type", "facts"},
                       {"items", json::array{json::object{{"label", "Clinic"}, {"value", clinic_name}},
                                             json::object{{"label", "Tier"}, {"value", tier_name}}}}}}}});
  json::array features_children;
  if (!can_manage_billing)
    features_children.push_back(json::object{{"type", "notice"}, {"tone", "info"},
                                             {"text", "Only a clinic admin can buy or cancel addons."}});
  features_children.push_back(json::object{
      {"type", "table"}, {"caption", "Features in your plan"},
      {"columns", json::array{json::object{{"key", "feature"}, {"label", "Feature"}},
                              json::object{{"key", "status"}, {"label", "Status"}},
                              json::object{{"key", "how"}, {"label", "How"}}}},
      {"rows", std::move(rows)}});
  (void)any_action;
  children.push_back(json::object{{"type", "section"}, {"title", "Features"}, {"children", std::move(features_children)}});
  return json::object{{"vm_version", 1}, {"type", "page"}, {"title", "Billing & Subscription"},
                      {"description", "Your plan and the features it includes. Changes take effect at once."},
                      {"children", std::move(children)}};
}

}  // namespace mdp::devhost::render
