// WAV checks for prompts (only what the line can play) and the writer for recordings.
#pragma once

#include <cstdint>
#include <string>

namespace offhook {

struct WavInfo {
  uint32_t sampleRate = 0;
  uint32_t dataBytes = 0;
  double durationMs = 0;
};

// Reads the header of `path`; throws LineError EBADWAV naming the file, what is wrong and how to convert it.
WavInfo readPlayableWav(const std::string& path);

// Writes an 8 kHz mono 16-bit PCM WAV holding `samples` samples (zeros when `pcm` is null).
void writeWav8k(const std::string& path, uint32_t samples, const int16_t* pcm = nullptr);

std::string baseName(const std::string& path);

}  // namespace offhook
