// The parser never crashes on malformed text: every truncation and many
// one-character corruptions of a module that uses all of the syntax either
// fail with a located error or parse to a module whose printed form is
// stable under another round trip.
#include "ir/Parser.h"
#include "ir/Printer.h"

#include <gtest/gtest.h>

using namespace mnc;

namespace {

const char *const sample = R"(blobs {
  @w = "000080BF0000803F0000000000000080FFFFFF7F0100C07F0000807F000080FF01000000FFFF7F7F0000004000004040000080400000A0400000C0400000E04000000041"
}
// comment
func @main(%x: f32[1,17,1,1] "in\"\0A", %q: i8<axis=0:0.5:-1,0.25:3>[2,3]) -> (f32[1,17,1,1] "out", f32[2], i8<0.5:0>[1]) {
  %w = constant {value=dense_blob<@w>} : f32[17]
  %c = constant {value=dense<[1, -2.5e-3, inf, -0.0]>} : f32[4]
  %a, %b = split %c {axis=0, sizes=[2,2]} : f32[2], f32[2]
  %r = reshape %w {shape=[1,17,1,1]} : f32[1,17,1,1]
  %s = add %x, %r : f32[1,17,1,1]
  %k = clip %a {max=inf, min=-inf} : f32[2]
  %i = constant {value=dense<[-128]>} : i8<0.5:0>[1]
  %z = resize %s {coordinate_transformation_mode="asymmetric", mode="nearest", nearest_mode="floor", scales=[1.0,1.0,1.0,1.0], sizes=[1,17,1,1]} : f32[1,17,1,1]
  return %z, %k, %i
}
func @other() -> () {
  return
}
)";

void expectStable(llvm::StringRef text) {
  auto m = parseModule(text, "fuzz");
  if (!m) {
    std::string message = llvm::toString(m.takeError());
    EXPECT_EQ(message.rfind("fuzz:", 0), 0u) << message;
    EXPECT_NE(message.find(": error: "), std::string::npos) << message;
    return;
  }
  std::string once = toText(*m);
  auto again = parseModule(once, "printed");
  ASSERT_TRUE(bool(again)) << llvm::toString(again.takeError()) << "\n"
                           << once << "\nfrom\n"
                           << text.str();
  EXPECT_EQ(toText(*again), once);
}

TEST(ParserFuzz, SampleRoundTrips) {
  auto m = parseModule(sample, "sample");
  ASSERT_TRUE(bool(m)) << llvm::toString(m.takeError());
  expectStable(sample);
}

TEST(ParserFuzz, EveryTruncation) {
  llvm::StringRef text(sample);
  for (size_t n = 0; n <= text.size(); ++n)
    expectStable(text.take_front(n));
}

TEST(ParserFuzz, OneCharacterCorruptions) {
  std::string text(sample);
  for (size_t i = 0; i < text.size(); ++i) {
    char original = text[i];
    for (char c : llvm::StringRef("%@[]{}()<>,:=\"\\-9.eAx \n\x01\xff")) {
      text[i] = c;
      expectStable(text);
    }
    text[i] = original;
  }
}

TEST(ParserFuzz, DeletedCharacters) {
  std::string text(sample);
  for (size_t i = 0; i < text.size(); ++i)
    expectStable(std::string(text).erase(i, 1));
}

} // namespace
