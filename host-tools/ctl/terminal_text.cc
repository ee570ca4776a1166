// terminal_text — see terminal_text.h.
#include "ctl/terminal_text.h"

#include <glib.h>

#include <cstdio>

namespace memhp::ctl {
namespace {

// Characters a terminal obeys or reorders by, beyond C0 and DEL (ECMA-48 C1; Unicode's bidi
// formatting characters, the source of "Trojan Source" spoofing; the separators some terminals
// take as line breaks).
bool IsInvisibleControl(gunichar c) {
  return (c >= 0x80 && c <= 0x9f) || c == 0x061c || c == 0x200e || c == 0x200f || (c >= 0x202a && c <= 0x202e) ||
         (c >= 0x2066 && c <= 0x2069) || c == 0x2028 || c == 0x2029;
}

std::string Hex2(unsigned char byte, const char* prefix) {
  char out[12];
  std::snprintf(out, sizeof out, "%s%02x", prefix, byte);
  return out;
}

std::string U4(gunichar c) {
  char out[12];
  std::snprintf(out, sizeof out, "\\u%04x", static_cast<unsigned>(c));
  return out;
}

// Walks `text` as UTF-8: `on_char` gets each valid character and its bytes, `on_bad` each byte
// that starts no valid character.
template <typename OnChar, typename OnBad>
void Walk(std::string_view text, OnChar on_char, OnBad on_bad) {
  size_t i = 0;
  while (i < text.size()) {
    const unsigned char byte = static_cast<unsigned char>(text[i]);
    if (byte < 0x80) {
      on_char(static_cast<gunichar>(byte), text.substr(i, 1));
      ++i;
      continue;
    }
    const gunichar c = g_utf8_get_char_validated(text.data() + i, static_cast<gssize>(text.size() - i));
    if (c == static_cast<gunichar>(-1) || c == static_cast<gunichar>(-2)) {
      on_bad(byte);
      ++i;
      continue;
    }
    const size_t length = static_cast<size_t>(g_unichar_to_utf8(c, nullptr));
    on_char(c, text.substr(i, length));
    i += length;
  }
}

}  // namespace

std::string EscapeForTerminal(std::string_view text, Newlines newlines) {
  std::string out;
  out.reserve(text.size());
  Walk(
      text,
      [&](gunichar c, std::string_view bytes) {
        if (c == '\t' || (c == '\n' && newlines == Newlines::kKeep)) {
          out += bytes;
        } else if (c < 0x20 || c == 0x7f) {
          out += Hex2(static_cast<unsigned char>(c), "\\x");
        } else if (IsInvisibleControl(c)) {
          out += U4(c);
        } else {
          out += bytes;
        }
      },
      [&](unsigned char byte) { out += Hex2(byte, "\\x"); });
  return out;
}

std::string EscapeJsonForTerminal(std::string_view json) {
  std::string out;
  out.reserve(json.size());
  Walk(
      json,
      [&](gunichar c, std::string_view bytes) {
        if (c == '\n' || c == '\t' || (c >= 0x20 && c != 0x7f && !IsInvisibleControl(c))) {
          out += bytes;
        } else {
          out += U4(c);
        }
      },
      [&](unsigned char) { out += "\\ufffd"; });
  return out;
}

}  // namespace memhp::ctl
