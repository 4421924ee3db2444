// Shape arithmetic of the type inference rules.
#include "ir/IR.h"

#include <gtest/gtest.h>

#include <cmath>

using namespace mnc;

namespace {

TensorType f32(llvm::ArrayRef<int64_t> shape) {
  return TensorType(ElemKind::F32, shape);
}

Attrs convAttrs(std::vector<int64_t> strides, std::vector<int64_t> pads,
                int64_t group) {
  return {{"strides", strides},
          {"pads", pads},
          {"dilations", std::vector<int64_t>{1, 1}},
          {"group", group}};
}

TEST(Infer, StridedPaddedConv) {
  Function f;
  Builder b(f);
  ValueId x = b.addArg(f32({1, 3, 224, 224}), "x");
  ValueId w = b.addArg(f32({32, 3, 3, 3}), "w");
  auto y = b.create(OpKind::Conv2d, {x, w}, convAttrs({2, 2}, {1, 1, 1, 1}, 1));
  ASSERT_TRUE(bool(y));
  EXPECT_EQ(f.type(*y), f32({1, 32, 112, 112}));
}

TEST(Infer, DepthwiseConvAsymmetricPads) {
  Function f;
  Builder b(f);
  ValueId x = b.addArg(f32({1, 32, 112, 112}), "x");
  ValueId w = b.addArg(f32({32, 1, 3, 3}), "w");
  auto y =
      b.create(OpKind::Conv2d, {x, w}, convAttrs({2, 2}, {0, 0, 1, 1}, 32));
  ASSERT_TRUE(bool(y));
  EXPECT_EQ(f.type(*y), f32({1, 32, 56, 56}));
}

TEST(Infer, ConvGroupMismatchIsAnError) {
  Function f;
  Builder b(f);
  ValueId x = b.addArg(f32({1, 32, 8, 8}), "x");
  ValueId w = b.addArg(f32({32, 2, 3, 3}), "w");
  auto y =
      b.create(OpKind::Conv2d, {x, w}, convAttrs({1, 1}, {1, 1, 1, 1}, 32));
  ASSERT_FALSE(bool(y));
  EXPECT_NE(llvm::toString(y.takeError()).find("conv2d: weight"),
            std::string::npos);
}

TEST(Infer, CeilModePoolDropsWindowStartingInPadding) {
  // 112 -> (112 + 0 - 3) / 2 + 1 = 55.5 -> ceil 56; window 56 starts at
  // 110 < 112, so it is kept.
  Function f;
  Builder b(f);
  ValueId x = b.addArg(f32({1, 8, 112, 112}), "x");
  Attrs attrs{{"kernel", std::vector<int64_t>{3, 3}},
              {"strides", std::vector<int64_t>{2, 2}},
              {"pads", std::vector<int64_t>{0, 0, 0, 0}},
              {"dilations", std::vector<int64_t>{1, 1}},
              {"ceil_mode", int64_t(1)}};
  auto y = b.create(OpKind::MaxPool, {x}, attrs);
  ASSERT_TRUE(bool(y));
  EXPECT_EQ(f.type(*y), f32({1, 8, 56, 56}));
}

TEST(Infer, BroadcastingAdd) {
  Function f;
  Builder b(f);
  ValueId x = b.addArg(f32({1, 16, 8, 8}), "x");
  ValueId c = b.addArg(f32({16, 1, 1}), "c");
  auto y = b.create(OpKind::Add, {x, c});
  ASSERT_TRUE(bool(y));
  EXPECT_EQ(f.type(*y), f32({1, 16, 8, 8}));
}

TEST(Infer, QuantizeNeedsDeclaredParams) {
  Function f;
  Builder b(f);
  ValueId x = b.addArg(f32({4}), "x");
  auto missing = b.create(OpKind::Quantize, {x});
  ASSERT_FALSE(bool(missing));
  llvm::consumeError(missing.takeError());
  QuantParams q{{0.5f}, {-3}, std::nullopt};
  auto y =
      b.create(OpKind::Quantize, {x}, {}, TensorType(ElemKind::I8, {4}, q));
  ASSERT_TRUE(bool(y));
  EXPECT_EQ(toString(f.type(*y)), "i8<0.5:-3>[4]");
}

TEST(Infer, MissingAttributeIsReported) {
  Function f;
  Builder b(f);
  ValueId x = b.addArg(f32({4}), "x");
  auto y = b.create(OpKind::LeakyRelu, {x});
  ASSERT_FALSE(bool(y));
  EXPECT_EQ(llvm::toString(y.takeError()),
            "leaky_relu: missing attribute 'alpha'");
}

TEST(Types, FloatsPrintShortestAndAlwaysAsFloats) {
  EXPECT_EQ(formatFloat(0.2f), "0.2");
  EXPECT_EQ(formatFloat(1.0f), "1.0");
  EXPECT_EQ(formatFloat(-INFINITY), "-inf");
  EXPECT_EQ(formatFloat(1e-8f), "1e-08");
}

} // namespace
