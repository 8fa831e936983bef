// Misuse and failure states: every error has its class, fails the object, and
// Finish still reports it.
#include <fcntl.h>
#include <unistd.h>

#include <vector>

#include "checkpt/checkpt.h"
#include "checkpt/test_util.h"
#include "gtest/gtest.h"
#include "io/fd.h"

namespace wk::checkpt {
namespace {

using testing::HalfCompressible;
using testing::TempFile;

TEST(MisuseTest, ErrorClassNamesAndStyles) {
  EXPECT_STREQ(ErrorClassName(ErrorClass::kComp), "COMP");
  EXPECT_STREQ(ErrorClassName(ErrorClass::kInval), "INVAL");
  EXPECT_STRNE(Describe(ErrorClass::kIo), Describe(ErrorClass::kUnsup));
  EXPECT_EQ(ClassOf(absl::OkStatus()), ErrorClass::kOk);
  EXPECT_EQ(ClassOf(absl::InternalError("x")), ErrorClass::kIo);
  EXPECT_TRUE(FrameStyleIsSupported(FrameStyle::kDefault));
  EXPECT_TRUE(FrameStyleIsSupported(FrameStyle::kRaw));
  EXPECT_TRUE(FrameStyleIsSupported(FrameStyle::kLz4));
  EXPECT_FALSE(FrameStyleIsSupported(static_cast<FrameStyle>(3)));
  EXPECT_FALSE(FrameStyleIsSupported(static_cast<FrameStyle>(-1)));
}

TEST(MisuseTest, BadFactoryArguments) {
  std::vector<uint8_t> small(kWbufMin - 1), ok(kWbufMin);
  EXPECT_EQ(ClassOf(Writer::Stream(-1, ok).status()), ErrorClass::kInval);
  EXPECT_EQ(ClassOf(Writer::Stream(0, small).status()), ErrorClass::kInval);
  EXPECT_EQ(ClassOf(Reader::Stream(-1, ok).status()), ErrorClass::kInval);
  EXPECT_EQ(ClassOf(Reader::Stream(0, small).status()), ErrorClass::kInval);
  EXPECT_EQ(ClassOf(Writer::Mmio({}, Lz4StreamState{0x80000001u}).status()),
            ErrorClass::kInval);
  EXPECT_TRUE(Writer::Mmio({}).ok());
  EXPECT_TRUE(Reader::Mmio({}).ok());
}

TEST(MisuseTest, MetaOverLimitFailsWriter) {
  std::vector<uint8_t> big(kMetaMax + 1), region(1 << 20);
  for (FrameStyle style : {FrameStyle::kRaw, FrameStyle::kLz4}) {
    auto w = Writer::Mmio(region);
    ASSERT_TRUE(w->Open(style).ok());
    EXPECT_TRUE(w->Meta(big.data(), kMetaMax).ok());
    absl::Status s = w->Meta(big.data(), kMetaMax + 1);
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
    EXPECT_EQ(ClassOf(s), ErrorClass::kInval);
    EXPECT_TRUE(w->failed());
    EXPECT_FALSE(w->can_open());
    EXPECT_FALSE(w->in_frame());
    EXPECT_EQ(ClassOf(w->Close().status()), ErrorClass::kInval);
    EXPECT_EQ(ClassOf(w->Open(FrameStyle::kRaw).status()), ErrorClass::kInval);
    EXPECT_EQ(ClassOf(w->Data(big.data(), 1)), ErrorClass::kInval);
    // Finish reports the original failure.
    absl::Status fin = w->Finish().status();
    EXPECT_EQ(fin.code(), absl::StatusCode::kInvalidArgument);
    EXPECT_EQ(w->region().data(), region.data());
  }
  // The reader side too.
  auto r = Reader::Mmio(region);
  ASSERT_TRUE(r->Open(FrameStyle::kRaw).ok());
  EXPECT_EQ(ClassOf(r->Meta(big.data(), kMetaMax + 1)), ErrorClass::kInval);
  EXPECT_TRUE(r->failed());
  EXPECT_FALSE(r->Finish().ok());
}

TEST(MisuseTest, StateErrors) {
  std::vector<uint8_t> region(1 << 16);
  uint8_t x = 1;
  {
    auto w = Writer::Mmio(region);
    absl::Status s = w->Data(&x, 1);  // outside a frame
    EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition);
    EXPECT_EQ(ClassOf(s), ErrorClass::kInval);
    EXPECT_TRUE(w->failed());
  }
  {
    auto w = Writer::Mmio(region);
    EXPECT_EQ(ClassOf(w->Close().status()), ErrorClass::kInval);
  }
  {
    auto w = Writer::Mmio(region);
    ASSERT_TRUE(w->Open(FrameStyle::kLz4).ok());
    EXPECT_EQ(ClassOf(w->Open(FrameStyle::kLz4).status()), ErrorClass::kInval);
    EXPECT_TRUE(w->failed());
  }
  {
    auto w = Writer::Mmio(region);
    ASSERT_TRUE(w->Open(FrameStyle::kRaw).ok());
    EXPECT_EQ(ClassOf(w->Data(nullptr, 5)), ErrorClass::kInval);
  }
  {
    auto w = Writer::Mmio(region);
    absl::Status s = w->Open(static_cast<FrameStyle>(3)).status();
    EXPECT_EQ(s.code(), absl::StatusCode::kUnimplemented);
    EXPECT_EQ(ClassOf(s), ErrorClass::kUnsup);
    EXPECT_TRUE(w->failed());
  }
  {
    // Finishing inside a frame is an error; afterwards everything is refused.
    auto w = Writer::Mmio(region);
    ASSERT_TRUE(w->Open(FrameStyle::kRaw).ok());
    EXPECT_EQ(ClassOf(w->Finish().status()), ErrorClass::kInval);
    EXPECT_FALSE(w->can_open());
    EXPECT_FALSE(w->Open(FrameStyle::kRaw).ok());
  }
  {
    auto r = Reader::Mmio(region);
    EXPECT_EQ(ClassOf(r->Data(&x, 1)), ErrorClass::kInval);
    EXPECT_TRUE(r->failed());
  }
  {
    auto r = Reader::Mmio(region);
    EXPECT_EQ(ClassOf(r->Open(static_cast<FrameStyle>(7)).status()),
              ErrorClass::kUnsup);
  }
  {
    // Seek inside a frame, past the end.
    auto r = Reader::Mmio(region);
    EXPECT_TRUE(r->Seek(region.size()).ok());
    EXPECT_TRUE(r->Seek(10).ok());
    ASSERT_TRUE(r->Open(FrameStyle::kRaw).ok());
    absl::Status s = r->Seek(0);
    EXPECT_EQ(ClassOf(s), ErrorClass::kInval);
    EXPECT_TRUE(r->failed());
    auto r2 = Reader::Mmio(region);
    EXPECT_EQ(ClassOf(r2->Seek(region.size() + 1)), ErrorClass::kInval);
  }
}

TEST(MisuseTest, MmioRegionTooSmall) {
  std::vector<uint8_t> data = HalfCompressible(100000, 9);
  for (FrameStyle style : {FrameStyle::kRaw, FrameStyle::kLz4}) {
    for (size_t sz : {size_t{0}, size_t{10}, size_t{40000}}) {
      std::vector<uint8_t> region(sz);
      auto w = Writer::Mmio(region);
      ASSERT_TRUE(w->Open(style).ok());
      absl::Status s = w->Data(data.data(), data.size());
      EXPECT_EQ(s.code(), absl::StatusCode::kResourceExhausted) << s;
      EXPECT_EQ(ClassOf(s), ErrorClass::kIo);
      EXPECT_TRUE(w->failed());
    }
  }
  // An LZ4 chunk whose bound exceeds the space left but whose block fits.
  std::vector<uint8_t> zeros(65536);
  std::vector<uint8_t> region(1000);
  auto w = Writer::Mmio(region);
  ASSERT_TRUE(w->Open(FrameStyle::kLz4).ok());
  ASSERT_TRUE(w->Data(zeros.data(), zeros.size()).ok());
  uint64_t end = *w->Close();
  EXPECT_LT(end, 1000u);
  std::vector<uint8_t> region2(1 << 17);
  auto w2 = Writer::Mmio(region2);
  ASSERT_TRUE(w2->Open(FrameStyle::kLz4).ok());
  ASSERT_TRUE(w2->Data(zeros.data(), zeros.size()).ok());
  EXPECT_EQ(*w2->Close(), end);
  EXPECT_EQ(0, std::memcmp(region.data(), region2.data(), end));
}

TEST(MisuseTest, WriteErrorIsIo) {
  TempFile f;
  io::Fd ro(::open(f.path().c_str(), O_RDONLY | O_CLOEXEC));
  ASSERT_TRUE(ro.valid());
  std::vector<uint8_t> wbuf(kWbufMin), data(200000, 7);
  auto w = Writer::Stream(ro.get(), wbuf);
  ASSERT_TRUE(w.ok());
  ASSERT_TRUE(w->Open(FrameStyle::kRaw).ok());
  absl::Status s = w->Data(data.data(), data.size());
  EXPECT_FALSE(s.ok());
  EXPECT_EQ(ClassOf(s), ErrorClass::kIo);
  EXPECT_TRUE(w->failed());
  EXPECT_EQ(w->fd(), ro.get());
  EXPECT_EQ(w->wbuf().data(), wbuf.data());
  EXPECT_EQ(ClassOf(w->Finish().status()), ErrorClass::kIo);
}

TEST(MisuseTest, ShortFileIsIo) {
  std::vector<uint8_t> data = HalfCompressible(300000, 1);
  for (FrameStyle style : {FrameStyle::kRaw, FrameStyle::kLz4}) {
    std::vector<uint8_t> region(400000);
    auto w = Writer::Mmio(region);
    ASSERT_TRUE(w->Open(style).ok());
    ASSERT_TRUE(w->Data(data.data(), data.size()).ok());
    uint64_t end = *w->Close();
    TempFile f;
    ASSERT_TRUE(io::PWriteExact(f.fd(), region.data(), end - 1, 0).ok());
    std::vector<uint8_t> rbuf(kRbufMin), out(data.size());
    auto r = Reader::Stream(f.fd(), rbuf);
    ASSERT_TRUE(r->Open(style).ok());
    absl::Status s = r->Data(out.data(), out.size());
    EXPECT_EQ(ClassOf(s), ErrorClass::kIo) << s;
    EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss);
    EXPECT_TRUE(r->failed());
  }
}

}  // namespace
}  // namespace wk::checkpt
