#include "wksp/name.h"

#include <algorithm>
#include <cstring>
#include <string>

#include "absl/strings/escaping.h"
#include "absl/strings/str_format.h"

namespace wk::wksp {
namespace {

bool IsAlnum(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
         (c >= '0' && c <= '9');
}

}  // namespace

bool IsValidName(std::string_view name) {
  bool ok = !name.empty() && name.size() <= kNameMaxLen && IsAlnum(name[0]);
  for (size_t i = 1; ok && i < name.size(); ++i) {
    char c = name[i];
    ok = IsAlnum(c) || c == '_' || c == '.' || c == '-';
  }
  return ok;
}

absl::Status ValidateName(std::string_view name) {
  if (IsValidName(name)) [[likely]]
    return absl::OkStatus();
  return absl::InvalidArgumentError(absl::StrFormat(
      "bad name \"%s\": a name is 1 to %u characters, the first in "
      "[A-Za-z0-9], the rest in [A-Za-z0-9_.-]",
      absl::CHexEscape(std::string(name.substr(0, 64))), kNameMaxLen));
}

std::optional<std::string_view> NameInField(const char* field) {
  size_t len = strnlen(field, kNameFieldSz);
  std::string_view name(field, len);
  if (len == kNameFieldSz || !IsValidName(name)) return std::nullopt;
  return name;
}

void StoreNameField(char* field, std::string_view name) {
  std::memset(field, 0, kNameFieldSz);
  std::memcpy(field, name.data(), std::min(name.size(), kNameMaxLen));
}

}  // namespace wk::wksp
