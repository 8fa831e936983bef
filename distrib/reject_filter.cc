#include "distrib/reject_filter.h"

#include <algorithm>
#include <tuple>

namespace wk::distrib::internal {
namespace {

// BEP 52's hash reject: length 49, id 23, then pieces root (32), base,
// index, length and proof layers (4 each, big-endian).
constexpr uint8_t kHashReject = 23;
constexpr uint32_t kRejectLength = 1 + 32 + 4 * 4;
constexpr uint32_t kBaseAt = 32;        // payload offset of base
constexpr uint32_t kProofLayersAt = 44;  // of proof layers' top byte

class RejectFilter final : public lt::crypto_plugin {
 public:
  void set_incoming_key(lt::span<char const>) override {}
  void set_outgoing_key(lt::span<char const>) override {}
  std::tuple<int, lt::span<lt::span<char const>>> encrypt(
      lt::span<lt::span<char>> bufs) override {
    int n = 0;
    for (lt::span<char> b : bufs) {
      rw_.Feed(std::span<char>(b.data(), static_cast<size_t>(b.size())));
      n += static_cast<int>(b.size());
    }
    // All of it may go out now; nothing to insert before it.
    return {n, {}};
  }
  // Never installed on the receive side: pass everything through.
  std::tuple<int, int, int> decrypt(lt::span<lt::span<char>> bufs) override {
    int n = 0;
    for (lt::span<char> b : bufs) n += static_cast<int>(b.size());
    return {0, n, 0};
  }

 private:
  RejectRewriter rw_;
};

}  // namespace

int RejectRewriter::Feed(std::span<char> bytes) {
  int neutered = 0;
  size_t i = 0;
  auto length = [this] {
    return uint32_t{head_[0]} << 24 | uint32_t{head_[1]} << 16 |
           uint32_t{head_[2]} << 8 | uint32_t{head_[3]};
  };
  while (i < bytes.size()) {
    if (head_n_ < 5) {
      head_[head_n_++] = static_cast<uint8_t>(bytes[i++]);
      if (head_n_ == 4 && length() == 0) head_n_ = 0;  // keep-alive
      if (head_n_ == 5) {
        left_ = length() - 1;
        pos_ = 0;
        base_ = 0;
        reject_ = head_[4] == kHashReject && length() == kRejectLength;
        if (left_ == 0) head_n_ = 0;
      }
      continue;
    }
    const uint32_t k = static_cast<uint32_t>(
        std::min<size_t>(left_, bytes.size() - i));
    if (reject_) {
      for (uint32_t j = 0; j < k; ++j) {
        const uint32_t at = pos_ + j;
        if (at >= kBaseAt && at < kBaseAt + 4) {
          base_ = base_ << 8 | static_cast<uint8_t>(bytes[i + j]);
        } else if (at == kProofLayersAt && base_ == 0) {
          bytes[i + j] = static_cast<char>(bytes[i + j] | 0x80);
          ++neutered;
        }
      }
    }
    pos_ += k;
    left_ -= k;
    i += k;
    if (left_ == 0) head_n_ = 0;
  }
  return neutered;
}

std::shared_ptr<lt::crypto_plugin> NewRejectFilter() {
  return std::make_shared<RejectFilter>();
}

}  // namespace wk::distrib::internal
