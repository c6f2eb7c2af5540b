// The blocking, thread-safe line interface both backends implement. Every method may block for the
// length of the telephone operation, so the addon only ever calls them from AsyncWorker threads.
#pragma once

#include <functional>
#include <stdexcept>
#include <string>

namespace offhook {

// An error a person reads: `code` lets JS branch on it (ELINECLOSED, EWRONGSTATE, EBADDIAL, EBADWAV, ...).
class LineError : public std::runtime_error {
 public:
  LineError(std::string code, const std::string& message) : std::runtime_error(message), code_(std::move(code)) {}
  const std::string& code() const { return code_; }

 private:
  std::string code_;
};

// Something that happened on the line without being asked for, delivered to JS through a ThreadSafeFunction.
struct LineEvent {
  std::string type;   // ring | dtmf | tone | hangup | error
  std::string value;  // caller ID, digit, tone name or error message
  bool hasValue = false;
};
using EventSink = std::function<void(const LineEvent&)>;

struct RingResult {
  bool rang = false;
  bool hasCallerId = false;
  std::string callerId;
};

struct PlayOutcome {
  char interruptedBy = 0;  // 0 = played to the end
  bool hungUp = false;
};

struct RecordOutcome {
  std::string reason;  // term_key | timeout | hangup
  double durationMs = 0;
};

struct CollectOutcome {
  std::string digits;
  std::string reason;  // max_digits | term_key | timeout | hangup
};

struct CollectRequest {
  int maxDigits = 1;
  double timeoutMs = 0;
  double interDigitTimeoutMs = 0;  // 0 = no inter-digit limit
  char termKey = 0;                // 0 = none
};

class LineBackend {
 public:
  virtual ~LineBackend() = default;
  virtual void offHook() = 0;
  virtual void onHook() = 0;
  virtual bool waitForDialTone(double timeoutMs) = 0;
  virtual RingResult waitForRing(double timeoutMs) = 0;
  virtual void dial(const std::string& number) = 0;
  // answered | busy | no_answer | no_ringback | disconnected
  virtual std::string waitForAnswer(double timeoutMs) = 0;
  virtual PlayOutcome play(const std::string& wavPath, bool interruptOnDigit) = 0;
  virtual RecordOutcome record(const std::string& wavPath, double timeoutMs, char termKey) = 0;
  virtual CollectOutcome collect(const CollectRequest& request) = 0;
  virtual void flushDigits() = 0;
  virtual bool isOffHook() = 0;
  virtual bool callerId(std::string* out) = 0;  // false = none or withheld
  // How the backend reaches its hardware, for the start-up log (vpb: shim or dlsym lookup); "" when there is none.
  virtual std::string binding() const { return ""; }
  // Wakes every blocked call (they fail with ELINECLOSED) and joins the backend's threads. Idempotent.
  virtual void close() = 0;
};

// Shared input checks, so both backends reject the same things with the same words.
void validateDialString(const std::string& number);
bool isDtmfDigit(char c);
void validateTermKey(char key, const char* what);

}  // namespace offhook
