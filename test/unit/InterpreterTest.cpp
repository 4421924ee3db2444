// Rounding and saturation helpers of ir/Math.h, and the interpreter's
// checking of inputs and run-time errors.
#include "ir/Interpreter.h"
#include "ir/Math.h"

#include <gtest/gtest.h>

#include <cfenv>
#include <cmath>
#include <limits>

using namespace mnc;

namespace {

// std::nearbyint in the default rounding mode is the C library's round
// half to even; the helper must agree with it on ties and non-ties.
TEST(Math, RoundHalfToEvenMatchesNearbyint) {
  ASSERT_EQ(std::fegetround(), FE_TONEAREST);
  for (float x = -6.0f; x <= 6.0f; x += 0.25f)
    EXPECT_EQ(math::roundHalfToEven(x), std::nearbyint(x)) << x;
  for (double x : {0.49999999999999994, 2.5000000001, -1e15 - 0.5, 1e300})
    EXPECT_EQ(math::roundHalfToEven(x), std::nearbyint(x)) << x;
}

TEST(Math, SaturateCastClampsAndTruncates) {
  EXPECT_EQ(math::saturateCast<uint8_t>(255.9f), 255);
  EXPECT_EQ(math::saturateCast<uint8_t>(256.0f), 255);
  EXPECT_EQ(math::saturateCast<uint8_t>(-3.0f), 0);
  EXPECT_EQ(math::saturateCast<int8_t>(127.5f), 127);
  EXPECT_EQ(math::saturateCast<int8_t>(-128.5f), -128);
  EXPECT_EQ(math::saturateCast<int8_t>(-1.9f), -1);
  EXPECT_EQ(math::saturateCast<int32_t>(3e9f),
            std::numeric_limits<int32_t>::max());
  EXPECT_EQ(math::saturateCast<int64_t>(-1e19),
            std::numeric_limits<int64_t>::min());
  EXPECT_EQ(math::saturateCast<int8_t>(std::nanf("")), 0);
  EXPECT_EQ(math::saturateInt<int8_t>(200), 127);
  EXPECT_EQ(math::saturateInt<uint8_t>(-1), 0);
}

TEST(Math, QuantizeRoundsTiesToEvenThenSaturates) {
  // 2.5 and 3.5 steps round to 2 and 4.
  EXPECT_EQ(math::quantize<int8_t>(5.0f, 2.0f, 0), 2);
  EXPECT_EQ(math::quantize<int8_t>(7.0f, 2.0f, 0), 4);
  EXPECT_EQ(math::quantize<int8_t>(-5.0f, 2.0f, 1), -1);
  EXPECT_EQ(math::quantize<uint8_t>(1000.0f, 1.0f, 128), 255);
  EXPECT_EQ(math::quantize<int8_t>(-1000.0f, 1.0f, 0), -128);
  EXPECT_EQ(math::requantize<uint8_t>(5, 0.5f, 10), 12);
  EXPECT_EQ(math::requantize<uint8_t>(7, 0.5f, 10), 14);
  EXPECT_EQ(math::requantize<int8_t>(1 << 20, 0.5f, 0), 127);
}

TEST(Math, ActivationsPropagateNaN) {
  float nan = std::nanf("");
  EXPECT_TRUE(std::isnan(math::relu(nan)));
  EXPECT_TRUE(std::isnan(math::clip(nan, 0.0f, 6.0f)));
  EXPECT_TRUE(std::isnan(math::hardSwish(nan)));
}

Function addFunction() {
  Function f;
  Builder b(f);
  ValueId x = b.addArg(TensorType(ElemKind::F32, {2, 3}), "x");
  ValueId y = b.addArg(TensorType(ElemKind::F32, {3}), "y");
  auto sum = b.create(OpKind::Add, {x, y});
  EXPECT_TRUE(bool(sum));
  b.addResult(*sum, "sum");
  return f;
}

TEST(Interpreter, RejectsInputOfWrongShape) {
  Function f = addFunction();
  auto r = interpret(f, {makeTensor(ElemKind::F32, {2, 3}, {1, 2, 3, 4, 5, 6}),
                         makeTensor(ElemKind::F32, {2}, {1, 2})});
  ASSERT_FALSE(bool(r));
  EXPECT_EQ(llvm::toString(r.takeError()),
            "@main: input 1 ('y') has type f32[2], expected f32[3]");
}

TEST(Interpreter, RejectsWrongInputCount) {
  Function f = addFunction();
  auto r = interpret(f, {makeTensor(ElemKind::F32, {3}, {1, 2, 3})});
  ASSERT_FALSE(bool(r));
  EXPECT_EQ(llvm::toString(r.takeError()), "@main: expects 2 inputs, got 1");
}

TEST(Interpreter, IntegerDivisionByZeroIsAnError) {
  Function f;
  Builder b(f);
  ValueId x = b.addArg(TensorType(ElemKind::I64, {2}), "x");
  ValueId zero = b.constant(makeTensor(ElemKind::I64, {1}, {0}));
  auto q = b.create(OpKind::Div, {x, zero});
  ASSERT_TRUE(bool(q));
  b.addResult(*q, "q");
  auto r = interpret(f, {makeTensor(ElemKind::I64, {2}, {4, 5})});
  ASSERT_FALSE(bool(r));
  EXPECT_EQ(llvm::toString(r.takeError()),
            "@main: op 1 (div): integer division by zero");
}

TEST(Interpreter, GatherIndexOutOfRangeIsAnError) {
  Function f;
  Builder b(f);
  ValueId x = b.addArg(TensorType(ElemKind::F32, {3}), "x");
  ValueId idx = b.constant(makeTensor(ElemKind::I64, {1}, {-4}));
  auto g = b.create(OpKind::Gather, {x, idx}, {{"axis", int64_t(0)}});
  ASSERT_TRUE(bool(g));
  Tensor data = makeTensor(ElemKind::F32, {3}, {1, 2, 3});
  auto r = evaluateOp(f, f.ops.back(), {&data, &f.ops[0].getTensor("value")});
  ASSERT_FALSE(bool(r));
  EXPECT_EQ(llvm::toString(r.takeError()),
            "gather: index -4 out of range for axis 0 of extent 3");
}

TEST(Interpreter, EvaluateOpChecksOperandTypes) {
  Function f = addFunction();
  Tensor a = makeTensor(ElemKind::F32, {2, 3}, {1, 2, 3, 4, 5, 6});
  Tensor wrong = makeTensor(ElemKind::I64, {3}, {1, 2, 3});
  auto r = evaluateOp(f, f.ops[0], {&a, &wrong});
  ASSERT_FALSE(bool(r));
  EXPECT_EQ(llvm::toString(r.takeError()),
            "add: operand 1 has type i64[3], expected f32[3]");
}

// Cast follows numpy astype: floats truncate toward zero (saturating out of
// range here), integers wrap.
TEST(Interpreter, CastTruncatesTowardZero) {
  Function f;
  Builder b(f);
  ValueId x = b.addArg(TensorType(ElemKind::F32, {4}), "x");
  auto c = b.create(OpKind::Cast, {x}, {{"to", std::string("i32")}});
  ASSERT_TRUE(bool(c));
  b.addResult(*c, "c");
  auto r =
      interpret(f, {makeTensor(ElemKind::F32, {4}, {-2.7, -0.5, 0.5, 2.7})});
  ASSERT_TRUE(bool(r)) << llvm::toString(r.takeError());
  EXPECT_EQ((*r)[0], makeTensor(ElemKind::I32, {4}, {-2, 0, 0, 2}));
}

} // namespace
