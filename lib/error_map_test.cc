#include "lib/error_map.h"

#include <cerrno>
#include <cstring>

#include "absl/status/status.h"
#include "gtest/gtest.h"
#include "util/status.h"

namespace wkspkit {
namespace {

TEST(ErrorMapTest, EveryCodeHasAClass) {
  EXPECT_EQ(ErrFromStatus(absl::OkStatus()), WKSPKIT_OK);
  EXPECT_EQ(ErrFromStatus(absl::InvalidArgumentError("x")),
            WKSPKIT_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(ErrFromStatus(absl::NotFoundError("x")), WKSPKIT_ERR_NOT_FOUND);
  EXPECT_EQ(ErrFromStatus(absl::AlreadyExistsError("x")),
            WKSPKIT_ERR_ALREADY_EXISTS);
  EXPECT_EQ(ErrFromStatus(absl::PermissionDeniedError("x")),
            WKSPKIT_ERR_PERMISSION_DENIED);
  EXPECT_EQ(ErrFromStatus(absl::ResourceExhaustedError("x")),
            WKSPKIT_ERR_RESOURCE_EXHAUSTED);
  EXPECT_EQ(ErrFromStatus(absl::FailedPreconditionError("x")),
            WKSPKIT_ERR_FAILED_PRECONDITION);
  EXPECT_EQ(ErrFromStatus(absl::DataLossError("x")), WKSPKIT_ERR_DATA_LOSS);
  EXPECT_EQ(ErrFromStatus(absl::OutOfRangeError("eof")), WKSPKIT_ERR_DATA_LOSS);
  EXPECT_EQ(ErrFromStatus(absl::CancelledError("x")), WKSPKIT_ERR_CANCELLED);
  EXPECT_EQ(ErrFromStatus(absl::UnavailableError("lock held")),
            WKSPKIT_ERR_BUSY);
  EXPECT_EQ(ErrFromStatus(absl::DeadlineExceededError("gave up")),
            WKSPKIT_ERR_BUSY);
  EXPECT_EQ(ErrFromStatus(absl::UnimplementedError("x")),
            WKSPKIT_ERR_UNSUPPORTED);
  EXPECT_EQ(ErrFromStatus(absl::InternalError("x")), WKSPKIT_ERR_INTERNAL);
  EXPECT_EQ(ErrFromStatus(absl::UnknownError("x")), WKSPKIT_ERR_INTERNAL);
  EXPECT_EQ(ErrFromStatus(absl::AbortedError("x")), WKSPKIT_ERR_INTERNAL);
}

TEST(ErrorMapTest, SystemErrorsByErrno) {
  EXPECT_EQ(ErrFromStatus(wk::ErrnoError(ENOENT, "open", "/x")),
            WKSPKIT_ERR_NOT_FOUND);
  EXPECT_EQ(ErrFromStatus(wk::ErrnoError(EACCES, "open", "/x")),
            WKSPKIT_ERR_PERMISSION_DENIED);
  EXPECT_EQ(ErrFromStatus(wk::ErrnoError(ENOSPC, "write", "/x")),
            WKSPKIT_ERR_RESOURCE_EXHAUSTED);
  EXPECT_EQ(ErrFromStatus(wk::ErrnoError(EEXIST, "link", "/x")),
            WKSPKIT_ERR_ALREADY_EXISTS);
  // An I/O error is not a busy lock, whatever class abseil gives it.
  EXPECT_EQ(ErrFromStatus(wk::ErrnoError(EIO, "read", "/x")), WKSPKIT_ERR_IO);
  EXPECT_EQ(ErrFromStatus(wk::ErrnoError(EAGAIN, "flock", "/x")),
            WKSPKIT_ERR_BUSY);
  EXPECT_EQ(ErrFromStatus(wk::ErrnoError(EBADF, "write", "fd 9")),
            WKSPKIT_ERR_INVALID_ARGUMENT);
}

TEST(ErrorMapTest, NamesAreDistinct) {
  for (int a = WKSPKIT_OK; a <= WKSPKIT_ERR_INTERNAL; ++a) {
    for (int b = a + 1; b <= WKSPKIT_ERR_INTERNAL; ++b) {
      EXPECT_STRNE(ErrName(static_cast<wkspkit_err_t>(a)),
                   ErrName(static_cast<wkspkit_err_t>(b)));
    }
  }
  EXPECT_STREQ(ErrName(static_cast<wkspkit_err_t>(-1)), "unknown error");
}

}  // namespace
}  // namespace wkspkit
