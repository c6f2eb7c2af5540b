// The exchange and the far end of a simulated line: one thread per line that makes timed things happen
// (dial tone, ringback, answer, busy, inbound rings, scripted presses and hang-ups) and wakes waiters.
#include "sim_line.h"

namespace offhook {

void SimLine::exchangeLoop() {
  Lock lock(mutex_);
  while (!closed_) {
    double next = advance(now());
    if (closed_) break;
    if (next < 0) changed_.wait(lock);
    else changed_.wait_until(lock, realTime(next));
  }
}

double SimLine::advance(double t) {
  double next = -1;
  auto consider = [&next](double deadline) {
    if (deadline >= 0 && (next < 0 || deadline < next)) next = deadline;
  };

  if (dialToneAt_ >= 0) {
    if (t >= dialToneAt_) {
      dialTone_ = true;
      log({dialToneAt_, "dial_tone"});
      dialToneAt_ = -1;
      emit("tone", "dial");
      changed_.notify_all();
    } else {
      consider(dialToneAt_);
    }
  }

  if (busyAt_ >= 0) {
    if (t >= busyAt_) {
      call_ = Call::Busy;
      log({busyAt_, "busy"});
      busyAt_ = -1;
      emit("tone", "busy");
      changed_.notify_all();
    } else {
      consider(busyAt_);
    }
  }

  while (call_ == Call::Ringback && nextRingbackAt_ >= 0 && t >= nextRingbackAt_) {
    double slot = nextRingbackAt_;
    bool answers = outbound_ && !outbound_->noAnswer && ringbacks_ >= outbound_->answerAfterRings;
    if (answers) {
      call_ = Call::Connected;
      nextRingbackAt_ = -1;
      TranscriptRecord answered{slot, "answered"};
      answered.detail = outbound_->number;
      log(answered);
      startFarEnd(outbound_->then, outbound_->hangUpAfterMs, slot);
      changed_.notify_all();
    } else {
      ringbacks_++;
      nextRingbackAt_ = slot + options_.ringPeriodMs;
      emit("tone", "ringback");
    }
  }
  if (call_ == Call::Ringback) consider(nextRingbackAt_);

  if (call_ == Call::Connected) {
    double limit = hangUpAt_ >= 0 && hangUpAt_ < t ? hangUpAt_ : t;
    if (stepClock_ >= 0) consider(runFarEndSteps(limit));
    if (hangUpAt_ >= 0 && call_ == Call::Connected) {
      if (t >= hangUpAt_) farEndHangsUp(hangUpAt_, "hangUpAfter");
      else consider(hangUpAt_);
    }
  }

  while (inboundRinging_ && t >= nextInboundRingAt_) {
    double slot = nextInboundRingAt_;
    if (inboundRings_ >= inbound_->maxRings) {
      inboundRinging_ = false;
      TranscriptRecord gaveUp{slot, "far_hangup"};
      gaveUp.detail = "caller gave up after " + std::to_string(inboundRings_) + " rings";
      log(gaveUp);
      changed_.notify_all();
      break;
    }
    inboundRings_++;
    ringSequence_++;
    if (inboundRings_ == 1) {
      // Caller ID arrives with the first ring here; on a real line it is sent between the first and second.
      hasCallerId_ = inbound_->hasCallerId;
      callerId_ = inbound_->callerId;
    }
    TranscriptRecord ring{slot, "ring"};
    ring.detail = hasCallerId_ ? callerId_ : "withheld";
    log(ring);
    nextInboundRingAt_ = slot + options_.ringPeriodMs;
    emit("ring", callerId_, hasCallerId_);
    changed_.notify_all();
  }
  if (inboundRinging_) consider(nextInboundRingAt_);
  return next;
}

void SimLine::startFarEnd(const std::vector<FarEndStep>& steps, double hangUpAfterMs, double t) {
  steps_ = steps;
  stepIndex_ = 0;
  stepClock_ = t;
  hangUpAt_ = hangUpAfterMs >= 0 ? t + hangUpAfterMs : -1;
  promptCursor_ = prompts_.size();
}

// Runs the far end's steps that are due by `t`; returns when the next one is due (<0 = waiting for a prompt or done).
double SimLine::runFarEndSteps(double t) {
  while (stepClock_ >= 0 && stepIndex_ < steps_.size()) {
    const FarEndStep& step = steps_[stepIndex_];
    if (step.kind == FarEndStep::Wait) {
      double due = stepClock_ + step.ms;
      if (t < due) return due;
      stepClock_ = due;
    } else if (step.kind == FarEndStep::Press) {
      pressDigits(step.text, stepClock_);
    } else if (step.kind == FarEndStep::HangUp) {
      farEndHangsUp(stepClock_, "script");
      return -1;
    } else {
      size_t match = promptCursor_;
      while (match < prompts_.size() && prompts_[match].path.find(step.text) == std::string::npos) match++;
      if (match == prompts_.size()) return -1;  // play() wakes this thread when a prompt starts
      double due = prompts_[match].at + step.ms;
      if (t < due) return due;
      promptCursor_ = match + 1;
      if (due > stepClock_) stepClock_ = due;
    }
    stepIndex_++;
  }
  stepClock_ = -1;
  return -1;
}

void SimLine::pressDigits(const std::string& digits, double t) {
  for (char c : digits) {
    if (digits_.empty()) firstBufferedAt_ = t;
    digits_ += c;
    pressSequence_++;
    recentPresses_.push_back({pressSequence_, c, t});
    if (recentPresses_.size() > 64) recentPresses_.erase(recentPresses_.begin());
    TranscriptRecord press{t, "press"};
    press.digit = std::string(1, c);
    log(press);
    emit("dtmf", press.digit);
  }
  changed_.notify_all();
}

void SimLine::farEndHangsUp(double t, const std::string& detail) {
  call_ = Call::FarHungUp;
  steps_.clear();
  stepClock_ = -1;
  hangUpAt_ = -1;
  TranscriptRecord hangup{t, "far_hangup"};
  hangup.detail = detail;
  log(hangup);
  emit("hangup", "", false);
  changed_.notify_all();
}

}  // namespace offhook
