// One checkpoint pass, many outputs (checkpt_tee.h).
#include "apps/checkpt_tee.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <memory>
#include <optional>
#include <thread>
#include <utility>

#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "io/fd.h"
#include "io/pending_file.h"
#include "util/status.h"

namespace wk::apps {
namespace {

// The pipe between the encoder and the fan-out, and the fan-out's buffer.
constexpr int kPipeBytes = 1 << 20;
constexpr size_t kChunkBytes = size_t{1} << 20;

struct Output {
  std::string name;                     // "-" or a path
  std::optional<io::PendingFile> file;  // a path's pending file
  int fd = -1;                          // where the bytes go
  absl::Status status;                  // the first failure
  std::string Label() const { return name == "-" ? "stdout" : name; }
};

}  // namespace

absl::Status CheckptTee(wksp::Wksp& w, const std::vector<std::string>& outputs,
                        const wksp_checkpt::CheckptOptions& options,
                        uint64_t* bytes) {
  *bytes = 0;
  // Every file first: a name already taken fails before the lock is taken.
  std::vector<Output> outs(outputs.size());
  for (size_t i = 0; i < outputs.size(); i++) {
    outs[i].name = outputs[i];
    if (outputs[i] == "-") {
      outs[i].fd = STDOUT_FILENO;
      continue;
    }
    absl::StatusOr<io::PendingFile> f =
        io::PendingFile::Create(outputs[i], options.mode, "wkspckpt-tmp");
    if (!f.ok()) {
      return WithMessage(
          f.status(), absl::StrFormat("%s; nothing was written to any output",
                                      f.status().message()));
    }
    outs[i].file.emplace(std::move(*f));
    outs[i].fd = outs[i].file->fd();
  }

  int p[2];
  if (pipe2(p, O_CLOEXEC) != 0) return ErrnoError(errno, "pipe2", "tee");
  io::Fd rd(p[0]);
  auto wr = std::make_unique<io::Fd>(p[1]);
  (void)fcntl(rd.get(), F_SETPIPE_SZ, kPipeBytes);  // a hint: fewer wakeups

  // The encoder: one CheckptFd into the pipe, which it closes when done so
  // the fan-out sees the end.
  absl::Status enc_st;
  std::thread encoder([&w, &options, &enc_st, wr = std::move(wr)]() mutable {
    enc_st = wksp_checkpt::CheckptFd(w, wr->get(), options);
    wr.reset();
  });

  auto buf = std::make_unique<char[]>(kChunkBytes);
  size_t live = outs.size();
  absl::Status read_st;
  while (live > 0) {
    absl::StatusOr<size_t> n = io::ReadAtLeast(rd.get(), buf.get(), 0,
                                               kChunkBytes);
    if (!n.ok()) {
      read_st = n.status();  // a signal: the encoder stops too
      break;
    }
    if (*n == 0) break;  // the encoder finished (or failed)
    *bytes += *n;
    for (Output& o : outs) {
      if (!o.status.ok()) continue;
      absl::Status st = io::WriteExact(o.fd, buf.get(), *n);
      if (st.ok()) continue;
      o.status = st;
      o.file.reset();  // drops the unnamed file now: nothing at its path
      live--;
    }
  }
  // Every output gone or a read failure: closing our end makes the encoder's
  // next write fail (EPIPE; SIGPIPE is ignored by wksp_ctl) and it unwinds,
  // releasing the lock.
  rd.reset();
  encoder.join();

  std::vector<std::string> failed, complete;
  absl::Status first;
  if (live > 0 && read_st.ok() && enc_st.ok()) {
    for (Output& o : outs) {
      if (!o.status.ok() || !o.file) continue;
      o.status = o.file->Publish(options.durable ? io::Durability::kSync
                                                 : io::Durability::kNone);
    }
  }
  for (Output& o : outs) {
    if (o.status.ok() && read_st.ok() && enc_st.ok()) {
      complete.push_back(o.Label());
      continue;
    }
    if (o.status.ok()) continue;  // stopped by the encoder, reported below
    failed.push_back(absl::StrFormat("%s: %s", o.Label(), o.status.message()));
    if (first.ok()) first = o.status;
  }
  if (complete.size() == outs.size()) return absl::OkStatus();
  if (first.ok()) {
    // No output failed on its own: the encoder or the read did.
    const absl::Status& st = read_st.ok() ? enc_st : read_st;
    return WithMessage(
        st, absl::StrFormat("%s; no file was created at any output",
                            st.message()));
  }
  const std::string msg = absl::StrFormat(
      "%d of %d outputs failed (%s); %s", failed.size(), outs.size(),
      absl::StrJoin(failed, "; "),
      complete.empty()
          ? std::string("no output is complete")
          : absl::StrFormat("complete: %s", absl::StrJoin(complete, ", ")));
  if (StatusErrno(first) == EPIPE) return absl::AbortedError(msg);
  return WithMessage(first, msg);
}

}  // namespace wk::apps
