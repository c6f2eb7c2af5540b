// The slice of the Voicetronix libvpb API the vpb backend uses, resolved at run time with dlopen/dlsym
// so the addon builds and loads on machines without the driver.
// Source followed: VPBAPI.H, "Voicetronix Voice Processing Board (VPB) Software, Copyright (C) 1999-2001
// Voicetronix", LGPL 2.1 (the header of the ctserver / Telephony::CTPort era, which adds VPB_DROP to the
// 1997-99 header). Types and constants below are copied in meaning from it, not from the file.
#pragma once

#include <memory>
#include <string>

namespace offhook {
namespace vpb {

// Return codes, hook states, modes
constexpr int OK = 0;
constexpr int ONHOOK = 0;
constexpr int OFFHOOK = 1;
constexpr int ERROR_CODE_MODE = 1;  // VPB_ERROR_CODE: errors come back as return codes (default mode aborts)
constexpr unsigned short LINEAR = 0;
constexpr int MAX_STR = 256;

// Events (VPB_EVENT.type)
constexpr int RING = 0, DIGIT = 1, TONEDETECT = 2, DTMF = 8, DROP = 12;
constexpr int PLAYEND = 100, RECORDEND = 101, DIALEND = 102;
constexpr unsigned short MRING = 1 << RING, MTONEDETECT = 1 << TONEDETECT, MDTMF = 1 << DTMF, MDROP = 1 << DROP;

// Built-in tone detector ids (VPB_TONEDETECT data)
constexpr int TONE_DIAL = 0, TONE_RINGBACK = 1, TONE_BUSY = 2, TONE_GRUNT = 3, TONE_RINGBACK_308 = 4, TONE_BUSY_308 = 5;

// VPB_DIGIT data
constexpr int DIGIT_TERM = 0, DIGIT_MAX = 1, DIGIT_TIME_OUT = 2, DIGIT_INTER_DIGIT_TIME_OUT = 3, DIGIT_BUFFER_FULL = 4;
// VPB_RECORDEND data
constexpr int RECORD_DIGIT = 1, RECORD_TIMEOUT = 2;

struct Event {  // VPB_EVENT
  int type;
  int handle;
  int data;
  unsigned long data1;
};

struct Record {  // VPB_RECORD
  char* term_digits;
  unsigned int time_out;
};

struct Digits {  // VPB_DIGITS
  char* term_digits;
  unsigned short max_digits;
  unsigned long digit_time_out;
  unsigned long inter_digit_time_out;
};

// One pointer per libvpb function. libvpb is a C++ library whose header has no extern "C", so each
// function is looked up by its C name first and then by its Itanium C++ mangled name.
struct Api {
  int (*open)(unsigned int board, unsigned int channel);
  int (*close)(int handle);
  int (*seterrormode)(int mode);
  int (*sethook_sync)(int handle, int hookstate);
  int (*set_event_mask)(int handle, unsigned short mask);
  int (*get_event_ch_sync)(int handle, Event* e, unsigned int time_out);
  int (*flush_digits)(int handle);
  int (*get_digits_async)(int handle, Digits* digits, char* digbuf);
  int (*dial_sync)(int handle, char* dialstr);
  int (*play_file_async)(int handle, char file_name[], int data);
  int (*play_terminate)(int handle);
  int (*record_set)(int handle, Record* record);
  int (*record_file_async)(int handle, char file_name[], unsigned short mode);
  int (*record_terminate)(int handle);
  // Optional: error text and caller ID (recording the line between the first two rings, as ctserver does).
  char* (*strerror)(int code);
  int (*record_buf_start)(int handle, unsigned short mode);
  int (*record_buf_sync)(int handle, char* buf, unsigned short length);
  int (*record_buf_finish)(int handle);
  int (*cid_decode)(char* number_str, short* in, int n);
};

// A dlopen()ed libvpb; dlclose()d when the last line using it closes.
class Library {
 public:
  // Throws LineError ENOVPB naming the library and what to do when it cannot be loaded or lacks a function.
  // With `shimPath` (offhook_vpb_shim.so, compiled against the driver's vpbapi.h) present and `path` the default,
  // the shim supplies the functions; otherwise they are looked up in `path` by name.
  static std::shared_ptr<Library> load(const std::string& path, const std::string& shimPath = "");
  // How the functions were bound, for the gateway's start-up log: "shim (vpbapi.h at ...)" or "dlsym (...)".
  const std::string& binding() const { return binding_; }
  ~Library();
  const Api& api() const { return api_; }
  bool hasCallerId() const { return api_.record_buf_start && api_.record_buf_sync && api_.record_buf_finish && api_.cid_decode; }
  std::string describe(const char* function, int code) const;

 private:
  Library() = default;
  void* handle_ = nullptr;
  Api api_{};
  std::string binding_;
};

}  // namespace vpb
}  // namespace offhook
