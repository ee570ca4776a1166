// xml_tree — a small, bounded XML element tree, built with GLib's GMarkup parser.
//
// libvirt answers in XML (virDomainGetXMLDesc). libvirtd is trusted, but must not be able to
// crash memhpd or make it keep unbounded memory (the same rule as for QMP), so the tree is
// bounded before it is built: total bytes, elements, depth and text per element. Pure: a string
// in, a tree or an error (EINVAL for XML GMarkup rejects, E2BIG for a bound) out.
#pragma once

#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/result.h"

namespace memhp::daemon::libvirt {

struct XmlLimits {
  size_t max_bytes = 4u << 20;     // a domain with hundreds of devices is well under 1 MiB
  size_t max_elements = 20000;
  size_t max_depth = 32;
  size_t max_text = 64u << 10;     // per element (a kernel command line is the longest text)
};

struct XmlElement {
  std::string name;
  std::vector<std::pair<std::string, std::string>> attributes;
  std::string text;  // the element's own text, trimmed of surrounding white space
  std::vector<std::unique_ptr<XmlElement>> children;

  // The attribute's value, or nothing.
  [[nodiscard]] std::optional<std::string_view> Attribute(std::string_view key) const;
  // The first child of that name, or nullptr.
  [[nodiscard]] const XmlElement* Child(std::string_view child_name) const;
  // Every child of that name, in document order.
  [[nodiscard]] std::vector<const XmlElement*> Children(std::string_view child_name) const;
};

[[nodiscard]] Result<std::unique_ptr<XmlElement>> ParseXml(std::string_view xml, const XmlLimits& limits = {});

// The element and its children as XML again (attributes in order, text escaped; an element's
// own text comes before its children, which is how libvirt writes the elements memhp edits).
[[nodiscard]] std::string SerializeXml(const XmlElement& element);

// Text with the five XML special characters escaped, for building device XML.
[[nodiscard]] std::string XmlEscape(std::string_view text);

}  // namespace memhp::daemon::libvirt
