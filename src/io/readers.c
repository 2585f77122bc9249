#include "sanet_io.h"
#include <stdint.h>
#include <errno.h>
#include <strings.h>
#include <dirent.h>
#include <sys/stat.h>
#include <setjmp.h>
#include <zlib.h>
#include <png.h>

PetscErrorCode SanetRawImagesDestroy(SanetRawImages *raw)
{
  PetscFunctionBegin;
  PetscCall(PetscFree(raw->pixels));
  PetscCall(PetscFree(raw->labels));
  PetscCall(PetscFree(raw->classes));
  PetscCall(PetscMemzero(raw, sizeof(*raw)));
  PetscFunctionReturn(0);
}

/* ----------------------------------- gzip input ----------------------------------- */

/* Reads up to len bytes; *got < len only at the end of the data. gzread also reads
   plain files, so one path serves both. A damaged gzip stream is an error. */
static PetscErrorCode GzReadFull(gzFile gz, const char path[], unsigned char *buf, size_t len, size_t *got)
{
  PetscFunctionBegin;
  *got = 0;
  while (*got < len) {
    unsigned int want = (unsigned int)PetscMin(len - *got, (size_t)1 << 30);
    int          n    = gzread(gz, buf + *got, want);
    int          zerr;

    if (n < 0) {
      const char *msg = gzerror(gz, &zerr);
      SETERRQ(PETSC_COMM_SELF, PETSC_ERR_FILE_READ, "File %s cannot be read: %s", path, msg);
    }
    *got += (size_t)n;
    if ((unsigned int)n < want) break;
  }
  /* a truncated gzip stream ends the data early with a pending error */
  if (*got < len) {
    int         zerr;
    const char *msg = gzerror(gz, &zerr);
    PetscCheck(zerr == Z_OK, PETSC_COMM_SELF, PETSC_ERR_FILE_READ, "File %s is damaged: %s", path, msg);
  }
  PetscFunctionReturn(0);
}

/* Opening a FIFO blocks until somebody writes to it: refuse anything but a file. */
static PetscErrorCode CheckRegularFile(const char path[])
{
  struct stat st;

  PetscFunctionBegin;
  PetscCheck(!stat(path, &st), PETSC_COMM_SELF, PETSC_ERR_FILE_OPEN, "Cannot open input file %s: %s", path, strerror(errno));
  PetscCheck(S_ISREG(st.st_mode), PETSC_COMM_SELF, PETSC_ERR_FILE_UNEXPECTED, "Input file %s is not a regular file (a directory, FIFO or device)", path);
  PetscFunctionReturn(0);
}

static PetscErrorCode GzOpen(const char path[], gzFile *gz)
{
  PetscFunctionBegin;
  PetscCall(CheckRegularFile(path));
  *gz = gzopen(path, "rb");
  PetscCheck(*gz, PETSC_COMM_SELF, PETSC_ERR_FILE_OPEN, "Cannot open input file %s", path);
  PetscFunctionReturn(0);
}

/* Reads a whole (possibly gzip) file, growing the buffer as the data arrives. */
static PetscErrorCode GzReadAll(const char path[], unsigned char **buf, size_t *len)
{
  gzFile         gz;
  size_t         cap = (size_t)1 << 20, got;
  PetscErrorCode ierr;

  PetscFunctionBegin;
  *len = 0;
  *buf = NULL;
  PetscCall(GzOpen(path, &gz));
  PetscCall(PetscMalloc1(cap, buf));
  for (;;) {
    ierr = GzReadFull(gz, path, *buf + *len, cap - *len, &got);
    if (ierr) {
      gzclose(gz);
      PetscCall(PetscFree(*buf));
    }
    PetscCall(ierr);
    *len += got;
    if (*len < cap) break;
    PetscCall(PetscRealloc(2 * cap, buf));
    cap *= 2;
  }
  gzclose(gz);
  PetscFunctionReturn(0);
}

static uint32_t BigEndian32(const unsigned char *p)
{
  return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | (uint32_t)p[3];
}

/* ------------------------------------- MNIST -------------------------------------- */

/* Reads an IDX file of unsigned bytes with ndim dimensions. The buffer grows only as
   far as data really arrives, so a header promising too much cannot exhaust memory. */
static PetscErrorCode ReadIDXInner(gzFile gz, const char path[], uint32_t magic, int ndim, uint32_t dims[], unsigned char **data)
{
  unsigned char head[16], extra;
  size_t        got, have = 0, cap;
  uint64_t      total = 1;

  PetscFunctionBegin;
  PetscCall(GzReadFull(gz, path, head, 4 + 4 * (size_t)ndim, &got));
  PetscCheck(got > 0, PETSC_COMM_SELF, PETSC_ERR_FILE_UNEXPECTED, "MNIST file %s is empty", path);
  PetscCheck(got >= 4, PETSC_COMM_SELF, PETSC_ERR_FILE_UNEXPECTED, "MNIST file %s is too short for an IDX header", path);
  PetscCheck(BigEndian32(head) == magic, PETSC_COMM_SELF, PETSC_ERR_FILE_UNEXPECTED, "MNIST file %s has magic number 0x%08x, expected 0x%08x (IDX %s)", path, (unsigned)BigEndian32(head), (unsigned)magic, ndim == 3 ? "images" : "labels");
  PetscCheck(got == 4 + 4 * (size_t)ndim, PETSC_COMM_SELF, PETSC_ERR_FILE_UNEXPECTED, "MNIST file %s is too short for an IDX header", path);
  for (int d = 0; d < ndim; d++) {
    dims[d] = BigEndian32(head + 4 + 4 * d);
    PetscCheck(dims[d] > 0, PETSC_COMM_SELF, PETSC_ERR_FILE_UNEXPECTED, "MNIST file %s: dimension %d in the header is zero", path, d);
    PetscCheck(total <= (uint64_t)PETSC_MAX_INT / dims[d], PETSC_COMM_SELF, PETSC_ERR_FILE_UNEXPECTED, "MNIST file %s: header dimensions overflow (too many values)", path);
    total *= dims[d];
  }
  PetscCheck(dims[0] <= (uint32_t)PETSC_MAX_INT, PETSC_COMM_SELF, PETSC_ERR_FILE_UNEXPECTED, "MNIST file %s: too many items in the header", path);
  cap = (size_t)PetscMin(total, (uint64_t)1 << 20);
  PetscCall(PetscMalloc1(cap, data));
  for (;;) {
    PetscCall(GzReadFull(gz, path, *data + have, cap - have, &got));
    have += got;
    if (have < cap || cap == total) break;
    cap = (size_t)PetscMin(total, 2 * (uint64_t)cap);
    PetscCall(PetscRealloc(cap, data));
  }
  PetscCheck(have == total, PETSC_COMM_SELF, PETSC_ERR_FILE_UNEXPECTED, "MNIST file %s is truncated: its header declares %llu bytes of data, the file has %llu", path, (unsigned long long)total, (unsigned long long)have);
  PetscCall(GzReadFull(gz, path, &extra, 1, &got));
  PetscCheck(got == 0, PETSC_COMM_SELF, PETSC_ERR_FILE_UNEXPECTED, "MNIST file %s is longer than its header declares (%llu bytes of data)", path, (unsigned long long)total);
  PetscFunctionReturn(0);
}

static PetscErrorCode ReadIDX(const char path[], uint32_t magic, int ndim, uint32_t dims[], unsigned char **data)
{
  gzFile         gz;
  PetscErrorCode ierr;

  PetscFunctionBegin;
  *data = NULL;
  PetscCall(GzOpen(path, &gz));
  ierr = ReadIDXInner(gz, path, magic, ndim, dims, data);
  gzclose(gz);
  if (ierr) PetscCall(PetscFree(*data));
  PetscCall(ierr);
  PetscFunctionReturn(0);
}

PetscErrorCode SanetReadMNIST(const char images[], const char labels[], SanetRawImages *raw)
{
  uint32_t       idims[3], ldims[1];
  unsigned char *lab = NULL;

  PetscFunctionBegin;
  PetscCall(PetscMemzero(raw, sizeof(*raw)));
  PetscCall(ReadIDX(images, 0x00000803, 3, idims, &raw->pixels));
  raw->N = (PetscInt)idims[0];
  raw->H = (PetscInt)idims[1];
  raw->W = (PetscInt)idims[2];
  raw->C = 1;
  if (labels) {
    PetscErrorCode ierr = ReadIDX(labels, 0x00000801, 1, ldims, &lab);

    if (ierr) PetscCall(SanetRawImagesDestroy(raw)); /* nothing half-made is returned */
    PetscCall(ierr);
    if (ldims[0] != idims[0]) {
      PetscCall(PetscFree(lab));
      PetscCall(SanetRawImagesDestroy(raw));
      SETERRQ(PETSC_COMM_SELF, PETSC_ERR_FILE_UNEXPECTED, "MNIST images file %s has %u images but labels file %s has %u labels", images, (unsigned)idims[0], labels, (unsigned)ldims[0]);
    }
    PetscCall(PetscMalloc1(raw->N, &raw->labels));
    for (PetscInt i = 0; i < raw->N; i++) raw->labels[i] = lab[i];
    PetscCall(PetscFree(lab));
  }
  PetscFunctionReturn(0);
}

/* Appends src to dst (dst may be empty) and empties src; sizes must agree, and labels
   must be on both or on neither, so that a joined set keeps one label per image. */
PetscErrorCode SanetRawImagesAppend(SanetRawImages *dst, SanetRawImages *src, const char srcname[])
{
  unsigned char *pixels;
  PetscInt      *labels = NULL;
  size_t         imbytes;

  PetscFunctionBegin;
  if (!dst->N) {
    PetscCall(SanetRawImagesDestroy(dst));
    *dst = *src;
    PetscCall(PetscMemzero(src, sizeof(*src)));
    PetscFunctionReturn(0);
  }
  if (src->H != dst->H || src->W != dst->W || src->C != dst->C || !src->labels != !dst->labels) {
    const PetscBool sizes = (PetscBool)(src->H != dst->H || src->W != dst->W || src->C != dst->C);
    const PetscInt  sh = src->H, sw = src->W, sc = src->C, dh = dst->H, dw = dst->W, dc = dst->C;
    const PetscBool slab = (PetscBool)!!src->labels;

    PetscCall(SanetRawImagesDestroy(src)); /* nothing half-made is returned */
    PetscCall(SanetRawImagesDestroy(dst));
    PetscCheck(!sizes, PETSC_COMM_SELF, PETSC_ERR_FILE_UNEXPECTED, "%s holds %" PetscInt_FMT "x%" PetscInt_FMT "x%" PetscInt_FMT " images but the files before it %" PetscInt_FMT "x%" PetscInt_FMT "x%" PetscInt_FMT ": a joined set needs one image size", srcname, sh, sw, sc, dh, dw, dc);
    SETERRQ(PETSC_COMM_SELF, PETSC_ERR_USER_INPUT, "%s has %slabels but the files before it %s: give labels for all files or for none", srcname, slab ? "" : "no ", slab ? "do not" : "have");
  }
  imbytes = (size_t)dst->H * (size_t)dst->W * (size_t)dst->C;
  PetscCall(PetscMalloc1(imbytes * (size_t)(dst->N + src->N), &pixels));
  PetscCall(PetscArraycpy(pixels, dst->pixels, imbytes * (size_t)dst->N));
  PetscCall(PetscArraycpy(pixels + imbytes * (size_t)dst->N, src->pixels, imbytes * (size_t)src->N));
  if (dst->labels) {
    PetscCall(PetscMalloc1(dst->N + src->N, &labels));
    PetscCall(PetscArraycpy(labels, dst->labels, dst->N));
    PetscCall(PetscArraycpy(labels + dst->N, src->labels, src->N));
  }
  PetscCall(PetscFree(dst->pixels));
  PetscCall(PetscFree(dst->labels));
  dst->pixels = pixels;
  dst->labels = labels;
  dst->N += src->N;
  PetscCall(SanetRawImagesDestroy(src));
  PetscFunctionReturn(0);
}

/* ------------------------------------- CIFAR -------------------------------------- */

static PetscErrorCode ReadCIFARInner(PetscInt nfiles, const char *const files[], PetscInt nlabelbytes, PetscInt nclasses, SanetRawImages *raw, unsigned char **buf)
{
  const size_t plane = 32 * 32, rec = (size_t)nlabelbytes + 3 * plane;

  PetscFunctionBegin;
  raw->H = raw->W = 32;
  raw->C          = 3;
  for (PetscInt f = 0; f < nfiles; f++) {
    size_t len, n;

    PetscCall(GzReadAll(files[f], buf, &len));
    PetscCheck(len > 0, PETSC_COMM_SELF, PETSC_ERR_FILE_UNEXPECTED, "CIFAR batch file %s is empty", files[f]);
    PetscCheck(len % rec == 0, PETSC_COMM_SELF, PETSC_ERR_FILE_UNEXPECTED, "CIFAR batch file %s has %zu bytes, not a multiple of the record size %zu (truncated or not a CIFAR-%" PetscInt_FMT " batch)", files[f], len, rec, nclasses);
    n = len / rec;
    PetscCheck((uint64_t)raw->N + n <= (uint64_t)PETSC_MAX_INT / (3 * plane), PETSC_COMM_SELF, PETSC_ERR_FILE_UNEXPECTED, "CIFAR batch file %s: too many images in total", files[f]);
    PetscCall(PetscRealloc((raw->N + n) * 3 * plane, &raw->pixels));
    PetscCall(PetscRealloc((raw->N + n) * sizeof(PetscInt), &raw->labels));
    for (size_t i = 0; i < n; i++) {
      const unsigned char *r   = *buf + i * rec;
      unsigned char       *out = raw->pixels + (raw->N + i) * 3 * plane;
      PetscInt             l   = r[nlabelbytes - 1]; /* CIFAR-100: the fine label */

      PetscCheck(l < nclasses, PETSC_COMM_SELF, PETSC_ERR_FILE_UNEXPECTED, "CIFAR batch file %s: record %zu has label %" PetscInt_FMT ", expected 0..%" PetscInt_FMT " (is it a CIFAR-%" PetscInt_FMT " batch?)", files[f], i, l, nclasses - 1, nclasses);
      raw->labels[raw->N + i] = l;
      /* planar RRR..GGG..BBB to interleaved RGB */
      for (size_t p = 0; p < plane; p++)
        for (size_t ch = 0; ch < 3; ch++) out[3 * p + ch] = r[nlabelbytes + ch * plane + p];
    }
    raw->N += (PetscInt)n;
    PetscCall(PetscFree(*buf));
  }
  PetscFunctionReturn(0);
}

PetscErrorCode SanetReadCIFAR(PetscInt nfiles, const char *const files[], PetscInt nlabelbytes, PetscInt nclasses, SanetRawImages *raw)
{
  unsigned char *buf = NULL;
  PetscErrorCode ierr;

  PetscFunctionBegin;
  PetscCall(PetscMemzero(raw, sizeof(*raw)));
  PetscCheck(nfiles > 0, PETSC_COMM_SELF, PETSC_ERR_ARG_WRONG, "No CIFAR batch files given");
  PetscCheck(nlabelbytes == 1 || nlabelbytes == 2, PETSC_COMM_SELF, PETSC_ERR_ARG_WRONG, "CIFAR records have 1 or 2 label bytes, not %" PetscInt_FMT, nlabelbytes);
  ierr = ReadCIFARInner(nfiles, files, nlabelbytes, nclasses, raw, &buf);
  if (ierr) { /* nothing half-made is returned */
    PetscCall(PetscFree(buf));
    PetscCall(SanetRawImagesDestroy(raw));
  }
  PetscCall(ierr);
  PetscFunctionReturn(0);
}

/* -------------------------------------- PNG --------------------------------------- */

typedef struct {
  char msg[256];
} PngErr;

static void PngError(png_structp png, png_const_charp msg)
{
  PngErr *e = (PngErr *)png_get_error_ptr(png);

  snprintf(e->msg, sizeof(e->msg), "%s", msg);
  png_longjmp(png, 1);
}

static void PngWarning(png_structp png, png_const_charp msg)
{
  (void)png;
  (void)msg; /* warnings (e.g. unknown chunks) do not affect the pixels */
}

/* Reads one PNG as 8-bit gray or RGB. When *H > 0 the size and channels must match.
   pix receives H*W*C bytes (caller frees). */
static PetscErrorCode ReadPNG(const char path[], PetscInt *H, PetscInt *W, PetscInt *C, unsigned char **pix, PetscBool *alpha)
{
  FILE         *fp;
  unsigned char sig[8];
  png_structp   png  = NULL;
  png_infop     info = NULL;
  PngErr        err  = {""};
  png_uint_32   w, h;
  int           c;
  size_t        rowbytes;
  png_bytep    *rows = NULL;
  unsigned char *out = NULL;

  PetscFunctionBegin;
  PetscCall(CheckRegularFile(path));
  fp = fopen(path, "rb");
  PetscCheck(fp, PETSC_COMM_SELF, PETSC_ERR_FILE_OPEN, "Cannot open PNG file %s", path);
  if (fread(sig, 1, 8, fp) != 8 || png_sig_cmp(sig, 0, 8)) {
    fclose(fp);
    SETERRQ(PETSC_COMM_SELF, PETSC_ERR_FILE_UNEXPECTED, "File %s is not a PNG image", path);
  }
  png = png_create_read_struct(PNG_LIBPNG_VER_STRING, &err, PngError, PngWarning);
  if (png) info = png_create_info_struct(png);
  if (!png || !info) {
    png_destroy_read_struct(&png, &info, NULL);
    fclose(fp);
    SETERRQ(PETSC_COMM_SELF, PETSC_ERR_MEM, "Cannot set up libpng to read %s", path);
  }
  if (setjmp(png_jmpbuf(png))) {
    png_destroy_read_struct(&png, &info, NULL);
    fclose(fp);
    SETERRQ(PETSC_COMM_SELF, PETSC_ERR_FILE_UNEXPECTED, "PNG file %s is damaged: %s", path, err.msg);
  }
  png_init_io(png, fp);
  png_set_sig_bytes(png, 8);
  png_read_info(png, info);
  *alpha = (PetscBool)((png_get_color_type(png, info) & PNG_COLOR_MASK_ALPHA) || png_get_valid(png, info, PNG_INFO_tRNS));
  /* palette and low bit depths to 8 bits, 16 to 8 bits, no alpha: gray or RGB remains */
  png_set_expand(png);
  png_set_strip_16(png);
  png_set_strip_alpha(png);
  (void)png_set_interlace_handling(png);
  png_read_update_info(png, info);
  w        = png_get_image_width(png, info);
  h        = png_get_image_height(png, info);
  c        = png_get_channels(png, info);
  rowbytes = png_get_rowbytes(png, info);
  if (c != 1 && c != 3) {
    png_destroy_read_struct(&png, &info, NULL);
    fclose(fp);
    SETERRQ(PETSC_COMM_SELF, PETSC_ERR_FILE_UNEXPECTED, "PNG file %s: cannot convert to gray or RGB (%d channels)", path, c);
  }
  if (*H > 0 && ((PetscInt)h != *H || (PetscInt)w != *W || c != *C)) {
    png_destroy_read_struct(&png, &info, NULL);
    fclose(fp);
    SETERRQ(PETSC_COMM_SELF, PETSC_ERR_FILE_UNEXPECTED, "PNG file %s is %ux%u with %d channel(s), but the first image is %" PetscInt_FMT "x%" PetscInt_FMT " with %" PetscInt_FMT "; all images must have the same size and colour type", path, (unsigned)w, (unsigned)h, c, *W, *H, *C);
  }
  /* bound one image at 256 MiB so a bogus header cannot request absurd memory */
  if ((uint64_t)h * w * (uint64_t)c > ((uint64_t)1 << 28) || rowbytes != (size_t)w * c) {
    png_destroy_read_struct(&png, &info, NULL);
    fclose(fp);
    SETERRQ(PETSC_COMM_SELF, PETSC_ERR_FILE_UNEXPECTED, "PNG file %s: unsupported image size %ux%u", path, (unsigned)w, (unsigned)h);
  }
  PetscCall(PetscMalloc1((size_t)h * rowbytes, &out));
  PetscCall(PetscMalloc1(h, &rows));
  for (png_uint_32 r = 0; r < h; r++) rows[r] = out + r * rowbytes;
  /* re-arm after the allocations so the handler sees their current values */
  if (setjmp(png_jmpbuf(png))) {
    png_destroy_read_struct(&png, &info, NULL);
    fclose(fp);
    PetscCall(PetscFree(rows));
    PetscCall(PetscFree(out));
    SETERRQ(PETSC_COMM_SELF, PETSC_ERR_FILE_UNEXPECTED, "PNG file %s is damaged: %s", path, err.msg);
  }
  png_read_image(png, rows);
  png_read_end(png, NULL);
  png_destroy_read_struct(&png, &info, NULL);
  fclose(fp);
  PetscCall(PetscFree(rows));
  *H   = (PetscInt)h;
  *W   = (PetscInt)w;
  *C   = c;
  *pix = out;
  PetscFunctionReturn(0);
}

static int CompareNames(const void *a, const void *b)
{
  return strcmp(*(char *const *)a, *(char *const *)b);
}

static PetscErrorCode FreeNames(PetscInt n, char ***names)
{
  PetscFunctionBegin;
  for (PetscInt i = 0; i < n; i++) PetscCall(PetscFree((*names)[i]));
  PetscCall(PetscFree(*names));
  PetscFunctionReturn(0);
}

/* Sorted names in dir: subfolders (dirs true) or regular files ending in .png. Hidden
   entries are skipped. */
static PetscErrorCode ListDir(const char dir[], PetscBool dirs, PetscInt *n, char ***names)
{
  DIR           *d;
  struct dirent *e;
  PetscInt       cap  = 16;
  PetscErrorCode ierr = 0;

  PetscFunctionBegin;
  *n = 0;
  d  = opendir(dir);
  PetscCheck(d, PETSC_COMM_SELF, PETSC_ERR_FILE_OPEN, "Cannot open folder %s", dir);
  ierr = PetscMalloc1(cap, names);
  if (ierr) closedir(d);
  PetscCall(ierr);
  while ((e = readdir(d))) {
    char        full[PETSC_MAX_PATH_LEN];
    struct stat st;
    size_t      len = strlen(e->d_name);

    if (e->d_name[0] == '.') continue;
    PetscCall(PetscSNPrintf(full, sizeof(full), "%s/%s", dir, e->d_name));
    if (stat(full, &st) != 0) continue;
    if (dirs ? !S_ISDIR(st.st_mode) : !(S_ISREG(st.st_mode) && len > 4 && !strcasecmp(e->d_name + len - 4, ".png"))) continue;
    if (*n == cap) {
      cap *= 2;
      ierr = PetscRealloc(cap * sizeof(char *), names);
    }
    if (!ierr) ierr = PetscStrallocpy(e->d_name, &(*names)[*n]);
    if (ierr) {
      closedir(d);
      PetscCall(FreeNames(*n, names));
      *n = 0;
      PetscCall(ierr);
    }
    (*n)++;
  }
  closedir(d);
  qsort(*names, (size_t)*n, sizeof(char *), CompareNames);
  PetscFunctionReturn(0);
}


typedef struct {
  PetscInt       ncls, nf;
  char         **cls, **files;
  unsigned char *pix;
} PngFolder;

static PetscErrorCode ReadPNGFolderInner(const char dir[], PngFolder *s, SanetRawImages *raw)
{
  PetscInt cap = 0;

  PetscFunctionBegin;
  PetscCall(ListDir(dir, PETSC_TRUE, &s->ncls, &s->cls));
  PetscCheck(s->ncls > 0, PETSC_COMM_SELF, PETSC_ERR_FILE_UNEXPECTED, "PNG folder %s has no class subfolders", dir);
  {
    size_t len = 1;
    for (PetscInt k = 0; k < s->ncls; k++) len += strlen(s->cls[k]) + 1;
    PetscCall(PetscCalloc1(len, &raw->classes));
    for (PetscInt k = 0; k < s->ncls; k++) {
      PetscCall(PetscStrlcat(raw->classes, s->cls[k], len));
      PetscCall(PetscStrlcat(raw->classes, "\n", len));
    }
  }
  for (PetscInt k = 0; k < s->ncls; k++) {
    char sub[PETSC_MAX_PATH_LEN];

    PetscCall(PetscSNPrintf(sub, sizeof(sub), "%s/%s", dir, s->cls[k]));
    PetscCall(ListDir(sub, PETSC_FALSE, &s->nf, &s->files));
    PetscCheck(s->nf > 0, PETSC_COMM_SELF, PETSC_ERR_FILE_UNEXPECTED, "Class folder %s contains no PNG files", sub);
    for (PetscInt i = 0; i < s->nf; i++) {
      char   path[PETSC_MAX_PATH_LEN];
      size_t per;

      PetscCall(PetscSNPrintf(path, sizeof(path), "%s/%s", sub, s->files[i]));
      PetscBool alpha;
      PetscCall(ReadPNG(path, &raw->H, &raw->W, &raw->C, &s->pix, &alpha));
      raw->nalpha += alpha;
      per = (size_t)raw->H * raw->W * raw->C;
      PetscCheck((uint64_t)(raw->N + 1) * per <= (uint64_t)PETSC_MAX_INT, PETSC_COMM_SELF, PETSC_ERR_FILE_UNEXPECTED, "PNG folder %s: too many pixels in total (at %s)", dir, path);
      if (raw->N == cap) {
        cap = cap ? 2 * cap : 64;
        PetscCall(PetscRealloc(cap * per, &raw->pixels));
        PetscCall(PetscRealloc(cap * sizeof(PetscInt), &raw->labels));
      }
      PetscCall(PetscMemcpy(raw->pixels + raw->N * per, s->pix, per));
      PetscCall(PetscFree(s->pix));
      raw->labels[raw->N++] = k;
    }
    PetscCall(FreeNames(s->nf, &s->files));
    s->nf = 0;
  }
  PetscFunctionReturn(0);
}

PetscErrorCode SanetReadPNGFolder(const char dir[], SanetRawImages *raw)
{
  PngFolder      s = {0, 0, NULL, NULL, NULL};
  PetscErrorCode ierr;

  PetscFunctionBegin;
  PetscCall(PetscMemzero(raw, sizeof(*raw)));
  ierr = ReadPNGFolderInner(dir, &s, raw);
  PetscCall(PetscFree(s.pix));
  if (s.files) PetscCall(FreeNames(s.nf, &s.files));
  if (s.cls) PetscCall(FreeNames(s.ncls, &s.cls));
  if (ierr) PetscCall(SanetRawImagesDestroy(raw)); /* nothing half-made is returned */
  PetscCall(ierr);
  PetscFunctionReturn(0);
}
