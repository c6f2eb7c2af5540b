// A simulated exchange line with a scriptable far end. Times inside are "line time" in ms since open;
// real time is line time / speed, so a test at speed 1000 lives through a 20 s answer timeout in 20 ms.
#pragma once

#include <chrono>
#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>
#include <algorithm>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "line_backend.h"

namespace offhook {

struct FarEndStep {
  enum Kind { Wait, Press, HangUp, WaitForPrompt } kind = Wait;
  double ms = 0;        // Wait: how long; WaitForPrompt: how far into the prompt
  std::string text;     // Press: digits; WaitForPrompt: file name fragment ("" = any prompt)
};

struct FarEndScript {
  std::string number;
  int answerAfterRings = 1;
  bool busy = false;
  bool noAnswer = false;
  double hangUpAfterMs = -1;
  std::vector<FarEndStep> then;
};

struct InboundScript {
  bool hasCallerId = false;
  std::string callerId;
  int maxRings = 10;
  std::vector<FarEndStep> then;
};

struct SimOptions {
  double speed = 1;
  double dialToneDelayMs = 300;
  double ringPeriodMs = 3000;
  bool noDialTone = false;
};

struct TranscriptRecord {
  TranscriptRecord(double at, std::string what) : t(at), event(std::move(what)) {}
  double t = 0;
  std::string event;
  std::string detail, number, file, digits, reason, digit;
  double durationMs = 0, playedMs = 0;
  char interruptedBy = 0;
};

constexpr size_t kTranscriptLimit = 10000;

class SimLine : public LineBackend {
 public:
  SimLine(const SimOptions& options, EventSink sink);
  ~SimLine() override;

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

  void script(const FarEndScript& script);
  void ring(const InboundScript& script);
  std::vector<TranscriptRecord> transcript();

 private:
  enum class Call { Idle, Ringback, Busy, Connected, FarHungUp, Dead };
  struct PromptStart { std::string path; double at; };
  using Lock = std::unique_lock<std::mutex>;
  using Clock = std::chrono::steady_clock;

  double now() const;
  Clock::time_point realTime(double lineMs) const;
  // Waits until `ready()` or `deadline` (line time, <0 = none); throws if closed or the hook generation changes.
  template <typename Pred> bool waitUntil(Lock& lock, double deadline, Pred ready, unsigned hookGeneration);
  void requireOpen() const;
  void requireOffHook(const char* operation) const;
  size_t log(TranscriptRecord record);  // returns the entry's index for later updates via logged()
  TranscriptRecord& logged(size_t index);
  void emit(const std::string& type, const std::string& value, bool hasValue = true);

  // Exchange and far-end behaviour, run by the line's own thread (sim_exchange.cc).
  void exchangeLoop();
  double advance(double t);  // handles everything due at t, returns the next deadline (<0 = none)
  void startFarEnd(const std::vector<FarEndStep>& steps, double hangUpAfterMs, double t);
  double runFarEndSteps(double t);
  void pressDigits(const std::string& digits, double t);
  void farEndHangsUp(double t, const std::string& detail);

  const SimOptions options_;
  const EventSink sink_;
  const Clock::time_point openedAt_;
  mutable std::mutex mutex_;
  std::condition_variable changed_;
  std::thread exchange_;
  bool closed_ = false;

  bool offHook_ = false;
  unsigned hookGeneration_ = 0;
  double dialToneAt_ = -1;
  bool dialTone_ = false;

  Call call_ = Call::Idle;
  std::map<std::string, std::deque<FarEndScript>> scripts_;
  std::optional<FarEndScript> outbound_;
  double nextRingbackAt_ = -1;
  int ringbacks_ = 0;
  double busyAt_ = -1;

  std::optional<InboundScript> inbound_;
  bool inboundRinging_ = false;
  int inboundRings_ = 0;
  unsigned ringSequence_ = 0;
  double nextInboundRingAt_ = -1;
  bool hasCallerId_ = false;
  std::string callerId_;

  std::vector<FarEndStep> steps_;
  size_t stepIndex_ = 0;
  double stepClock_ = -1;  // when the current step became due; <0 = no far-end program running
  double hangUpAt_ = -1;
  std::vector<PromptStart> prompts_;
  size_t promptCursor_ = 0;

  std::string digits_;
  unsigned long pressSequence_ = 0;
  struct Press { unsigned long sequence; char digit; double at; };
  std::vector<Press> recentPresses_;
  double firstBufferedAt_ = 0;  // when the oldest digit still buffered was pressed
  std::deque<TranscriptRecord> transcript_;
  size_t transcriptDropped_ = 0;
};

}  // namespace offhook
