#include "vpb_line.h"

#include <cmath>
#include <cstring>
#include <vector>

#include "wav.h"

namespace offhook {
namespace {
const double kTerminateGraceMs = 2000;  // how long libvpb gets to confirm a play/record terminate
}  // namespace

VpbLine::VpbLine(const VpbOptions& options, EventSink sink)
    : options_(options), sink_(std::move(sink)), openedAt_(Clock::now()) {
  library_ = vpb::Library::load(options.libraryPath, options.shimPath);
  api_ = &library_->api();
  // The library's default error mode aborts the whole process on any error.
  api_->seterrormode(vpb::ERROR_CODE_MODE);
  handle_ = api_->open(options.board, options.channel);
  if (handle_ < 0)
    throw LineError("EVPB", "vpb_open(board " + std::to_string(options.board) + ", channel " + std::to_string(options.channel) +
                                ") failed with code " + std::to_string(handle_) + ": check that the card is installed, its driver loaded, and the board/channel exist");
  try {
    check("vpb_sethook_sync", api_->sethook_sync(handle_, vpb::ONHOOK));
    check("vpb_set_event_mask", api_->set_event_mask(handle_, vpb::MRING | vpb::MDTMF | vpb::MTONEDETECT | vpb::MDROP));
  } catch (...) {
    api_->close(handle_);
    throw;
  }
  events_ = std::thread([this] { readEvents(); });
}

VpbLine::~VpbLine() { close(); }

double VpbLine::now() const { return std::chrono::duration<double, std::milli>(Clock::now() - openedAt_).count(); }

void VpbLine::check(const char* function, int code) const {
  if (code < 0) throw LineError("EVPB", library_->describe(function, code));
}

void VpbLine::requireOpen() const {
  if (closed_) throw LineError("ELINECLOSED", "the line is closed: open a new one with openLine()");
}

void VpbLine::requireOffHook(const char* operation) const {
  requireOpen();
  if (!offHook_) throw LineError("EWRONGSTATE", std::string(operation) + " needs the line off hook: call offHook() first");
}

template <typename Pred>
bool VpbLine::waitUntil(Lock& lock, double deadline, Pred ready, unsigned hookGeneration) {
  for (;;) {
    requireOpen();
    if (hookGeneration_ != hookGeneration) throw LineError("EWRONGSTATE", "the line went on hook while this operation was waiting");
    if (ready()) return true;
    if (std::isinf(deadline)) {
      changed_.wait(lock);
      continue;
    }
    double left = deadline - now();
    if (left <= 0) return false;
    changed_.wait_for(lock, std::chrono::duration<double, std::milli>(left));
  }
}

void VpbLine::emit(const std::string& type, const std::string& value, bool hasValue) {
  LineEvent event;
  event.type = type;
  event.value = value;
  event.hasValue = hasValue;
  sink_(event);
}

void VpbLine::offHook() {
  {
    Lock lock(mutex_);
    requireOpen();
    if (offHook_) return;
  }
  check("vpb_sethook_sync", api_->sethook_sync(handle_, vpb::OFFHOOK));
  // After a hook change the card's digit buffer still holds whatever came before (OPAL's vpb LID does the same).
  check("vpb_flush_digits", api_->flush_digits(handle_));
  Lock lock(mutex_);
  offHook_ = true;
  hookGeneration_++;
  lastRingAt_ = -1;
  dialTone_ = dialled_ = busy_ = dropped_ = false;
  ringbacks_ = 0;
  pending_.clear();
  changed_.notify_all();
}

void VpbLine::onHook() {
  {
    Lock lock(mutex_);
    requireOpen();
    if (!offHook_) return;
    offHook_ = false;
    hookGeneration_++;
    changed_.notify_all();
  }
  check("vpb_sethook_sync", api_->sethook_sync(handle_, vpb::ONHOOK));
}

bool VpbLine::waitForDialTone(double timeoutMs) {
  Lock lock(mutex_);
  requireOffHook("waitForDialTone");
  return waitUntil(lock, now() + timeoutMs, [this] { return dialTone_; }, hookGeneration_);
}

RingResult VpbLine::waitForRing(double timeoutMs) {
  Lock lock(mutex_);
  requireOpen();
  if (offHook_) throw LineError("EWRONGSTATE", "waitForRing needs the line on hook: call onHook() first");
  unsigned seen = announcedRings_;
  RingResult result;
  // A call that is already ringing counts, as in the sim: its ring may have come just before this call.
  bool ringingNow = callRingsAnnounced_ > 0 && now() - lastRingAt_ < kRingCadenceMs;
  result.rang = ringingNow || waitUntil(lock, now() + timeoutMs, [&] { return announcedRings_ != seen; }, hookGeneration_);
  if (!result.rang) return result;
  result.hasCallerId = hasCallerId_;
  result.callerId = callerId_;
  return result;
}

void VpbLine::dial(const std::string& number) {
  validateDialString(number);
  if (number.find('+') != std::string::npos)
    throw LineError("EBADDIAL", "dial string \"" + number + "\": an analog line cannot dial '+'; write the international access code (e.g. 00 or 011) instead");
  {
    Lock lock(mutex_);
    requireOffHook("dial");
  }
  std::vector<char> digits(number.begin(), number.end());
  digits.push_back(0);
  check("vpb_dial_sync", api_->dial_sync(handle_, digits.data()));
  Lock lock(mutex_);
  dialled_ = true;
  dialledAt_ = now();
  ringbacks_ = 0;
  busy_ = false;
}

// VPB_CALL's call progress rules, applied to the tone events: busy tone → busy; ringback that stops for
// interRingbackMs → answered; no ringback within ringbackTimeoutMs → no_ringback; loop drop → disconnected.
std::string VpbLine::waitForAnswer(double timeoutMs) {
  Lock lock(mutex_);
  requireOffHook("waitForAnswer");
  if (!dialled_) throw LineError("EWRONGSTATE", "waitForAnswer needs a dialled call: call dial() first");
  unsigned generation = hookGeneration_;
  double deadline = now() + timeoutMs;
  for (;;) {
    if (busy_) return "busy";
    if (dropped_) return "disconnected";
    double t = now();
    if (ringbacks_ > 0 && t - lastRingbackAt_ >= options_.interRingbackMs) return "answered";
    if (ringbacks_ == 0 && t - dialledAt_ >= options_.ringbackTimeoutMs) return "no_ringback";
    if (t >= deadline) return "no_answer";
    double next = ringbacks_ > 0 ? lastRingbackAt_ + options_.interRingbackMs : dialledAt_ + options_.ringbackTimeoutMs;
    int seenRingbacks = ringbacks_;
    waitUntil(lock, std::min(next, deadline), [&] { return busy_ || dropped_ || ringbacks_ != seenRingbacks; }, generation);
  }
}

PlayOutcome VpbLine::play(const std::string& wavPath, bool interruptOnDigit) {
  readPlayableWav(wavPath);
  Lock lock(mutex_);
  requireOffHook("play");
  PlayOutcome outcome;
  auto interrupted = [&] { return interruptOnDigit && !pending_.empty(); };
  if (dropped_ || interrupted()) {  // sticky digit, as in the sim: a key already pressed skips the prompt
    if (dropped_) outcome.hungUp = true;
    else outcome.interruptedBy = pending_[0];
    return outcome;
  }
  unsigned generation = hookGeneration_;
  unsigned ends = playEnds_;
  lock.unlock();
  std::vector<char> file(wavPath.begin(), wavPath.end());
  file.push_back(0);
  check("vpb_play_file_async", api_->play_file_async(handle_, file.data(), 0));
  lock.lock();
  // A prompt has no timeout of its own: PLAYEND, a digit, a loop drop, on hook or close ends the wait.
  try {
    waitUntil(lock, INFINITY, [&] { return playEnds_ != ends || interrupted() || dropped_; }, generation);
  } catch (const LineError&) {
    lock.unlock();
    api_->play_terminate(handle_);
    throw;
  }
  if (playEnds_ == ends) {
    if (interrupted()) outcome.interruptedBy = pending_[0];
    else if (dropped_) outcome.hungUp = true;
    lock.unlock();
    api_->play_terminate(handle_);
    lock.lock();
    waitUntil(lock, now() + kTerminateGraceMs, [&] { return playEnds_ != ends; }, generation);
  }
  return outcome;
}

RecordOutcome VpbLine::record(const std::string& wavPath, double timeoutMs, char termKey) {
  validateTermKey(termKey, "record termKey");
  Lock lock(mutex_);
  requireOffHook("record");
  RecordOutcome outcome;
  if (dropped_) {
    outcome.reason = "hangup";
    lock.unlock();
    writeWav8k(wavPath, 0);
    return outcome;
  }
  unsigned generation = hookGeneration_;
  unsigned ends = recordEnds_;
  char term[2] = {termKey, 0};
  vpb::Record settings{term, static_cast<unsigned int>(timeoutMs)};
  std::vector<char> file(wavPath.begin(), wavPath.end());
  file.push_back(0);
  lock.unlock();
  check("vpb_record_set", api_->record_set(handle_, &settings));
  double start = now();
  check("vpb_record_file_async", api_->record_file_async(handle_, file.data(), vpb::LINEAR));
  lock.lock();
  bool ended = waitUntil(lock, start + timeoutMs + kTerminateGraceMs, [&] { return recordEnds_ != ends || dropped_; }, generation);
  if (recordEnds_ != ends) {
    outcome.reason = recordReason_ == vpb::RECORD_DIGIT ? "term_key" : "timeout";
  } else {
    outcome.reason = ended ? "hangup" : "timeout";
    lock.unlock();
    api_->record_terminate(handle_);
    lock.lock();
    waitUntil(lock, now() + kTerminateGraceMs, [&] { return recordEnds_ != ends; }, generation);
  }
  outcome.durationMs = std::round(std::min(now() - start, timeoutMs));
  if (outcome.reason == "term_key") {
    size_t at = pending_.rfind(termKey);
    if (at != std::string::npos) pending_.erase(at, 1);
  }
  return outcome;
}

CollectOutcome VpbLine::collect(const CollectRequest& request) {
  validateTermKey(request.termKey, "collect termKey");
  Lock lock(mutex_);
  requireOffHook("collect");
  if (collecting_) throw LineError("EBUSY", "collect is already running on this line");
  CollectOutcome outcome;
  unsigned generation = hookGeneration_;
  unsigned ends = digitEnds_;
  collecting_ = true;
  std::memset(digitBuffer_, 0, sizeof digitBuffer_);
  termDigits_[0] = request.termKey;
  digitRequest_.term_digits = termDigits_;
  digitRequest_.max_digits = static_cast<unsigned short>(request.maxDigits);
  digitRequest_.digit_time_out = static_cast<unsigned long>(request.timeoutMs);
  // CTPort's default: without an inter-digit limit the whole timeout applies between digits too.
  digitRequest_.inter_digit_time_out = static_cast<unsigned long>(request.interDigitTimeoutMs > 0 ? request.interDigitTimeoutMs : request.timeoutMs);
  lock.unlock();
  int started = api_->get_digits_async(handle_, &digitRequest_, digitBuffer_);
  lock.lock();
  collecting_ = started >= 0;
  check("vpb_get_digits_async", started);
  bool ended = false;
  try {
    ended = waitUntil(lock, now() + request.timeoutMs + kTerminateGraceMs, [&] { return digitEnds_ != ends || dropped_; }, generation);
  } catch (...) {
    collecting_ = false;
    throw;
  }
  collecting_ = false;
  outcome.digits.assign(digitBuffer_, strnlen(digitBuffer_, sizeof digitBuffer_));
  if (request.termKey && !outcome.digits.empty() && outcome.digits.back() == request.termKey) outcome.digits.pop_back();
  if (digitEnds_ != ends) {
    int why = digitReason_;
    outcome.reason = why == vpb::DIGIT_TERM ? "term_key" : (why == vpb::DIGIT_MAX || why == vpb::DIGIT_BUFFER_FULL) ? "max_digits" : "timeout";
  } else {
    outcome.reason = ended ? "hangup" : "timeout";
  }
  pending_.clear();
  lock.unlock();
  // Whatever the card collected is consumed now, so the next collect starts clean.
  if (digitEnds_ == ends) api_->flush_digits(handle_);
  return outcome;
}

void VpbLine::flushDigits() {
  {
    Lock lock(mutex_);
    requireOpen();
    pending_.clear();
  }
  check("vpb_flush_digits", api_->flush_digits(handle_));
}

bool VpbLine::isOffHook() {
  Lock lock(mutex_);
  return offHook_;
}

bool VpbLine::callerId(std::string* out) {
  Lock lock(mutex_);
  if (hasCallerId_) *out = callerId_;
  return hasCallerId_;
}

void VpbLine::close() {
  bool wasOffHook;
  {
    Lock lock(mutex_);
    if (closed_) return;
    closed_ = true;
    wasOffHook = offHook_;
    offHook_ = false;
    changed_.notify_all();
  }
  if (events_.joinable()) events_.join();
  if (callerIdCapture_.joinable()) callerIdCapture_.join();
  if (handle_ >= 0) {
    if (wasOffHook) api_->sethook_sync(handle_, vpb::ONHOOK);  // never leave the line seized
    api_->close(handle_);
    handle_ = -1;
  }
}

}  // namespace offhook
