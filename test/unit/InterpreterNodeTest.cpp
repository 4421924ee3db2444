// The interpreter against the ONNX backend node tests: each case builds the
// IR op that the ONNX node means (attributes translated by hand: defaults
// filled in, negative axes normalized, attribute-like inputs folded into
// attributes) and compares with the test's expected outputs.
#include "InterpreterTestUtil.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

using namespace mnc;
using namespace mnc::test;

namespace {

using Ints = std::vector<int64_t>;

struct OpCase {
  std::string test;
  OpKind kind;
  Attrs attrs;
  /// How many leading ONNX inputs are op operands; the rest are folded
  /// into `attrs`.
  unsigned numOperands = 1;
};

std::ostream &operator<<(std::ostream &os, const OpCase &c) {
  return os << c.test;
}

Attrs conv(Ints strides, Ints pads, Ints dilations = {1, 1},
           int64_t group = 1) {
  return {{"strides", strides},
          {"pads", pads},
          {"dilations", dilations},
          {"group", group}};
}

Attrs maxPool(Ints kernel, Ints strides, Ints pads, int64_t ceil = 0,
              Ints dilations = {1, 1}) {
  return {{"kernel", kernel},
          {"strides", strides},
          {"pads", pads},
          {"ceil_mode", ceil},
          {"dilations", dilations}};
}

Attrs avgPool(Ints kernel, Ints strides, Ints pads, int64_t ceil,
              int64_t includePad) {
  return {{"kernel", kernel},
          {"strides", strides},
          {"pads", pads},
          {"ceil_mode", ceil},
          {"count_include_pad", includePad}};
}

Attrs reduce(Ints axes, int64_t keepdims) {
  return {{"axes", axes}, {"keepdims", keepdims}};
}

Attrs argMax(int64_t axis, int64_t keepdims, int64_t last) {
  return {{"axis", axis}, {"keepdims", keepdims}, {"select_last_index", last}};
}

Attrs axis(int64_t a) { return {{"axis", a}}; }

Attrs slice(Ints starts, Ints ends, Ints steps) {
  return {{"starts", starts}, {"ends", ends}, {"steps", steps}};
}

Attrs pad(std::string mode, Ints pads, float value = 0) {
  return {{"mode", mode}, {"pads", pads}, {"value", value}};
}

Attrs clip(float lo, float hi) { return {{"min", lo}, {"max", hi}}; }

constexpr float inf = std::numeric_limits<float>::infinity();

std::vector<OpCase> opCases() {
  std::vector<OpCase> cases = {
      {"test_basic_conv_with_padding", OpKind::Conv2d,
       conv({1, 1}, {1, 1, 1, 1}), 2},
      {"test_basic_conv_without_padding", OpKind::Conv2d,
       conv({1, 1}, {0, 0, 0, 0}), 2},
      {"test_conv_with_strides_padding", OpKind::Conv2d,
       conv({2, 2}, {1, 1, 1, 1}), 2},
      {"test_conv_with_strides_no_padding", OpKind::Conv2d,
       conv({2, 2}, {0, 0, 0, 0}), 2},
      {"test_conv_with_strides_and_asymmetric_padding", OpKind::Conv2d,
       conv({2, 2}, {1, 0, 1, 0}), 2},
      // auto_pad SAME_LOWER, kernel 3, stride 2 on 5: total pad
      // (3 - 1) * 2 + 3 - 5 = 2, split 1 / 1.
      {"test_conv_with_autopad_same", OpKind::Conv2d,
       conv({2, 2}, {1, 1, 1, 1}), 2},
      {"test_maxpool_2d_pads", OpKind::MaxPool,
       maxPool({3, 3}, {1, 1}, {2, 2, 2, 2})},
      {"test_maxpool_2d_ceil", OpKind::MaxPool,
       maxPool({3, 3}, {2, 2}, {0, 0, 0, 0}, 1)},
      {"test_maxpool_2d_dilations", OpKind::MaxPool,
       maxPool({2, 2}, {1, 1}, {0, 0, 0, 0}, 0, {2, 2})},
      {"test_maxpool_2d_uint8", OpKind::MaxPool,
       maxPool({5, 5}, {1, 1}, {2, 2, 2, 2})},
      {"test_maxpool_2d_default", OpKind::MaxPool,
       maxPool({2, 2}, {1, 1}, {0, 0, 0, 0})},
      {"test_maxpool_2d_strides", OpKind::MaxPool,
       maxPool({5, 5}, {3, 3}, {0, 0, 0, 0})},
      {"test_averagepool_2d_pads", OpKind::AvgPool,
       avgPool({3, 3}, {1, 1}, {2, 2, 2, 2}, 0, 0)},
      {"test_averagepool_2d_pads_count_include_pad", OpKind::AvgPool,
       avgPool({3, 3}, {1, 1}, {2, 2, 2, 2}, 0, 1)},
      {"test_averagepool_2d_ceil", OpKind::AvgPool,
       avgPool({3, 3}, {2, 2}, {0, 0, 0, 0}, 1, 0)},
      {"test_averagepool_2d_strides", OpKind::AvgPool,
       avgPool({5, 5}, {3, 3}, {0, 0, 0, 0}, 0, 0)},
      {"test_globalaveragepool", OpKind::ReduceMean, reduce({2, 3}, 1)},
      {"test_globalmaxpool", OpKind::ReduceMax, reduce({2, 3}, 1)},
      {"test_softmax_axis_0", OpKind::Softmax, axis(0)},
      {"test_softmax_axis_1", OpKind::Softmax, axis(1)},
      {"test_softmax_axis_2", OpKind::Softmax, axis(2)},
      {"test_softmax_large_number", OpKind::Softmax, axis(1)},
      {"test_logsoftmax_axis_0", OpKind::LogSoftmax, axis(0)},
      {"test_logsoftmax_axis_1", OpKind::LogSoftmax, axis(1)},
      {"test_logsoftmax_axis_2", OpKind::LogSoftmax, axis(2)},
      {"test_logsoftmax_large_number", OpKind::LogSoftmax, axis(1)},
      {"test_logsoftmax_negative_axis", OpKind::LogSoftmax, axis(2)},
      {"test_hardswish", OpKind::HardSwish, {}},
      {"test_hardsigmoid",
       OpKind::HardSigmoid,
       {{"alpha", 0.5f}, {"beta", 0.6f}}},
      {"test_hardsigmoid_default",
       OpKind::HardSigmoid,
       {{"alpha", 0.2f}, {"beta", 0.5f}}},
      {"test_leakyrelu", OpKind::LeakyRelu, {{"alpha", 0.1f}}},
      {"test_leakyrelu_default", OpKind::LeakyRelu, {{"alpha", 0.01f}}},
      {"test_prelu_broadcast", OpKind::PRelu, {}, 2},
      {"test_prelu_example", OpKind::PRelu, {}, 2},
      {"test_clip", OpKind::Clip, clip(-1, 1)},
      {"test_clip_example", OpKind::Clip, clip(-1, 1)},
      {"test_clip_inbounds", OpKind::Clip, clip(-5, 5)},
      {"test_clip_outbounds", OpKind::Clip, clip(-5, 5)},
      {"test_clip_splitbounds", OpKind::Clip, clip(-5, 5)},
      {"test_clip_default_min", OpKind::Clip, clip(0, inf)},
      {"test_clip_default_max", OpKind::Clip, clip(-inf, 0)},
      {"test_clip_default_inbounds", OpKind::Clip, clip(-inf, inf)},
      {"test_relu", OpKind::Relu, {}},
      {"test_sigmoid", OpKind::Sigmoid, {}},
      {"test_tanh", OpKind::Tanh, {}},
      {"test_exp", OpKind::Exp, {}},
      {"test_log", OpKind::Log, {}},
      {"test_sqrt", OpKind::Sqrt, {}},
      {"test_neg", OpKind::Neg, {}},
      {"test_abs", OpKind::Abs, {}},
      {"test_add_bcast", OpKind::Add, {}, 2},
      {"test_sub_bcast", OpKind::Sub, {}, 2},
      {"test_mul_bcast", OpKind::Mul, {}, 2},
      {"test_div_bcast", OpKind::Div, {}, 2},
      {"test_max_two_inputs", OpKind::Max, {}, 2},
      {"test_min_two_inputs", OpKind::Min, {}, 2},
      {"test_max_int32", OpKind::Max, {}, 2},
      {"test_min_int64", OpKind::Min, {}, 2},
      {"test_matmul_2d", OpKind::MatMul, {}, 2},
      {"test_matmul_3d", OpKind::MatMul, {}, 2},
      {"test_matmul_4d", OpKind::MatMul, {}, 2},
      {"test_reflect_pad", OpKind::Pad,
       pad("reflect", {0, 0, 1, 1, 0, 0, 1, 1})},
      {"test_edge_pad", OpKind::Pad, pad("edge", {0, 0, 1, 1, 0, 0, 1, 1})},
      {"test_constant_pad", OpKind::Pad,
       pad("constant", {0, 0, 1, 3, 0, 0, 2, 4}, 1.2f)},
      // starts [20, 10, 4], ends [0, 0, 1], steps [-1, -3, -2] on [20, 10, 5],
      // clamped for negative steps.
      {"test_slice_neg_steps", OpKind::Slice,
       slice({19, 9, 4}, {0, 0, 1}, {-1, -3, -2})},
      {"test_slice_neg", OpKind::Slice,
       slice({0, 0, 0}, {20, 9, 5}, {1, 1, 1})},
      {"test_slice_negative_axes", OpKind::Slice,
       slice({0, 0, 3}, {20, 10, 4}, {1, 1, 1})},
      {"test_gather_0", OpKind::Gather, axis(0), 2},
      {"test_gather_1", OpKind::Gather, axis(1), 2},
      {"test_gather_2d_indices", OpKind::Gather, axis(1), 2},
      {"test_gather_negative_indices", OpKind::Gather, axis(0), 2},
      {"test_split_equal_parts_1d",
       OpKind::Split,
       {{"axis", int64_t(0)}, {"sizes", Ints{2, 2, 2}}}},
      {"test_split_equal_parts_2d",
       OpKind::Split,
       {{"axis", int64_t(1)}, {"sizes", Ints{3, 3}}}},
      {"test_split_equal_parts_default_axis",
       OpKind::Split,
       {{"axis", int64_t(0)}, {"sizes", Ints{2, 2, 2}}}},
      {"test_split_variable_parts_1d",
       OpKind::Split,
       {{"axis", int64_t(0)}, {"sizes", Ints{2, 4}}}},
      {"test_split_variable_parts_2d",
       OpKind::Split,
       {{"axis", int64_t(1)}, {"sizes", Ints{2, 4}}}},
      {"test_split_variable_parts_default_axis",
       OpKind::Split,
       {{"axis", int64_t(0)}, {"sizes", Ints{2, 4}}}},
      {"test_split_zero_size_splits",
       OpKind::Split,
       {{"axis", int64_t(0)}, {"sizes", Ints{0, 0, 0}}}},
      {"test_reduce_mean_default_axes_keepdims_example", OpKind::ReduceMean,
       reduce({0, 1, 2}, 1)},
      {"test_reduce_mean_default_axes_keepdims_random", OpKind::ReduceMean,
       reduce({0, 1, 2}, 1)},
      {"test_reduce_mean_do_not_keepdims_example", OpKind::ReduceMean,
       reduce({1}, 0)},
      {"test_reduce_mean_do_not_keepdims_random", OpKind::ReduceMean,
       reduce({1}, 0)},
      {"test_reduce_mean_keepdims_example", OpKind::ReduceMean, reduce({1}, 1)},
      {"test_reduce_mean_keepdims_random", OpKind::ReduceMean, reduce({1}, 1)},
      {"test_reduce_mean_negative_axes_keepdims_example", OpKind::ReduceMean,
       reduce({1}, 1)},
      {"test_reduce_mean_negative_axes_keepdims_random", OpKind::ReduceMean,
       reduce({1}, 1)},
      {"test_reduce_max_default_axes_keepdim_example", OpKind::ReduceMax,
       reduce({0, 1, 2}, 1)},
      {"test_reduce_max_do_not_keepdims_random", OpKind::ReduceMax,
       reduce({1}, 0)},
      {"test_reduce_max_negative_axes_keepdims_random", OpKind::ReduceMax,
       reduce({1}, 1)},
      {"test_reduce_sum_default_axes_keepdims_random", OpKind::ReduceSum,
       reduce({0, 1, 2}, 1)},
      {"test_reduce_sum_do_not_keepdims_random", OpKind::ReduceSum,
       reduce({1}, 0)},
      {"test_reduce_sum_negative_axes_keepdims_example", OpKind::ReduceSum,
       reduce({1}, 1)},
      {"test_argmax_default_axis_example", OpKind::ArgMax, argMax(0, 1, 0)},
      {"test_argmax_default_axis_random_select_last_index", OpKind::ArgMax,
       argMax(0, 1, 1)},
      {"test_argmax_keepdims_random", OpKind::ArgMax, argMax(1, 1, 0)},
      {"test_argmax_keepdims_example_select_last_index", OpKind::ArgMax,
       argMax(1, 1, 1)},
      {"test_argmax_negative_axis_keepdims_random", OpKind::ArgMax,
       argMax(2, 1, 0)},
      {"test_argmax_no_keepdims_random", OpKind::ArgMax, argMax(1, 0, 0)},
      {"test_argmax_no_keepdims_example_select_last_index", OpKind::ArgMax,
       argMax(1, 0, 1)},
  };
  for (auto &[test, attrs] : resizeNodeTests())
    cases.push_back({test, OpKind::Resize, attrs});
  for (int i = 0; i < 6; ++i) {
    static const Ints perms[] = {{0, 1, 2}, {0, 2, 1}, {1, 0, 2},
                                 {1, 2, 0}, {2, 0, 1}, {2, 1, 0}};
    cases.push_back({"test_transpose_all_permutations_" + std::to_string(i),
                     OpKind::Transpose,
                     {{"perm", perms[i]}}});
  }
  for (auto [suffix, a, rank] : {std::tuple{"1d_axis_0", 0, 1},
                                 {"1d_axis_negative_1", 0, 1},
                                 {"2d_axis_0", 0, 2},
                                 {"2d_axis_1", 1, 2},
                                 {"2d_axis_negative_1", 1, 2},
                                 {"2d_axis_negative_2", 0, 2},
                                 {"3d_axis_0", 0, 3},
                                 {"3d_axis_1", 1, 3},
                                 {"3d_axis_2", 2, 3},
                                 {"3d_axis_negative_1", 2, 3},
                                 {"3d_axis_negative_2", 1, 3},
                                 {"3d_axis_negative_3", 0, 3}})
    cases.push_back(
        {std::string("test_concat_") + suffix, OpKind::Concat, axis(a), 2});
  return cases;
}

class OnnxNodeTest : public ::testing::TestWithParam<OpCase> {};

TEST_P(OnnxNodeTest, MatchesExpectedOutputs) {
  const OpCase &c = GetParam();
  auto data = loadNodeTest(c.test);
  ASSERT_TRUE(bool(data)) << llvm::toString(data.takeError());
  ASSERT_GE(data->inputs.size(), c.numOperands);
  data->inputs.resize(c.numOperands);
  EXPECT_TRUE(runsLike(
      data->inputs,
      [&](Builder &b, llvm::ArrayRef<ValueId> args) {
        return b.createMulti(c.kind, args, c.attrs);
      },
      data->outputs));
}

INSTANTIATE_TEST_SUITE_P(Onnx, OnnxNodeTest, ::testing::ValuesIn(opCases()),
                         [](const ::testing::TestParamInfo<OpCase> &info) {
                           return info.param.test.substr(5);
                         });

llvm::Expected<ValueId> scalar(Builder &b, float v) {
  return b.constant(makeTensor(ElemKind::F32, {}, {v}));
}

/// ONNX Gemm as the importer lowers it: y = alpha * A' B' + beta * C with
/// A' = transA ? transpose(A) : A, likewise B'.
void checkGemm(const std::string &test, float alpha, float beta, bool transA,
               bool transB) {
  auto data = loadNodeTest(test);
  ASSERT_TRUE(bool(data)) << llvm::toString(data.takeError());
  EXPECT_TRUE(runsLike(
      data->inputs,
      [&](Builder &b, llvm::ArrayRef<ValueId> args)
          -> llvm::Expected<llvm::SmallVector<ValueId, 1>> {
        auto t = [&](ValueId v, bool trans) -> llvm::Expected<ValueId> {
          if (!trans)
            return v;
          return b.create(OpKind::Transpose, {v}, {{"perm", Ints{1, 0}}});
        };
        auto a = t(args[0], transA);
        if (!a)
          return a.takeError();
        auto bb = t(args[1], transB);
        if (!bb)
          return bb.takeError();
        auto y = b.create(OpKind::MatMul, {*a, *bb});
        if (y && alpha != 1)
          y = b.create(OpKind::Mul, {*y, *scalar(b, alpha)});
        if (!y || args.size() < 3)
          return y ? llvm::SmallVector<ValueId, 1>{*y}
                   : llvm::Expected<llvm::SmallVector<ValueId, 1>>(
                         y.takeError());
        auto c = beta != 1 ? b.create(OpKind::Mul, {args[2], *scalar(b, beta)})
                           : llvm::Expected<ValueId>(args[2]);
        if (!c)
          return c.takeError();
        auto sum = b.create(OpKind::Add, {*y, *c});
        if (!sum)
          return sum.takeError();
        return llvm::SmallVector<ValueId, 1>{*sum};
      },
      data->outputs));
}

TEST(OnnxGemm, AllAttributes) {
  checkGemm("test_gemm_all_attributes", 0.25f, 0.35f, true, true);
}
TEST(OnnxGemm, Alpha) { checkGemm("test_gemm_alpha", 0.5f, 1, false, false); }
TEST(OnnxGemm, Beta) { checkGemm("test_gemm_beta", 1, 0.5f, false, false); }
TEST(OnnxGemm, MatrixBias) {
  checkGemm("test_gemm_default_matrix_bias", 1, 1, false, false);
}
TEST(OnnxGemm, NoBias) {
  checkGemm("test_gemm_default_no_bias", 1, 1, false, false);
}
TEST(OnnxGemm, ScalarBias) {
  checkGemm("test_gemm_default_scalar_bias", 1, 1, false, false);
}
TEST(OnnxGemm, SingleElemVectorBias) {
  checkGemm("test_gemm_default_single_elem_vector_bias", 1, 1, false, false);
}
TEST(OnnxGemm, VectorBias) {
  checkGemm("test_gemm_default_vector_bias", 1, 1, false, false);
}
TEST(OnnxGemm, ZeroBias) {
  checkGemm("test_gemm_default_zero_bias", 1, 1, false, false);
}
TEST(OnnxGemm, TransposeA) {
  checkGemm("test_gemm_transposeA", 1, 1, true, false);
}
TEST(OnnxGemm, TransposeB) {
  checkGemm("test_gemm_transposeB", 1, 1, false, true);
}

/// Concatenates tensors of the same type along dim 1 ([1, C, ...] each).
Tensor concatChannels(llvm::ArrayRef<Tensor> parts) {
  TensorType type = parts[0].type;
  type.shape[1] *= parts.size();
  Tensor out(type);
  size_t offset = 0;
  for (const Tensor &p : parts) {
    std::copy(p.bytes.begin(), p.bytes.end(), out.bytes.begin() + offset);
    offset += p.bytes.size();
  }
  return out;
}

Tensor scaled(Tensor t, float factor) {
  for (int64_t i = 0; i < t.numElements(); ++i)
    t.data<float>()[i] *= factor;
  return t;
}

// No ONNX node test covers grouped convolution; derive one by linearity from
// test_conv_with_strides_padding: a depthwise conv of [x, -x] with weights
// [w, 2w] must give [y, -2y]. Mixing up channels or groups breaks it.
TEST(OnnxDerived, DepthwiseConvFromStridedConv) {
  auto data = loadNodeTest("test_conv_with_strides_padding");
  ASSERT_TRUE(bool(data)) << llvm::toString(data.takeError());
  const Tensor &x = data->inputs[0], &w = data->inputs[1];
  const Tensor &y = data->outputs[0];
  Tensor x2 = concatChannels({x, scaled(x, -1)});
  Tensor w2 = concatChannels({w, scaled(w, 2)});
  w2.type.shape = {2, 1, w.type.shape[2], w.type.shape[3]};
  Tensor y2 = concatChannels({y, scaled(y, -2)});
  EXPECT_TRUE(runsLike({x2, w2},
                       [&](Builder &b, llvm::ArrayRef<ValueId> args) {
                         return b.createMulti(
                             OpKind::Conv2d, args,
                             conv({2, 2}, {1, 1, 1, 1}, {1, 1}, 2));
                       },
                       {y2}));
}

// Bias is added per output channel: conv(x, w, b) = conv(x, w) + b.
TEST(OnnxDerived, ConvBiasFromBasicConv) {
  auto data = loadNodeTest("test_basic_conv_with_padding");
  ASSERT_TRUE(bool(data)) << llvm::toString(data.takeError());
  Tensor bias = makeTensor(ElemKind::F32, {1}, {0.5});
  Tensor y = data->outputs[0];
  for (int64_t i = 0; i < y.numElements(); ++i)
    y.data<float>()[i] += 0.5f;
  EXPECT_TRUE(runsLike(
      {data->inputs[0], data->inputs[1], bias},
      [&](Builder &b, llvm::ArrayRef<ValueId> args) {
        return b.createMulti(OpKind::Conv2d, args, conv({1, 1}, {1, 1, 1, 1}));
      },
      {y}));
}

} // namespace
