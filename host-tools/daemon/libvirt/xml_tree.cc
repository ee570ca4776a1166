// xml_tree — see xml_tree.h.
#include "daemon/libvirt/xml_tree.h"

#include <glib.h>

#include <cerrno>

namespace memhp::daemon::libvirt {

std::optional<std::string_view> XmlElement::Attribute(std::string_view key) const {
  for (const auto& [k, v] : attributes) {
    if (k == key) return std::string_view(v);
  }
  return std::nullopt;
}

const XmlElement* XmlElement::Child(std::string_view child_name) const {
  for (const auto& c : children) {
    if (c->name == child_name) return c.get();
  }
  return nullptr;
}

std::vector<const XmlElement*> XmlElement::Children(std::string_view child_name) const {
  std::vector<const XmlElement*> out;
  for (const auto& c : children) {
    if (c->name == child_name) out.push_back(c.get());
  }
  return out;
}

namespace {

// The error domain of a bound this file enforces (GMarkup's own errors are malformed XML).
GQuark BoundQuark() { return g_quark_from_static_string("memhp-xml-bound"); }

struct Builder {
  const XmlLimits* limits;
  std::unique_ptr<XmlElement> root;
  std::vector<XmlElement*> stack;
  size_t elements = 0;
};

void Start(GMarkupParseContext*, const gchar* name, const gchar** keys, const gchar** values, gpointer data,
           GError** error) {
  auto* b = static_cast<Builder*>(data);
  if (++b->elements > b->limits->max_elements) {
    g_set_error(error, BoundQuark(), E2BIG, "more than %zu elements", b->limits->max_elements);
    return;
  }
  if (b->stack.size() >= b->limits->max_depth) {
    g_set_error(error, BoundQuark(), E2BIG, "elements nested deeper than %zu", b->limits->max_depth);
    return;
  }
  if (b->stack.empty() && b->root) {
    g_set_error(error, BoundQuark(), EINVAL, "a second root element <%s>", name);
    return;
  }
  auto element = std::make_unique<XmlElement>();
  element->name = name;
  for (size_t i = 0; keys[i] != nullptr; ++i) element->attributes.emplace_back(keys[i], values[i]);
  XmlElement* raw = element.get();
  if (b->stack.empty()) {
    b->root = std::move(element);
  } else {
    b->stack.back()->children.push_back(std::move(element));
  }
  b->stack.push_back(raw);
}

void End(GMarkupParseContext*, const gchar*, gpointer data, GError**) {
  auto* b = static_cast<Builder*>(data);
  if (b->stack.empty()) return;
  std::string& t = b->stack.back()->text;
  const size_t first = t.find_first_not_of(" \t\r\n");
  const size_t last = t.find_last_not_of(" \t\r\n");
  t = first == std::string::npos ? std::string() : t.substr(first, last - first + 1);
  b->stack.pop_back();
}

void Text(GMarkupParseContext*, const gchar* text, gsize length, gpointer data, GError** error) {
  auto* b = static_cast<Builder*>(data);
  if (b->stack.empty()) return;
  std::string& t = b->stack.back()->text;
  if (t.size() + length > b->limits->max_text) {
    g_set_error(error, BoundQuark(), E2BIG, "text of <%s> longer than %zu bytes", b->stack.back()->name.c_str(),
                b->limits->max_text);
    return;
  }
  t.append(text, length);
}

}  // namespace

Result<std::unique_ptr<XmlElement>> ParseXml(std::string_view xml, const XmlLimits& limits) {
  if (xml.size() > limits.max_bytes) {
    return Error{E2BIG, "XML of " + std::to_string(xml.size()) + " bytes is over the bound of " +
                            std::to_string(limits.max_bytes)};
  }
  Builder builder{&limits, nullptr, {}, 0};
  GMarkupParser parser = {Start, End, Text, nullptr, nullptr};
  GMarkupParseContext* context = g_markup_parse_context_new(&parser, G_MARKUP_PREFIX_ERROR_POSITION, &builder, nullptr);
  GError* error = nullptr;
  const bool ok = g_markup_parse_context_parse(context, xml.data(), static_cast<gssize>(xml.size()), &error) &&
                  g_markup_parse_context_end_parse(context, &error);
  g_markup_parse_context_free(context);
  if (!ok) {
    const int errno_value = error->domain == BoundQuark() ? error->code : EINVAL;
    std::string message = std::string("XML: ") + error->message;
    g_error_free(error);
    return Error{errno_value, std::move(message)};
  }
  if (!builder.root) return Error::Invalid("XML: no root element");
  return std::move(builder.root);
}

std::string SerializeXml(const XmlElement& element) {
  std::string out = "<" + element.name;
  for (const auto& [k, v] : element.attributes) out += " " + k + "='" + XmlEscape(v) + "'";
  if (element.text.empty() && element.children.empty()) return out + "/>";
  out += ">" + XmlEscape(element.text);
  for (const auto& c : element.children) out += SerializeXml(*c);
  return out + "</" + element.name + ">";
}

std::string XmlEscape(std::string_view text) {
  // GLib escapes the five special characters (and control characters) for attributes and text.
  gchar* escaped = g_markup_escape_text(text.data(), static_cast<gssize>(text.size()));
  std::string out(escaped);
  g_free(escaped);
  return out;
}

}  // namespace memhp::daemon::libvirt
