#include "util/status.h"

#include <cstring>
#include <string>

#include "absl/strings/cord.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace wk {
namespace {
constexpr char kErrnoPayload[] = "wkspkit/errno";
}  // namespace

absl::Status ErrnoError(int err, std::string_view op, std::string_view object) {
  // strerror_r (GNU flavour) is thread safe, unlike strerror.
  char buf[128];
  const char* text = err ? strerror_r(err, buf, sizeof(buf)) : "unknown error";
  // Debian's abseil keeps absl::string_view distinct from std::string_view;
  // StrFormat accepts both, StrCat only the former.
  std::string msg =
      object.empty()
          ? absl::StrFormat("%s: %s (errno %d)", op, text, err)
          : absl::StrFormat("%s %s: %s (errno %d)", op, object, text, err);
  absl::Status status(
      err ? absl::ErrnoToStatusCode(err) : absl::StatusCode::kUnknown, msg);
  status.SetPayload(kErrnoPayload, absl::Cord(absl::StrCat(err)));
  return status;
}

int StatusErrno(const absl::Status& status) {
  auto payload = status.GetPayload(kErrnoPayload);
  int err = 0;
  if (!payload || !absl::SimpleAtoi(std::string(*payload), &err)) return 0;
  return err;
}

absl::Status WithMessage(const absl::Status& status, std::string_view message) {
  if (status.ok()) return status;
  absl::Status out(status.code(),
                   absl::string_view(message.data(), message.size()));
  status.ForEachPayload([&](absl::string_view url, const absl::Cord& payload) {
    out.SetPayload(url, payload);
  });
  return out;
}

absl::Status Annotate(const absl::Status& status, std::string_view context) {
  if (status.ok()) return status;
  return WithMessage(status,
                     absl::StrFormat("%s: %s", context, status.message()));
}

}  // namespace wk
