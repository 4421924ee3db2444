// runtime/'s contract beyond its numerics (which test/runtime checks against
// torch and torchvision): bad arguments and short buffers return an error
// and leave the outputs untouched, and its own expf stays within 2 ulp of
// the C++ library's exp.
#include "runtime/mnc_math.h"
#include "runtime/mnc_pthread.h"
#include "runtime/mnc_runtime.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <vector>

namespace {

constexpr float kUntouched = -12345.0f;

struct Preprocess : ::testing::Test {
  uint8_t pixels[4 * 3 * 3] = {};
  mnc_image image{pixels, 4, 3, 12, MNC_RGB};
  mnc_input_format format{2,    2,         MNC_RGB,   MNC_NCHW, MNC_F32,
                          1.0f, {0, 0, 0}, {1, 1, 1}, 1.0f,     0};
  std::vector<float> out = std::vector<float>(12, kUntouched);

  int run(mnc_rect region) {
    return mnc_preprocess(&image, region, &format, out.data());
  }
  int run() { return run(mnc_full_region(&image)); }
  bool untouched() const {
    for (float v : out)
      if (v != kUntouched)
        return false;
    return true;
  }
};

TEST_F(Preprocess, Accepts) { EXPECT_EQ(run(), MNC_OK); }

TEST_F(Preprocess, RejectsBadImages) {
  image.data = nullptr;
  EXPECT_EQ(run(), MNC_ERR_ARGUMENT);
  image.data = pixels;
  image.stride = 11; // shorter than a row of 4 RGB pixels
  EXPECT_EQ(run(), MNC_ERR_ARGUMENT);
  image.stride = 12;
  image.width = 0;
  EXPECT_EQ(run(mnc_rect{0, 0, 1, 1}), MNC_ERR_ARGUMENT);
  EXPECT_TRUE(untouched());
}

TEST_F(Preprocess, RejectsBadFormats) {
  format.std[1] = 0;
  EXPECT_EQ(run(), MNC_ERR_ARGUMENT);
  format.std[1] = 1;
  format.dtype = MNC_I8;
  format.zero_point = 128;
  EXPECT_EQ(run(), MNC_ERR_ARGUMENT);
  format.zero_point = 0;
  format.quant_scale = 0;
  EXPECT_EQ(run(), MNC_ERR_ARGUMENT);
  format.dtype = MNC_U8;
  format.quant_scale = 1;
  format.zero_point = -1;
  EXPECT_EQ(run(), MNC_ERR_ARGUMENT);
  format.dtype = MNC_F32;
  format.height = 0;
  EXPECT_EQ(run(), MNC_ERR_ARGUMENT);
  EXPECT_TRUE(untouched());
}

TEST_F(Preprocess, RejectsEmptyRegions) {
  EXPECT_EQ(run(mnc_rect{0, 0, 0, 3}), MNC_ERR_ARGUMENT);
  EXPECT_EQ(run(mnc_rect{0, 0, 4, -1}), MNC_ERR_ARGUMENT);
  float nan = std::numeric_limits<float>::quiet_NaN();
  EXPECT_EQ(run(mnc_rect{0, 0, nan, 3}), MNC_ERR_ARGUMENT);
  EXPECT_TRUE(untouched());
}

TEST_F(Preprocess, ClampsRegionsOutsideTheImage) {
  // Edge pixels repeat; no read leaves the 4x3 image.
  float inf = std::numeric_limits<float>::infinity();
  EXPECT_EQ(run(mnc_rect{-100, 50, 1000, 1000}), MNC_OK);
  EXPECT_EQ(run(mnc_rect{-inf, 0, inf, 3}), MNC_OK);
}

TEST(TopK, RejectsBadK) {
  float x[3] = {1, 2, 3};
  size_t indices[4] = {7, 7, 7, 7};
  EXPECT_EQ(mnc_topk(x, MNC_F32, 3, 0, indices), MNC_ERR_ARGUMENT);
  EXPECT_EQ(mnc_topk(x, MNC_F32, 3, 4, indices), MNC_ERR_ARGUMENT);
  EXPECT_EQ(mnc_topk(nullptr, MNC_F32, 3, 1, indices), MNC_ERR_ARGUMENT);
  EXPECT_EQ(indices[0], 7u);
}

TEST(SsdPriors, ChecksCapacity) {
  const float anchors[] = {10, 10, 20, 20};
  mnc_ssd_layer layer{3, 2, 8, 8, anchors, 2};
  EXPECT_EQ(mnc_ssd_num_priors(&layer, 1), 12u);
  std::vector<float> priors(4 * 11, kUntouched);
  EXPECT_EQ(mnc_ssd_priors(&layer, 1, 24, 16, 0.5f, 1, priors.data(), 11),
            MNC_ERR_CAPACITY);
  EXPECT_EQ(priors[0], kUntouched);
  EXPECT_EQ(mnc_ssd_priors(&layer, 1, 0, 16, 0.5f, 1, priors.data(), 11),
            MNC_ERR_ARGUMENT);
  layer.anchor_sizes = nullptr;
  EXPECT_EQ(mnc_ssd_priors(&layer, 1, 24, 16, 0.5f, 1, priors.data(), 12),
            MNC_ERR_ARGUMENT);
}

TEST(Nms, RejectsBadOptions) {
  float boxes[4] = {0, 0, 1, 1}, scores[2] = {0.1f, 0.9f};
  size_t work[1], count = 99;
  mnc_detection out[1];
  mnc_nms_options options{0.5f, 0.5f, 0, 1};
  EXPECT_EQ(mnc_nms(boxes, scores, 1, 2, &options, work, out, &count),
            MNC_ERR_ARGUMENT);
  options.max_detections = 1;
  options.iou_threshold = std::numeric_limits<float>::quiet_NaN();
  EXPECT_EQ(mnc_nms(boxes, scores, 1, 2, &options, work, out, &count),
            MNC_ERR_ARGUMENT);
  EXPECT_EQ(count, 99u);
  options.iou_threshold = 0.5f;
  EXPECT_EQ(mnc_nms(boxes, scores, 1, 2, &options, work, out, &count), MNC_OK);
  EXPECT_EQ(count, 1u);
}

TEST(Nms, InvertedBoxesOverlapNothing) {
  // Two identical boxes with x2 < x1: area 0, so neither suppresses.
  float boxes[8] = {1, 0, 0, 1, 1, 0, 0, 1}, scores[2] = {0.9f, 0.8f};
  size_t work[2], count = 0;
  mnc_detection out[2];
  mnc_nms_options options{0.5f, 0.5f, 2, 0};
  EXPECT_EQ(mnc_nms(boxes, scores, 2, 1, &options, work, out, &count), MNC_OK);
  EXPECT_EQ(count, 2u);
}

TEST(PthreadPool, RejectsBadThreadCounts) {
  mnc_pthread_pool pool;
  EXPECT_EQ(mnc_pthread_pool_init(&pool, 0), MNC_ERR_ARGUMENT);
  EXPECT_EQ(mnc_pthread_pool_init(&pool, MNC_PTHREAD_POOL_MAX + 2),
            MNC_ERR_ARGUMENT);
  EXPECT_EQ(mnc_pthread_pool_init(nullptr, 2), MNC_ERR_ARGUMENT);
}

// The ulp distance of got from the float nearest the exact value.
double ulpError(float got, double exact) {
  float nearest = static_cast<float>(exact);
  float ulp =
      std::nextafter(nearest, std::numeric_limits<float>::infinity()) - nearest;
  return std::fabs(got - exact) / ulp;
}

TEST(Expf, WithinTwoUlp) {
  double worst = 0;
  for (float x = -103.0f; x < 88.7f; x += 0.0137f)
    worst = std::max(worst, ulpError(mnc_expf(x), std::exp(double(x))));
  EXPECT_LT(worst, 2.0);
}

TEST(Expf, SpecialValues) {
  float inf = std::numeric_limits<float>::infinity();
  EXPECT_EQ(mnc_expf(0), 1.0f);
  EXPECT_EQ(mnc_expf(89), inf);
  EXPECT_EQ(mnc_expf(inf), inf);
  EXPECT_EQ(mnc_expf(-inf), 0.0f);
  EXPECT_EQ(mnc_expf(-104), 0.0f);
  EXPECT_TRUE(std::isnan(mnc_expf(std::numeric_limits<float>::quiet_NaN())));
}

TEST(RoundEven, HalvesGoToEven) {
  EXPECT_EQ(mnc_round_even(0.5f), 0.0f);
  EXPECT_EQ(mnc_round_even(1.5f), 2.0f);
  EXPECT_EQ(mnc_round_even(-2.5f), -2.0f);
  EXPECT_EQ(mnc_round_even(2.4999998f), 2.0f);
  EXPECT_EQ(mnc_round_even(16777216.0f), 16777216.0f);
}

} // namespace
