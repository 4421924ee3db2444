/* Optional helpers for applications that run mnc-compiled models: image
 * preprocessing into a model's input tensor, top-k, SSD prior generation and
 * box decoding, non-maximum suppression, and the parallel-for hook type.
 *
 * None of this is needed to link a generated object; it is what most
 * applications would otherwise write around one. The code is C99 for
 * freestanding targets: it includes only <stddef.h> and <stdint.h>, calls
 * no libc or libm function (the few math functions it needs are its own),
 * allocates nothing, and keeps no state between calls, so every function is
 * reentrant. Buffers are the caller's; lengths are counted in elements.
 *
 * Every function returns MNC_OK or a negative MNC_ERR_* code and writes
 * nothing to its outputs when it fails. Built with -ffp-contract=off (as
 * runtime/CMakeLists.txt does) the results are bit-identical on every
 * IEEE-754 single-precision target. */
#ifndef MNC_RUNTIME_H
#define MNC_RUNTIME_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define MNC_OK 0
/** A null pointer, a zero or inconsistent size, or a value out of range. */
#define MNC_ERR_ARGUMENT (-1)
/** An output buffer is smaller than the result. */
#define MNC_ERR_CAPACITY (-2)

/** Element types of tensors the helpers read or write. */
typedef enum { MNC_F32, MNC_I8, MNC_U8 } mnc_dtype;

/* ---------------------------------------------------------------------
 * Image preprocessing
 * ------------------------------------------------------------------- */

/** Channel layouts of 8-bit interleaved images, and of model inputs. */
typedef enum { MNC_GRAY, MNC_RGB, MNC_BGR } mnc_pixel_format;

/** Tensor layouts: planar channels (NCHW) or interleaved (NHWC). */
typedef enum { MNC_NCHW, MNC_NHWC } mnc_layout;

/** An 8-bit image in memory: `height` rows of `width` pixels of 1 (gray)
 * or 3 (RGB, BGR) bytes each; row r starts at data + r * stride. */
typedef struct {
  const uint8_t *data;
  size_t width, height, stride;
  mnc_pixel_format format;
} mnc_image;

/** A rectangle in source-image pixel units: its left and top edges and
 * its size (pixel i covers [i, i + 1)). */
typedef struct {
  float x, y, width, height;
} mnc_rect;

/** What a model's image input expects. Each channel c of a pixel p (0-255)
 * becomes v = (p * pixel_scale - mean[c]) / std[c]; a float input stores
 * v, an int8 or uint8 input stores the ONNX QuantizeLinear of v,
 * saturate(round_half_even(v / quant_scale) + zero_point). For the
 * torchvision ImageNet convention pixel_scale = 1/255, mean = (0.485,
 * 0.456, 0.406), std = (0.229, 0.224, 0.225); channels are in `format`
 * order (gray inputs use mean[0], std[0]). */
typedef struct {
  size_t width, height;
  mnc_pixel_format format;
  mnc_layout layout;
  mnc_dtype dtype;
  float pixel_scale;
  float mean[3], std[3];
  float quant_scale;  /**< int8/uint8 only, > 0 */
  int32_t zero_point; /**< int8/uint8 only, within the type's range */
} mnc_input_format;

/** The whole image as a region. */
mnc_rect mnc_full_region(const mnc_image *image);

/** The region that torchvision's Resize(resize) then CenterCrop(width,
 * height) keep of a src_width x src_height image: the shorter side scaled
 * to `resize`, then the centred width x height window of the scaled image
 * (offsets rounded as torchvision rounds them), in source pixels. Passing
 * it to mnc_preprocess resizes and crops in one bilinear pass; with resize
 * equal to the shorter side it is a plain centre crop. Zero sizes give an
 * empty region, which mnc_preprocess rejects. */
mnc_rect mnc_center_crop_region(size_t src_width, size_t src_height,
                                size_t resize, size_t width, size_t height);

/** Resamples `region` of `image` to the input's width x height with
 * bilinear interpolation (half-pixel centres and edge clamping, as OpenCV's
 * INTER_LINEAR, ONNX Resize's half_pixel mode and PyTorch's
 * align_corners=False; no antialiasing), converts the channels (gray from
 * RGB/BGR with the ITU-R BT.601 weights 0.299, 0.587, 0.114; gray to colour
 * by repetition), normalizes and writes `format->width * height *
 * channels` elements of `format->dtype` to `out` in `format->layout`.
 * Interpolation at the region's border reads the pixels around it, as
 * resizing the whole image and then cropping does; beyond the image's edges
 * its edge pixels repeat. */
int mnc_preprocess(const mnc_image *image, mnc_rect region,
                   const mnc_input_format *format, void *out);

/** out[i] = (x[i] - zero_point) * scale for n int8 or uint8 (or, with
 * scale 1 and zero point 0, float: a copy) elements: a quantized model
 * output as float, for the decoding helpers below. */
int mnc_dequantize(const void *x, mnc_dtype dtype, size_t n, float scale,
                   int32_t zero_point, float *out);

/* ---------------------------------------------------------------------
 * Top-k
 * ------------------------------------------------------------------- */

/** Writes to `indices` the positions of the k largest of the n elements of
 * `x` (f32, int8 or uint8), largest first; equal values keep their order
 * (lower index first). NaNs are never selected before numbers. Needs
 * 1 <= k <= n. O(n k): meant for the small k of classification. */
int mnc_topk(const void *x, mnc_dtype dtype, size_t n, size_t k,
             size_t *indices);

/* ---------------------------------------------------------------------
 * SSD priors and box decoding
 * ------------------------------------------------------------------- */

/** One SSD feature map: a grid of feature_width x feature_height cells,
 * each `step_x` x `step_y` input pixels, with the same `num_anchors` anchor
 * shapes at every cell; anchor_sizes holds (width, height) pairs in input
 * pixels. Ultraface's layer with min_boxes (10, 16, 24) at stride 8 on a
 * 320x240 input is {40, 30, 8, 8, {10,10, 16,16, 24,24}, 3}. */
typedef struct {
  size_t feature_width, feature_height;
  float step_x, step_y;
  const float *anchor_sizes;
  size_t num_anchors;
} mnc_ssd_layer;

/** The number of priors `layers` generate: the sum over layers of
 * feature_width * feature_height * num_anchors. */
size_t mnc_ssd_num_priors(const mnc_ssd_layer *layers, size_t num_layers);

/** Writes the priors (anchor boxes) of `layers` for an image_width x
 * image_height input in the order SSD heads emit them: layer by layer, row
 * by row, cell by cell, anchor by anchor. Each prior is 4 floats in
 * centre form, normalized to the input: cx = (i + offset) * step_x /
 * image_width, cy = (j + offset) * step_y / image_height, w = anchor width
 * / image_width, h = anchor height / image_height (offset is 0.5 in SSD
 * and ultraface). With clip set each value is clamped to [0, 1], as
 * ultraface and SSD's clip option do. `capacity` is in priors. */
int mnc_ssd_priors(const mnc_ssd_layer *layers, size_t num_layers,
                   float image_width, float image_height, float offset,
                   int clip, float *priors, size_t capacity);

/** Decodes n box regressions (4 floats each: dx, dy, dw, dh, as SSD,
 * ultraface and torchvision emit them) against centre-form priors into
 * corner-form boxes (x1, y1, x2, y2) in the priors' units:
 *   cx = prior_cx + dx * center_variance * prior_w
 *   cy = prior_cy + dy * center_variance * prior_h
 *   w = prior_w * exp(dw * size_variance), h = prior_h * exp(dh *
 * size_variance) box = (cx - w/2, cy - h/2, cx + w/2, cy + h/2). SSD and
 * ultraface use variances 0.1 and 0.2 (torchvision's box coder weights 10, 10,
 * 5, 5 are their inverses). `boxes` may be `locations`. */
int mnc_ssd_decode(const float *locations, const float *priors, size_t n,
                   float center_variance, float size_variance, float *boxes);

/* ---------------------------------------------------------------------
 * Non-maximum suppression
 * ------------------------------------------------------------------- */

/** One detection: a corner-form box (x1, y1, x2, y2), its score, its class
 * and the index of the box (prior) it came from. */
typedef struct {
  float box[4];
  float score;
  size_t label, index;
} mnc_detection;

/** Thresholds and bounds of mnc_nms. */
typedef struct {
  float score_threshold; /**< candidates need a score above this */
  float iou_threshold;   /**< a box is dropped when its IoU with a kept
                              box of its class is above this */
  size_t max_detections; /**< at most this many, the best scores */
  size_t first_class;    /**< classes below it (background) are skipped */
} mnc_nms_options;

/** Greedy per-class non-maximum suppression of n boxes (corner form, 4
 * floats each) with `num_classes` scores each (scores[i * num_classes +
 * c]), as torchvision.ops.batched_nms on the candidates of each class
 * c >= first_class whose score is above the threshold. Writes up to
 * max_detections detections to `out`, highest score first (ties: lower
 * class, then lower index), and their number to `count`. `work` holds n
 * indices. IoU is intersection over union of the box areas (a box with
 * x2 < x1 or y2 < y1 has area 0 and overlaps nothing). */
int mnc_nms(const float *boxes, const float *scores, size_t n,
            size_t num_classes, const mnc_nms_options *options, size_t *work,
            mnc_detection *out, size_t *count);

/* ---------------------------------------------------------------------
 * Parallel-for hook
 * ------------------------------------------------------------------- */

/** A way to run task(arg, i) for every i in [0, n), possibly on several
 * threads, returning when all have finished: the form in which an
 * application lends its threads to generated code (NAME_run_parallel).
 * `ctx` is passed back to parallel_for; `num_threads` is how many threads
 * it runs tasks on, which is how many tasks NAME_run_parallel splits a
 * layer into at most (and what NAME_SCRATCH_SIZE_PARALLEL counts).
 * runtime/mnc_pthread.h adapts a POSIX thread pool. Generated headers
 * define the same type under the same guard, so either may come first. */
#ifndef MNC_PARALLEL_FOR_DEFINED
#define MNC_PARALLEL_FOR_DEFINED
typedef struct {
  void (*parallel_for)(void *ctx, void (*task)(void *arg, size_t i), void *arg,
                       size_t n);
  void *ctx;
  size_t num_threads;
} mnc_parallel_for;
#endif

/** Runs task(arg, i) for i in [0, n) on the calling thread, in order. */
void mnc_serial_for(void *ctx, void (*task)(void *arg, size_t i), void *arg,
                    size_t n);

#ifdef __cplusplus
}
#endif

#endif
