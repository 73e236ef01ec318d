// The voice of `kinko demo`: numbered steps, one paragraph each, wrapped to 100 columns and
// written to stdout as they happen (the demo runs for seconds; a reader follows along).
//
// Not thread-safe; one owner.
#ifndef KINKO_CLI_INTERNAL_NARRATOR_H_
#define KINKO_CLI_INTERNAL_NARRATOR_H_

#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>

namespace kinko::cli::internal {

inline constexpr size_t kNarrationWidth = 100;

// `text` broken at spaces into lines of at most `width` characters (a word longer than a line
// stays whole): the first line starts with `first_prefix`, the others with `next_prefix`. Every
// line ends with '\n'. Newlines in `text` start new lines (with `next_prefix`). Runs of spaces
// inside a line are kept (aligned columns); at a line break they are dropped.
std::string Wrap(std::string_view text, std::string_view first_prefix, std::string_view next_prefix,
                 size_t width = kNarrationWidth);

// "0.4 BTC", "9.59997 BTC", "10 BTC": satoshi as BTC without trailing zeros.
std::string FormatBtc(int64_t sats);

// Movable, not copyable.
class Narrator final {
 public:
  explicit Narrator(std::FILE* out) : out_(out) {}

  // A paragraph without a number (the introduction and the end), after a blank line unless it
  // is the first output.
  void Paragraph(std::string_view text);
  // Starts the next numbered step: a blank line, then "N. " and `text`.
  void Step(std::string_view text);
  // More text of the current step, as its own lines under the step's text.
  void Say(std::string_view text);
  // An indented line of the current step (a list item, a decision), wrapped with a hanging
  // indent.
  void Item(std::string_view text);

 private:
  void Write(const std::string& text);

  std::FILE* out_;
  int step_ = 0;
  bool wrote_ = false;
};

}  // namespace kinko::cli::internal

#endif  // KINKO_CLI_INTERNAL_NARRATOR_H_
