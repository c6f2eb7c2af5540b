// JS ↔ C++ conversions: far-end scripts in, transcripts and results out.
#include "sim_convert.h"

#include <cmath>

namespace offhook {
namespace {

[[noreturn]] void badScript(Napi::Env env, const std::string& where, const std::string& what) {
  throw Napi::TypeError::New(env, where + ": " + what);
}

double nonNegative(Napi::Env env, Napi::Value value, const std::string& where) {
  if (!value.IsNumber()) badScript(env, where, "expected a number of milliseconds");
  double n = value.As<Napi::Number>().DoubleValue();
  if (!std::isfinite(n) || n < 0) badScript(env, where, "expected a finite number >= 0, got " + std::to_string(n));
  return n;
}

std::string digits(Napi::Env env, Napi::Value value, const std::string& where) {
  if (!value.IsString()) badScript(env, where, "expected DTMF digits as a string, e.g. \"1\"");
  std::string s = value.As<Napi::String>().Utf8Value();
  if (s.empty()) badScript(env, where, "expected at least one DTMF digit");
  for (char c : s) if (!isDtmfDigit(c)) badScript(env, where, std::string("'") + c + "' is not a DTMF key (0-9 * # A-D)");
  return s;
}

std::vector<FarEndStep> steps(Napi::Env env, Napi::Value value, const std::string& where) {
  std::vector<FarEndStep> out;
  if (value.IsUndefined()) return out;
  if (!value.IsArray()) badScript(env, where, "expected an array of steps");
  Napi::Array array = value.As<Napi::Array>();
  for (uint32_t i = 0; i < array.Length(); i++) {
    std::string at = where + "[" + std::to_string(i) + "]";
    Napi::Value item = array.Get(i);
    if (!item.IsObject()) badScript(env, at, "expected a step object like { wait: 1000 } or { press: \"1\" }");
    Napi::Object step = item.As<Napi::Object>();
    FarEndStep parsed;
    if (step.Has("wait")) {
      parsed.kind = FarEndStep::Wait;
      parsed.ms = nonNegative(env, step.Get("wait"), at + ".wait");
    } else if (step.Has("press")) {
      parsed.kind = FarEndStep::Press;
      parsed.text = digits(env, step.Get("press"), at + ".press");
    } else if (step.Has("hangUp")) {
      parsed.kind = FarEndStep::HangUp;
    } else if (step.Has("waitForPrompt")) {
      parsed.kind = FarEndStep::WaitForPrompt;
      Napi::Value which = step.Get("waitForPrompt");
      if (which.IsString()) parsed.text = which.As<Napi::String>().Utf8Value();
      else if (!(which.IsBoolean() && which.As<Napi::Boolean>().Value())) badScript(env, at + ".waitForPrompt", "expected a file name fragment or true");
      if (step.Has("after")) parsed.ms = nonNegative(env, step.Get("after"), at + ".after");
    } else {
      badScript(env, at, "unknown step: use wait, press, hangUp or waitForPrompt");
    }
    out.push_back(parsed);
  }
  return out;
}

bool flag(Napi::Object o, const char* key) { return o.Has(key) && o.Get(key).ToBoolean().Value(); }

}  // namespace

FarEndScript farEndScriptFromJs(Napi::Env env, Napi::Value value) {
  if (!value.IsObject()) badScript(env, "sim script", "expected an object like { number: \"123\", answerAfterRings: 2 }");
  Napi::Object o = value.As<Napi::Object>();
  FarEndScript script;
  if (!o.Get("number").IsString()) badScript(env, "sim script number", "expected the dialled number as a string");
  script.number = o.Get("number").As<Napi::String>().Utf8Value();
  try {
    validateDialString(script.number);
  } catch (const LineError& e) {
    badScript(env, "sim script number", e.what());
  }
  if (o.Has("answerAfterRings")) script.answerAfterRings = static_cast<int>(nonNegative(env, o.Get("answerAfterRings"), "sim script answerAfterRings"));
  script.busy = flag(o, "busy");
  script.noAnswer = flag(o, "noAnswer");
  if (o.Has("hangUpAfter") && !o.Get("hangUpAfter").IsUndefined()) script.hangUpAfterMs = nonNegative(env, o.Get("hangUpAfter"), "sim script hangUpAfter");
  script.then = steps(env, o.Get("then"), "sim script then");
  return script;
}

InboundScript inboundScriptFromJs(Napi::Env env, Napi::Value value) {
  if (!value.IsObject()) badScript(env, "sim ring", "expected an object like { callerId: \"0312345678\", then: [...] }");
  Napi::Object o = value.As<Napi::Object>();
  InboundScript script;
  Napi::Value callerId = o.Get("callerId");
  if (callerId.IsString()) {
    script.hasCallerId = true;
    script.callerId = callerId.As<Napi::String>().Utf8Value();
  } else if (!callerId.IsNull() && !callerId.IsUndefined()) {
    badScript(env, "sim ring callerId", "expected a string, or null when withheld");
  }
  if (o.Has("maxRings") && !o.Get("maxRings").IsUndefined()) {
    script.maxRings = static_cast<int>(nonNegative(env, o.Get("maxRings"), "sim ring maxRings"));
    if (script.maxRings < 1) badScript(env, "sim ring maxRings", "expected at least 1");
  }
  script.then = steps(env, o.Get("then"), "sim ring then");
  return script;
}

Napi::Array transcriptToJs(Napi::Env env, const std::vector<TranscriptRecord>& records) {
  Napi::Array out = Napi::Array::New(env, records.size());
  for (size_t i = 0; i < records.size(); i++) {
    const TranscriptRecord& r = records[i];
    Napi::Object o = Napi::Object::New(env);
    o.Set("t", r.t);
    o.Set("event", r.event);
    if (r.event == "dial") {
      o.Set("number", r.number);
    } else if (r.event == "play") {
      o.Set("file", r.file);
      o.Set("durationMs", r.durationMs);
      o.Set("playedMs", r.playedMs);
      o.Set("interruptedBy", r.interruptedBy ? Napi::Value(Napi::String::New(env, std::string(1, r.interruptedBy))) : env.Null());
    } else if (r.event == "record") {
      o.Set("file", r.file);
      o.Set("durationMs", r.durationMs);
      o.Set("reason", r.reason);
    } else if (r.event == "press") {
      o.Set("digit", r.digit);
    } else if (r.event == "collect") {
      o.Set("digits", r.digits);
      o.Set("reason", r.reason);
    } else if (!r.detail.empty()) {
      o.Set("detail", r.detail);
    }
    out.Set(static_cast<uint32_t>(i), o);
  }
  return out;
}

Napi::Value toJs(Napi::Env env, const Result& value) {
  switch (value.kind) {
    case Result::Null: return env.Null();
    case Result::Bool: return Napi::Boolean::New(env, value.boolean);
    case Result::Number: return Napi::Number::New(env, value.number);
    case Result::String: return Napi::String::New(env, value.text);
    case Result::Object: {
      Napi::Object o = Napi::Object::New(env);
      for (size_t i = 0; i < value.keys.size(); i++) o.Set(value.keys[i], toJs(env, value.values[i]));
      return o;
    }
    default: return env.Undefined();
  }
}

Napi::Error lineErrorToJs(Napi::Env env, const std::string& code, const std::string& message) {
  Napi::Error error = Napi::Error::New(env, message);
  error.Set("code", Napi::String::New(env, code));
  return error;
}

}  // namespace offhook
