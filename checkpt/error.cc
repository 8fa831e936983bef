// Error classes as status payloads.
#include <string>

#include "absl/strings/cord.h"
#include "absl/strings/str_format.h"
#include "checkpt/checkpt.h"
#include "checkpt/internal.h"
#include "util/status.h"

namespace wk::checkpt {
namespace {

// Payload key; the value is the class's numeric code as one decimal string.
constexpr char kClassPayload[] = "wkspkit/checkpt-error-class";

}  // namespace

bool FrameStyleIsSupported(FrameStyle style) {
  return style == FrameStyle::kDefault || style == FrameStyle::kRaw ||
         style == FrameStyle::kLz4;
}

const char* ErrorClassName(ErrorClass c) {
  switch (c) {
    case ErrorClass::kOk:
      return "SUCCESS";
    case ErrorClass::kInval:
      return "INVAL";
    case ErrorClass::kUnsup:
      return "UNSUP";
    case ErrorClass::kIo:
      return "IO";
    case ErrorClass::kComp:
      return "COMP";
  }
  return "UNKNOWN";
}

const char* Describe(ErrorClass c) {
  switch (c) {
    case ErrorClass::kOk:
      return "success";
    case ErrorClass::kInval:
      return "bad arguments or state";
    case ErrorClass::kUnsup:
      return "frame style not supported";
    case ErrorClass::kIo:
      return "read or write failed, or the input is short";
    case ErrorClass::kComp:
      return "compressor error or corrupt chunk";
  }
  return "unknown error class";
}

ErrorClass ClassOf(const absl::Status& status) {
  if (status.ok()) return ErrorClass::kOk;
  auto payload = status.GetPayload(kClassPayload);
  if (!payload.has_value()) return ErrorClass::kIo;
  std::string v(*payload);
  for (ErrorClass c : {ErrorClass::kInval, ErrorClass::kUnsup, ErrorClass::kIo,
                       ErrorClass::kComp}) {
    if (v == std::to_string(static_cast<int>(c))) return c;
  }
  return ErrorClass::kIo;
}

namespace internal {

absl::Status Error(ErrorClass c, absl::StatusCode code, std::string_view msg) {
  absl::Status s(code, absl::StrFormat("checkpt: %s", msg));
  s.SetPayload(kClassPayload, absl::Cord(std::to_string(static_cast<int>(c))));
  return s;
}

absl::Status IoError(const absl::Status& status, std::string_view context) {
  absl::Status s = Annotate(status, absl::StrFormat("checkpt: %s", context));
  s.SetPayload(kClassPayload,
               absl::Cord(std::to_string(static_cast<int>(ErrorClass::kIo))));
  return s;
}

}  // namespace internal
}  // namespace wk::checkpt
