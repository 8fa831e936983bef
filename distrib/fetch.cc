// Fetch (distrib.h): one libtorrent session downloading into a region (the
// RegionDisk), and the alert loop that turns completed pieces into restored
// cgroup frames. Only the alert loop's thread touches the bookkeeping; the
// restore threads get frame numbers through a queue and hand back results
// through another.
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <mutex>
#include <thread>
#include <utility>
#include <vector>

#include "absl/strings/cord.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "distrib/distrib.h"
#include "distrib/region_disk.h"
#include "distrib/repick.h"
#include "distrib/request_queue.h"
#include "distrib/session.h"
#include "io/fd.h"
#include "io/mmio.h"
#include "libtorrent/add_torrent_params.hpp"
#include "libtorrent/alert_types.hpp"
#include "libtorrent/download_priority.hpp"
#include "libtorrent/session.hpp"
#include "libtorrent/session_params.hpp"
#include "libtorrent/torrent_flags.hpp"
#include "libtorrent/torrent_handle.hpp"
#include "libtorrent/torrent_status.hpp"
#include "util/fault.h"
#include "util/status.h"
#include "util/thread_pool.h"
#include "wksp/checkpt/restore_ranges.h"

namespace wk::distrib {
namespace {

using Clock = std::chrono::steady_clock;
// Marks a failure that left the workspace restored (FetchLeftRestored).
constexpr char kRestoredPayload[] = "wkspkit/fetch-left-restored";
constexpr int kAlertWaitMs = 100;
constexpr auto kReconnectEvery = std::chrono::seconds(1);
// How often the pieces libtorrent has are compared with those the alerts
// reported: a full alert queue drops alerts, piece_finished among them.
constexpr auto kResyncEvery = std::chrono::seconds(1);

Clock::duration Seconds(double s) {
  return std::chrono::duration_cast<Clock::duration>(
      std::chrono::duration<double>(s));
}

// Restore threads: frames in, (frame, status) out.
class Restorers {
 public:
  Restorers(wksp_checkpt::RangeRestore& rr, size_t n) : rr_(rr) {
    for (size_t i = 0; i < n; ++i) threads_.emplace_back([this] { Loop(); });
  }
  ~Restorers() {
    {
      std::lock_guard<std::mutex> g(mu_);
      stop_ = true;
    }
    cv_.notify_all();
    for (auto& t : threads_) t.join();
  }
  void Push(size_t k) {
    {
      std::lock_guard<std::mutex> g(mu_);
      todo_.push_back(k);
    }
    cv_.notify_one();
  }
  std::vector<std::pair<size_t, absl::Status>> TakeDone() {
    std::lock_guard<std::mutex> g(mu_);
    return std::exchange(done_, {});
  }

 private:
  void Loop() {
    for (;;) {
      size_t k;
      {
        std::unique_lock<std::mutex> g(mu_);
        cv_.wait(g, [this] { return stop_ || !todo_.empty(); });
        if (stop_) return;  // a stopped fetch abandons what is queued
        k = todo_.front();
        todo_.pop_front();
      }
      absl::Status st = rr_.RestoreFrame(k);
      std::lock_guard<std::mutex> g(mu_);
      done_.emplace_back(k, std::move(st));
    }
  }
  wksp_checkpt::RangeRestore& rr_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<size_t> todo_;                            // guarded by mu_
  std::vector<std::pair<size_t, absl::Status>> done_;  // guarded by mu_
  bool stop_ = false;                                  // guarded by mu_
  std::vector<std::thread> threads_;
};

// What would let a kept file of n bytes be written, for a failure `st`
// (its errno) while making or writing it: "; ..." or "".
std::string KeptFileFix(const absl::Status& st, uint64_t n) {
  switch (StatusErrno(st)) {
    case ENOSPC:
    case EDQUOT:
      return absl::StrFormat(
          "; make room on its file system (the whole file takes %u bytes), "
          "or move the .part to one with room and --keep there",
          n);
    case EFBIG:
      return absl::StrFormat(
          "; the file size limit (ulimit -f) is below the file's %u bytes: "
          "raise it",
          n);
    default:
      return "";
  }
}

class Fetcher {
 public:
  // resume: region is a kept .part file to re-check first.
  // file_fd: the kept .part file that region maps, open read-write (blocks
  // are written through it, WriteBack), or -1.
  Fetcher(wksp::Wksp& w, std::shared_ptr<lt::torrent_info> ti,
          io::Mapping& region, const FetchOptions& o, bool resume,
          int file_fd)
      : wksp_(w),
        ti_(std::move(ti)),
        region_(region),
        o_(o),
        resume_(resume),
        file_fd_(file_fd) {
    n_ = static_cast<uint64_t>(ti_->files().file_size(lt::file_index_t{0}));
    plen_ = static_cast<uint64_t>(ti_->piece_length());
    pieces_ = static_cast<size_t>(ti_->num_pieces());
    have_.assign(pieces_, false);
    asked_.assign(pieces_, false);
    in_window_.assign(pieces_, false);
    users_.assign(pieces_, 0);
    piece_frames_.assign(pieces_, {});
    threads_ = o.threads ? o.threads : ThreadPool::HardwareConcurrency();
    report_.file_sz = n_;
    report_.pieces = pieces_;
    report_.piece_sz = plen_;
    // Without a kept file, pieces given back must not be served.
    if (!keep() && o_.upload) {
      gate_ = std::make_unique<PieceGate>(region_.data(), plen_, pieces_);
    }
  }

  absl::StatusOr<FetchReport> Run() {
    const Clock::time_point t0 = Clock::now();
    std::vector<lt::tcp::endpoint> peers;
    for (const std::string& p : o_.peers) {
      WK_ASSIGN_OR_RETURN(lt::tcp::endpoint ep, internal::ParseEndpoint(p));
      peers.push_back(ep);
    }
    lt::settings_pack sp_settings =
        internal::Settings(o_.listen, static_cast<int>(pieces_));
    // --no-upload: no peer is unchoked (libtorrent still unchokes one
    // optimistically: AddPeerPlugin drops whatever that peer requests).
    const internal::PeerRole role = o_.upload ? internal::PeerRole::kSharing
                                              : internal::PeerRole::kNoUpload;
    internal::SetFingerprint(sp_settings, role);
    if (o_.upload) {
      internal::SetOriginSettings(sp_settings);
    } else {
      sp_settings.set_int(lt::settings_pack::unchoke_slots_limit, 0);
    }
    // Shallower where the connections use BBR (request_queue.h).
    sp_settings.set_int(lt::settings_pack::request_queue_time,
                        internal::RequestQueueSeconds(o_.tcp_congestion));
    // The torrent "finishes" each time every asked-for piece is in, which
    // would close the connections to seeders (nothing left to want) just
    // before the next frames are asked for.
    sp_settings.set_bool(lt::settings_pack::close_redundant_connections, false);
    lt::session_params sp(std::move(sp_settings));
    sp.disk_io_constructor =
        RegionDiskConstructor(Region{region_.mutable_span(), true, resume_,
                                     gate_.get(), file_fd_, &write_error_},
                              threads_);
    lt::session ses(std::move(sp));
    lt::add_torrent_params atp;
    atp.ti = ti_;
    atp.trackers = o_.trackers;
    atp.save_path = ".";
    atp.flags &= ~(lt::torrent_flags::auto_managed | lt::torrent_flags::paused);
    // Added paused, resumed once checked (Start): libtorrent dials the
    // peers it knows at once when a torrent resumes, and otherwise only in
    // its once-a-second connect round, which cost every fetch up to a
    // second before its first connection (a fifth of a fleet fetch at
    // 40 Mbit/s). A kept .part's re-check needs the torrent running.
    if (!resume_) atp.flags |= lt::torrent_flags::paused;
    internal::AddPeerPlugin(atp, role, 0, o_.tcp_congestion);
    // First the head and tail (the layout), nothing else until it is read.
    atp.piece_priorities.assign(pieces_, lt::dont_download);
    for (size_t p : HeadTailPieces()) {
      atp.piece_priorities[p] = lt::top_priority;
      asked_[p] = true;
      ++users_[p];
      held_ += PieceBytes(p);
      layout_pieces_.push_back(p);
    }
    NotePeak();
    lt::error_code ec;
    th_ = ses.add_torrent(std::move(atp), ec);
    if (ec) {
      return absl::InternalError(
          absl::StrFormat("fetch: adding the torrent: %s", ec.message()));
    }
    deadline_ = o_.deadline_s > 0 ? t0 + Seconds(o_.deadline_s)
                                  : Clock::time_point::max();
    last_piece_ = t0;
    Phase(FetchPhase::kWaiting);
    auto dial = [&] {
      for (const auto& ep : peers) th_.connect_peer(ep);
    };
    Clock::time_point last_connect{}, last_resync = Clock::now();
    absl::Status st;
    while (st.ok() && !restored_) {
      st = CheckTime();
      if (!st.ok()) break;
      if (Clock::now() - last_connect >= kReconnectEvery) {
        // Peers not connected yet (not up, or dropped) are tried again.
        dial();
        last_connect = Clock::now();
      }
      for (lt::alert* a : internal::Alerts(ses, kAlertWaitMs)) {
        if (!st.ok()) break;
        // Peers given while the torrent was still being checked were not
        // dialled (the connections came on the next redial, 1 s later, a
        // fifth of a whole fleet fetch at 40 Mbit/s): dial them now.
        if (lt::alert_cast<lt::torrent_checked_alert>(a)) Start(dial);
        st = OnAlert(a);
      }
      if (st.ok() && (resync_ || Clock::now() - last_resync >= kResyncEvery)) {
        st = Resync(ses, dial);
        last_resync = Clock::now();
      }
      if (st.ok() && restorers_) st = Collect();
      DiscardDrained();
      if (started_ && have_cnt_ < pieces_) {
        repicker_.Tick(th_, have_, Clock::now());
      }
    }
    restorers_.reset();  // stops the restore threads before rr_ ends
    if (!st.ok()) {
      if (rr_) st = rr_->Fail(st);
      return st;
    }
    if (keep()) {
      WK_RETURN_IF_ERROR(WaitComplete(ses));
      WK_RETURN_IF_ERROR(Publish());
      report_.peak_held = 0;  // a file: nothing held in our memory
    }
    report_.seconds = std::chrono::duration<double>(Clock::now() - t0).count();
    Count();
    if (o_.completed) WK_RETURN_IF_ERROR(o_.completed(report_));
    if (keep() && o_.seed_after) SeedAfter(ses);
    return report_;
  }

 private:
  bool keep() const { return !o_.keep.empty(); }

  void Phase(FetchPhase ph) {
    if (o_.phase) o_.phase(ph);
  }

  // The stall bound and the deadline, and stop requests.
  absl::Status CheckTime() const {
    if (internal::StopRequested()) return absl::CancelledError("fetch stopped");
    const Clock::time_point now = Clock::now();
    if (now >= deadline_) {
      return absl::DeadlineExceededError(absl::StrFormat(
          "fetch did not finish within its deadline of %g s (%u of %u pieces; "
          "a longer --deadline, or more peers)",
          o_.deadline_s, have_cnt_, pieces_));
    }
    if (now - last_piece_ >= Seconds(o_.timeout_s)) {
      return absl::DeadlineExceededError(absl::StrFormat(
          "fetch timed out: no new piece for %g s, %u of %u pieces (peers: "
          "%s; a longer --timeout, or other peers)",
          o_.timeout_s, have_cnt_, pieces_, absl::StrJoin(o_.peers, " ")));
    }
    return absl::OkStatus();
  }

  // Payload bytes so far (libtorrent's counters for this torrent).
  void Count() {
    const lt::torrent_status ts = th_.status({});
    report_.downloaded = static_cast<uint64_t>(
        std::max<int64_t>(0, ts.total_payload_download));
    report_.uploaded =
        static_cast<uint64_t>(std::max<int64_t>(0, ts.total_payload_upload));
  }
  uint64_t PieceBytes(size_t p) const {
    return std::min(plen_, n_ - p * plen_);
  }
  std::pair<size_t, size_t> PiecesOf(uint64_t lo, uint64_t hi) const {
    return {lo / plen_, (hi - 1) / plen_ + 1};
  }
  std::vector<size_t> HeadTailPieces() const {
    std::vector<size_t> v;
    auto [h0, h1] = PiecesOf(0, wksp_checkpt::RangeHeadSize(n_));
    auto [t0, t1] = PiecesOf(n_ - wksp_checkpt::RangeTailSize(n_), n_);
    for (size_t p = h0; p < h1; ++p) v.push_back(p);
    for (size_t p = std::max(t0, h1); p < t1; ++p) v.push_back(p);
    return v;
  }
  void NotePeak() { report_.peak_held = std::max(report_.peak_held, held_); }

  absl::Status OnAlert(lt::alert* a) {
    if (auto* p = lt::alert_cast<lt::piece_finished_alert>(a)) {
      return OnPiece(static_cast<size_t>(static_cast<int>(p->piece_index)));
    }
    if (lt::alert_cast<lt::torrent_checked_alert>(a)) {
      // A kept .part re-checked: its good pieces are libtorrent's now.
      if (resume_ && !checked_) {
        WK_RETURN_IF_ERROR(TakeChecked());
        checked_ = true;
        last_piece_ = Clock::now();
      }
    } else if (lt::alert_cast<lt::hash_failed_alert>(a)) {
      ++report_.hash_failures;
    } else if (lt::alert_cast<lt::alerts_dropped_alert>(a)) {
      resync_ = true;
    } else if (auto* f = lt::alert_cast<lt::file_error_alert>(a)) {
      if (Lost()) return absl::OkStatus();
      if (f->op == lt::operation_t::file_write) return WriteFailed(f->error);
    } else if (auto* e = lt::alert_cast<lt::torrent_error_alert>(a)) {
      if (Lost()) return absl::OkStatus();
      return absl::InternalError(
          absl::StrFormat("fetch: %s", e->error.message()));
    } else if (auto* f = lt::alert_cast<lt::listen_failed_alert>(a)) {
      if (keep() && o_.seed_after) {
        return absl::UnavailableError(absl::StrFormat(
            "fetch: cannot listen on %s: %s", o_.listen, f->error.message()));
      }
    } else if (auto* l = lt::alert_cast<lt::listen_succeeded_alert>(a)) {
      if (l->socket_type == lt::socket_type_t::tcp) {
        endpoint_ =
            internal::FormatEndpoint(lt::tcp::endpoint(l->address, l->port));
      }
    }
    return absl::OkStatus();
  }

  // Whether a test drops this error alert (util/fault.h, event alert), as a
  // full alert queue would; libtorrent then posts alerts_dropped.
  bool Lost() {
    if (FaultPoint(FaultEvent::kAlert) == 0) [[likely]]
      return false;
    resync_ = true;
    return true;
  }

  // A write error or a torrent error whose alert was dropped (Resync,
  // WaitComplete): after a failed write libtorrent only stops asking for
  // pieces (ENOSPC, EFBIG: upload mode) or pauses the torrent with an error,
  // and the fetch waited out --timeout blaming the peers. RegionDisk keeps
  // the first failed write's errno; libtorrent the torrent's error.
  absl::Status Stuck(const lt::torrent_status& ts) const {
    if (const int err = write_error_.load(std::memory_order_relaxed); err != 0)
        [[unlikely]] {
      return KeptFileFailed(err, "write");
    }
    if (ts.errc) [[unlikely]] {
      return absl::InternalError(
          absl::StrFormat("fetch: %s", ts.errc.message()));
    }
    return absl::OkStatus();
  }

  // A block that could not be written into the kept file. libtorrent posts
  // a file_error_alert; on ENOSPC and EFBIG it then only stops asking for
  // pieces (upload mode), with no torrent error: the fetch waited for its
  // stall bound (--timeout) and blamed the peers. Other errors also stop
  // the torrent with a torrent_error_alert, which names no file.
  absl::Status WriteFailed(const lt::error_code& ec) const {
    const bool has_errno = ec.category() == boost::system::generic_category() ||
                           ec.category() == boost::system::system_category();
    if (!keep()) {
      return absl::InternalError(
          absl::StrFormat("fetch: writing a block: %s", ec.message()));
    }
    return KeptFileFailed(has_errno ? ec.value() : EIO, "write");
  }

  // The kept file's `op` (write, fsync) failed with errno `err`.
  absl::Status KeptFileFailed(int err, const char* op) const {
    const absl::Status st = ErrnoError(err, op, o_.keep + ".part");
    return WithMessage(st, absl::StrFormat("fetch: cannot write the kept "
                                           "file: %s%s",
                                           st.message(), KeptFileFix(st, n_)));
  }

  // A failure once the workspace is restored (WaitComplete): the workspace
  // stays restored, complete and unmarked; only the kept file is missing.
  static absl::Status AfterRestore(const absl::Status& st) {
    absl::Status out = WithMessage(
        st, absl::StrFormat("%s; the workspace is restored but the kept file "
                            "is not complete",
                            st.message()));
    out.SetPayload(kRestoredPayload, absl::Cord("1"));
    return out;
  }

  // The pieces a re-check found good.
  absl::Status TakeChecked() {
    const lt::torrent_status ts = th_.status(lt::torrent_handle::query_pieces);
    if (ts.pieces.size() != static_cast<int>(pieces_)) return absl::OkStatus();
    for (size_t p = 0; p < pieces_; ++p) {
      if (ts.pieces.get_bit(lt::piece_index_t(static_cast<int>(p)))) {
        WK_RETURN_IF_ERROR(OnPiece(p));
      }
    }
    return absl::OkStatus();
  }

  // The complete, synced .part becomes the kept file (never replacing one
  // that appeared meanwhile).
  absl::Status Publish() {
    const std::string part = o_.keep + ".part";
    if (::renameat2(AT_FDCWD, part.c_str(), AT_FDCWD, o_.keep.c_str(),
                    RENAME_NOREPLACE) != 0) {
      return absl::FailedPreconditionError(absl::StrFormat(
          "fetch: cannot rename the complete %s to %s: %s", part, o_.keep,
          std::strerror(errno)));
    }
    return absl::OkStatus();
  }

  // The torrent, added paused, is checked: dial the peers and resume it.
  template <typename Dial>
  void Start(const Dial& dial) {
    if (started_) return;
    started_ = true;
    dial();
    th_.resume();
  }

  // Pieces libtorrent has whose piece_finished alert never came; a stall
  // (no byte for stall_s while pieces are wanted): every peer is forgotten
  // (ForgetPeers) and the given peers are dialled afresh. Two ways
  // libtorrent 2.0.8 gets stuck that this gets out of: it takes trust from
  // every peer that sent part of a piece that fails its hash, and in a
  // fetch's narrow window most pieces are shared (end-game requests), so an
  // honest seeder next to a bad one can end up banned (the bad one, once
  // fresh, is banned again on its next bad piece); and after a failed piece
  // whose block hashes came from a peer that then died, it has been seen
  // never to ask for that piece again.
  template <typename Dial>
  absl::Status Resync(lt::session& ses, const Dial& dial) {
    resync_ = false;
    const lt::torrent_status ts = th_.status(lt::torrent_handle::query_pieces);
    WK_RETURN_IF_ERROR(Stuck(ts));
    // Its torrent_checked alert was dropped: start all the same.
    if (!started_ && ts.state != lt::torrent_status::checking_files &&
        ts.state != lt::torrent_status::checking_resume_data) {
      Start(dial);
    }
    const Clock::time_point now = Clock::now();
    bool wanted = false;
    for (size_t p = 0; p < pieces_ && !wanted; ++p)
      wanted = asked_[p] && !have_[p];
    if (ts.total_done != last_done_ || !wanted) {
      last_done_ = ts.total_done;
      last_progress_ = now;
    } else if (now - last_progress_ >= Seconds(o_.stall_s)) {
      internal::ForgetPeers(ses);
      dial();
      if (!o_.trackers.empty()) th_.force_reannounce();
      ++report_.peer_resets;
      last_progress_ = now;
    }
    if (ts.pieces.size() != static_cast<int>(pieces_)) return absl::OkStatus();
    for (size_t p = 0; p < pieces_; ++p) {
      if (have_[p] ||
          !ts.pieces.get_bit(lt::piece_index_t(static_cast<int>(p)))) {
        continue;
      }
      WK_RETURN_IF_ERROR(OnPiece(p));
    }
    return absl::OkStatus();
  }

  absl::Status OnPiece(size_t p) {
    if (p >= pieces_ || have_[p]) return absl::OkStatus();
    have_[p] = true;
    ++have_cnt_;
    if (resume_ && !checked_) ++report_.resumed_pieces;
    if (have_cnt_ - report_.resumed_pieces == 1 && !(resume_ && !checked_)) {
      report_.waited =
          std::chrono::duration<double>(Clock::now() - t_start_).count();
      Phase(FetchPhase::kDownloading);
    }
    last_piece_ = Clock::now();
    WriteBack(p);
    if (gate_ && users_[p] > 0) gate_->Open(p);
    if (!rr_) {
      if (!LayoutHere()) return absl::OkStatus();
      return OpenRestore();
    }
    for (size_t k : piece_frames_[p]) {
      if (--missing_[k] == 0) restorers_->Push(k);
    }
    return absl::OkStatus();
  }

  // A kept file's verified piece starts on its way to the disk now, so the
  // Sync before the file is published finds little left to write: done
  // all at the end, it wrote the whole file at once (every target of a
  // fleet at the same moment), 0.1-0.3 s after the last piece with 8
  // targets of a 25 MB file (docs/DISTRIBUTION.md, "Measured"). Only a
  // hint: the kernel starts the writes and the fetch does not wait.
  void WriteBack(size_t p) const {
    if (file_fd_ < 0) return;
    (void)::sync_file_range(file_fd_, static_cast<off64_t>(p * plen_),
                            static_cast<off64_t>(PieceBytes(p)),
                            SYNC_FILE_RANGE_WRITE);
  }

  // Whether every piece RangeRestore::Open reads is here. The head and tail
  // come first; once they are here, the head says whether Open needs more
  // (a delta's index and trailer, however large): those pieces are asked
  // for at top priority, and held like the head and tail until Open.
  bool LayoutHere() {
    for (size_t q : layout_pieces_) {
      if (!have_[q]) return false;
    }
    if (layout_grown_) return true;
    layout_grown_ = true;
    std::vector<std::pair<lt::piece_index_t, lt::download_priority_t>> ask;
    const auto head =
        region_.span().first(wksp_checkpt::RangeHeadSize(n_));
    for (const wksp_checkpt::ByteRange& r : wksp_checkpt::RangeLayout(head, n_)) {
      if (r.lo >= r.hi) continue;
      auto [p0, p1] = PiecesOf(r.lo, r.hi);
      for (size_t p = p0; p < p1; ++p) {
        if (std::find(layout_pieces_.begin(), layout_pieces_.end(), p) !=
            layout_pieces_.end()) {
          continue;
        }
        layout_pieces_.push_back(p);
        ++users_[p];
        if (have_[p]) continue;  // a resumed .part's
        asked_[p] = true;
        held_ += PieceBytes(p);
        ask.emplace_back(lt::piece_index_t(static_cast<int>(p)),
                         lt::top_priority);
      }
    }
    NotePeak();
    if (!ask.empty()) {
      th_.prioritize_pieces(ask);
      return false;
    }
    return true;
  }

  // The layout is here: plan the frames, start the restore threads.
  absl::Status OpenRestore() {
    wksp_checkpt::RestoreOptions ro;
    ro.seed = o_.seed;
    ro.threads = threads_;  // hashes the workspace before a delta
    if (o_.progress) {
      ro.progress = [this](uint64_t done, uint64_t) { o_.progress(done); };
    }
    WK_ASSIGN_OR_RETURN(
        rr_, wksp_checkpt::RangeRestore::Open(wksp_, region_.span(), ro));
    const auto& frames = rr_->frames();
    missing_.assign(frames.size(), 0);
    frame_state_.assign(frames.size(), kNotAsked);
    for (size_t k = 0; k < frames.size(); ++k) {
      auto [p0, p1] = PiecesOf(frames[k].off, frames[k].end);
      for (size_t p = p0; p < p1; ++p) {
        piece_frames_[p].push_back(k);
        ++users_[p];
        missing_[k] += !have_[p];
      }
    }
    // Open may have hashed the workspace (a delta): not a stall.
    last_piece_ = Clock::now();
    restorers_ = std::make_unique<Restorers>(
        *rr_, std::max<size_t>(1, std::min(threads_, frames.size())));
    for (size_t p : layout_pieces_) Release(p);
    for (size_t k = 0; k < frames.size(); ++k) {
      if (missing_[k] == 0) restorers_->Push(k);
    }
    Widen();
    if (frames.empty()) return Finish();
    return absl::OkStatus();
  }

  // One user of piece p is done with it. After the last one, a sharing
  // fetcher keeps serving it until the window needs the memory (Widen),
  // others give it back at once.
  void Release(size_t p) {
    if (--users_[p] != 0) return;
    if (keep()) return;  // the file's pages: the kernel's to manage
    if (gate_) {
      retired_.push_back(p);
      return;
    }
    GiveBack(p);
  }

  // Gives piece p's memory back (once no read of it is in flight).
  void GiveBack(size_t p) {
    if (gate_ && !gate_->Close(p)) {
      draining_.push_back(p);
      return;
    }
    (void)region_.Discard(p * plen_, PieceBytes(p));
    held_ -= PieceBytes(p);
  }

  // Gives back the pieces whose last read was sent since.
  void DiscardDrained() {
    std::erase_if(draining_, [this](size_t p) {
      if (!gate_->Drained(p)) return false;
      (void)region_.Discard(p * plen_, PieceBytes(p));
      held_ -= PieceBytes(p);
      return true;
    });
  }

  // Asks for the pieces of the next frames in file order while what is
  // held stays within mem_max (always at least one frame when none is in
  // progress). With a kept file the window is what the frames not yet
  // restored hold (the same bound, counted without the pieces restored),
  // asked for first; every other piece is asked for too, at low priority.
  void Widen() {
    const auto& frames = rr_->frames();
    std::vector<std::pair<lt::piece_index_t, lt::download_priority_t>> ask;
    while (next_frame_ < frames.size()) {
      auto [p0, p1] =
          PiecesOf(frames[next_frame_].off, frames[next_frame_].end);
      uint64_t more = 0, more_held = 0;
      for (size_t p = p0; p < p1; ++p) {
        more += in_window_[p] ? 0 : PieceBytes(p);
        more_held += asked_[p] ? 0 : PieceBytes(p);
      }
      // Restored pieces still served make room, oldest first.
      while (!keep() && held_ + more_held > o_.mem_max && !retired_.empty()) {
        GiveBack(retired_.front());
        retired_.pop_front();
      }
      // Counted per frame: frames whose pieces were all here before they
      // were asked for (inside the layout's pieces) complete out of order,
      // and a count of frames done then caught up with next_frame_ while
      // a frame of the window was still coming, letting a second frame in
      // past mem_max (8.7 MB held with 1 MiB set and a delta's 4 MiB
      // groups).
      const bool in_progress = frames_in_window_ > 0;
      const uint64_t used = keep() ? window_ + more : held_ + more_held;
      if (in_progress && used > o_.mem_max) break;
      for (size_t p = p0; p < p1; ++p) {
        if (in_window_[p]) continue;
        in_window_[p] = true;
        asked_[p] = true;
        ask.emplace_back(lt::piece_index_t(static_cast<int>(p)),
                         keep() ? lt::top_priority : lt::default_priority);
      }
      window_ += more;
      if (!keep()) held_ += more_held;
      if (frame_state_[next_frame_] == kNotAsked) {
        frame_state_[next_frame_] = kInWindow;
        ++frames_in_window_;
      }
      ++next_frame_;
    }
    if (keep() && !rest_asked_) {
      rest_asked_ = true;
      for (size_t p = 0; p < pieces_; ++p) {
        if (asked_[p]) continue;
        asked_[p] = true;
        ask.emplace_back(lt::piece_index_t(static_cast<int>(p)),
                         lt::low_priority);
      }
    }
    NotePeak();
    if (!ask.empty()) th_.prioritize_pieces(ask);
  }

  absl::Status Collect() {
    for (auto& [k, st] : restorers_->TakeDone()) {
      WK_RETURN_IF_ERROR(st);
      ++frames_done_;
      if (frame_state_[k] == kInWindow) --frames_in_window_;
      frame_state_[k] = kRestored;
      auto [p0, p1] = PiecesOf(rr_->frames()[k].off, rr_->frames()[k].end);
      for (size_t p = p0; p < p1; ++p) {
        if (users_[p] == 1 && in_window_[p]) window_ -= PieceBytes(p);
        Release(p);
      }
    }
    Widen();
    if (frames_done_ == rr_->frames().size()) return Finish();
    return absl::OkStatus();
  }

  absl::Status Finish() {
    restored_ = true;
    absl::Status st = rr_->Finish();
    rr_.reset();
    return st;
  }

  // A kept file must be whole, and durable before it gets its name. Every
  // byte of a file the restore accepts lies in the layout or in a frame
  // (frames lie back to back), so once the restore is done every piece is
  // here (seen in every test: v2, LZ4 deltas, fleets) and only the sync is
  // left; the loop only guards that. A failure here leaves the workspace
  // restored (AfterRestore).
  absl::Status WaitComplete(lt::session& ses) {
    while (have_cnt_ < pieces_) {
      if (absl::Status st = CheckTime(); !st.ok()) return AfterRestore(st);
      for (lt::alert* a : internal::Alerts(ses, kAlertWaitMs)) {
        if (lt::alert_cast<lt::hash_failed_alert>(a)) ++report_.hash_failures;
        auto* f = lt::alert_cast<lt::file_error_alert>(a);
        if (f && f->op == lt::operation_t::file_write) {
          return AfterRestore(WriteFailed(f->error));
        }
      }
      // The count libtorrent keeps: alerts may have been dropped.
      const lt::torrent_status ts = th_.status({});
      if (absl::Status st = Stuck(ts); !st.ok()) return AfterRestore(st);
      const size_t n = static_cast<size_t>(ts.num_pieces);
      if (n > have_cnt_) last_piece_ = Clock::now();
      have_cnt_ = n;
      // (have_ is as the restore left it: pieces we have all the same.)
      if (have_cnt_ < pieces_) repicker_.Tick(th_, have_, Clock::now());
    }
    // Blocks were written with pwrite through file_fd_ (RegionDisk): its
    // fsync is where a write-back error (EIO; ENOSPC or EDQUOT where space
    // is only taken then, e.g. NFS) shows.
    if (absl::Status st = io::Fsync(file_fd_); !st.ok()) {
      const int err = StatusErrno(st);
      return AfterRestore(err ? KeptFileFailed(err, "fsync")
                              : Annotate(st, "fetch: syncing the kept file"));
    }
    return absl::OkStatus();
  }

  // Until the time is up or a stop request: both are its normal end.
  void SeedAfter(lt::session& ses) {
    Phase(FetchPhase::kSeeding);
    if (o_.ready) o_.ready(endpoint_);
    const uint64_t before = report_.uploaded;
    const Clock::time_point t0 = Clock::now();
    const Clock::time_point until =
        o_.seed_seconds > 0 ? t0 + Seconds(o_.seed_seconds)
                            : Clock::time_point::max();
    while (!internal::StopRequested() && Clock::now() < until) {
      (void)internal::Alerts(ses, kAlertWaitMs);
    }
    report_.seed_seconds =
        std::chrono::duration<double>(Clock::now() - t0).count();
    const lt::torrent_status ts = th_.status({});
    report_.seed_uploaded = static_cast<uint64_t>(
        std::max<int64_t>(0, ts.total_payload_upload)) - before;
  }

  wksp::Wksp& wksp_;
  std::shared_ptr<lt::torrent_info> ti_;
  io::Mapping& region_;
  const FetchOptions& o_;
  const bool resume_;
  const int file_fd_;  // the kept file, read-write (RegionDisk, WriteBack)
  std::atomic<int> write_error_{0};  // RegionDisk: first failed write's errno
  const Clock::time_point t_start_ = Clock::now();
  Clock::time_point deadline_, last_piece_;
  bool checked_ = false;  // the .part re-check (resume_) is over
  bool started_ = resume_;  // resumed after the check (Start)
  std::unique_ptr<PieceGate> gate_;  // without keep, uploading
  std::vector<size_t> draining_;     // given back once their reads are sent
  std::deque<size_t> retired_;       // restored, still served (oldest first)
  std::vector<bool> in_window_;      // asked for in frame order
  uint64_t window_ = 0;              // bytes in the window not yet restored
  bool rest_asked_ = false;          // keep: every other piece asked (low)
  uint64_t n_ = 0, plen_ = 0;
  size_t pieces_ = 0, threads_ = 1;
  lt::torrent_handle th_;
  internal::Repicker repicker_;  // idle connections asked again
  std::vector<bool> have_, asked_;
  std::vector<int> users_;  // head/tail and frames that still need a piece
  std::vector<std::vector<size_t>> piece_frames_;
  std::vector<size_t> missing_;  // per frame: pieces not yet complete
  std::vector<size_t> layout_pieces_;  // what Open reads (LayoutHere)
  bool layout_grown_ = false;          // the head was asked what else
  size_t have_cnt_ = 0, next_frame_ = 0, frames_done_ = 0;
  enum FrameState : uint8_t { kNotAsked, kInWindow, kRestored };
  std::vector<FrameState> frame_state_;  // per frame
  size_t frames_in_window_ = 0;  // asked for by Widen, not restored yet
  uint64_t held_ = 0;  // bytes of asked-for pieces not yet given back
  bool restored_ = false;
  bool resync_ = false;     // alerts were dropped: compare pieces now
  int64_t last_done_ = -1;  // libtorrent's byte count at the last resync
  Clock::time_point last_progress_ = Clock::now();
  std::string endpoint_;
  std::unique_ptr<wksp_checkpt::RangeRestore> rr_;
  std::unique_ptr<Restorers> restorers_;
  FetchReport report_;
};

// Errors about the arguments themselves, before anything was fetched.
bool IsWorkspaceUntouchedUsage(const absl::Status& st) {
  return st.code() == absl::StatusCode::kInvalidArgument;
}

}  // namespace

bool FetchLeftRestored(const absl::Status& status) {
  return status.GetPayload(kRestoredPayload).has_value();
}

const char* FetchPhaseName(FetchPhase phase) {
  switch (phase) {
    case FetchPhase::kWaiting:
      return "waiting for peers";
    case FetchPhase::kDownloading:
      return "downloading + restoring";
    case FetchPhase::kSeeding:
      return "seeding";
  }
  return "?";
}

absl::StatusOr<FetchReport> Fetch(wksp::Wksp& wksp, const std::string& torrent,
                                  const FetchOptions& o) {
  if (o.seed_after && o.keep.empty()) {
    return absl::InvalidArgumentError(
        "fetch: seeding after the fetch needs the file kept (--keep FILE)");
  }
  if (o.peers.empty() && o.trackers.empty()) {
    return absl::InvalidArgumentError(
        "fetch: no peer or tracker given (--peer IP:PORT, once per peer, or "
        "--tracker URL)");
  }
  WK_RETURN_IF_ERROR(internal::CheckCongestion(o.tcp_congestion));
  WK_ASSIGN_OR_RETURN(std::shared_ptr<lt::torrent_info> ti,
                      internal::LoadTorrent(torrent));
  if (!ti->v2()) [[unlikely]] {
    // Our fetchers swarm on v2 (block hashes, the first-copy rule between
    // sharing fetchers): a v1-only torrent is the companion for other
    // clients.
    return absl::InvalidArgumentError(absl::StrFormat(
        "fetch: %s is a v1-only torrent (made for BitTorrent clients that "
        "read only v1); fetch the hybrid or v2 torrent of the same file",
        torrent));
  }
  const uint64_t n =
      static_cast<uint64_t>(ti->files().file_size(lt::file_index_t{0}));
  const std::string part = o.keep.empty() ? "" : o.keep + ".part";
  bool resume = false;
  absl::StatusOr<io::Mapping> region;
  if (o.keep.empty()) {
    region = io::MapAnonymousPrivate(n);
  } else {
    struct stat sb;
    if (::stat(o.keep.c_str(), &sb) == 0) {
      return absl::AlreadyExistsError(absl::StrFormat(
          "fetch: %s exists (--keep wants a new path)", o.keep));
    }
    if (::stat(part.c_str(), &sb) == 0) {
      if (!S_ISREG(sb.st_mode) || static_cast<uint64_t>(sb.st_size) != n) {
        return absl::FailedPreconditionError(absl::StrFormat(
            "fetch: %s exists but is not a partial download of this torrent "
            "(%d bytes, the torrent's file %u): remove it or keep elsewhere",
            part, static_cast<int64_t>(sb.st_size), n));
      }
      resume = true;
      // A .part copied in sparse (cp, rsync --sparse) or made where
      // fallocate is missing gets its missing blocks first: on a full tmpfs
      // the re-check, which reads every piece through the mapping, died of
      // SIGBUS at the first hole, and on other file systems the fetch
      // failed at a later write. Its bytes stay as they are.
      if (absl::Status st = io::AllocateExisting(part); !st.ok()) {
        return WithMessage(
            st, absl::StrFormat("fetch: %s; its pieces are kept: make room "
                                "there, or move it to a file system with "
                                "room and --keep there",
                                st.message()));
      }
      region = io::MapFileReadWrite(part);
    } else {
      // The kept file's blocks are allocated before the first byte arrives:
      // a file system without room for it fails the fetch here, workspace
      // untouched, instead of a store into the mapping dying of SIGBUS.
      region = io::CreateAndMap(part, n, 0644, io::Reserve::kAllocate);
    }
  }
  if (!region.ok()) {
    // (Out of room, CreateAndMap says how much: ResourceExhausted, no errno.)
    return WithMessage(region.status(),
                       absl::StrFormat("fetch: %s%s", region.status().message(),
                                       KeptFileFix(region.status(), n)));
  }
  // Blocks go into the kept file with pwrite, and its pieces to the disk as
  // they are verified (RegionDisk, WriteBack). No falling back to stores
  // into the mapping without it: where the file is sparse (no fallocate) a
  // store into a full file system dies of SIGBUS, a pwrite fails (ENOSPC).
  absl::StatusOr<io::Fd> file_fd =
      part.empty() ? absl::StatusOr<io::Fd>(io::Fd()) : io::OpenReadWrite(part);
  if (!file_fd.ok()) return Annotate(file_fd.status(), "fetch");
  const int file = file_fd->get();
  absl::StatusOr<FetchReport> r;
  try {
    r = Fetcher(wksp, ti, *region, o, resume, file).Run();
  } catch (const std::exception& e) {
    r = absl::InternalError(absl::StrFormat("fetch: %s", e.what()));
  }
  if (!r.ok() && !o.keep.empty() && !IsWorkspaceUntouchedUsage(r.status())) {
    (void)region->Sync();
    r = WithMessage(r.status(),
                    absl::StrFormat("%s (the pieces fetched so far stay in %s: "
                                    "the same fetch resumes from them)",
                                    r.status().message(), part));
  }
  return r;
}

}  // namespace wk::distrib
