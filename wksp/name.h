// Workspace names: the one rule for what a name may be and its length limit.
// A name is 1 to kNameMaxLen characters, the first in [A-Za-z0-9], the rest
// in [A-Za-z0-9_.-], so it is also a safe file name. It is stored
// NUL-terminated in kNameFieldSz-byte fields: the workspace header and the
// checkpoint header and footer.
#ifndef WKSPKIT_WKSP_NAME_H_
#define WKSPKIT_WKSP_NAME_H_

#include <cstddef>
#include <optional>
#include <string_view>

#include "absl/status/status.h"

namespace wk::wksp {

inline constexpr size_t kNameMaxLen = 39;
inline constexpr size_t kNameFieldSz = kNameMaxLen + 1;

bool IsValidName(std::string_view name);

// OK for a valid name; otherwise InvalidArgument quoting it and stating the
// rule.
absl::Status ValidateName(std::string_view name);

// The name held by a kNameFieldSz-byte field: the bytes before its first NUL.
// nullopt when the field has no NUL or holds an invalid name.
std::optional<std::string_view> NameInField(const char* field);

// Writes `name` (valid, so at most kNameMaxLen bytes) into a kNameFieldSz-byte
// field, NUL-padded.
void StoreNameField(char* field, std::string_view name);

}  // namespace wk::wksp

#endif  // WKSPKIT_WKSP_NAME_H_
