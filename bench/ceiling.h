// Ceilings measured in the same process as the benchmark they judge: plain
// memcpy, pread from tmpfs and the raw LZ4 block loop over the same bytes. Each
// figure is measured once per process (first call) and cached; benchmarks
// report their throughput divided by the ceiling as a counter (e.g.
// "x_memcpy"), so a figure and its ceiling always come from the same machine
// and moment.
#ifndef WKSPKIT_BENCH_CEILING_H_
#define WKSPKIT_BENCH_CEILING_H_

#include <cstddef>
#include <cstdint>
#include <string>

namespace wk::bench {

// Bytes per second of memcpy between two buffers of `bytes` bytes (already
// touched), using `threads` threads each copying an equal share.
double MemcpyBytesPerSecond(uint64_t bytes, size_t threads);

// Bytes (uncompressed) per second of LZ4_compress_fast_continue (acceleration
// 1) / LZ4_decompress_safe_continue over 64 KiB chunks of `bytes` bytes of
// FillHalfCompressible data, one thread per `threads`, each on its share.
double Lz4CompressBytesPerSecond(uint64_t bytes, size_t threads);
double Lz4DecompressBytesPerSecond(uint64_t bytes, size_t threads);

// Bytes per second of XXH3-128 (the seals' checksum, libxxhash) over
// `bytes` bytes of FillHalfCompressible data in memory, one thread per
// `threads`, each hashing its share in one call.
double Xxh3BytesPerSecond(uint64_t bytes, size_t threads);

// Bytes per second of pread(2) from a file in /dev/shm (written and read
// once before timing, so its pages are in memory) into pre-faulted memory,
// in 1 MiB reads, `threads` threads each reading its share: the ceiling of
// a restore from a file in /dev/shm (0 when the file cannot be made).
double PreadBytesPerSecond(uint64_t bytes, size_t threads);

// Bytes per second of writing `bytes` bytes from memory into a new file in
// /dev/shm, reserved first with fallocate as the v2 writer does, in 1 MiB
// pwrites from one thread: what a checkpoint of that many bytes into tmpfs
// can do (several threads' writes into one file serialize on its inode
// lock). Best of three; 0 when the file cannot be made.
double FileWriteBytesPerSecond(uint64_t bytes);

// Bytes per second through a pipe: one thread writes `bytes` bytes from
// memory into it in 1 MiB writes, another reads them out in 1 MiB reads
// and drops them (the pipe's capacity set to 1 MiB where allowed). A
// stricter ceiling than the shell's pipeline below: no read from a file,
// larger writes and a larger pipe than cat's.
double PipeCopyBytesPerSecond(uint64_t bytes);

// Bytes per second of `cat PATH | cat >/dev/null` run by /bin/sh, the file
// read once before timing so it is in the page cache: what an operator's
// pipeline moves, best of three (0 when the shell cannot be run).
double CatPipeBytesPerSecond(const std::string& path);

// Drops the cached figures so the next call measures again. ceilings_bench
// calls it before each run, so its repetitions are independent samples (the
// noise threshold of tools/bench_compare.py is derived from their spread).
void ForgetCeilings();

}  // namespace wk::bench

#endif  // WKSPKIT_BENCH_CEILING_H_
