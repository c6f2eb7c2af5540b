#include <dlfcn.h>
#include <unistd.h>

#include "line_backend.h"
#include "vpb_api.h"

namespace offhook {
namespace vpb {
namespace {

struct Symbol {
  const char* name;
  const char* mangled;  // g++ (Itanium ABI) name of the same declaration from VPBAPI.H
  void** slot;
  bool required;
};

}  // namespace

namespace {

// build/Release/offhook_vpb_shim.so next to this addon, if native/vpb-shim.sh built one.
std::string shimNextToAddon() {
  Dl_info info{};
  if (!dladdr(reinterpret_cast<void*>(&shimNextToAddon), &info) || !info.dli_fname) return "";
  std::string self = info.dli_fname;
  return self.substr(0, self.find_last_of('/') + 1) + "offhook_vpb_shim.so";
}

}  // namespace

std::shared_ptr<Library> Library::load(const std::string& path, const std::string& shimPath) {
  std::shared_ptr<Library> library(new Library());
  const std::string shim = shimPath.empty() ? shimNextToAddon() : shimPath;
  // The shim links the libvpb it was compiled against: only for the default library, not an explicit path.
  if (path == "libvpb.so" && !shim.empty() && access(shim.c_str(), R_OK) == 0) {
    dlerror();
    library->handle_ = dlopen(shim.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (!library->handle_) {
      const char* why = dlerror();
      throw LineError("ENOVPB", "cannot load " + shim + " (" + (why ? why : "unknown dlopen error") +
                                    "), the libvpb binding built against the driver's vpbapi.h: reinstall vpb-driver or "
                                    "rebuild native/ (npm rebuild --workspace native)");
    }
    using Fill = const char* (*)(Api*);
    auto fill = reinterpret_cast<Fill>(dlsym(library->handle_, "offhook_vpb_shim_fill"));
    if (!fill) throw LineError("ENOVPB", shim + " has no offhook_vpb_shim_fill: rebuild native/ (npm rebuild --workspace native)");
    library->binding_ = std::string("shim compiled against ") + fill(&library->api_);
    return library;
  }
  dlerror();
  library->handle_ = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!library->handle_) {
    const char* why = dlerror();
    throw LineError("ENOVPB", "cannot load the Voicetronix library " + path + " (" + (why ? why : "unknown dlopen error") +
                                  "): install the Voicetronix vpb-driver, or set vpb.libraryPath to the full path of libvpb.so, "
                                  "or use the sim backend");
  }
  Api& a = library->api_;
  const Symbol symbols[] = {
      {"vpb_open", "_Z8vpb_openjj", reinterpret_cast<void**>(&a.open), true},
      {"vpb_close", "_Z9vpb_closei", reinterpret_cast<void**>(&a.close), true},
      {"vpb_seterrormode", "_Z16vpb_seterrormodei", reinterpret_cast<void**>(&a.seterrormode), true},
      {"vpb_sethook_sync", "_Z16vpb_sethook_syncii", reinterpret_cast<void**>(&a.sethook_sync), true},
      {"vpb_set_event_mask", "_Z18vpb_set_event_maskit", reinterpret_cast<void**>(&a.set_event_mask), true},
      {"vpb_get_event_ch_sync", "_Z21vpb_get_event_ch_synciP9VPB_EVENTj", reinterpret_cast<void**>(&a.get_event_ch_sync), true},
      {"vpb_flush_digits", "_Z16vpb_flush_digitsi", reinterpret_cast<void**>(&a.flush_digits), true},
      {"vpb_get_digits_async", "_Z20vpb_get_digits_asynciP10VPB_DIGITSPc", reinterpret_cast<void**>(&a.get_digits_async), true},
      {"vpb_dial_sync", "_Z13vpb_dial_synciPc", reinterpret_cast<void**>(&a.dial_sync), true},
      {"vpb_play_file_async", "_Z19vpb_play_file_asynciPci", reinterpret_cast<void**>(&a.play_file_async), true},
      {"vpb_play_terminate", "_Z18vpb_play_terminatei", reinterpret_cast<void**>(&a.play_terminate), true},
      {"vpb_record_set", "_Z14vpb_record_setiP10VPB_RECORD", reinterpret_cast<void**>(&a.record_set), true},
      {"vpb_record_file_async", "_Z21vpb_record_file_asynciPct", reinterpret_cast<void**>(&a.record_file_async), true},
      {"vpb_record_terminate", "_Z20vpb_record_terminatei", reinterpret_cast<void**>(&a.record_terminate), true},
      {"vpb_strerror", "_Z12vpb_strerrori", reinterpret_cast<void**>(&a.strerror), false},
      {"vpb_record_buf_start", "_Z20vpb_record_buf_startit", reinterpret_cast<void**>(&a.record_buf_start), false},
      {"vpb_record_buf_sync", "_Z19vpb_record_buf_synciPct", reinterpret_cast<void**>(&a.record_buf_sync), false},
      {"vpb_record_buf_finish", "_Z21vpb_record_buf_finishi", reinterpret_cast<void**>(&a.record_buf_finish), false},
      {"vpb_cid_decode", "_Z14vpb_cid_decodePcPsi", reinterpret_cast<void**>(&a.cid_decode), false},
  };
  for (const Symbol& s : symbols) {
    *s.slot = dlsym(library->handle_, s.name);
    if (!*s.slot) *s.slot = dlsym(library->handle_, s.mangled);
    if (!*s.slot && s.required)
      throw LineError("ENOVPB", path + " has no " + s.name + " (looked for " + s.name + " and " + s.mangled +
                                    "): it is not a Voicetronix libvpb, or a driver generation whose declarations differ from "
                                    "VPBAPI.H 1999-2001 (the mangled name encodes the parameter types); install the driver's "
                                    "vpbapi.h and rebuild native/ so native/vpb-shim.sh compiles the binding against it");
  }
  library->binding_ = "dlsym lookup of the VPBAPI.H 1999-2001 names in " + path;
  return library;
}

Library::~Library() {
  if (handle_) dlclose(handle_);
}

std::string Library::describe(const char* function, int code) const {
  std::string text = std::string(function) + " failed with code " + std::to_string(code);
  if (api_.strerror) {
    const char* why = api_.strerror(code);
    if (why && *why) text += " (" + std::string(why) + ")";
  }
  return text;
}

}  // namespace vpb
}  // namespace offhook
