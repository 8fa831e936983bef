#include "util/status.h"

#include <cerrno>

#include "absl/strings/cord.h"
#include "gtest/gtest.h"

namespace wk {
namespace {

TEST(Status, ErrnoErrorCarriesOpObjectAndText) {
  absl::Status s = ErrnoError(ENOENT, "open", "/nope");
  EXPECT_EQ(s.code(), absl::StatusCode::kNotFound);
  EXPECT_NE(s.message().find("open /nope"), std::string_view::npos);
  EXPECT_NE(s.message().find("No such file"), std::string_view::npos);
  EXPECT_EQ(StatusErrno(s), ENOENT);
}

TEST(Status, ErrnoCodes) {
  EXPECT_EQ(ErrnoError(EEXIST, "create", "x").code(),
            absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(ErrnoError(EACCES, "open", "x").code(),
            absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(ErrnoError(0, "op", "").code(), absl::StatusCode::kUnknown);
  EXPECT_EQ(StatusErrno(absl::InternalError("x")), 0);
}

TEST(Status, AnnotateKeepsCodeAndErrno) {
  absl::Status s = Annotate(ErrnoError(ENOSPC, "write", "fd 3"), "checkpt");
  EXPECT_EQ(s.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(s.message().substr(0, 9), "checkpt: ");
  EXPECT_EQ(StatusErrno(s), ENOSPC);
  EXPECT_TRUE(Annotate(absl::OkStatus(), "x").ok());
}

TEST(Status, WithMessageKeepsCodeAndEveryPayload) {
  absl::Status cause = ErrnoError(EIO, "read", "fd 4");
  cause.SetPayload("test/marker", absl::Cord("x"));
  absl::Status s = WithMessage(cause, "reworded");
  EXPECT_EQ(s.code(), cause.code());
  EXPECT_EQ(s.message(), "reworded");
  EXPECT_EQ(StatusErrno(s), EIO);
  EXPECT_EQ(s.GetPayload("test/marker"), absl::Cord("x"));
  EXPECT_TRUE(WithMessage(absl::OkStatus(), "x").ok());
}

absl::StatusOr<int> Half(int x) {
  if (x % 2) return absl::InvalidArgumentError("odd");
  return x / 2;
}

absl::Status Quarter(int x, int* out) {
  WK_ASSIGN_OR_RETURN(int h, Half(x));
  WK_ASSIGN_OR_RETURN(*out, Half(h));
  return absl::OkStatus();
}

absl::Status Chain(int x) {
  int q;
  WK_RETURN_IF_ERROR(Quarter(x, &q));
  return absl::OkStatus();
}

TEST(Status, Macros) {
  int q = 0;
  EXPECT_TRUE(Quarter(8, &q).ok());
  EXPECT_EQ(q, 2);
  EXPECT_EQ(Quarter(6, &q).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(Chain(4).ok());
  EXPECT_FALSE(Chain(2).ok());
}

}  // namespace
}  // namespace wk
