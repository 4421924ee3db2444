/* SSD priors, box decoding and per-class greedy non-maximum suppression for
 * detectors exported without their postprocessing (ultraface, SSD heads cut
 * before NonMaxSuppression). */
#include "mnc_math.h"
#include "mnc_runtime.h"

size_t mnc_ssd_num_priors(const mnc_ssd_layer *layers, size_t num_layers) {
  size_t n = 0, l;
  for (l = 0; layers && l < num_layers; ++l)
    n += layers[l].feature_width * layers[l].feature_height *
         layers[l].num_anchors;
  return n;
}

static float clamp01(float v, int clip) {
  if (!clip)
    return v;
  return v < 0 ? 0 : v > 1 ? 1 : v;
}

int mnc_ssd_priors(const mnc_ssd_layer *layers, size_t num_layers,
                   float image_width, float image_height, float offset,
                   int clip, float *priors, size_t capacity) {
  size_t l, i, j, a;
  if (!layers || !priors || !(image_width > 0) || !(image_height > 0))
    return MNC_ERR_ARGUMENT;
  for (l = 0; l < num_layers; ++l)
    if (!layers[l].anchor_sizes && layers[l].num_anchors > 0)
      return MNC_ERR_ARGUMENT;
  if (mnc_ssd_num_priors(layers, num_layers) > capacity)
    return MNC_ERR_CAPACITY;
  for (l = 0; l < num_layers; ++l) {
    const mnc_ssd_layer *layer = &layers[l];
    for (j = 0; j < layer->feature_height; ++j) {
      float cy = ((float)j + offset) * layer->step_y / image_height;
      for (i = 0; i < layer->feature_width; ++i) {
        float cx = ((float)i + offset) * layer->step_x / image_width;
        for (a = 0; a < layer->num_anchors; ++a) {
          priors[0] = clamp01(cx, clip);
          priors[1] = clamp01(cy, clip);
          priors[2] = clamp01(layer->anchor_sizes[2 * a] / image_width, clip);
          priors[3] =
              clamp01(layer->anchor_sizes[2 * a + 1] / image_height, clip);
          priors += 4;
        }
      }
    }
  }
  return MNC_OK;
}

int mnc_ssd_decode(const float *locations, const float *priors, size_t n,
                   float center_variance, float size_variance, float *boxes) {
  size_t i;
  if (!locations || !priors || !boxes)
    return MNC_ERR_ARGUMENT;
  for (i = 0; i < n; ++i, locations += 4, priors += 4, boxes += 4) {
    float cx = priors[0] + locations[0] * center_variance * priors[2];
    float cy = priors[1] + locations[1] * center_variance * priors[3];
    float w = priors[2] * mnc_expf(locations[2] * size_variance);
    float h = priors[3] * mnc_expf(locations[3] * size_variance);
    boxes[0] = cx - w / 2;
    boxes[1] = cy - h / 2;
    boxes[2] = cx + w / 2;
    boxes[3] = cy + h / 2;
  }
  return MNC_OK;
}

/* The order of detections: higher score first, then lower class, then
 * lower index, a total order so that any sort gives the same result. */
static int detectionBefore(const mnc_detection *a, const mnc_detection *b) {
  if (a->score != b->score)
    return a->score > b->score;
  if (a->label != b->label)
    return a->label < b->label;
  return a->index < b->index;
}

/* Whether candidate a ranks before b within one class. */
static int candidateBefore(const float *scores, size_t num_classes, size_t c,
                           size_t a, size_t b) {
  float sa = scores[a * num_classes + c], sb = scores[b * num_classes + c];
  return sa > sb || (sa == sb && a < b);
}

/* Heapsort of the candidate indices (no libc qsort here): a heap whose top
 * ranks last, so that extraction leaves the best first. */
static void siftDown(size_t *v, size_t root, size_t n, const float *scores,
                     size_t num_classes, size_t c) {
  for (;;) {
    size_t child = 2 * root + 1, last = root;
    if (child < n && candidateBefore(scores, num_classes, c, v[last], v[child]))
      last = child;
    if (child + 1 < n &&
        candidateBefore(scores, num_classes, c, v[last], v[child + 1]))
      last = child + 1;
    if (last == root)
      return;
    {
      size_t t = v[root];
      v[root] = v[last];
      v[last] = t;
    }
    root = last;
  }
}

static void sortCandidates(size_t *v, size_t n, const float *scores,
                           size_t num_classes, size_t c) {
  size_t i;
  for (i = n / 2; i-- > 0;)
    siftDown(v, i, n, scores, num_classes, c);
  for (i = n; i-- > 1;) {
    size_t t = v[0];
    v[0] = v[i];
    v[i] = t;
    siftDown(v, 0, i, scores, num_classes, c);
  }
}

static float area(const float *b) {
  float w = b[2] - b[0], h = b[3] - b[1];
  return w > 0 && h > 0 ? w * h : 0;
}

static float iou(const float *a, const float *b) {
  float x1 = a[0] > b[0] ? a[0] : b[0], y1 = a[1] > b[1] ? a[1] : b[1];
  float x2 = a[2] < b[2] ? a[2] : b[2], y2 = a[3] < b[3] ? a[3] : b[3];
  float inter = x2 > x1 && y2 > y1 ? (x2 - x1) * (y2 - y1) : 0;
  float uni = area(a) + area(b) - inter;
  return uni > 0 ? inter / uni : 0;
}

/* Inserts d into out[0, *count) sorted best first, dropping the worst when
 * `capacity` are there already. */
static void insertDetection(mnc_detection *out, size_t *count, size_t capacity,
                            const mnc_detection *d) {
  size_t at = *count;
  while (at > 0 && detectionBefore(d, &out[at - 1]))
    --at;
  if (at == capacity)
    return;
  if (*count < capacity)
    ++*count;
  {
    size_t j;
    for (j = *count - 1; j > at; --j)
      out[j] = out[j - 1];
  }
  out[at] = *d;
}

int mnc_nms(const float *boxes, const float *scores, size_t n,
            size_t num_classes, const mnc_nms_options *options, size_t *work,
            mnc_detection *out, size_t *count) {
  size_t c, i, total = 0;
  if (!boxes || !scores || !options || !work || !out || !count ||
      num_classes == 0 || options->max_detections == 0 ||
      options->iou_threshold != options->iou_threshold)
    return MNC_ERR_ARGUMENT;
  for (c = options->first_class; c < num_classes; ++c) {
    size_t candidates = 0, kept = 0;
    for (i = 0; i < n; ++i)
      if (scores[i * num_classes + c] > options->score_threshold)
        work[candidates++] = i;
    sortCandidates(work, candidates, scores, num_classes, c);
    /* Greedy: a candidate survives if no better kept box of its class
     * overlaps it by more than the threshold. Kept boxes of this class are
     * the ones this loop inserted; they may sit anywhere in out[]. */
    for (i = 0; i < candidates && kept < options->max_detections; ++i) {
      const float *box = boxes + 4 * work[i];
      size_t k;
      int suppressed = 0;
      mnc_detection d;
      for (k = 0; k < total && !suppressed; ++k)
        suppressed =
            out[k].label == c && iou(out[k].box, box) > options->iou_threshold;
      if (suppressed)
        continue;
      for (k = 0; k < 4; ++k)
        d.box[k] = box[k];
      d.score = scores[work[i] * num_classes + c];
      d.label = c;
      d.index = work[i];
      insertDetection(out, &total, options->max_detections, &d);
      ++kept;
    }
  }
  *count = total;
  return MNC_OK;
}
