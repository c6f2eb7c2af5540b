// The vpb line's unsolicited side: the event thread that reads the channel's events, and caller ID capture.
#include <vector>

#include "vpb_line.h"

namespace offhook {
namespace {
const unsigned kEventPollMs = 100;           // how long close() may wait for the event thread
const unsigned short kCallerIdChunk = 1600;  // 100 ms of 8 kHz 16-bit audio
}  // namespace

void VpbLine::readEvents() {
  for (;;) {
    {
      Lock lock(mutex_);
      if (closed_) return;
    }
    vpb::Event event{};
    if (api_->get_event_ch_sync(handle_, &event, kEventPollMs) != vpb::OK) continue;
    Lock lock(mutex_);
    bool newCall = handle(event);
    changed_.notify_all();
    if (!newCall) continue;
    lock.unlock();
    if (callerIdCapture_.joinable()) callerIdCapture_.join();  // the previous call's capture has finished
    callerIdCapture_ = std::thread([this] { captureCallerId(); });
  }
}

void VpbLine::announceRing() {
  announcedRings_++;
  callRingsAnnounced_++;
  emit("ring", callerId_, hasCallerId_);
}

bool VpbLine::handle(const vpb::Event& e) {
  double t = now();
  switch (e.type) {
    case vpb::RING: {
      if (offHook_) break;
      bool newCall = lastRingAt_ < 0 || t - lastRingAt_ >= kRingCadenceMs;
      ringSequence_++;
      lastRingAt_ = t;
      if (newCall) {
        hasCallerId_ = false;
        callerId_.clear();
        callRingsAnnounced_ = 0;
        // Caller ID comes between the first and second ring, so the first ring is announced once it is decoded.
        if (library_->hasCallerId()) return capturingCallerId_ = true;
      }
      if (!capturingCallerId_) announceRing();
      break;
    }
    case vpb::DTMF:
      pending_ += static_cast<char>(e.data);
      emit("dtmf", std::string(1, static_cast<char>(e.data)));
      break;
    case vpb::TONEDETECT:
      if (e.data == vpb::TONE_DIAL) {
        dialTone_ = true;
        emit("tone", "dial");
      } else if (e.data == vpb::TONE_RINGBACK || e.data == vpb::TONE_RINGBACK_308) {
        ringbacks_++;
        lastRingbackAt_ = t;
        emit("tone", "ringback");
      } else if (e.data == vpb::TONE_BUSY || e.data == vpb::TONE_BUSY_308) {
        busy_ = true;
        emit("tone", "busy");
      } else if (e.data == vpb::TONE_GRUNT) {
        emit("tone", "grunt");
      }
      break;
    case vpb::DROP:
      if (offHook_ && !dropped_) {
        dropped_ = true;
        emit("hangup", "", false);
      }
      break;
    case vpb::PLAYEND: playEnds_++; break;
    case vpb::RECORDEND: recordEnds_++, recordReason_ = e.data; break;
    case vpb::DIGIT: digitEnds_++, digitReason_ = e.data; break;
    default: break;
  }
  return false;
}

// Caller ID is sent as FSK between the first and second ring (ctserver's method): record that stretch on
// its own thread, let libvpb decode it, then announce the ring with the number.
void VpbLine::captureCallerId() {
  unsigned firstRing;
  {
    Lock lock(mutex_);
    firstRing = ringSequence_;
  }
  std::vector<short> audio;
  char chunk[kCallerIdChunk];
  double until = now() + options_.callerIdWindowMs;
  bool recording = api_->record_buf_start(handle_, vpb::LINEAR) >= 0;
  while (recording && now() < until) {
    if (api_->record_buf_sync(handle_, chunk, kCallerIdChunk) < 0) break;
    const short* samples = reinterpret_cast<const short*>(chunk);
    audio.insert(audio.end(), samples, samples + kCallerIdChunk / 2);
    Lock lock(mutex_);
    if (closed_ || offHook_ || ringSequence_ != firstRing) break;
  }
  if (recording) api_->record_buf_finish(handle_);
  char number[vpb::MAX_STR] = {0};
  bool decoded = !audio.empty() && api_->cid_decode(number, audio.data(), static_cast<int>(audio.size())) == vpb::OK && number[0];
  Lock lock(mutex_);
  capturingCallerId_ = false;
  if (decoded) {
    hasCallerId_ = true;
    callerId_ = number;
  }
  if (!closed_) announceRing();
  changed_.notify_all();
}

}  // namespace offhook
