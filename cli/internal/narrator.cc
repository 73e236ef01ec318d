#include "cli/internal/narrator.h"

#include <algorithm>

namespace kinko::cli::internal {
namespace {

constexpr int64_t kSatsPerBtc = 100'000'000;
constexpr std::string_view kStepIndent = "   ";
constexpr std::string_view kItemIndent = "     ";
constexpr std::string_view kItemHangingIndent = "       ";

}  // namespace

std::string Wrap(std::string_view text, std::string_view first_prefix, std::string_view next_prefix,
                 size_t width) {
  std::string out;
  std::string line(first_prefix);
  bool line_has_word = false;
  const auto flush = [&] {
    out += line;
    out += '\n';
    line = std::string(next_prefix);
    line_has_word = false;
  };
  size_t pos = 0;
  while (pos < text.size()) {
    if (text[pos] == '\n') {
      flush();
      ++pos;
      continue;
    }
    // A word and the spaces before it: the spaces are kept inside a line (aligned columns),
    // dropped at a line break.
    const size_t word_start = text.find_first_not_of(' ', pos);
    if (word_start == std::string_view::npos) break;
    if (text[word_start] == '\n') {
      pos = word_start;
      continue;
    }
    const size_t word_end = std::min(text.find_first_of(" \n", word_start), text.size());
    const std::string_view gap = text.substr(pos, word_start - pos);
    const std::string_view word = text.substr(word_start, word_end - word_start);
    if (line_has_word && line.size() + gap.size() + word.size() > width) flush();
    if (line_has_word) line += gap;
    line += word;
    line_has_word = true;
    pos = word_end;
  }
  if (line_has_word || out.empty()) flush();
  return out;
}

std::string FormatBtc(int64_t sats) {
  const bool negative = sats < 0;
  const uint64_t magnitude =
      negative ? static_cast<uint64_t>(-(sats + 1)) + 1 : static_cast<uint64_t>(sats);
  std::string fraction = std::to_string(magnitude % kSatsPerBtc);
  fraction.insert(0, 8 - fraction.size(), '0');
  while (!fraction.empty() && fraction.back() == '0') fraction.pop_back();
  std::string out = negative ? "-" : "";
  out += std::to_string(magnitude / kSatsPerBtc);
  if (!fraction.empty()) out += "." + fraction;
  return out + " BTC";
}

void Narrator::Paragraph(std::string_view text) {
  if (wrote_) Write("\n");
  Write(Wrap(text, "", ""));
}

void Narrator::Step(std::string_view text) {
  ++step_;
  std::string number = std::to_string(step_) + ". ";
  if (number.size() < kStepIndent.size()) number.resize(kStepIndent.size(), ' ');
  Write("\n" + Wrap(text, number, kStepIndent));
}

void Narrator::Say(std::string_view text) { Write(Wrap(text, kStepIndent, kStepIndent)); }

void Narrator::Item(std::string_view text) { Write(Wrap(text, kItemIndent, kItemHangingIndent)); }

void Narrator::Write(const std::string& text) {
  wrote_ = true;
  std::fwrite(text.data(), 1, text.size(), out_);
  std::fflush(out_);
}

}  // namespace kinko::cli::internal
