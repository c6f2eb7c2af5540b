// Placeholder translation unit; the line driver is built out in native/src.
#include <napi.h>
static Napi::Object Init(Napi::Env env, Napi::Object exports) { return exports; }
NODE_API_MODULE(offhook_line, Init)
