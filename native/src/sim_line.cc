// The operations the gateway calls on a simulated line; the exchange side lives in sim_exchange.cc.
#include <cmath>

#include "sim_line.h"
#include "wav.h"

namespace offhook {
namespace {
const double kDigitMs = 100;  // one DTMF digit, tone plus gap
const double kPauseMs = 1000;  // ',' in a dial string
const double kBusyToneAfterMs = 500;

std::string normalizeNumber(const std::string& number) {
  std::string out;
  for (char c : number) if (c != ',') out += c;
  return out;
}
}  // namespace

SimLine::SimLine(const SimOptions& options, EventSink sink)
    : options_(options), sink_(std::move(sink)), openedAt_(Clock::now()) {
  exchange_ = std::thread([this] { exchangeLoop(); });
}

SimLine::~SimLine() { close(); }

double SimLine::now() const {
  return std::chrono::duration<double, std::milli>(Clock::now() - openedAt_).count() * options_.speed;
}

SimLine::Clock::time_point SimLine::realTime(double lineMs) const {
  return openedAt_ + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double, std::milli>(lineMs / options_.speed));
}

template <typename Pred>
bool SimLine::waitUntil(Lock& lock, double deadline, Pred ready, unsigned hookGeneration) {
  for (;;) {
    requireOpen();
    // Apply whatever the exchange has due before judging: a key pressed at t=100 must count for a
    // collect that times out at t=200 however late the exchange thread gets scheduled.
    double t = now();
    double exchangeDue = advance(t);
    if (hookGeneration_ != hookGeneration) throw LineError("EWRONGSTATE", "the line went on hook while this operation was waiting");
    if (ready()) return true;
    if (deadline >= 0 && t >= deadline) return false;
    double wake = deadline < 0 || (exchangeDue >= 0 && exchangeDue < deadline) ? exchangeDue : deadline;
    if (wake >= 0) changed_.wait_until(lock, realTime(wake));
    else changed_.wait(lock);
  }
}

void SimLine::requireOpen() const {
  if (closed_) throw LineError("ELINECLOSED", "the line is closed: open a new one with openLine()");
}

void SimLine::requireOffHook(const char* operation) const {
  requireOpen();
  if (!offHook_) throw LineError("EWRONGSTATE", std::string(operation) + " needs the line off hook: call offHook() first");
}

size_t SimLine::log(TranscriptRecord record) {
  record.t = std::round(record.t);
  transcript_.push_back(std::move(record));
  // A sim line left open for days (the demo) keeps the most recent entries only.
  if (transcript_.size() > kTranscriptLimit) {
    transcript_.pop_front();
    transcriptDropped_++;
  }
  return transcriptDropped_ + transcript_.size() - 1;
}

void SimLine::emit(const std::string& type, const std::string& value, bool hasValue) {
  LineEvent event;
  event.type = type;
  event.value = value;
  event.hasValue = hasValue;
  sink_(event);
}

void SimLine::offHook() {
  Lock lock(mutex_);
  requireOpen();
  if (offHook_) return;
  double t = now();
  offHook_ = true;
  hookGeneration_++;
  digits_.clear();
  log({t, "off_hook"});
  if (inboundRinging_) {
    inboundRinging_ = false;
    call_ = Call::Connected;
    TranscriptRecord answered{t, "answered"};
    answered.detail = "inbound";
    log(answered);
    startFarEnd(inbound_->then, -1, t);
  } else if (!options_.noDialTone) {
    dialToneAt_ = t + options_.dialToneDelayMs;
  }
  changed_.notify_all();
}

void SimLine::onHook() {
  Lock lock(mutex_);
  requireOpen();
  if (!offHook_) return;
  offHook_ = false;
  hookGeneration_++;
  dialToneAt_ = -1;
  dialTone_ = false;
  call_ = Call::Idle;
  outbound_.reset();
  nextRingbackAt_ = busyAt_ = hangUpAt_ = stepClock_ = -1;
  steps_.clear();
  prompts_.clear();
  log({now(), "on_hook"});
  changed_.notify_all();
}

bool SimLine::waitForDialTone(double timeoutMs) {
  Lock lock(mutex_);
  requireOffHook("waitForDialTone");
  return waitUntil(lock, now() + timeoutMs, [this] { return dialTone_; }, hookGeneration_);
}

RingResult SimLine::waitForRing(double timeoutMs) {
  Lock lock(mutex_);
  requireOpen();
  if (offHook_) throw LineError("EWRONGSTATE", "waitForRing needs the line on hook: call onHook() first");
  unsigned seen = ringSequence_;
  bool alreadyRinging = inboundRinging_ && inboundRings_ > 0;
  RingResult result;
  result.rang = alreadyRinging ||
                waitUntil(lock, now() + timeoutMs, [&] { return ringSequence_ != seen; }, hookGeneration_);
  if (result.rang) {
    result.hasCallerId = hasCallerId_;
    result.callerId = callerId_;
  }
  return result;
}

void SimLine::dial(const std::string& number) {
  validateDialString(number);
  Lock lock(mutex_);
  requireOffHook("dial");
  double duration = 0;
  for (char c : number) duration += c == ',' ? kPauseMs : c == '+' ? 0 : kDigitMs;
  double start = now();
  TranscriptRecord entry{start, "dial"};
  entry.number = number;
  log(entry);
  waitUntil(lock, start + duration, [] { return false; }, hookGeneration_);
  if (call_ != Call::Idle) return;  // digits sent into an established call reach the far end and nothing more
  double t = start + duration;
  dialToneAt_ = -1;
  if (options_.noDialTone) {
    call_ = Call::Dead;
    return;
  }
  auto queued = scripts_.find(normalizeNumber(number));
  if (queued != scripts_.end() && !queued->second.empty()) {
    outbound_ = queued->second.front();
    queued->second.pop_front();
  } else {
    outbound_.reset();  // an unscripted number rings forever
  }
  if (outbound_ && outbound_->busy) {
    call_ = Call::Ringback;  // becomes Busy when the exchange thread starts the busy tone
    busyAt_ = t + kBusyToneAfterMs;
    nextRingbackAt_ = -1;
  } else {
    call_ = Call::Ringback;
    ringbacks_ = 0;
    nextRingbackAt_ = t;
  }
  changed_.notify_all();
}

std::string SimLine::waitForAnswer(double timeoutMs) {
  Lock lock(mutex_);
  requireOffHook("waitForAnswer");
  if (call_ == Call::Idle) throw LineError("EWRONGSTATE", "waitForAnswer needs a dialled call: call dial() first");
  bool decided = waitUntil(
      lock, now() + timeoutMs,
      [this] { return call_ == Call::Connected || call_ == Call::Busy || call_ == Call::FarHungUp; }, hookGeneration_);
  if (decided) return call_ == Call::Connected ? "answered" : call_ == Call::Busy ? "busy" : "disconnected";
  if (call_ == Call::Dead) return "no_ringback";
  log({now(), "no_answer"});
  return "no_answer";
}

PlayOutcome SimLine::play(const std::string& wavPath, bool interruptOnDigit) {
  WavInfo wav = readPlayableWav(wavPath);
  Lock lock(mutex_);
  requireOffHook("play");
  double start = now();
  TranscriptRecord entry{start, "play"};
  entry.file = baseName(wavPath);
  entry.durationMs = std::round(wav.durationMs);
  size_t index = log(entry);
  PlayOutcome outcome;
  // Sticky digit (CTPort): a key pressed earlier falls through an interruptible prompt without playing it.
  auto interrupted = [&] { return interruptOnDigit && !digits_.empty(); };
  auto farGone = [&] { return call_ == Call::FarHungUp; };
  if (!interrupted() && !farGone()) {
    prompts_.push_back({wavPath, start});
    changed_.notify_all();
    waitUntil(lock, start + wav.durationMs, [&] { return interrupted() || farGone(); }, hookGeneration_);
  }
  double end = std::min(now(), start + wav.durationMs);
  if (interrupted()) {
    outcome.interruptedBy = digits_[0];
    end = std::max(start, firstBufferedAt_);
  } else if (farGone()) {
    outcome.hungUp = true;
  }
  logged(index).interruptedBy = outcome.interruptedBy;
  logged(index).playedMs = std::round(std::min(end - start, wav.durationMs));
  return outcome;
}

RecordOutcome SimLine::record(const std::string& wavPath, double timeoutMs, char termKey) {
  validateTermKey(termKey, "record termKey");
  Lock lock(mutex_);
  requireOffHook("record");
  double start = now();
  unsigned long firstPress = pressSequence_ + 1;
  TranscriptRecord entry{start, "record"};
  entry.file = baseName(wavPath);
  size_t index = log(entry);
  double termPressedAt = -1;
  auto termPressed = [&] {
    for (auto& press : recentPresses_)
      if (press.sequence >= firstPress && press.digit == termKey) return termPressedAt = std::max(start, press.at), true;
    return false;
  };
  RecordOutcome outcome;
  if (call_ == Call::FarHungUp) {
    outcome.reason = "hangup";
  } else {
    bool ended = waitUntil(lock, start + timeoutMs, [&] { return (termKey && termPressed()) || call_ == Call::FarHungUp; }, hookGeneration_);
    outcome.reason = !ended ? "timeout" : call_ == Call::FarHungUp && !(termKey && termPressed()) ? "hangup" : "term_key";
  }
  double end = outcome.reason == "timeout" ? start + timeoutMs : outcome.reason == "term_key" ? termPressedAt : now();
  outcome.durationMs = std::round(end - start);
  if (outcome.reason == "term_key") {
    size_t at = digits_.rfind(termKey);  // the key that ended the recording is not a menu choice
    if (at != std::string::npos) digits_.erase(at, 1);
  }
  logged(index).durationMs = outcome.durationMs;
  logged(index).reason = outcome.reason;
  lock.unlock();
  writeWav8k(wavPath, static_cast<uint32_t>(outcome.durationMs * 8));
  return outcome;
}

CollectOutcome SimLine::collect(const CollectRequest& request) {
  validateTermKey(request.termKey, "collect termKey");
  Lock lock(mutex_);
  requireOffHook("collect");
  double start = now();
  size_t index = log({start, "collect"});
  unsigned generation = hookGeneration_;
  CollectOutcome outcome;
  double lastDigitAt = -1;
  while (outcome.reason.empty()) {
    while (!digits_.empty() && outcome.reason.empty()) {
      char c = digits_[0];
      digits_.erase(0, 1);
      lastDigitAt = now();
      if (request.termKey && c == request.termKey) outcome.reason = "term_key";
      else if (outcome.digits += c, static_cast<int>(outcome.digits.size()) >= request.maxDigits) outcome.reason = "max_digits";
    }
    if (!outcome.reason.empty()) break;
    if (call_ == Call::FarHungUp) { outcome.reason = "hangup"; break; }
    double deadline = start + request.timeoutMs;
    if (lastDigitAt >= 0 && request.interDigitTimeoutMs > 0) deadline = std::min(deadline, lastDigitAt + request.interDigitTimeoutMs);
    if (!waitUntil(lock, deadline, [&] { return !digits_.empty() || call_ == Call::FarHungUp; }, generation)) outcome.reason = "timeout";
  }
  logged(index).digits = outcome.digits;
  logged(index).reason = outcome.reason;
  return outcome;
}

void SimLine::flushDigits() {
  Lock lock(mutex_);
  digits_.clear();
}

bool SimLine::isOffHook() {
  Lock lock(mutex_);
  return offHook_;
}

bool SimLine::callerId(std::string* out) {
  Lock lock(mutex_);
  if (hasCallerId_) *out = callerId_;
  return hasCallerId_;
}

void SimLine::close() {
  {
    Lock lock(mutex_);
    if (closed_) return;
    closed_ = true;
    log({now(), "closed"});
    changed_.notify_all();
  }
  if (exchange_.joinable()) exchange_.join();
}

void SimLine::script(const FarEndScript& script) {
  Lock lock(mutex_);
  requireOpen();
  scripts_[normalizeNumber(script.number)].push_back(script);
}

void SimLine::ring(const InboundScript& script) {
  Lock lock(mutex_);
  requireOpen();
  if (offHook_ || inboundRinging_)
    throw LineError("EWRONGSTATE", offHook_ ? "cannot ring: the line is off hook (in a call)" : "cannot ring: an inbound call is already ringing");
  inbound_ = script;
  inboundRinging_ = true;
  inboundRings_ = 0;
  nextInboundRingAt_ = now();
  changed_.notify_all();
}

TranscriptRecord& SimLine::logged(size_t index) {
  static thread_local TranscriptRecord dropped(0, "dropped");  // an entry already rotated out takes the update
  return index >= transcriptDropped_ ? transcript_[index - transcriptDropped_] : dropped;
}

std::vector<TranscriptRecord> SimLine::transcript() {
  Lock lock(mutex_);
  std::vector<TranscriptRecord> ordered(transcript_.begin(), transcript_.end());
  // Operations log when they start and the exchange logs when things were due, so sort into line-time order.
  std::stable_sort(ordered.begin(), ordered.end(), [](const TranscriptRecord& a, const TranscriptRecord& b) { return a.t < b.t; });
  return ordered;
}

}  // namespace offhook
