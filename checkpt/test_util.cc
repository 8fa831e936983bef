#include "checkpt/test_util.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <random>

#include "absl/strings/str_format.h"

namespace wk::checkpt::testing {
namespace {

constexpr char kText[] =
    "Checkpoints are frames of buffers; this text repeats. ";

uint64_t Mix(uint64_t x) {
  x ^= x >> 33;
  x *= 0xFF51AFD7ED558CCDULL;
  x ^= x >> 33;
  x *= 0xC4CEB9FE1A85EC53ULL;
  x ^= x >> 33;
  return x;
}

}  // namespace

std::vector<uint8_t> HalfCompressible(uint64_t n, uint64_t seed) {
  std::vector<uint8_t> out(n);
  const uint64_t text_len = sizeof(kText) - 1;
  for (uint64_t i = 0; i < n; i += 8) {
    uint64_t word;
    if ((i & 4095) < 2048) {
      word = Mix(seed * 0x9E3779B97F4A7C15ULL + i);
    } else {
      uint8_t t[8];
      for (int k = 0; k < 8; ++k) t[k] = kText[(i + k) % text_len];
      std::memcpy(&word, t, 8);
    }
    std::memcpy(out.data() + i, &word, std::min<uint64_t>(8, n - i));
  }
  return out;
}

Plan RandomPlan(uint64_t seed, int frames, uint64_t max_frame_bytes) {
  std::mt19937_64 rng(seed);
  auto pick = [&rng](uint64_t n) { return rng() % n; };
  Plan plan(frames);
  for (PlanFrame& f : plan) {
    f.style = static_cast<FrameStyle>(pick(3));  // default (RAW), RAW or LZ4
    uint64_t total = 0;
    const int nbufs = static_cast<int>(pick(40));
    for (int i = 0; i < nbufs && total < max_frame_bytes; ++i) {
      uint64_t sz;
      switch (pick(8)) {
        case 0:
          sz = 0;
          break;
        case 1:
        case 2:
        case 3:
          sz = 1 + pick(64);
          break;
        case 4:
          sz = 1 + pick(4096);
          break;
        case 5: {
          // Sizes at the chunk and ring boundaries.
          static constexpr uint64_t kEdges[] = {65535,  65536,  65537,  131072,
                                                131073, 196607, 196608, 196609};
          sz = kEdges[pick(std::size(kEdges))];
          break;
        }
        default:
          sz = pick(200 * 1024 + 1);
          break;
      }
      PlanBuf b;
      b.meta = sz <= kMetaMax && pick(2);
      switch (pick(3)) {
        case 0:
          b.bytes = HalfCompressible(sz, rng());
          break;
        case 1:
          b.bytes.assign(sz, static_cast<uint8_t>(pick(256)));
          break;
        default: {
          b.bytes.resize(sz);
          for (auto& x : b.bytes) x = static_cast<uint8_t>(rng());
          break;
        }
      }
      total += sz;
      f.bufs.push_back(std::move(b));
    }
  }
  return plan;
}

uint64_t PlanBound(const Plan& plan) {
  uint64_t total = 0;
  for (const PlanFrame& f : plan) {
    for (const PlanBuf& b : f.bufs) {
      if (f.style != FrameStyle::kLz4) {
        total += b.bytes.size();
        continue;
      }
      for (uint64_t left = b.bytes.size(); left;) {
        uint64_t u = std::min(left, kChunkUszMax);
        total += ChunkCszMax(u);
        left -= u;
      }
    }
  }
  return total;
}

absl::Status WritePlan(Writer& w, const Plan& plan,
                       std::vector<uint64_t>* offsets) {
  offsets->clear();
  std::vector<uint8_t> tmp;
  uint64_t prev_end = w.offset();
  for (const PlanFrame& f : plan) {
    absl::StatusOr<uint64_t> off = w.Open(f.style);
    if (!off.ok()) return off.status();
    if (*off != prev_end) {
      return absl::InternalError("open offset differs from previous close");
    }
    offsets->push_back(*off);
    for (const PlanBuf& b : f.bufs) {
      absl::Status s;
      if (b.meta) {
        // Meta memory is free on return: hand over a copy and scribble it.
        tmp = b.bytes;
        s = w.Meta(tmp.data(), tmp.size());
        std::fill(tmp.begin(), tmp.end(), 0xA5);
      } else {
        s = w.Data(b.bytes.data(), b.bytes.size());
      }
      if (!s.ok()) return s;
    }
    absl::StatusOr<uint64_t> end = w.Close();
    if (!end.ok()) return end.status();
    prev_end = *end;
  }
  offsets->push_back(prev_end);
  return absl::OkStatus();
}

absl::Status CheckPlan(Reader& r, const Plan& plan,
                       const std::vector<uint64_t>& offsets, size_t first,
                       size_t last) {
  std::vector<uint8_t> got, meta_tmp(kMetaMax);
  for (size_t i = first; i < last; ++i) {
    const PlanFrame& f = plan[i];
    absl::StatusOr<uint64_t> off = r.Open(f.style);
    if (!off.ok()) return off.status();
    if (*off != offsets[i]) {
      return absl::InternalError(absl::StrFormat(
          "frame %d opens at %d, written at %d", i, *off, offsets[i]));
    }
    // Data buffers must stay put until Close: keep them all.
    std::vector<std::vector<uint8_t>> datas;
    std::vector<size_t> data_idx;
    for (size_t j = 0; j < f.bufs.size(); ++j) {
      const PlanBuf& b = f.bufs[j];
      if (b.meta) {
        absl::Status s = r.Meta(meta_tmp.data(), b.bytes.size());
        if (!s.ok()) return s;
        if (!b.bytes.empty() &&
            std::memcmp(meta_tmp.data(), b.bytes.data(), b.bytes.size()) != 0) {
          return absl::InternalError(
              absl::StrFormat("frame %d meta buffer %d differs", i, j));
        }
      } else {
        datas.emplace_back(b.bytes.size());
        data_idx.push_back(j);
        absl::Status s = r.Data(datas.back().data(), b.bytes.size());
        if (!s.ok()) return s;
      }
    }
    absl::StatusOr<uint64_t> end = r.Close();
    if (!end.ok()) return end.status();
    if (*end != offsets[i + 1]) {
      return absl::InternalError(absl::StrFormat(
          "frame %d closes at %d, written to %d", i, *end, offsets[i + 1]));
    }
    for (size_t k = 0; k < datas.size(); ++k) {
      if (datas[k] != f.bufs[data_idx[k]].bytes) {
        return absl::InternalError(
            absl::StrFormat("frame %d data buffer %d differs", i, data_idx[k]));
      }
    }
  }
  return absl::OkStatus();
}

TempFile::TempFile() {
  const char* dir = std::getenv("TEST_TMPDIR");
  std::string tmpl = std::string(dir ? dir : "/tmp") + "/checkpt_XXXXXX";
  fd_ = ::mkstemp(tmpl.data());
  if (fd_ < 0) std::abort();
  path_ = tmpl;
}

TempFile::~TempFile() {
  ::close(fd_);
  ::unlink(path_.c_str());
}

std::vector<uint8_t> ReadAll(int fd) {
  struct stat st;
  if (::fstat(fd, &st) != 0) std::abort();
  std::vector<uint8_t> out(static_cast<size_t>(st.st_size));
  size_t got = 0;
  while (got < out.size()) {
    ssize_t r = ::pread(fd, out.data() + got, out.size() - got,
                        static_cast<off_t>(got));
    if (r <= 0) std::abort();
    got += static_cast<size_t>(r);
  }
  return out;
}

}  // namespace wk::checkpt::testing
