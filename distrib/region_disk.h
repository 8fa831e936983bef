// Private to distrib: a libtorrent disk interface over one memory region the
// size of a torrent's single file, in place of files on disk:
//   - seeding: a read-only mapping of the checkpoint file; the torrent is
//     fully checked when added (every block hashed), so the seeder holds the
//     whole merkle tree and can answer any peer's hash requests; several
//     torrents of the same file (a hybrid and its v1-only companion) may
//     share the region, each with its own piece size;
//   - fetching: a private anonymous region (nothing on disk; the fetch gives
//     pages back once restored) or a mapping of the kept file.
// Blocks are written into the region by the network thread (16 KiB copies,
// or pwrite into the mapped file where Region::write_fd is set);
// hashing (SHA-256 of every block, SHA-1 only if asked) runs on `threads`
// worker threads; reads hand out pointers into the region, which must
// outlive the session.
#ifndef WKSPKIT_DISTRIB_REGION_DISK_H_
#define WKSPKIT_DISTRIB_REGION_DISK_H_

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>

#include "libtorrent/disk_buffer_holder.hpp"
#include "libtorrent/session_params.hpp"

namespace wk::distrib {

// Which pieces of a region peers may read, for a fetcher that gives pieces
// back (zeroes them) once restored: a read of a closed piece fails, and
// libtorrent then tells the peer "don't have" and rejects the request
// instead of sending zeros. A read hands out a pointer into the region that
// the connection sends later, so the gate counts reads in flight per piece
// (until libtorrent frees the buffer) and a piece may be given back only
// once Close found none, or Drained says so later. Owned by the fetcher; it
// must outlive the session (buffers are freed while the session ends).
class PieceGate final : public lt::buffer_allocator_interface {
 public:
  PieceGate(const uint8_t* base, uint64_t piece_sz, size_t pieces);
  void Open(size_t p);
  // No new reads of p; true when none is in flight either.
  bool Close(size_t p);
  bool Drained(size_t p) const;
  // The disk side: Enter before handing out a pointer into p (false: p is
  // closed, fail the read); the buffer's release (free_disk_buffer) leaves.
  bool Enter(size_t p);
  void Leave(size_t p);
  void free_disk_buffer(char* buf) override;

 private:
  const uint8_t* const base_;
  const uint64_t piece_sz_;
  const size_t pieces_;
  // seq_cst on both sides: a reader that entered sees the piece open, or
  // Close sees the reader (the two orders a store-load pair allows).
  std::unique_ptr<std::atomic<bool>[]> open_;
  std::unique_ptr<std::atomic<uint32_t>[]> readers_;
};

struct Region {
  std::span<uint8_t> bytes;  // the file's bytes, at their file offsets
  bool writable = false;     // false: writes fail (a seeder never writes)
  bool full_check = false;   // hash every piece when the torrent is added
  PieceGate* gate = nullptr;  // null: every piece may be read
  // A descriptor of the file `bytes` maps (shared), open for writing: blocks
  // are written into it with pwrite instead of stores into the mapping. -1:
  // stores.
  int write_fd = -1;
  // Where set, the errno of the first block write to write_fd that failed:
  // the fetch's own record of it, for when libtorrent's file_error_alert
  // was dropped (a full alert queue). Must outlive the session.
  std::atomic<int>* write_error = nullptr;
};

lt::disk_io_constructor_type RegionDiskConstructor(Region region,
                                                   size_t threads);

}  // namespace wk::distrib

#endif  // WKSPKIT_DISTRIB_REGION_DISK_H_
