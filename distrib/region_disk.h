// Private to distrib: a libtorrent disk interface over one memory region the
// size of a torrent's single file, in place of files on disk:
//   - seeding: a read-only mapping of the checkpoint file; the torrent is
//     fully checked when added (every block hashed), so the seeder holds the
//     whole merkle tree and can answer any peer's hash requests;
//   - fetching: a private anonymous region (nothing on disk; the fetch gives
//     pages back once restored) or a mapping of the kept file.
// Blocks are written into the region by the network thread (16 KiB copies);
// hashing (SHA-256 of every block, SHA-1 only if asked) runs on `threads`
// worker threads; reads hand out pointers into the region, which must
// outlive the session.
#ifndef WKSPKIT_DISTRIB_REGION_DISK_H_
#define WKSPKIT_DISTRIB_REGION_DISK_H_

#include <cstddef>
#include <cstdint>
#include <span>

#include "libtorrent/session_params.hpp"

namespace wk::distrib {

struct Region {
  std::span<uint8_t> bytes;  // the file's bytes, at their file offsets
  bool writable = false;     // false: writes fail (a seeder never writes)
  bool full_check = false;   // hash every piece when the torrent is added
};

lt::disk_io_constructor_type RegionDiskConstructor(Region region,
                                                   size_t threads);

}  // namespace wk::distrib

#endif  // WKSPKIT_DISTRIB_REGION_DISK_H_
