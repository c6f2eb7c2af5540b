#pragma once

#include <napi.h>

#include "sim_line.h"
#include "worker.h"

namespace offhook {

// Throw Napi::TypeError naming the field (e.g. "sim script then[2].press: ...") on bad input.
FarEndScript farEndScriptFromJs(Napi::Env env, Napi::Value value);
InboundScript inboundScriptFromJs(Napi::Env env, Napi::Value value);
Napi::Array transcriptToJs(Napi::Env env, const std::vector<TranscriptRecord>& records);

}  // namespace offhook
