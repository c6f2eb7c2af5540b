#include "wav.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>
#include <vector>

#include "line_backend.h"

namespace offhook {
namespace {

const char* kConvertHint = " (convert with: sox input.wav -r 8000 -c 1 -b 16 -e signed-integer output.wav)";

uint32_t le32(const unsigned char* p) { return p[0] | (p[1] << 8) | (p[2] << 16) | (static_cast<uint32_t>(p[3]) << 24); }
uint16_t le16(const unsigned char* p) { return static_cast<uint16_t>(p[0] | (p[1] << 8)); }
void put32(unsigned char* p, uint32_t v) { for (int i = 0; i < 4; i++) p[i] = static_cast<unsigned char>(v >> (8 * i)); }
void put16(unsigned char* p, uint16_t v) { p[0] = v & 0xff; p[1] = v >> 8; }

struct FileCloser { void operator()(FILE* f) const { if (f) fclose(f); } };
using File = std::unique_ptr<FILE, FileCloser>;

[[noreturn]] void bad(const std::string& path, const std::string& what) {
  throw LineError("EBADWAV", path + ": " + what);
}

}  // namespace

std::string baseName(const std::string& path) {
  size_t slash = path.find_last_of('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

WavInfo readPlayableWav(const std::string& path) {
  File f(fopen(path.c_str(), "rb"));
  if (!f) bad(path, std::string("cannot open prompt: ") + strerror(errno));
  if (fseek(f.get(), 0, SEEK_END) != 0) bad(path, "cannot seek");
  long fileSize = ftell(f.get());
  rewind(f.get());

  unsigned char riff[12];
  if (fread(riff, 1, 12, f.get()) != 12 || memcmp(riff, "RIFF", 4) != 0 || memcmp(riff + 8, "WAVE", 4) != 0)
    bad(path, std::string("not a WAV file (no RIFF/WAVE header)") + kConvertHint);

  bool haveFormat = false;
  uint16_t format = 0, channels = 0, bits = 0;
  uint32_t rate = 0;
  // Chunks (LIST, fact, ...) may come in any order; walk them until the data chunk.
  for (;;) {
    unsigned char header[8];
    if (fread(header, 1, 8, f.get()) != 8) bad(path, "no data chunk: the file is truncated or not PCM audio");
    uint32_t size = le32(header + 4);
    long bodyAt = ftell(f.get());
    if (memcmp(header, "fmt ", 4) == 0) {
      if (size < 16) bad(path, "fmt chunk is too short");
      unsigned char fmt[40] = {0};
      size_t want = size < sizeof fmt ? size : sizeof fmt;
      if (fread(fmt, 1, want, f.get()) != want) bad(path, "fmt chunk is truncated");
      format = le16(fmt);
      channels = le16(fmt + 2);
      rate = le32(fmt + 4);
      bits = le16(fmt + 14);
      // WAVE_FORMAT_EXTENSIBLE carries the real format in the first two bytes of its sub-format GUID.
      if (format == 0xFFFE && size >= 26) format = le16(fmt + 24);
      haveFormat = true;
    } else if (memcmp(header, "data", 4) == 0) {
      if (!haveFormat) bad(path, "data chunk comes before the fmt chunk");
      if (format != 1) bad(path, "audio format " + std::to_string(format) + " is not PCM; the line plays 16-bit PCM" + kConvertHint);
      if (channels != 1) bad(path, std::to_string(channels) + " channels; the line plays mono" + kConvertHint);
      if (bits != 16) bad(path, std::to_string(bits) + "-bit samples; the line plays 16-bit" + kConvertHint);
      if (rate != 8000 && rate != 16000)
        bad(path, std::to_string(rate) + " Hz; the line plays 8000 or 16000 Hz" + kConvertHint);
      // Writers that stream to a pipe leave the size unset (0 or 0xFFFFFFFF): trust the file length then.
      uint32_t available = static_cast<uint32_t>(fileSize - bodyAt);
      uint32_t dataBytes = (size == 0 || size > available) ? available : size;
      WavInfo info;
      info.sampleRate = rate;
      info.dataBytes = dataBytes;
      info.durationMs = static_cast<double>(dataBytes / 2) * 1000.0 / rate;
      return info;
    }
    if (fseek(f.get(), bodyAt + size + (size & 1), SEEK_SET) != 0) bad(path, "chunk sizes run past the end of the file");
  }
}

void writeWav8k(const std::string& path, uint32_t samples, const int16_t* pcm) {
  File f(fopen(path.c_str(), "wb"));
  if (!f) throw LineError("EWRITE", "cannot write recording " + path + ": " + strerror(errno));
  unsigned char h[44];
  uint32_t dataBytes = samples * 2;
  memcpy(h, "RIFF", 4);
  put32(h + 4, 36 + dataBytes);
  memcpy(h + 8, "WAVEfmt ", 8);
  put32(h + 16, 16);
  put16(h + 20, 1);
  put16(h + 22, 1);
  put32(h + 24, 8000);
  put32(h + 28, 16000);
  put16(h + 32, 2);
  put16(h + 34, 16);
  memcpy(h + 36, "data", 4);
  put32(h + 40, dataBytes);
  bool ok = fwrite(h, 1, 44, f.get()) == 44;
  std::vector<int16_t> silence;
  if (!pcm) silence.assign(samples, 0), pcm = silence.data();
  // Little-endian host assumed (x86/ARM Linux), so samples are written as they are in memory.
  if (ok && samples > 0) ok = fwrite(pcm, 2, samples, f.get()) == samples;
  if (!ok || fflush(f.get()) != 0) throw LineError("EWRITE", "cannot write recording " + path + ": " + strerror(errno));
}

}  // namespace offhook
