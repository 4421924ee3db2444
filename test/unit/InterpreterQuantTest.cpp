// Quantized ops of the interpreter against the ONNX node tests
// QuantizeLinear, DequantizeLinear, QLinearConv and QLinearMatMul. The
// scale and zero-point inputs of the ONNX nodes become QuantParams of the
// IR types.
#include "InterpreterTestUtil.h"

#include <gtest/gtest.h>
#include <onnx/onnx_pb.h>

#include <fstream>

using namespace mnc;
using namespace mnc::test;

namespace {

float scalarF32(const Tensor &t) { return t.data<float>()[0]; }
int32_t scalarInt(const Tensor &t) {
  return static_cast<int32_t>(t.getAsInt(0));
}

/// Per-channel parameters along `axis` from ONNX scale and zero-point
/// tensors.
QuantParams perChannel(const Tensor &scales, const Tensor &zeroPoints,
                       int64_t axis) {
  QuantParams q;
  for (int64_t i = 0; i < scales.numElements(); ++i) {
    q.scales.push_back(scales.data<float>()[i]);
    q.zeroPoints.push_back(static_cast<int32_t>(zeroPoints.getAsInt(i)));
  }
  q.axis = axis;
  return q;
}

llvm::Expected<llvm::SmallVector<ValueId, 1>>
single(llvm::Expected<ValueId> v) {
  if (!v)
    return v.takeError();
  return llvm::SmallVector<ValueId, 1>{*v};
}

TEST(OnnxQuant, QuantizeLinear) {
  auto data = loadNodeTest("test_quantizelinear");
  ASSERT_TRUE(bool(data)) << llvm::toString(data.takeError());
  const auto &in = data->inputs;
  TensorType result =
      withQuant(data->outputs[0], scalarF32(in[1]), scalarInt(in[2])).type;
  EXPECT_TRUE(runsLike(
      {in[0]},
      [&](Builder &b, llvm::ArrayRef<ValueId> args) {
        return single(b.create(OpKind::Quantize, args, {}, result));
      },
      data->outputs));
}

TEST(OnnxQuant, QuantizeLinearAxis) {
  auto data = loadNodeTest("test_quantizelinear_axis");
  ASSERT_TRUE(bool(data)) << llvm::toString(data.takeError());
  const auto &in = data->inputs;
  TensorType result = data->outputs[0].type;
  result.quant = perChannel(in[1], in[2], 1);
  EXPECT_TRUE(runsLike(
      {in[0]},
      [&](Builder &b, llvm::ArrayRef<ValueId> args) {
        return single(b.create(OpKind::Quantize, args, {}, result));
      },
      data->outputs));
}

TEST(OnnxQuant, DequantizeLinear) {
  auto data = loadNodeTest("test_dequantizelinear");
  ASSERT_TRUE(bool(data)) << llvm::toString(data.takeError());
  const auto &in = data->inputs;
  EXPECT_TRUE(runsLike(
      {withQuant(in[0], scalarF32(in[1]), scalarInt(in[2]))},
      [&](Builder &b, llvm::ArrayRef<ValueId> args) {
        return single(b.create(OpKind::Dequantize, args));
      },
      data->outputs));
}

TEST(OnnxQuant, DequantizeLinearAxis) {
  auto data = loadNodeTest("test_dequantizelinear_axis");
  ASSERT_TRUE(bool(data)) << llvm::toString(data.takeError());
  const auto &in = data->inputs;
  Tensor x = in[0];
  x.type.quant = perChannel(in[1], in[2], 1);
  EXPECT_TRUE(runsLike(
      {x},
      [&](Builder &b, llvm::ArrayRef<ValueId> args) {
        return single(b.create(OpKind::Dequantize, args));
      },
      data->outputs));
}

/// The conv2d attributes of the single QLinearConv node of an ONNX model.
llvm::Expected<Attrs> convAttrsOf(const std::string &path) {
  std::ifstream in(path, std::ios::binary);
  onnx::ModelProto model;
  if (!in || !model.ParseFromIstream(&in) || model.graph().node_size() != 1)
    return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                   "cannot read a one-node model from " + path);
  using Ints = std::vector<int64_t>;
  Attrs attrs = {{"dilations", Ints{1, 1}},
                 {"group", int64_t(1)},
                 {"pads", Ints{0, 0, 0, 0}},
                 {"strides", Ints{1, 1}}};
  for (const onnx::AttributeProto &a : model.graph().node(0).attribute()) {
    if (a.name() == "group")
      attrs["group"] = a.i();
    else if (attrs.count(a.name()))
      attrs[a.name()] = Ints(a.ints().begin(), a.ints().end());
  }
  return attrs;
}

/// QLinearConv / QLinearMatMul inputs: (x, sx, zx, w, sw, zw, sy, zy).
struct QLinear {
  Tensor x, w;
  TensorType result;
};

QLinear qlinear(const NodeTestData &data) {
  const auto &in = data.inputs;
  QLinear q{
      withQuant(in[0], scalarF32(in[1]), scalarInt(in[2])),
      withQuant(in[3], scalarF32(in[4]), scalarInt(in[5])),
      withQuant(data.outputs[0], scalarF32(in[6]), scalarInt(in[7])).type};
  return q;
}

TEST(OnnxQuant, QLinearConv) {
  auto data = loadNodeTest("test_qlinearconv");
  ASSERT_TRUE(bool(data)) << llvm::toString(data.takeError());
  QLinear q = qlinear(*data);
  Attrs attrs = {{"strides", std::vector<int64_t>{1, 1}},
                 {"pads", std::vector<int64_t>{0, 0, 0, 0}},
                 {"dilations", std::vector<int64_t>{1, 1}},
                 {"group", int64_t(1)}};
  EXPECT_TRUE(runsLike(
      {q.x, q.w},
      [&](Builder &b, llvm::ArrayRef<ValueId> args) {
        return single(b.create(OpKind::Conv2d, args, attrs, q.result));
      },
      data->outputs));
}

// Padding, strides, groups, per-channel weights and bias, with outputs from
// ONNX Runtime (test/unit/data/make_ort_cases.py).
class OrtQLinearConv : public ::testing::TestWithParam<const char *> {};

TEST_P(OrtQLinearConv, MatchesOnnxRuntime) {
  auto data = loadTestDir(std::string(MNC_UNIT_DATA_DIR) + "/" + GetParam());
  ASSERT_TRUE(bool(data)) << llvm::toString(data.takeError());
  QLinear q = qlinear(*data);
  Tensor w = data->inputs[3];
  w.type.quant = perChannel(data->inputs[4], data->inputs[5], 0);
  Tensor bias = data->inputs[8];
  auto model = convAttrsOf(std::string(MNC_UNIT_DATA_DIR) + "/" + GetParam() +
                           "/model.onnx");
  ASSERT_TRUE(bool(model)) << llvm::toString(model.takeError());
  EXPECT_TRUE(runsLike(
      {q.x, w, bias},
      [&](Builder &b, llvm::ArrayRef<ValueId> args) {
        return single(b.create(OpKind::Conv2d, args, *model, q.result));
      },
      data->outputs));
}

INSTANTIATE_TEST_SUITE_P(Ort, OrtQLinearConv,
                         ::testing::Values("ort_qlinearconv_depthwise",
                                           "ort_qlinearconv_grouped",
                                           "ort_qlinearconv_pointwise"));

TEST(OnnxQuant, QLinearMatMul2D) {
  auto data = loadNodeTest("test_qlinearmatmul_2D");
  ASSERT_TRUE(bool(data)) << llvm::toString(data.takeError());
  QLinear q = qlinear(*data);
  EXPECT_TRUE(runsLike(
      {q.x, q.w},
      [&](Builder &b, llvm::ArrayRef<ValueId> args) {
        return single(b.create(OpKind::MatMul, args, {}, q.result));
      },
      data->outputs));
}

TEST(OnnxQuant, QLinearMatMul3D) {
  auto data = loadNodeTest("test_qlinearmatmul_3D");
  ASSERT_TRUE(bool(data)) << llvm::toString(data.takeError());
  QLinear q = qlinear(*data);
  EXPECT_TRUE(runsLike(
      {q.x, q.w},
      [&](Builder &b, llvm::ArrayRef<ValueId> args) {
        return single(b.create(OpKind::MatMul, args, {}, q.result));
      },
      data->outputs));
}

// Requantizing to the same scale with the zero point moved from 128 (u8)
// to 0 (i8) shifts the stored values: derived from test_quantizelinear.
TEST(OnnxQuant, RequantizeShiftsZeroPoint) {
  auto data = loadNodeTest("test_quantizelinear");
  ASSERT_TRUE(bool(data)) << llvm::toString(data.takeError());
  const auto &in = data->inputs;
  float scale = scalarF32(in[1]);
  ASSERT_EQ(scalarInt(in[2]), 128);
  Tensor q = withQuant(data->outputs[0], scale, 128);
  Tensor expected(TensorType(ElemKind::I8, q.type.shape));
  for (int64_t i = 0; i < q.numElements(); ++i)
    expected.data<int8_t>()[i] =
        static_cast<int8_t>(q.data<uint8_t>()[i] - 128);
  TensorType result = withQuant(expected, scale, 0).type;
  EXPECT_TRUE(runsLike({q},
                       [&](Builder &b, llvm::ArrayRef<ValueId> args) {
                         return single(
                             b.create(OpKind::Requantize, args, {}, result));
                       },
                       {expected}));
}

} // namespace
