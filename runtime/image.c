/* Image preprocessing: one bilinear resampling pass from an 8-bit
 * interleaved image region to a model input tensor, with channel
 * conversion, normalization and (for quantized inputs) quantization on the
 * way, so that no intermediate image needs a buffer. */
#include "mnc_math.h"
#include "mnc_runtime.h"

static size_t channelsOf(mnc_pixel_format format) {
  return format == MNC_GRAY ? 1 : 3;
}

mnc_rect mnc_full_region(const mnc_image *image) {
  mnc_rect r = {0, 0, 0, 0};
  if (image) {
    r.width = (float)image->width;
    r.height = (float)image->height;
  }
  return r;
}

mnc_rect mnc_center_crop_region(size_t src_width, size_t src_height,
                                size_t resize, size_t width, size_t height) {
  /* torchvision: the shorter side becomes `resize`, the longer
   * int(resize * long / short); the crop starts at round((scaled - crop) /
   * 2), Python's round (half to even). */
  mnc_rect r = {0, 0, 0, 0};
  size_t scaled_w, scaled_h;
  if (src_width == 0 || src_height == 0 || resize == 0)
    return r;
  /* Integer division is Python's int() of the quotient: a quotient within
   * rounding of an integer would need a divisor near 2^52. */
  if (src_width <= src_height) {
    scaled_w = resize;
    scaled_h = resize * src_height / src_width;
  } else {
    scaled_h = resize;
    scaled_w = resize * src_width / src_height;
  }
  {
    float sx = (float)src_width / (float)scaled_w;
    float sy = (float)src_height / (float)scaled_h;
    float left = mnc_round_even(((float)scaled_w - (float)width) / 2);
    float top = mnc_round_even(((float)scaled_h - (float)height) / 2);
    r.x = left * sx;
    r.y = top * sy;
    r.width = (float)width * sx;
    r.height = (float)height * sy;
  }
  return r;
}

/* Where output coordinate o of `n` samples over [start, start + length)
 * reads the source of `size` pixels: the lower neighbour and the weight of
 * the upper one, with half-pixel centres and clamping at the edges. */
typedef struct {
  size_t lo, hi;
  float frac;
} Tap;

static Tap tapAt(size_t o, size_t n, float start, float length, size_t size) {
  float s = start + ((float)o + 0.5f) * (length / (float)n) - 0.5f;
  Tap t;
  if (!(s > 0))
    s = 0;
  if (s > (float)(size - 1))
    s = (float)(size - 1);
  t.lo = (size_t)mnc_floor_to_int(s);
  t.frac = s - (float)t.lo;
  t.hi = t.lo + 1 < size ? t.lo + 1 : t.lo;
  return t;
}

/* The source channel that output channel c of `to` reads in `from`, for
 * colour to colour: RGB and BGR swap channels 0 and 2. */
static size_t sourceChannel(mnc_pixel_format from, mnc_pixel_format to,
                            size_t c) {
  return from != to && c != 1 ? 2 - c : c;
}

/* Channel value `c` of the output format at source pixel p. */
static float pixelValue(const uint8_t *p, mnc_pixel_format from,
                        mnc_pixel_format to, size_t c) {
  if (from == MNC_GRAY)
    return p[0];
  if (to == MNC_GRAY) {
    const uint8_t *rgb = p;
    size_t r = from == MNC_RGB ? 0 : 2;
    return 0.299f * rgb[r] + 0.587f * rgb[1] + 0.114f * rgb[2 - r];
  }
  return p[sourceChannel(from, to, c)];
}

static float sample(const mnc_image *image, Tap x, Tap y, mnc_pixel_format to,
                    size_t c) {
  size_t bpp = channelsOf(image->format);
  const uint8_t *row0 = image->data + y.lo * image->stride;
  const uint8_t *row1 = image->data + y.hi * image->stride;
  float a = pixelValue(row0 + x.lo * bpp, image->format, to, c);
  float b = pixelValue(row0 + x.hi * bpp, image->format, to, c);
  float d = pixelValue(row1 + x.lo * bpp, image->format, to, c);
  float e = pixelValue(row1 + x.hi * bpp, image->format, to, c);
  float top = a + (b - a) * x.frac;
  float bottom = d + (e - d) * x.frac;
  return top + (bottom - top) * y.frac;
}

/* ONNX QuantizeLinear: saturate(round_half_even(v / scale) + zero_point). */
static float quantize(float v, const mnc_input_format *f, float lo, float hi) {
  float q = mnc_round_even(v / f->quant_scale) + (float)f->zero_point;
  if (!(q >= lo))
    q = lo;
  if (q > hi)
    q = hi;
  return q;
}

static void store(void *out, size_t at, float v, const mnc_input_format *f) {
  switch (f->dtype) {
  case MNC_F32:
    ((float *)out)[at] = v;
    break;
  case MNC_I8:
    ((int8_t *)out)[at] = (int8_t)quantize(v, f, -128, 127);
    break;
  case MNC_U8:
    ((uint8_t *)out)[at] = (uint8_t)quantize(v, f, 0, 255);
    break;
  }
}

static int validImage(const mnc_image *image) {
  return image && image->data && image->width > 0 && image->height > 0 &&
         (unsigned)image->format <= MNC_BGR &&
         image->stride >= image->width * channelsOf(image->format);
}

static int validFormat(const mnc_input_format *f) {
  size_t c;
  int ok = f && f->width > 0 && f->height > 0 &&
           (unsigned)f->format <= MNC_BGR && (unsigned)f->layout <= MNC_NHWC &&
           (unsigned)f->dtype <= MNC_U8;
  for (c = 0; ok && c < channelsOf(f->format); ++c)
    ok = f->std[c] != 0;
  if (ok && f->dtype != MNC_F32)
    ok = f->quant_scale > 0 &&
         f->zero_point >= (f->dtype == MNC_I8 ? -128 : 0) &&
         f->zero_point <= (f->dtype == MNC_I8 ? 127 : 255);
  return ok;
}

int mnc_preprocess(const mnc_image *image, mnc_rect region,
                   const mnc_input_format *format, void *out) {
  size_t channels, x, y, c;
  if (!validImage(image) || !validFormat(format) || !out ||
      !(region.width > 0) || !(region.height > 0))
    return MNC_ERR_ARGUMENT;
  channels = channelsOf(format->format);
  for (y = 0; y < format->height; ++y) {
    Tap ty = tapAt(y, format->height, region.y, region.height, image->height);
    for (x = 0; x < format->width; ++x) {
      Tap tx = tapAt(x, format->width, region.x, region.width, image->width);
      for (c = 0; c < channels; ++c) {
        float p = sample(image, tx, ty, format->format, c);
        float v = (p * format->pixel_scale - format->mean[c]) / format->std[c];
        size_t pixel = y * format->width + x;
        size_t at = format->layout == MNC_NHWC
                        ? pixel * channels + c
                        : c * format->width * format->height + pixel;
        store(out, at, v, format);
      }
    }
  }
  return MNC_OK;
}

int mnc_dequantize(const void *x, mnc_dtype dtype, size_t n, float scale,
                   int32_t zero_point, float *out) {
  size_t i;
  if (!x || !out || (unsigned)dtype > MNC_U8)
    return MNC_ERR_ARGUMENT;
  for (i = 0; i < n; ++i) {
    float v = dtype == MNC_F32  ? ((const float *)x)[i]
              : dtype == MNC_I8 ? (float)((const int8_t *)x)[i]
                                : (float)((const uint8_t *)x)[i];
    out[i] = (v - (float)zero_point) * scale;
  }
  return MNC_OK;
}
