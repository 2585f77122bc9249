/* libFuzzer harness of the PNG folder reader: the input is the only image of class
   folder a/, then the second image of class b/ after a fixed valid 2x2 gray image (so
   that size and colour-type mismatches are exercised too). */
#include "fuzz_common.h"
#include <sys/stat.h>

/* 2x2 8-bit gray PNG */
static const uint8_t good_png[] = {
  0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x48, 0x44, 0x52, 0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00, 0x02, 0x08, 0x00, 0x00, 0x00, 0x00, 0x57, 0xdd, 0x52,
  0xf8, 0x00, 0x00, 0x00, 0x0e, 0x49, 0x44, 0x41, 0x54, 0x78, 0x9c, 0x63, 0x60, 0x64, 0x62, 0x60, 0x66, 0x01, 0x00, 0x00, 0x1d, 0x00, 0x0b, 0x0d, 0xb5, 0x52, 0x06, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45,
  0x4e, 0x44, 0xae, 0x42, 0x60, 0x82};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  static char    one[512], two[512];
  char           path[512];
  SanetRawImages raw;

  if (!one[0]) {
    char dir[600];

    snprintf(one, sizeof(one), "%s/one", fuzz_dir);
    snprintf(two, sizeof(two), "%s/two", fuzz_dir);
    snprintf(dir, sizeof(dir), "%s/a", one);
    if (mkdir(one, 0700) || mkdir(dir, 0700)) abort();
    snprintf(dir, sizeof(dir), "%s/a", two);
    if (mkdir(two, 0700) || mkdir(dir, 0700)) abort();
    snprintf(dir, sizeof(dir), "%s/b", two);
    if (mkdir(dir, 0700)) abort();
    FuzzWrite("two/a/good.png", good_png, sizeof(good_png), path, sizeof(path));
  }
  FuzzWrite("one/a/input.png", data, size, path, sizeof(path));
  if (!SanetReadPNGFolder(one, &raw)) {
    if (raw.N != 1 || raw.H <= 0 || raw.W <= 0 || (raw.C != 1 && raw.C != 3) || !raw.pixels || !raw.labels || raw.labels[0] != 0) abort();
    raw.pixels[raw.H * raw.W * raw.C - 1] ^= 1;
    if (SanetRawImagesDestroy(&raw)) abort();
  }
  FuzzWrite("two/b/input.png", data, size, path, sizeof(path));
  if (!SanetReadPNGFolder(two, &raw)) {
    if (raw.N != 2 || raw.H != 2 || raw.W != 2 || raw.C != 1 || raw.labels[1] != 1) abort();
    if (SanetRawImagesDestroy(&raw)) abort();
  }
  return 0;
}
