// JS face of the addon: a LineHandle object per open line. Each blocking call becomes a LineWorker
// (Promise); line events flow back through one ThreadSafeFunction, released when the line closes.
#include <napi.h>

#include <memory>
#include <deque>
#include <mutex>

#include "sim_convert.h"
#include "sim_line.h"
#include "vpb_line.h"
#include "worker.h"

namespace offhook {
namespace {

// Carries events from backend threads to JS. Events queue here; the ThreadSafeFunction only wakes the JS
// thread to drain them. Every operation's Promise drains the queue before it settles, so an event that
// happened before an operation finished (the far end hung up, a digit came) is always seen first.
struct EventGate {
  std::mutex mutex;
  std::deque<LineEvent> queue;
  bool wakePending = false;
  bool released = false;
  Napi::ThreadSafeFunction tsfn;
  Napi::FunctionReference callback;  // JS thread only

  void post(const LineEvent& event) {
    std::lock_guard<std::mutex> lock(mutex);
    if (released) return;
    queue.push_back(event);
    if (wakePending) return;
    wakePending = true;
    EventGate* self = this;
    tsfn.NonBlockingCall([self](Napi::Env env, Napi::Function) { if (env) self->drain(env); });
  }

  void drain(Napi::Env env) {
    std::deque<LineEvent> events;
    {
      std::lock_guard<std::mutex> lock(mutex);
      events.swap(queue);
      wakePending = false;
    }
    if (callback.IsEmpty()) return;
    Napi::HandleScope scope(env);
    for (const LineEvent& e : events)
      callback.Call({Napi::String::New(env, e.type), e.hasValue ? Napi::Value(Napi::String::New(env, e.value)) : env.Null()});
  }

  // JS thread, after the backend's threads are joined: deliver what is left, then let the process exit.
  void release(Napi::Env env, bool deliver = true) {
    if (deliver) drain(env);
    std::lock_guard<std::mutex> lock(mutex);
    if (released) return;
    released = true;
    tsfn.Release();
    callback.Reset();
  }
};

double numberArg(const Napi::CallbackInfo& info, size_t i, const char* name) {
  if (!info[i].IsNumber()) throw Napi::TypeError::New(info.Env(), std::string(name) + " must be a number");
  return info[i].As<Napi::Number>().DoubleValue();
}

std::string stringArg(const Napi::CallbackInfo& info, size_t i, const char* name) {
  if (!info[i].IsString()) throw Napi::TypeError::New(info.Env(), std::string(name) + " must be a string");
  return info[i].As<Napi::String>().Utf8Value();
}

char keyArg(const Napi::CallbackInfo& info, size_t i, const char* name) {
  if (info[i].IsUndefined() || info[i].IsNull()) return 0;
  std::string key = stringArg(info, i, name);
  if (key.size() != 1) throw Napi::TypeError::New(info.Env(), std::string(name) + " must be a single DTMF key, got \"" + key + "\"");
  return key[0];
}

class LineHandle : public Napi::ObjectWrap<LineHandle> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "LineHandle", {
      InstanceMethod<&LineHandle::OpenSim>("openSim"),
      InstanceMethod<&LineHandle::OpenVpb>("openVpb"),
      InstanceMethod<&LineHandle::OffHook>("offHook"),
      InstanceMethod<&LineHandle::OnHook>("onHook"),
      InstanceMethod<&LineHandle::WaitForDialTone>("waitForDialTone"),
      InstanceMethod<&LineHandle::WaitForRing>("waitForRing"),
      InstanceMethod<&LineHandle::Dial>("dial"),
      InstanceMethod<&LineHandle::WaitForAnswer>("waitForAnswer"),
      InstanceMethod<&LineHandle::Play>("play"),
      InstanceMethod<&LineHandle::Record>("record"),
      InstanceMethod<&LineHandle::Collect>("collect"),
      InstanceMethod<&LineHandle::FlushDigits>("flushDigits"),
      InstanceMethod<&LineHandle::HookState>("hookState"),
      InstanceMethod<&LineHandle::CallerId>("callerId"),
      InstanceMethod<&LineHandle::Binding>("binding"),
      InstanceMethod<&LineHandle::Close>("close"),
      InstanceMethod<&LineHandle::Script>("script"),
      InstanceMethod<&LineHandle::Ring>("ring"),
      InstanceMethod<&LineHandle::Transcript>("transcript"),
    });
  }

  // new LineHandle(onEvent: (type: string, value: string | null) => void)
  explicit LineHandle(const Napi::CallbackInfo& info) : Napi::ObjectWrap<LineHandle>(info), gate_(std::make_shared<EventGate>()) {
    if (!info[0].IsFunction()) throw Napi::TypeError::New(info.Env(), "LineHandle needs an event callback");
    gate_->callback = Napi::Persistent(info[0].As<Napi::Function>());
    // Kept alive by the EventGate, which outlives every tsfn call because release() comes after the joins.
    std::shared_ptr<EventGate> gate = gate_;
    gate_->tsfn = Napi::ThreadSafeFunction::New(info.Env(), info[0].As<Napi::Function>(), "offhook:line-events", 0, 1,
                                                [gate](Napi::Env) {});
  }

  ~LineHandle() override {
    if (backend_) backend_->close();
    gate_->release(Env(), false);  // a finalizer must not call into JS
  }

 private:
  EventSink sink() {
    std::shared_ptr<EventGate> gate = gate_;
    return [gate](const LineEvent& event) { gate->post(event); };
  }

  std::shared_ptr<LineBackend> line(Napi::Env env) {
    if (!backend_) throw lineErrorToJs(env, "ELINECLOSED", "the line is not open");
    return backend_;
  }

  std::shared_ptr<SimLine> sim(Napi::Env env) {
    if (!sim_) throw lineErrorToJs(env, "EWRONGSTATE", "only the sim backend has a scriptable far end");
    return sim_;
  }

  Napi::Value OpenSim(const Napi::CallbackInfo& info) {
    Napi::Object o = info[0].IsObject() ? info[0].As<Napi::Object>() : Napi::Object::New(info.Env());
    SimOptions options;
    auto number = [&](const char* key, double* out) {
      if (o.Has(key) && o.Get(key).IsNumber()) *out = o.Get(key).As<Napi::Number>().DoubleValue();
    };
    number("speed", &options.speed);
    number("dialToneDelayMs", &options.dialToneDelayMs);
    number("ringPeriodMs", &options.ringPeriodMs);
    options.noDialTone = o.Has("noDialTone") && o.Get("noDialTone").ToBoolean().Value();
    if (!(options.speed > 0)) throw Napi::RangeError::New(info.Env(), "sim.speed must be a number > 0");
    sim_ = std::make_shared<SimLine>(options, sink());
    backend_ = sim_;
    return info.Env().Undefined();
  }

  // Loading libvpb and vpb_open() can block (the driver loads firmware), so opening runs on a worker.
  Napi::Value OpenVpb(const Napi::CallbackInfo& info) {
    if (!info[0].IsObject()) throw Napi::TypeError::New(info.Env(), "openVpb needs an options object");
    Napi::Object o = info[0].As<Napi::Object>();
    VpbOptions options;
    if (o.Get("libraryPath").IsString()) options.libraryPath = o.Get("libraryPath").As<Napi::String>().Utf8Value();
    if (o.Get("shimPath").IsString()) options.shimPath = o.Get("shimPath").As<Napi::String>().Utf8Value();
    auto number = [&](const char* key) { return o.Get(key).IsNumber() ? o.Get(key).As<Napi::Number>().DoubleValue() : -1; };
    if (number("board") >= 0) options.board = static_cast<unsigned>(number("board"));
    if (number("channel") >= 0) options.channel = static_cast<unsigned>(number("channel"));
    if (number("interRingbackMs") >= 0) options.interRingbackMs = number("interRingbackMs");
    if (number("ringbackTimeoutMs") >= 0) options.ringbackTimeoutMs = number("ringbackTimeoutMs");
    if (number("callerIdWindowMs") >= 0) options.callerIdWindowMs = number("callerIdWindowMs");
    auto opened = std::make_shared<std::shared_ptr<LineBackend>>();
    auto self = std::make_shared<Napi::ObjectReference>(Napi::Persistent(Value()));  // keeps `this` alive until done
    std::shared_ptr<EventGate> gate = gate_;
    EventSink events = sink();
    return LineWorker::Start(
        info.Env(),
        [opened, options, events] {
          *opened = std::make_shared<VpbLine>(options, events);
          return Result();
        },
        [this, opened, self, gate](Napi::Env env, bool ok) {
          if (ok) backend_ = *opened;
          else gate->release(env);
          self->Reset();
        });
  }

  template <typename Work>
  Napi::Value run(const Napi::CallbackInfo& info, Work work) {
    std::shared_ptr<LineBackend> b = line(info.Env());
    std::shared_ptr<EventGate> gate = gate_;
    return LineWorker::Start(info.Env(), [b, work] { return work(*b); }, [gate](Napi::Env env, bool) { gate->drain(env); });
  }

  Napi::Value OffHook(const Napi::CallbackInfo& info) {
    return run(info, [](LineBackend& b) { b.offHook(); return Result(); });
  }
  Napi::Value OnHook(const Napi::CallbackInfo& info) {
    return run(info, [](LineBackend& b) { b.onHook(); return Result(); });
  }
  Napi::Value WaitForDialTone(const Napi::CallbackInfo& info) {
    double ms = numberArg(info, 0, "timeoutMs");
    return run(info, [ms](LineBackend& b) { return Result::of(b.waitForDialTone(ms)); });
  }
  Napi::Value WaitForRing(const Napi::CallbackInfo& info) {
    double ms = numberArg(info, 0, "timeoutMs");
    return run(info, [ms](LineBackend& b) {
      RingResult ring = b.waitForRing(ms);
      if (!ring.rang) return Result::null();
      return Result::object().set("callerId", ring.hasCallerId ? Result::of(ring.callerId) : Result::null());
    });
  }
  Napi::Value Dial(const Napi::CallbackInfo& info) {
    std::string number = stringArg(info, 0, "number");
    return run(info, [number](LineBackend& b) { b.dial(number); return Result(); });
  }
  Napi::Value WaitForAnswer(const Napi::CallbackInfo& info) {
    double ms = numberArg(info, 0, "timeoutMs");
    return run(info, [ms](LineBackend& b) { return Result::of(b.waitForAnswer(ms)); });
  }
  Napi::Value Play(const Napi::CallbackInfo& info) {
    std::string path = stringArg(info, 0, "wavPath");
    bool interrupt = info[1].ToBoolean().Value();
    return run(info, [path, interrupt](LineBackend& b) {
      PlayOutcome played = b.play(path, interrupt);
      return Result::object()
          .set("interruptedBy", played.interruptedBy ? Result::of(std::string(1, played.interruptedBy)) : Result::null())
          .set("hungUp", Result::of(played.hungUp));
    });
  }
  Napi::Value Record(const Napi::CallbackInfo& info) {
    std::string path = stringArg(info, 0, "path");
    double ms = numberArg(info, 1, "timeoutMs");
    char termKey = keyArg(info, 2, "termKey");
    return run(info, [path, ms, termKey](LineBackend& b) {
      RecordOutcome recorded = b.record(path, ms, termKey);
      return Result::object().set("reason", Result::of(recorded.reason)).set("durationMs", Result::of(recorded.durationMs));
    });
  }
  Napi::Value Collect(const Napi::CallbackInfo& info) {
    CollectRequest request;
    request.maxDigits = static_cast<int>(numberArg(info, 0, "maxDigits"));
    request.timeoutMs = numberArg(info, 1, "timeoutMs");
    request.interDigitTimeoutMs = info[2].IsNumber() ? info[2].As<Napi::Number>().DoubleValue() : 0;
    request.termKey = keyArg(info, 3, "termKey");
    return run(info, [request](LineBackend& b) {
      CollectOutcome collected = b.collect(request);
      return Result::object().set("digits", Result::of(collected.digits)).set("reason", Result::of(collected.reason));
    });
  }
  Napi::Value FlushDigits(const Napi::CallbackInfo& info) {
    line(info.Env())->flushDigits();
    return info.Env().Undefined();
  }
  Napi::Value HookState(const Napi::CallbackInfo& info) {
    return Napi::String::New(info.Env(), backend_ && backend_->isOffHook() ? "off" : "on");
  }
  Napi::Value CallerId(const Napi::CallbackInfo& info) {
    std::string id;
    if (backend_ && backend_->callerId(&id)) return Napi::String::New(info.Env(), id);
    return info.Env().Null();
  }
  Napi::Value Binding(const Napi::CallbackInfo& info) {
    return Napi::String::New(info.Env(), backend_ ? backend_->binding() : "");
  }
  Napi::Value Close(const Napi::CallbackInfo& info) {
    std::shared_ptr<LineBackend> b = backend_;
    std::shared_ptr<EventGate> gate = gate_;
    // Joining the backend's threads can take up to one poll period, so it happens off the JS thread.
    return LineWorker::Start(
        info.Env(), [b] {
          if (b) b->close();
          return Result();
        }, [gate](Napi::Env env, bool) { gate->release(env); });
  }
  Napi::Value Script(const Napi::CallbackInfo& info) {
    FarEndScript script = farEndScriptFromJs(info.Env(), info[0]);
    try {
      sim(info.Env())->script(script);
    } catch (const LineError& e) {
      throw lineErrorToJs(info.Env(), e.code(), e.what());
    }
    return info.Env().Undefined();
  }
  Napi::Value Ring(const Napi::CallbackInfo& info) {
    InboundScript script = inboundScriptFromJs(info.Env(), info[0]);
    try {
      sim(info.Env())->ring(script);
    } catch (const LineError& e) {
      throw lineErrorToJs(info.Env(), e.code(), e.what());
    }
    return info.Env().Undefined();
  }
  Napi::Value Transcript(const Napi::CallbackInfo& info) {
    return transcriptToJs(info.Env(), sim(info.Env())->transcript());
  }

  std::shared_ptr<EventGate> gate_;
  std::shared_ptr<LineBackend> backend_;
  std::shared_ptr<SimLine> sim_;
};

}  // namespace
}  // namespace offhook

static Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("LineHandle", offhook::LineHandle::Define(env));
  return exports;
}

NODE_API_MODULE(offhook_line, Init)
