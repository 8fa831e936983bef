#include "distrib/region_disk.h"

#include <algorithm>
#include <cerrno>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <unordered_set>
#include <vector>

#include "boost/asio/post.hpp"
#include "io/fd.h"
#include "libtorrent/disk_buffer_holder.hpp"
#include "libtorrent/disk_interface.hpp"
#include "libtorrent/error_code.hpp"
#include "libtorrent/file_storage.hpp"
#include "libtorrent/hasher.hpp"
#include "libtorrent/io_context.hpp"
#include "libtorrent/peer_request.hpp"
#include "libtorrent/storage_defs.hpp"
#include "util/status.h"

namespace wk::distrib {
namespace {

constexpr int kBlockSz = lt::default_block_size;

// Worker threads running queued jobs; Stop runs what is queued, then joins.
class Workers {
 public:
  explicit Workers(size_t n) {
    for (size_t i = 0; i < std::max<size_t>(n, 1); ++i) {
      threads_.emplace_back([this] { Loop(); });
    }
  }
  ~Workers() { Stop(); }
  void Push(std::function<void()> job) {
    {
      std::lock_guard<std::mutex> g(mu_);
      jobs_.push_back(std::move(job));
    }
    cv_.notify_one();
  }
  void Stop() {
    {
      std::lock_guard<std::mutex> g(mu_);
      stop_ = true;
    }
    cv_.notify_all();
    for (auto& t : threads_) {
      if (t.joinable()) t.join();
    }
  }

 private:
  void Loop() {
    for (;;) {
      std::function<void()> job;
      {
        std::unique_lock<std::mutex> g(mu_);
        cv_.wait(g, [this] { return stop_ || !jobs_.empty(); });
        if (jobs_.empty()) return;
        job = std::move(jobs_.front());
        jobs_.pop_front();
      }
      job();
    }
  }
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> jobs_;  // guarded by mu_
  bool stop_ = false;                       // guarded by mu_
  std::vector<std::thread> threads_;
};

lt::storage_error Error(boost::system::errc::errc_t e, lt::operation_t op) {
  return lt::storage_error(
      lt::error_code(static_cast<int>(e), boost::system::generic_category()),
      op);
}

// Writes all n bytes at offset off of fd (a kept file's blocks), the
// failure as libtorrent's error (with its errno where there is one), the
// first one also in *first_error (if set).
lt::storage_error PWrite(int fd, const char* buf, size_t n, uint64_t off,
                         std::atomic<int>* first_error) {
  const absl::Status st = io::PWriteExact(fd, buf, n, off);
  if (st.ok()) return lt::storage_error();
  const int err = StatusErrno(st) != 0 ? StatusErrno(st) : EIO;
  if (first_error != nullptr) {
    int none = 0;
    first_error->compare_exchange_strong(none, err);
  }
  return lt::storage_error(
      lt::error_code(err, boost::system::generic_category()),
      lt::operation_t::file_write);
}

// The owner of the few buffers async_read allocates (a last block padded
// past the file's end); every other buffer points into the region and is
// not freed. It is never destroyed: libtorrent may release buffers while a
// session is torn down, after the disk interface that lent them is gone.
class TailBuffers final : public lt::buffer_allocator_interface {
 public:
  static TailBuffers& Get() {
    static TailBuffers* const b = new TailBuffers;
    return *b;
  }
  char* New(size_t n) {
    char* p = new char[n]();
    std::lock_guard<std::mutex> g(mu_);
    owned_.insert(p);
    return p;
  }
  void free_disk_buffer(char* p) override {
    {
      std::lock_guard<std::mutex> g(mu_);
      if (owned_.erase(p) == 0) return;  // a pointer into a region
    }
    delete[] p;
  }

 private:
  std::mutex mu_;
  std::unordered_set<char*> owned_;  // guarded by mu_
};

class RegionDisk final : public lt::disk_interface {
 public:
  RegionDisk(lt::io_context& ioc, Region region, size_t threads)
      : ioc_(ioc), region_(region), workers_(threads) {}
  ~RegionDisk() override { workers_.Stop(); }

  // Every torrent of the session is a torrent of the region's one file
  // (a seed may serve the file's hybrid and v1 torrents together), each
  // with its own piece size. Called on the network thread, as every async_
  // call is: the workers get the geometry in their jobs.
  lt::storage_holder new_torrent(lt::storage_params const& p,
                                 std::shared_ptr<void> const&) override {
    // The checkpoint is file 0; a pad file after it is never stored.
    storages_.push_back(
        {p.files.piece_length(),
         static_cast<uint64_t>(p.files.file_size(lt::file_index_t{0}))});
    return lt::storage_holder(
        lt::storage_index_t{static_cast<std::uint32_t>(storages_.size() - 1)},
        *this);
  }
  void remove_torrent(lt::storage_index_t) override {}

  void async_read(
      lt::storage_index_t si, lt::peer_request const& r,
      std::function<void(lt::disk_buffer_holder, lt::storage_error const&)>
          handler,
      lt::disk_job_flags_t) override {
    const uint64_t off = Offset(si, r.piece, r.start);
    const uint64_t len = static_cast<uint64_t>(std::max(r.length, 0));
    const uint64_t size = region_.bytes.size();
    if (off > size || r.length <= 0 || len > kBlockSz) {
      Post([handler = std::move(handler)] {
        handler(lt::disk_buffer_holder(),
                Error(boost::system::errc::invalid_argument,
                      lt::operation_t::file_read));
      });
      return;
    }
    const size_t piece = static_cast<size_t>(static_cast<int>(r.piece));
    if (region_.gate != nullptr && !region_.gate->Enter(piece)) {
      // Given back: libtorrent answers "don't have" and rejects.
      Post([handler = std::move(handler)] {
        handler(lt::disk_buffer_holder(),
                Error(boost::system::errc::no_such_file_or_directory,
                      lt::operation_t::file_read));
      });
      return;
    }
    char* p;
    if (len <= size - off && region_.gate != nullptr) {
      // Stays "in flight" until libtorrent frees the buffer (sent).
      p = reinterpret_cast<char*>(region_.bytes.data() + off);
      Post([handler = std::move(handler), p, len, gate = region_.gate] {
        handler(lt::disk_buffer_holder(*gate, p, static_cast<int>(len)),
                lt::storage_error());
      });
      return;
    }
    if (len <= size - off) {
      // Inside the file: a pointer into the region, which outlives the
      // session (TailBuffers leaves such pointers alone).
      p = reinterpret_cast<char*>(region_.bytes.data() + off);
    } else {
      // The file's last block, which libtorrent asks for whole: the bytes
      // past the file's end belong to the tail pad file and are zeros.
      p = TailBuffers::Get().New(len);
      std::memcpy(p, region_.bytes.data() + off, size - off);
      if (region_.gate != nullptr) region_.gate->Leave(piece);  // copied
    }
    Post([handler = std::move(handler), p, len] {
      handler(
          lt::disk_buffer_holder(TailBuffers::Get(), p, static_cast<int>(len)),
          lt::storage_error());
    });
  }

  bool async_write(lt::storage_index_t si, lt::peer_request const& r,
                   char const* buf, std::shared_ptr<lt::disk_observer>,
                   std::function<void(lt::storage_error const&)> handler,
                   lt::disk_job_flags_t) override {
    const uint64_t off = Offset(si, r.piece, r.start);
    lt::storage_error err;
    if (!region_.writable) {
      err = Error(boost::system::errc::read_only_file_system,
                  lt::operation_t::file_write);
    } else if (off > region_.bytes.size() || r.length < 0) {
      err = Error(boost::system::errc::invalid_argument,
                  lt::operation_t::file_write);
    } else {
      // Bytes past the file's end (tail padding) are not stored.
      const size_t n = std::min<size_t>(static_cast<size_t>(r.length),
                                        region_.bytes.size() - off);
      if (region_.write_fd >= 0) {
        // A store into a shared file mapping takes a page fault and the
        // file system's page_mkwrite per 4 KiB page; one pwrite per block
        // costs the fetchers of a fleet a third less CPU (kept files, 16
        // targets on 2 cores), and an I/O error is an error, not SIGBUS.
        err = PWrite(region_.write_fd, buf, n, off, region_.write_error);
      } else {
        std::memcpy(region_.bytes.data() + off, buf, n);
      }
    }
    Post([handler, err] { handler(err); });
    return false;  // never "buffers full": the fetch bounds what it asks for
  }

  void async_hash(lt::storage_index_t si, lt::piece_index_t piece,
                  lt::span<lt::sha256_hash> v2, lt::disk_job_flags_t flags,
                  std::function<void(lt::piece_index_t, lt::sha1_hash const&,
                                     lt::storage_error const&)>
                      handler) override {
    const Storage& s =
        storages_[static_cast<size_t>(static_cast<std::uint32_t>(si))];
    const uint64_t off = Offset(si, piece, 0);
    const uint64_t len =
        off < s.file_sz ? std::min<uint64_t>(static_cast<uint64_t>(s.piece_len),
                                             s.file_sz - off)
                        : 0;
    // The v2 span points into a buffer the handler owns: the handler is only
    // ever moved (a copy would copy the buffer and leave v2 dangling).
    workers_.Push([this, piece, v2, flags, off, len,
                   handler = std::move(handler)]() mutable {
      const char* p = reinterpret_cast<const char*>(region_.bytes.data());
      for (std::ptrdiff_t i = 0; i < v2.size(); ++i) {
        const uint64_t b = static_cast<uint64_t>(i) * kBlockSz;
        if (b >= len) break;
        const int n = static_cast<int>(std::min<uint64_t>(kBlockSz, len - b));
        v2[i] = lt::hasher256(p + off + b, n).final();
      }
      lt::sha1_hash h1;
      if (flags & lt::disk_interface::v1_hash) {
        h1 = lt::hasher(p + off, static_cast<int>(len)).final();
      }
      Post([handler = std::move(handler), piece, h1] {
        handler(piece, h1, lt::storage_error());
      });
    });
  }

  void async_hash2(lt::storage_index_t si, lt::piece_index_t piece, int offset,
                   lt::disk_job_flags_t,
                   std::function<void(lt::piece_index_t, lt::sha256_hash const&,
                                      lt::storage_error const&)>
                       handler) override {
    const uint64_t file_sz =
        storages_[static_cast<size_t>(static_cast<std::uint32_t>(si))].file_sz;
    const uint64_t off = Offset(si, piece, offset);
    workers_.Push([this, piece, off, file_sz,
                   handler = std::move(handler)]() mutable {
      lt::sha256_hash h;
      if (off < file_sz) {
        const int n =
            static_cast<int>(std::min<uint64_t>(kBlockSz, file_sz - off));
        h = lt::hasher256(
                reinterpret_cast<const char*>(region_.bytes.data() + off), n)
                .final();
      }
      Post([handler = std::move(handler), piece, h] {
        handler(piece, h, lt::storage_error());
      });
    });
  }

  void async_move_storage(lt::storage_index_t, std::string p, lt::move_flags_t,
                          std::function<void(lt::status_t, std::string const&,
                                             lt::storage_error const&)>
                              handler) override {
    Post([handler, p] {
      handler(lt::status_t::fatal_disk_error, p,
              Error(boost::system::errc::operation_not_supported,
                    lt::operation_t::file_rename));
    });
  }
  void async_release_files(lt::storage_index_t,
                           std::function<void()> handler) override {
    if (handler) Post(std::move(handler));
  }
  void async_check_files(
      lt::storage_index_t, lt::add_torrent_params const*,
      lt::aux::vector<std::string, lt::file_index_t>,
      std::function<void(lt::status_t, lt::storage_error const&)> handler)
      override {
    const lt::status_t st = region_.full_check ? lt::status_t::need_full_check
                                               : lt::status_t::no_error;
    Post([handler, st] { handler(st, lt::storage_error()); });
  }
  void async_stop_torrent(lt::storage_index_t,
                          std::function<void()> handler) override {
    if (handler) Post(std::move(handler));
  }
  void async_rename_file(
      lt::storage_index_t, lt::file_index_t idx, std::string name,
      std::function<void(std::string const&, lt::file_index_t,
                         lt::storage_error const&)>
          handler) override {
    Post([handler, name, idx] { handler(name, idx, lt::storage_error()); });
  }
  void async_delete_files(
      lt::storage_index_t, lt::remove_flags_t,
      std::function<void(lt::storage_error const&)> handler) override {
    Post([handler] { handler(lt::storage_error()); });
  }
  void async_set_file_priority(
      lt::storage_index_t,
      lt::aux::vector<lt::download_priority_t, lt::file_index_t> prio,
      std::function<
          void(lt::storage_error const&,
               lt::aux::vector<lt::download_priority_t, lt::file_index_t>)>
          handler) override {
    Post([handler, prio]() mutable {
      handler(lt::storage_error(), std::move(prio));
    });
  }
  void async_clear_piece(
      lt::storage_index_t, lt::piece_index_t index,
      std::function<void(lt::piece_index_t)> handler) override {
    Post([handler, index] { handler(index); });
  }
  void update_stats_counters(lt::counters&) const override {}
  std::vector<lt::open_file_state> get_status(
      lt::storage_index_t) const override {
    return {};
  }
  void abort(bool) override { workers_.Stop(); }
  void submit_jobs() override {}
  void settings_updated() override {}

 private:
  template <typename Fn>
  void Post(Fn fn) {
    boost::asio::post(ioc_, std::move(fn));
  }
  uint64_t Offset(lt::storage_index_t si, lt::piece_index_t piece,
                  int start) const {
    return static_cast<uint64_t>(static_cast<int>(piece)) *
               static_cast<uint64_t>(
                   storages_[static_cast<size_t>(
                                 static_cast<std::uint32_t>(si))]
                       .piece_len) +
           static_cast<uint64_t>(start);
  }

  struct Storage {
    int piece_len;
    uint64_t file_sz;
  };
  lt::io_context& ioc_;
  const Region region_;
  std::vector<Storage> storages_;  // by storage index; the network thread's
  Workers workers_;
};

}  // namespace

PieceGate::PieceGate(const uint8_t* base, uint64_t piece_sz, size_t pieces)
    : base_(base),
      piece_sz_(piece_sz),
      pieces_(pieces),
      open_(new std::atomic<bool>[pieces]),
      readers_(new std::atomic<uint32_t>[pieces]) {
  for (size_t p = 0; p < pieces; ++p) {
    open_[p].store(false);
    readers_[p].store(0);
  }
}

void PieceGate::Open(size_t p) { open_[p].store(true); }

bool PieceGate::Close(size_t p) {
  open_[p].store(false);
  return readers_[p].load() == 0;
}

bool PieceGate::Drained(size_t p) const { return readers_[p].load() == 0; }

bool PieceGate::Enter(size_t p) {
  if (p >= pieces_) return false;
  readers_[p].fetch_add(1);
  if (open_[p].load()) return true;
  readers_[p].fetch_sub(1);
  return false;
}

void PieceGate::Leave(size_t p) { readers_[p].fetch_sub(1); }

void PieceGate::free_disk_buffer(char* buf) {
  const auto off = static_cast<uint64_t>(reinterpret_cast<uint8_t*>(buf) - base_);
  Leave(static_cast<size_t>(off / piece_sz_));
}

lt::disk_io_constructor_type RegionDiskConstructor(Region region,
                                                   size_t threads) {
  return
      [region, threads](lt::io_context& ioc, lt::settings_interface const&,
                        lt::counters&) -> std::unique_ptr<lt::disk_interface> {
        return std::make_unique<RegionDisk>(ioc, region, threads);
      };
}

}  // namespace wk::distrib
