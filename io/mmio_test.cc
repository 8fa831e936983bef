#include "io/mmio.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>
#include <utility>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "io/fd.h"
#include "io/test_util.h"
#include "util/status.h"

namespace wk::io {
namespace {

using ::testing::HasSubstr;
using testing::Pattern;
using testing::Pipe;
using testing::TempPath;
using testing::WriteFile;

std::string AsString(std::span<const uint8_t> s) {
  return std::string(reinterpret_cast<const char*>(s.data()), s.size());
}

struct stat StatOf(const std::string& path) {
  struct stat st = {};
  EXPECT_EQ(::stat(path.c_str(), &st), 0) << path;
  return st;
}

TEST(MmioTest, MapsWholeFileReadOnly) {
  TempPath path("ro");
  const std::string data = Pattern(10'000);
  ASSERT_TRUE(WriteFile(path.path(), data));
  auto m = MapFileReadOnly(path.path());
  ASSERT_TRUE(m.ok()) << m.status();
  EXPECT_EQ(m->size(), data.size());
  EXPECT_EQ(AsString(m->span()), data);
  EXPECT_FALSE(m->writable());
  EXPECT_TRUE(m->mutable_span().empty());
  EXPECT_TRUE(m->Advise(Advice::kSequential).ok());
  EXPECT_TRUE(m->Advise(Advice::kWillNeed).ok());
  EXPECT_TRUE(m->Sync().ok());

  auto fd = OpenRead(path.path());
  ASSERT_TRUE(fd.ok());
  auto by_fd = MapFileReadOnly(fd->get());
  ASSERT_TRUE(by_fd.ok()) << by_fd.status();
  ASSERT_TRUE(fd->Close().ok());  // the mapping does not need the descriptor
  EXPECT_EQ(AsString(by_fd->span()), data);
}

TEST(MmioTest, EmptyFileIsAClearError) {
  TempPath path("empty");
  ASSERT_TRUE(WriteFile(path.path(), ""));
  auto m = MapFileReadOnly(path.path());
  EXPECT_EQ(m.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(m.status().message(), HasSubstr("empty file"));
  EXPECT_THAT(m.status().message(), HasSubstr(path.path()));
  m = MapFileReadWrite(path.path());
  EXPECT_THAT(m.status().message(), HasSubstr("empty file"));

  // An empty range of a non-empty file as well.
  TempPath other("nonempty");
  ASSERT_TRUE(WriteFile(other.path(), "abc"));
  auto fd = OpenRead(other.path());
  ASSERT_TRUE(fd.ok());
  m = MapRange(fd->get(), 1, 0, false);
  EXPECT_EQ(m.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(m.status().message(), HasSubstr("empty range"));
  EXPECT_THAT(m.status().message(), HasSubstr(FdName(fd->get())));
}

TEST(MmioTest, PipesAndDevicesAreRefused) {
  Pipe pipe;
  auto m = MapFileReadOnly(pipe.read_end.get());
  EXPECT_EQ(m.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(m.status().message(),
              HasSubstr("not a regular file, cannot map"));
  EXPECT_THAT(m.status().message(), HasSubstr(FdName(pipe.read_end.get())));
  m = MapFileReadOnly("/dev/null");
  EXPECT_THAT(m.status().message(), HasSubstr("not a regular file"));
  EXPECT_THAT(m.status().message(), HasSubstr("/dev/null"));
}

TEST(MmioTest, MissingFile) {
  TempPath path("missing");
  auto m = MapFileReadOnly(path.path());
  EXPECT_EQ(m.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(m.status().message(), HasSubstr(path.path()));
}

TEST(MmioTest, RangesAtUnalignedOffsets) {
  TempPath path("range");
  const uint64_t page = static_cast<uint64_t>(::sysconf(_SC_PAGESIZE));
  const std::string data = Pattern(3 * page + 1234);
  ASSERT_TRUE(WriteFile(path.path(), data));
  auto fd = OpenReadWrite(path.path());
  ASSERT_TRUE(fd.ok());
  for (uint64_t offset : {uint64_t{0}, uint64_t{1}, page - 1, page, page + 1,
                          2 * page - 1, 2 * page + 77}) {
    for (uint64_t size : {uint64_t{1}, uint64_t{100}, page + 5}) {
      if (offset + size > data.size()) continue;
      auto m = MapRange(fd->get(), offset, size, false);
      ASSERT_TRUE(m.ok()) << m.status() << " offset " << offset;
      EXPECT_EQ(m->size(), size);
      EXPECT_EQ(AsString(m->span()), data.substr(offset, size))
          << "offset " << offset << " size " << size;
    }
  }
  // The last byte exactly; one more is past the end.
  auto last = MapRange(fd->get(), data.size() - 1, 1, false);
  ASSERT_TRUE(last.ok());
  EXPECT_EQ(last->data()[0], static_cast<uint8_t>(data.back()));
  auto past = MapRange(fd->get(), data.size() - 1, 2, false);
  EXPECT_EQ(past.status().code(), absl::StatusCode::kOutOfRange);
  EXPECT_THAT(past.status().message(), HasSubstr("past the end"));
  past = MapRange(fd->get(), UINT64_MAX - 1, 4, false);
  EXPECT_EQ(past.status().code(), absl::StatusCode::kOutOfRange);
  past = MapRange(fd->get(), 0, UINT64_MAX, false);
  EXPECT_EQ(past.status().code(), absl::StatusCode::kOutOfRange);
}

TEST(MmioTest, WritesThroughMappingReachTheFile) {
  TempPath path("rw");
  const uint64_t page = static_cast<uint64_t>(::sysconf(_SC_PAGESIZE));
  ASSERT_TRUE(WriteFile(path.path(), Pattern(4 * page)));
  auto fd = OpenReadWrite(path.path());
  ASSERT_TRUE(fd.ok());
  const uint64_t offset = page + 3;
  auto m = MapRange(fd->get(), offset, 50, true);
  ASSERT_TRUE(m.ok()) << m.status();
  ASSERT_EQ(m->mutable_span().size(), 50u);
  std::memcpy(m->mutable_span().data(), "through the mapping", 19);
  char buf[19];
  ASSERT_TRUE(PReadExact(fd->get(), buf, sizeof(buf), offset).ok());
  EXPECT_EQ(std::string(buf, sizeof(buf)), "through the mapping");
  // And the other way round: pwrite shows up in the shared mapping.
  ASSERT_TRUE(PWriteExact(fd->get(), "XY", 2, offset + 30).ok());
  EXPECT_EQ(AsString(m->span().subspan(30, 2)), "XY");
  EXPECT_TRUE(m->Sync().ok());
  // Bytes around the range are untouched.
  ASSERT_TRUE(PReadExact(fd->get(), buf, 1, offset - 1).ok());
  EXPECT_EQ(static_cast<uint8_t>(buf[0]), testing::PatternByte(offset - 1));
}

TEST(MmioTest, MapFileReadWrite) {
  TempPath path("rw_whole");
  ASSERT_TRUE(WriteFile(path.path(), "0123456789"));
  {
    auto m = MapFileReadWrite(path.path());
    ASSERT_TRUE(m.ok()) << m.status();
    EXPECT_TRUE(m->writable());
    m->mutable_span()[9] = 'z';
    ASSERT_TRUE(m->Unmap().ok());
    EXPECT_EQ(m->data(), nullptr);
  }
  auto ro = MapFileReadOnly(path.path());
  ASSERT_TRUE(ro.ok());
  EXPECT_EQ(AsString(ro->span()), "012345678z");
}

TEST(MmioTest, WritableNeedsAReadWriteDescriptor) {
  TempPath path("ro_fd");
  ASSERT_TRUE(WriteFile(path.path(), "abc"));
  auto fd = OpenRead(path.path());
  ASSERT_TRUE(fd.ok());
  auto m = MapRange(fd->get(), 0, 3, true);
  EXPECT_EQ(StatusErrno(m.status()), EACCES) << m.status();
  EXPECT_THAT(m.status().message(), HasSubstr("mmap " + FdName(fd->get())));
}

TEST(MmioTest, LargeSparseFile) {
  TempPath path("sparse");
  constexpr uint64_t kSize = uint64_t{8} << 30;
  {
    auto fd = CreateExclusive(path.path(), 0600);
    ASSERT_TRUE(fd.ok());
    ASSERT_EQ(::ftruncate(fd->get(), static_cast<off_t>(kSize)), 0);
  }
  auto m = MapFileReadWrite(path.path());
  ASSERT_TRUE(m.ok()) << m.status();
  ASSERT_EQ(m->size(), kSize);
  ASSERT_TRUE(m->Advise(Advice::kRandom).ok());
  const uint64_t offsets[] = {0, (uint64_t{1} << 30) + 123,
                              (uint64_t{4} << 30) - 1,
                              (uint64_t{6} << 30) + 4096 * 7, kSize - 1};
  uint8_t value = 1;
  for (uint64_t off : offsets) {
    EXPECT_EQ(m->data()[off], 0) << off;
    m->mutable_span()[off] = value++;
  }
  auto fd = OpenRead(path.path());
  ASSERT_TRUE(fd.ok());
  value = 1;
  for (uint64_t off : offsets) {
    uint8_t got = 0;
    ASSERT_TRUE(PReadExact(fd->get(), &got, 1, off).ok());
    EXPECT_EQ(got, value++) << off;
  }
  // Untouched bytes next to the written ones are still zero.
  EXPECT_EQ(m->data()[(uint64_t{1} << 30) + 124], 0);
  ASSERT_TRUE(m->Unmap().ok());
  // Only the touched pages took space (allow generous file system slack).
  EXPECT_LT(static_cast<uint64_t>(StatOf(path.path()).st_blocks) * 512,
            uint64_t{64} << 20);
}

class UmaskGuard {
 public:
  explicit UmaskGuard(mode_t mask) : old_(::umask(mask)) {}
  ~UmaskGuard() { ::umask(old_); }

 private:
  mode_t old_;
};

TEST(MmioTest, CreateAndMapSizeAndMode) {
  // kAllocate with an advice allocates by populating the advised mapping.
  struct Case {
    Reserve reserve;
    Advice advice;
  };
  for (Case c : {Case{Reserve::kSparse, Advice::kNormal},
                 Case{Reserve::kAllocate, Advice::kNormal},
                 Case{Reserve::kAllocate, Advice::kHugePage}}) {
    const Reserve reserve = c.reserve;
    UmaskGuard guard(077);
    TempPath path("create");
    auto m = CreateAndMap(path.path(), 10'001, 0640, reserve, c.advice);
    ASSERT_TRUE(m.ok()) << m.status();
    struct stat st = StatOf(path.path());
    EXPECT_EQ(static_cast<uint64_t>(st.st_size), 10'001u);
    EXPECT_EQ(st.st_mode & 07777, 0640u);
    if (reserve == Reserve::kAllocate) {
      EXPECT_GE(static_cast<uint64_t>(st.st_blocks) * 512, 10'001u);
    }
    ASSERT_EQ(m->size(), 10'001u);
    EXPECT_EQ(m->data()[10'000], 0);
    std::memcpy(m->mutable_span().data() + 9'990, "end of map!", 11);
    ASSERT_TRUE(m->Sync().ok());
    auto fd = OpenRead(path.path());
    ASSERT_TRUE(fd.ok());
    char buf[11];
    ASSERT_TRUE(PReadExact(fd->get(), buf, 11, 9'990).ok());
    EXPECT_EQ(std::string(buf, 11), "end of map!");
  }
}

TEST(MmioTest, CreateAndMapFailures) {
  TempPath existing("create_exists");
  ASSERT_TRUE(WriteFile(existing.path(), "keep me"));
  auto m = CreateAndMap(existing.path(), 100, 0600);
  EXPECT_EQ(m.status().code(), absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(StatOf(existing.path()).st_size, 7);  // not removed or resized

  // More than any file system here holds: refused with what it needs and
  // what is free, before any block is allocated, and nothing is left.
  TempPath big("create_big");
  m = CreateAndMap(big.path(), uint64_t{1} << 62, 0600, Reserve::kAllocate);
  EXPECT_EQ(m.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_THAT(m.status().message(),
              HasSubstr("needs 4611686018427387904 bytes, "));
  EXPECT_THAT(m.status().message(), HasSubstr(" bytes free in "));
  EXPECT_NE(::access(big.path().c_str(), F_OK), 0);
  // The same when the blocks would come from populating an advised mapping.
  m = CreateAndMap(big.path(), uint64_t{1} << 62, 0600, Reserve::kAllocate,
                   Advice::kHugePage);
  EXPECT_EQ(m.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_THAT(m.status().message(), HasSubstr(" bytes free in "));
  EXPECT_NE(::access(big.path().c_str(), F_OK), 0);

  TempPath zero("create_zero");
  m = CreateAndMap(zero.path(), 0, 0600);
  EXPECT_EQ(m.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(m.status().message(), HasSubstr(zero.path()));
  EXPECT_NE(::access(zero.path().c_str(), F_OK), 0);

  // Created, then sizing or mapping fails (no file system or address space
  // takes 2^63-1 bytes): the file must be gone afterwards.
  TempPath huge("create_huge");
  m = CreateAndMap(huge.path(), static_cast<uint64_t>(INT64_MAX), 0600);
  EXPECT_FALSE(m.ok());
  EXPECT_THAT(m.status().message(), HasSubstr(huge.path()));
  EXPECT_NE(::access(huge.path().c_str(), F_OK), 0);
}

TEST(MmioTest, AnonymousSharedWithForkedChild) {
  auto m = MapAnonymousShared(8192);
  ASSERT_TRUE(m.ok()) << m.status();
  EXPECT_EQ(m->size(), 8192u);
  EXPECT_TRUE(m->writable());
  EXPECT_EQ(m->data()[8191], 0);  // zero filled
  pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    std::memcpy(m->mutable_span().data(), "child", 6);
    ::_exit(0);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  EXPECT_STREQ(reinterpret_cast<const char*>(m->data()), "child");
  EXPECT_EQ(MapAnonymousShared(0).status().code(),
            absl::StatusCode::kInvalidArgument);
  // Huge pages: the size must be a multiple of the page size.
  EXPECT_EQ(MapAnonymousShared(4096, 2 << 20).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(MapAnonymousShared(3 << 20, 3 << 20).status().code(),
            absl::StatusCode::kInvalidArgument);
}

// The transparent huge page mode for private anonymous memory
// ("always [madvise] never": the bracketed one), "" without THP.
std::string ThpMode() {
  std::ifstream in("/sys/kernel/mm/transparent_hugepage/enabled");
  std::string line;
  std::getline(in, line);
  const size_t a = line.find('['), b = line.find(']');
  return a == std::string::npos || b == std::string::npos
             ? ""
             : line.substr(a + 1, b - a - 1);
}

// kB of AnonHugePages in /proc/self/smaps for the mapping starting at p.
uint64_t AnonHugeKb(const void* p) {
  std::ifstream in("/proc/self/smaps");
  std::string line;
  bool ours = false;
  const uintptr_t want = reinterpret_cast<uintptr_t>(p);
  while (std::getline(in, line)) {
    uintptr_t lo = 0, hi = 0;
    if (std::sscanf(line.c_str(), "%lx-%lx ", &lo, &hi) == 2) {
      ours = lo <= want && want < hi;
    } else if (ours && line.rfind("AnonHugePages:", 0) == 0) {
      return std::strtoull(line.c_str() + 14, nullptr, 10);
    }
  }
  return 0;
}

TEST(MmioTest, HugePageAdviceGivesHugePagesWhereTheKernelAllows) {
  constexpr uint64_t kSize = uint64_t{8} << 20;
  auto m = MapAnonymousPrivate(kSize);
  ASSERT_TRUE(m.ok()) << m.status();
  const std::string mode = ThpMode();
  absl::Status st = m->Advise(Advice::kHugePage);
  if (mode.empty()) {
    // No THP in this kernel: the hint may be refused, nothing else changes.
    EXPECT_TRUE(st.ok() || st.code() == absl::StatusCode::kInvalidArgument)
        << st;
  } else {
    EXPECT_TRUE(st.ok()) << st;
  }
  std::memset(m->mutable_span().data(), 7, kSize);
  EXPECT_EQ(m->data()[kSize - 1], 7);
  if (mode == "always" || mode == "madvise") {
    // An 8 MiB mapping holds at least three aligned 2 MiB pages; the
    // kernel may still fall back to 4 KiB pages when none is free.
    const uint64_t kb = AnonHugeKb(m->data());
    if (kb == 0) GTEST_SKIP() << "no huge page was free for this mapping";
    EXPECT_GE(kb, 2048u);
  }
}

TEST(MmioTest, MoveAndUnmap) {
  TempPath path("move");
  ASSERT_TRUE(WriteFile(path.path(), "moved bytes"));
  auto m = MapFileReadOnly(path.path());
  ASSERT_TRUE(m.ok());
  Mapping a = std::move(*m);
  EXPECT_EQ(m->data(), nullptr);
  EXPECT_EQ(m->size(), 0u);
  EXPECT_EQ(AsString(a.span()), "moved bytes");
  Mapping b;
  EXPECT_TRUE(b.empty());
  EXPECT_TRUE(b.Sync().ok());
  EXPECT_TRUE(b.Unmap().ok());
  b = std::move(a);
  EXPECT_TRUE(a.empty());
  EXPECT_EQ(AsString(b.span()), "moved bytes");
  ASSERT_TRUE(b.Unmap().ok());
  EXPECT_TRUE(b.empty());
  EXPECT_TRUE(b.Unmap().ok());
}

}  // namespace
}  // namespace wk::io
