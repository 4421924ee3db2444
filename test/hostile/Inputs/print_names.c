/* Prints the input and output names of the header given as -DHEADER, one
 * per line, so that a test can compare their bytes with the model's. */
#include HEADER
#include <stdio.h>

int main(void) {
  puts(NAMES_INPUT0_NAME);
  puts(NAMES_OUTPUT0_NAME);
  return 0;
}
