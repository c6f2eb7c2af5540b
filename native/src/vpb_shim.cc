// The libvpb binding compiled against the Voicetronix driver's own vpbapi.h (built by native/vpb-shim.sh only where
// that header is installed, into build/Release/offhook_vpb_shim.so, linked to libvpb). The compiler reads the real
// declarations, so each call goes to the symbol the driver actually exports, with arguments converted to the
// driver's parameter types (char* to std::string, an int mode to an enum...) and structs copied field by field into
// the driver's layouts. vpb_library.cc prefers it to its dlsym lookup of the 1999-2001 VPBAPI.H names.
#include <vpbapi.h>

#include "vpb_api.h"

namespace ov = offhook::vpb;

namespace {

// Converts every argument to the driver's declared parameter type: deduced from the function itself.
template <typename R, typename... P, typename... A>
R call(R (*fn)(P...), A... args) {
  return fn(static_cast<P>(args)...);
}

// The driver may keep the digit and record settings after the call returns (they drive an asynchronous
// operation), so they live per handle here, not on the caller's stack.
constexpr int kHandles = 256;
VPB_DIGITS digitSettings[kHandles];
VPB_RECORD recordSettings[kHandles];

int slot(int handle) { return ((handle % kHandles) + kHandles) % kHandles; }

}  // namespace

extern "C" __attribute__((visibility("default"))) const char* offhook_vpb_shim_fill(ov::Api* a) {
  a->open = [](unsigned int board, unsigned int channel) { return int(call(vpb_open, board, channel)); };
  a->close = [](int h) { return int(call(vpb_close, h)); };
  a->seterrormode = [](int mode) { return int(call(vpb_seterrormode, mode)); };
  a->sethook_sync = [](int h, int state) { return int(call(vpb_sethook_sync, h, state)); };
  a->set_event_mask = [](int h, unsigned short mask) { return int(call(vpb_set_event_mask, h, mask)); };
  a->get_event_ch_sync = [](int h, ov::Event* out, unsigned int timeout) {
    VPB_EVENT e{};
    int r = call(vpb_get_event_ch_sync, h, &e, timeout);
    out->type = e.type;
    out->handle = e.handle;
    out->data = e.data;
    out->data1 = e.data1;
    return r;
  };
  a->flush_digits = [](int h) { return int(call(vpb_flush_digits, h)); };
  a->get_digits_async = [](int h, ov::Digits* d, char* buf) {
    VPB_DIGITS& s = digitSettings[slot(h)];
    s.term_digits = d->term_digits;
    s.max_digits = d->max_digits;
    s.digit_time_out = d->digit_time_out;
    s.inter_digit_time_out = d->inter_digit_time_out;
    return int(call(vpb_get_digits_async, h, &s, buf));
  };
  a->dial_sync = [](int h, char* number) { return int(call(vpb_dial_sync, h, number)); };
  a->play_file_async = [](int h, char* file, int data) { return int(call(vpb_play_file_async, h, file, data)); };
  a->play_terminate = [](int h) { return int(call(vpb_play_terminate, h)); };
  a->record_set = [](int h, ov::Record* r) {
    VPB_RECORD& s = recordSettings[slot(h)];
    s.term_digits = r->term_digits;
    s.time_out = r->time_out;
    return int(call(vpb_record_set, h, &s));
  };
  a->record_file_async = [](int h, char* file, unsigned short mode) {
    return int(call(vpb_record_file_async, h, file, mode));
  };
  a->record_terminate = [](int h) { return int(call(vpb_record_terminate, h)); };
  a->strerror = [](int code) { return const_cast<char*>(static_cast<const char*>(call(vpb_strerror, code))); };
  a->record_buf_start = [](int h, unsigned short mode) { return int(call(vpb_record_buf_start, h, mode)); };
  a->record_buf_sync = [](int h, char* buf, unsigned short n) { return int(call(vpb_record_buf_sync, h, buf, n)); };
  a->record_buf_finish = [](int h) { return int(call(vpb_record_buf_finish, h)); };
  a->cid_decode = [](char* number, short* in, int n) { return int(call(vpb_cid_decode, number, in, n)); };
  return OFFHOOK_VPBAPI_H;
}
