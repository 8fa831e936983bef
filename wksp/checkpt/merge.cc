// Delta checkpoints: merge of a chain into a full checkpoint, and what
// checkpt-query / checkpt-verify say of deltas and chains
// (CHECKPOINT_FORMAT.md §9.3-§9.5).
#include <algorithm>
#include <atomic>
#include <vector>

#include "absl/strings/str_format.h"
#include "io/fd.h"
#include "util/status.h"
#include "util/thread_pool.h"
#include "wksp/checkpt/chunk_index.h"
#include "wksp/checkpt/delta_format.h"
#include "wksp/checkpt/internal.h"
#include "wksp/checkpt/wksp_checkpt.h"

namespace wk::wksp_checkpt {

namespace delta = internal::delta;

bool IsDeltaCheckpt(const std::string& path) {
  absl::StatusOr<io::Fd> fd = io::OpenRead(path);
  if (!fd.ok()) return false;
  uint8_t head[8];
  return io::PReadExact(fd->get(), head, sizeof(head), 0).ok() &&
         delta::IsDelta(head);
}

namespace {

DeltaDescription Describe(const delta::DeltaFile& d) {
  const delta::Header& h = d.header;
  DeltaDescription out;
  out.style =
      h.fs == checkpt::FrameStyle::kRaw ? Style::kV2 : Style::kV3;
  out.name = h.name;
  out.seed = h.seed;
  out.part_max = h.part_max;
  out.data_max = h.data_max;
  out.allocs = h.alloc_cnt;
  for (const auto& a : d.index.allocs) out.alloc_bytes += a.hi - a.lo;
  out.chunks = h.chunk_cnt;
  out.changed = h.changed_cnt;
  out.groups = h.group_cnt;
  out.file_bytes = d.size;
  out.base_id = delta::IdHex(h.base_id);
  out.state_id = delta::IdHex(h.state_id);
  return out;
}

}  // namespace

absl::StatusOr<DeltaDescription> DescribeDelta(const std::string& path) {
  absl::StatusOr<delta::DeltaFile> d = delta::OpenDelta(path);
  if (!d.ok()) return Annotate(d.status(), path);
  return Describe(*d);
}

absl::StatusOr<DeltaDescription> VerifyDelta(const std::string& path,
                                             const VerifyOptions& options) {
  auto run = [&]() -> absl::StatusOr<DeltaDescription> {
    WK_ASSIGN_OR_RETURN(delta::DeltaFile d, delta::OpenDelta(path));
    DeltaDescription out = Describe(d);
    const std::vector<internal::ChunkRef> chunks = internal::Chunks(d.index.allocs);
    const uint64_t groups = d.header.group_cnt;
    ThreadPool pool(std::max<uint64_t>(
        1, std::min<uint64_t>(internal::ResolveThreads(options.threads), groups)));
    std::vector<absl::Status> errs(pool.size());
    std::vector<uint64_t> bytes(pool.size(), 0);
    std::atomic<uint64_t> next{0};
    pool.ExecAll([&](size_t t) {
      std::vector<uint8_t> buf, scratch(internal::kChunkSz);
      std::vector<delta::StoredChunk> stored;
      for (uint64_t g; (g = next.fetch_add(1)) < groups;) {
        const uint64_t n = delta::GroupChunks(d.header.changed_cnt, g);
        absl::Status st = delta::ReadGroup(d, g, buf);
        if (st.ok()) st = delta::ParseGroup(buf, n, &stored);
        // Each stored chunk is a chunk of the state (its start and size),
        // in ascending order, and decodes to its digest.
        uint64_t prev = 0;
        for (uint64_t i = 0; st.ok() && i < n; ++i) {
          const delta::StoredChunk& c = stored[i];
          auto it = std::lower_bound(
              chunks.begin(), chunks.end(), c.gaddr,
              [](const internal::ChunkRef& r, uint64_t g) { return r.gaddr < g; });
          if (it == chunks.end() || it->gaddr != c.gaddr || it->sz != c.usz ||
              (i > 0 && c.gaddr <= prev)) [[unlikely]] {
            st = absl::DataLossError(absl::StrFormat(
                "corrupt delta checkpoint: group %u stores a chunk at gaddr "
                "%u (size %u) that is not a chunk of its state in order",
                g, c.gaddr, c.usz));
            break;
          }
          prev = c.gaddr;
          st = delta::DecodeChunk(c, scratch.data());
          if (st.ok() && !(internal::Digest({scratch.data(), c.usz}) ==
                           d.index.digests[it - chunks.begin()])) [[unlikely]] {
            st = absl::DataLossError(absl::StrFormat(
                "corrupt delta checkpoint: chunk at gaddr %u does not match "
                "its digest",
                c.gaddr));
          }
          bytes[t] += c.usz;
        }
        if (!st.ok()) [[unlikely]] {
          errs[t] = st;
          return;
        }
      }
    });
    for (const auto& e : errs) WK_RETURN_IF_ERROR(e);
    for (uint64_t b : bytes) out.changed_bytes += b;
    return out;
  };
  absl::StatusOr<DeltaDescription> r = run();
  if (!r.ok()) return Annotate(r.status(), path);
  return r;
}

absl::StatusOr<std::string> CheckptStateId(const std::string& path,
                                           size_t threads) {
  if (IsDeltaCheckpt(path)) {
    WK_ASSIGN_OR_RETURN(DeltaDescription d, DescribeDelta(path));
    return d.state_id;
  }
  absl::StatusOr<internal::ChunkIndex> idx = internal::IndexOfFull(path, threads);
  if (!idx.ok()) return Annotate(idx.status(), path);
  return delta::IdHex(idx->Id());
}

absl::Status VerifyChain(const std::vector<std::string>& chain,
                         const VerifyOptions& options,
                         std::vector<std::string>* lines) {
  std::string prev_id;
  absl::Status first_err;
  for (size_t i = 0; i < chain.size(); ++i) {
    const std::string& p = chain[i];
    std::string id, base, link;
    if (IsDeltaCheckpt(p)) {
      absl::StatusOr<DeltaDescription> d = VerifyDelta(p, options);
      if (!d.ok()) return d.status();
      id = d->state_id;
      base = d->base_id;
      if (i > 0) {
        link = base == prev_id ? "link ok" : "LINK BROKEN: base is not the "
                                             "state of the file before";
        if (base != prev_id && first_err.ok()) {
          first_err = absl::FailedPreconditionError(absl::StrFormat(
              "chain broken: %s's base %s is not the state of %s (%s)", p,
              base, chain[i - 1], prev_id));
        }
      }
    } else {
      if (i > 0) [[unlikely]] {
        return absl::InvalidArgumentError(absl::StrFormat(
            "%s is a full checkpoint: only the first file of a chain can be",
            p));
      }
      WK_ASSIGN_OR_RETURN(VerifyReport r, VerifyCheckpt(p, options));
      (void)r;
      WK_ASSIGN_OR_RETURN(id, CheckptStateId(p, options.threads));
    }
    if (lines) {
      lines->push_back(absl::StrFormat(
          "%s: %s state %s%s%s", p, base.empty() ? "full" : "delta", id,
          base.empty() ? "" : absl::StrFormat(" base %s", base),
          link.empty() ? "" : absl::StrFormat(" (%s)", link)));
    }
    prev_id = id;
  }
  return first_err;
}

absl::Status MergeChain(const std::vector<std::string>& chain,
                        const std::string& out,
                        const CheckptOptions& options) {
  if (!options.base.empty()) [[unlikely]]
    return absl::InvalidArgumentError("merge writes a full checkpoint: no base");
  if (chain.empty()) [[unlikely]]
    return absl::InvalidArgumentError("merge: no checkpoint given");
  // The state's workspace: the last delta's name, geometry and seed.
  std::string name;
  uint32_t seed = 0;
  uint64_t part_max = 0, data_max = 0;
  if (IsDeltaCheckpt(chain.back())) {
    WK_ASSIGN_OR_RETURN(DeltaDescription d, DescribeDelta(chain.back()));
    name = d.name;
    seed = d.seed;
    part_max = d.part_max;
    data_max = d.data_max;
  } else {
    WK_ASSIGN_OR_RETURN(Preview p, PreviewCheckpt(chain.back()));
    name = p.name;
    seed = p.seed;
    part_max = p.part_max;
    data_max = p.data_max;
  }
  WK_ASSIGN_OR_RETURN(wksp::Wksp scratch,
                      wksp::Wksp::CreateAnonymous(name, part_max, data_max));
  RestoreOptions ro;
  ro.threads = options.threads;
  ro.seed = seed;
  WK_RETURN_IF_ERROR(Annotate(RestoreChain(scratch, chain, ro), "merge"));
  return Checkpt(scratch, out, options);
}

}  // namespace wk::wksp_checkpt
