#include "line_backend.h"

namespace offhook {

void validateDialString(const std::string& number) {
  if (number.empty()) throw LineError("EBADDIAL", "dial string is empty: give the number to dial, e.g. \"0312345678\"");
  if (number.size() > 64) throw LineError("EBADDIAL", "dial string is longer than 64 characters: check the configured number");
  for (size_t i = 0; i < number.size(); i++) {
    char c = number[i];
    bool ok = (c >= '0' && c <= '9') || c == '*' || c == '#' || c == ',' || c == '+';
    if (!ok) {
      std::string shown = (c >= 32 && c < 127) ? std::string(1, c) : "\\x" + std::to_string(static_cast<unsigned char>(c));
      throw LineError("EBADDIAL", "dial string \"" + number + "\" has '" + shown + "' at position " + std::to_string(i + 1) +
                                      ": only 0-9 * # , (1 s pause) and + are allowed");
    }
  }
}

bool isDtmfDigit(char c) {
  return (c >= '0' && c <= '9') || c == '*' || c == '#' || (c >= 'A' && c <= 'D');
}

void validateTermKey(char key, const char* what) {
  if (key != 0 && !isDtmfDigit(key))
    throw LineError("EBADARG", std::string(what) + " must be one DTMF key (0-9 * # A-D), got '" + std::string(1, key) + "'");
}

}  // namespace offhook
