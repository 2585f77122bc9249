/* libFuzzer harness of the MNIST IDX reader (plain or gzip): the input is read as an
   images file, then as the labels file of a fixed valid one-image images file. */
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  static char    good[512];
  char           path[512];
  SanetRawImages raw;

  if (!good[0]) {
    static const uint8_t one[] = {0, 0, 8, 3, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 2, 1, 2, 3, 4};
    FuzzWrite("good-images.idx", one, sizeof(one), good, sizeof(good));
  }
  FuzzWrite("input.idx", data, size, path, sizeof(path));
  if (!SanetReadMNIST(path, NULL, &raw)) {
    /* a success must describe exactly the bytes read */
    if (raw.N <= 0 || raw.H <= 0 || raw.W <= 0 || raw.C != 1 || !raw.pixels || raw.labels) abort();
    if (raw.N * raw.H * raw.W > 0) raw.pixels[raw.N * raw.H * raw.W - 1] ^= 1;
    if (SanetRawImagesDestroy(&raw)) abort();
  }
  if (!SanetReadMNIST(good, path, &raw)) {
    if (raw.N != 1 || !raw.labels || raw.labels[0] < 0 || raw.labels[0] > 255) abort();
    if (SanetRawImagesDestroy(&raw)) abort();
  }
  return 0;
}
