/* The photo and the class labels the firmware carries, embedded at build
 * time by embed_data.cmake. */
#ifndef DATA_H
#define DATA_H

#include <stddef.h>

/** image_height rows of image_width pixels, 3 bytes each (blue, green,
 * red), the first row at the top; row r starts at image_bgr + r *
 * image_stride. */
extern const size_t image_width, image_height, image_stride;
extern const unsigned char image_bgr[];

/** labels[i] names class i. */
extern const size_t num_labels;
extern const char *const labels[];

#endif
