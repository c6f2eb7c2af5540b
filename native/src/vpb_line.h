// The Voicetronix card backend: CTPort's operations on one libvpb channel. One thread per line reads the
// channel's events (vpb_get_event_ch_sync with a short timeout, so close() can stop it) and wakes the
// operation waiting on them; the operations themselves call libvpb from AsyncWorker threads.
#pragma once

#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "line_backend.h"
#include "vpb_api.h"

namespace offhook {

struct VpbOptions {
  std::string libraryPath = "libvpb.so";
  // The libvpb binding compiled against the driver's header; "" = build/Release/offhook_vpb_shim.so by the addon.
  std::string shimPath;
  unsigned board = 0;
  unsigned channel = 0;
  // Call progress as VPB_CALL defines it: ringback that stops for this long means the far end answered.
  double interRingbackMs = 6500;
  // No ringback at all within this long after dialling: VPB_CALL_NO_RING_BACK.
  double ringbackTimeoutMs = 10000;
  // How long to listen for caller ID after the first ring (ctserver uses 6 s or until the second ring).
  double callerIdWindowMs = 6000;
};

// Rings closer together than this belong to one inbound call.
constexpr double kRingCadenceMs = 6000;

class VpbLine : public LineBackend {
 public:
  // Loads the library and opens the channel; throws LineError ENOVPB/EVPB with a message naming what failed.
  VpbLine(const VpbOptions& options, EventSink sink);
  ~VpbLine() override;

  std::string binding() const override { return library_->binding(); }
  void offHook() override;
  void onHook() override;
  bool waitForDialTone(double timeoutMs) override;
  RingResult waitForRing(double timeoutMs) override;
  void dial(const std::string& number) override;
  std::string waitForAnswer(double timeoutMs) override;
  PlayOutcome play(const std::string& wavPath, bool interruptOnDigit) override;
  RecordOutcome record(const std::string& wavPath, double timeoutMs, char termKey) override;
  CollectOutcome collect(const CollectRequest& request) override;
  void flushDigits() override;
  bool isOffHook() override;
  bool callerId(std::string* out) override;
  void close() override;

 private:
  using Clock = std::chrono::steady_clock;
  using Lock = std::unique_lock<std::mutex>;

  double now() const;
  void check(const char* function, int code) const;
  void requireOpen() const;
  void requireOffHook(const char* operation) const;
  template <typename Pred> bool waitUntil(Lock& lock, double deadline, Pred ready, unsigned hookGeneration);
  void readEvents();
  bool handle(const vpb::Event& event);  // true: a new inbound call began and its caller ID should be captured
  void announceRing();
  void emit(const std::string& type, const std::string& value, bool hasValue = true);
  void captureCallerId();

  const VpbOptions options_;
  const EventSink sink_;
  const Clock::time_point openedAt_;
  std::shared_ptr<vpb::Library> library_;
  const vpb::Api* api_ = nullptr;
  int handle_ = -1;

  mutable std::mutex mutex_;
  std::condition_variable changed_;
  std::thread events_;
  bool closed_ = false;
  bool offHook_ = false;
  unsigned hookGeneration_ = 0;

  bool dialTone_ = false;
  bool dialled_ = false;
  double dialledAt_ = 0;
  int ringbacks_ = 0;
  double lastRingbackAt_ = 0;
  bool busy_ = false;
  bool dropped_ = false;  // loop drop: the far end hung up
  std::string pending_;   // DTMF heard since the last flush or collect (libvpb keeps the real buffer)

  unsigned ringSequence_ = 0;     // RING events from the card
  unsigned announcedRings_ = 0;  // 'ring' events given to JS (the first waits for caller ID)
  unsigned callRingsAnnounced_ = 0;
  double lastRingAt_ = -1;
  bool capturingCallerId_ = false;
  std::thread callerIdCapture_;
  bool hasCallerId_ = false;
  std::string callerId_;

  unsigned playEnds_ = 0, recordEnds_ = 0, digitEnds_ = 0;
  int recordReason_ = 0, digitReason_ = 0;
  bool collecting_ = false;
  // libvpb writes into these after vpb_get_digits_async returns, so they live as long as the line.
  vpb::Digits digitRequest_{};
  char termDigits_[2] = {0, 0};
  char digitBuffer_[vpb::MAX_STR] = {0};
};

}  // namespace offhook
