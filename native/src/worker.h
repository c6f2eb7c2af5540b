// Runs one blocking line operation on the libuv pool and settles a Promise with its result.
// Results are built as plain C++ values off the JS thread and turned into JS values in OnOK.
#pragma once

#include <napi.h>

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "line_backend.h"

namespace offhook {

struct Result {
  enum Kind { Undefined, Null, Bool, Number, String, Object } kind = Undefined;
  bool boolean = false;
  double number = 0;
  std::string text;
  std::vector<std::string> keys;
  std::vector<Result> values;

  static Result null() { Result v; v.kind = Null; return v; }
  static Result of(bool b) { Result v; v.kind = Bool; v.boolean = b; return v; }
  static Result of(double n) { Result v; v.kind = Number; v.number = n; return v; }
  static Result of(const std::string& s) { Result v; v.kind = String; v.text = s; return v; }
  static Result object() { Result v; v.kind = Object; return v; }
  Result& set(const std::string& key, Result value) { keys.push_back(key); values.push_back(std::move(value)); return *this; }
};

Napi::Value toJs(Napi::Env env, const Result& value);
Napi::Error lineErrorToJs(Napi::Env env, const std::string& code, const std::string& message);

class LineWorker : public Napi::AsyncWorker {
 public:
  using Work = std::function<Result()>;
  using Done = std::function<void(Napi::Env, bool ok)>;

  static Napi::Promise Start(Napi::Env env, Work work, Done done = nullptr) {
    auto* worker = new LineWorker(env, std::move(work), std::move(done));
    Napi::Promise promise = worker->deferred_.Promise();
    worker->Queue();
    return promise;
  }

 protected:
  void Execute() override {
    try {
      result_ = work_();
    } catch (const LineError& e) {
      failed_ = true, code_ = e.code(), message_ = e.what();
    } catch (const std::exception& e) {
      failed_ = true, code_ = "ELINE", message_ = e.what();
    }
  }

  void OnOK() override {
    Napi::Env env = Env();
    Napi::HandleScope scope(env);
    if (done_) done_(env, !failed_);
    if (failed_) deferred_.Reject(lineErrorToJs(env, code_, message_).Value());
    else deferred_.Resolve(toJs(env, result_));
  }

 private:
  LineWorker(Napi::Env env, Work work, Done done)
      : Napi::AsyncWorker(env, "offhook:line"), deferred_(Napi::Promise::Deferred::New(env)), work_(std::move(work)), done_(std::move(done)) {}

  Napi::Promise::Deferred deferred_;
  Work work_;
  Done done_;
  Result result_;
  bool failed_ = false;
  std::string code_, message_;
};

}  // namespace offhook
