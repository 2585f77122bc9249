static const char help[] = "sanet-pictures: pictures of a sanet run as PNG files.\n\n"
                           "Usage: sanet-pictures -input DATA.h5 -output DIR [-per_cluster 8] [-patterns 40] [-zoom Z]\n"
                           "  -input DATA.h5     the input the run clustered (/images [N,H,W,C], /labels if any)\n"
                           "  -output DIR        the run's output directory. The stage files used are the ones\n"
                           "                     DIR/result.h5 lists (attribute stages), each checked against the\n"
                           "                     digest recorded there; patch size and stride come from the stage\n"
                           "                     files. The pictures are written there:\n"
                           "    DIR/clusters.png   a row per cluster (in class order when labels exist): its id and\n"
                           "                       size, then the n images nearest to its centre (mean of /features\n"
                           "                       over its members; Euclidean), nearest first\n"
                           "    DIR/confusion.png  the confusion matrix with counts: rows classes (names from the\n"
                           "                       input's class map when it has one), columns clusters ordered to\n"
                           "                       match the classes; cells shaded by their share of the class\n"
                           "    DIR/embedding.png  the head's features: the first two feature columns that change\n"
                           "                       sign (the non-trivial eigenvectors), a point per image coloured\n"
                           "                       by cluster, and beside it by class when labels exist\n"
                           "    DIR/spectrum.png   per procedure of each spectral layer its eigenvalues, the largest\n"
                           "                       gap marked; and the modularity of every candidate that the\n"
                           "                       automatic choices (-neig auto, -clusters auto) scored\n"
                           "    DIR/patterns.png   visual patterns of the first spectral layer on the images (patches\n"
                           "                       cut from -input, so undeskewed): k-means of its per-patch\n"
                           "                       features into P patterns, each the mean of its image patches\n"
                           "                       (contrast stretched), 8 per row\n"
                           "  -per_cluster n     images per cluster row (default 8)\n"
                           "  -patterns P        layer-1 patterns (default 40; 0: none)\n"
                           "  -pattern_images M  most images whose patches enter the pattern k-means (default 2000)\n"
                           "  -zoom Z            pixel magnification of images (default: 1, or more so that an\n"
                           "                     image is at least 48 pixels high; patterns at least 44)\n"
                           "  -seed S            seed of the pattern k-means (default 0)\n"
                           "Runs on one rank.\n\n";

#include "sanet/h5.h"
#include <png.h>
#include <stdlib.h>
#include <string.h>
#include <ctype.h>
#include <errno.h>
#include <unistd.h>

#define GAP 2 /* pixels between grid cells */

/* ------------------------------------------------------------------ HDF5 reading */
typedef struct {
  const char *path;
  hid_t       file, dset;
  hsize_t     dims[4];
  PetscBool   scale; /* integer pixels: divide by 255 */
} ImageFile;

/* A readable HDF5 file, or an error naming it (HDF5's own error stack silenced). */
static PetscErrorCode CheckHDF5File(const char opt[], const char path[])
{
  htri_t is = -1;

  PetscFunctionBegin;
  PetscCheck(!access(path, R_OK), PETSC_COMM_SELF, PETSC_ERR_FILE_OPEN, "%s %s: cannot read it: %s", opt, path, strerror(errno));
  H5E_BEGIN_TRY { is = H5Fis_hdf5(path); }
  H5E_END_TRY;
  PetscCheck(is > 0, PETSC_COMM_SELF, PETSC_ERR_FILE_UNEXPECTED, "%s %s is not an HDF5 file", opt, path);
  PetscFunctionReturn(0);
}

static PetscErrorCode ImageFileOpen(const char path[], ImageFile *f)
{
  hid_t       space, type;
  H5T_class_t cls;

  PetscFunctionBegin;
  f->path = path;
  PetscCall(CheckHDF5File("-input", path));
  SanetCallHDF5Id(f->file, H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT));
  PetscCheck(H5Lexists(f->file, "images", H5P_DEFAULT) > 0, PETSC_COMM_SELF, PETSC_ERR_FILE_UNEXPECTED, "-input %s has no /images dataset", path);
  SanetCallHDF5Id(f->dset, H5Dopen2(f->file, "images", H5P_DEFAULT));
  SanetCallHDF5Id(space, H5Dget_space(f->dset));
  PetscCheck(H5Sget_simple_extent_ndims(space) == 4, PETSC_COMM_SELF, PETSC_ERR_FILE_UNEXPECTED, "-input %s: /images must have 4 dimensions [N,H,W,C]", path);
  SanetCallHDF5(H5Sget_simple_extent_dims(space, f->dims, NULL));
  SanetCallHDF5(H5Sclose(space));
  PetscCheck(f->dims[0] >= 1 && f->dims[1] >= 1 && f->dims[2] >= 1 && f->dims[3] >= 1, PETSC_COMM_SELF, PETSC_ERR_FILE_UNEXPECTED, "-input %s: /images has an empty dimension", path);
  SanetCallHDF5Id(type, H5Dget_type(f->dset));
  cls = H5Tget_class(type);
  SanetCallHDF5(H5Tclose(type));
  PetscCheck(cls == H5T_INTEGER || cls == H5T_FLOAT, PETSC_COMM_SELF, PETSC_ERR_FILE_UNEXPECTED, "-input %s: /images must be uint8 or float", path);
  f->scale = (PetscBool)(cls == H5T_INTEGER);
  PetscFunctionReturn(0);
}

static PetscErrorCode ImageFileClose(ImageFile *f)
{
  PetscFunctionBegin;
  SanetCallHDF5(H5Dclose(f->dset));
  SanetCallHDF5(H5Fclose(f->file));
  PetscFunctionReturn(0);
}

/* Images [start, start+count) as doubles in [0,1], layout [img][row][col][chan]. */
static PetscErrorCode ImageFileRead(ImageFile *f, PetscInt start, PetscInt count, PetscReal *buf)
{
  hid_t   fspace, mspace;
  hsize_t off[4] = {(hsize_t)start, 0, 0, 0}, cnt[4] = {(hsize_t)count, f->dims[1], f->dims[2], f->dims[3]};
  size_t  len    = (size_t)count * f->dims[1] * f->dims[2] * f->dims[3];

  PetscFunctionBegin;
  PetscCheck(start >= 0 && count >= 1 && (hsize_t)(start + count) <= f->dims[0], PETSC_COMM_SELF, PETSC_ERR_ARG_OUTOFRANGE, "-input %s: images %" PetscInt_FMT "..%" PetscInt_FMT " outside its %llu", f->path, start, start + count - 1, (unsigned long long)f->dims[0]);
  SanetCallHDF5Id(fspace, H5Dget_space(f->dset));
  SanetCallHDF5(H5Sselect_hyperslab(fspace, H5S_SELECT_SET, off, NULL, cnt, NULL));
  SanetCallHDF5Id(mspace, H5Screate_simple(4, cnt, NULL));
  SanetCallHDF5(H5Dread(f->dset, H5T_NATIVE_DOUBLE, mspace, fspace, H5P_DEFAULT, buf));
  SanetCallHDF5(H5Sclose(mspace));
  SanetCallHDF5(H5Sclose(fspace));
  for (size_t i = 0; i < len; i++) {
    if (f->scale) buf[i] /= 255.0;
    buf[i] = PetscMin(PetscMax(buf[i], 0.0), 1.0);
  }
  PetscFunctionReturn(0);
}

/* A whole 1-D or 2-D dataset as doubles (or ints); dims returned. */
static PetscErrorCode ReadDataset(const char path[], hid_t file, const char name[], hid_t memtype, int ndims, hsize_t dims[], void **buf, size_t elsize)
{
  hid_t  dset, space;
  size_t n = 1;

  PetscFunctionBegin;
  PetscCheck(H5Lexists(file, name, H5P_DEFAULT) > 0, PETSC_COMM_SELF, PETSC_ERR_FILE_UNEXPECTED, "%s has no /%s dataset", path, name);
  SanetCallHDF5Id(dset, H5Dopen2(file, name, H5P_DEFAULT));
  SanetCallHDF5Id(space, H5Dget_space(dset));
  PetscCheck(H5Sget_simple_extent_ndims(space) == ndims, PETSC_COMM_SELF, PETSC_ERR_FILE_UNEXPECTED, "%s: /%s must have %d dimension%s", path, name, ndims, ndims > 1 ? "s" : "");
  SanetCallHDF5(H5Sget_simple_extent_dims(space, dims, NULL));
  for (int d = 0; d < ndims; d++) n *= dims[d];
  PetscCheck(n >= 1, PETSC_COMM_SELF, PETSC_ERR_FILE_UNEXPECTED, "%s: /%s is empty", path, name);
  PetscCall(PetscMalloc(n * elsize, buf));
  SanetCallHDF5(H5Dread(dset, memtype, H5S_ALL, H5S_ALL, H5P_DEFAULT, *buf));
  SanetCallHDF5(H5Sclose(space));
  SanetCallHDF5(H5Dclose(dset));
  PetscFunctionReturn(0);
}

/* ------------------------------------------------------------------ canvas and PNG */
typedef struct {
  PetscInt       w, h;
  unsigned char *rgb;
} Canvas;

static PetscErrorCode CanvasCreate(PetscInt w, PetscInt h, unsigned char fill, Canvas *cv)
{
  PetscFunctionBegin;
  PetscCheck(w >= 1 && h >= 1 && w <= 65535 && h <= 65535, PETSC_COMM_SELF, PETSC_ERR_ARG_OUTOFRANGE, "Picture of %" PetscInt_FMT "x%" PetscInt_FMT " pixels, past the 65535 that PNG writers handle: lower -per_cluster, -patterns or -zoom (or the cluster count)", w, h);
  cv->w = w;
  cv->h = h;
  PetscCall(PetscMalloc1((size_t)w * h * 3, &cv->rgb));
  memset(cv->rgb, fill, (size_t)w * h * 3);
  PetscFunctionReturn(0);
}

/* Draws an hh x ww x c image (values in [0,1]) at (x0,y0) magnified zoom times; one
   channel is grey, three or more give RGB from the first three, two show the first. */
static void CanvasDraw(Canvas *cv, PetscInt x0, PetscInt y0, const PetscReal *img, PetscInt hh, PetscInt ww, PetscInt c, PetscInt zoom)
{
  for (PetscInt r = 0; r < hh * zoom; r++)
    for (PetscInt s = 0; s < ww * zoom; s++) {
      const PetscReal *px = img + ((size_t)(r / zoom) * ww + s / zoom) * c;
      unsigned char   *o  = cv->rgb + ((size_t)(y0 + r) * cv->w + x0 + s) * 3;
      for (int ch = 0; ch < 3; ch++) o[ch] = (unsigned char)(255.0 * px[c >= 3 ? ch : 0] + 0.5);
    }
}

static PetscErrorCode CanvasWritePNG(const Canvas *cv, const char path[])
{
  char                 tmp[PETSC_MAX_PATH_LEN];
  FILE                *fp;
  png_structp          png;
  png_infop            info;
  volatile PetscBool   failed = PETSC_FALSE;

  PetscFunctionBegin;
  PetscCall(PetscSNPrintf(tmp, sizeof(tmp), "%s.tmp", path));
  fp = fopen(tmp, "wb");
  PetscCheck(fp, PETSC_COMM_SELF, PETSC_ERR_FILE_OPEN, "Cannot write %s: %s", tmp, strerror(errno));
  png  = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
  info = png ? png_create_info_struct(png) : NULL;
  if (!png || !info) {
    png_destroy_write_struct(png ? &png : NULL, NULL);
    fclose(fp);
    remove(tmp);
    SETERRQ(PETSC_COMM_SELF, PETSC_ERR_MEM, "libpng could not start writing %s", path);
  }
  if (setjmp(png_jmpbuf(png))) {
    failed = PETSC_TRUE;
  } else {
    png_init_io(png, fp);
    png_set_IHDR(png, info, (png_uint_32)cv->w, (png_uint_32)cv->h, 8, PNG_COLOR_TYPE_RGB, PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    png_write_info(png, info);
    for (PetscInt r = 0; r < cv->h; r++) png_write_row(png, cv->rgb + (size_t)r * cv->w * 3);
    png_write_end(png, NULL);
  }
  png_destroy_write_struct(&png, &info);
  if (fclose(fp)) failed = PETSC_TRUE;
  if (failed) remove(tmp);
  PetscCheck(!failed, PETSC_COMM_SELF, PETSC_ERR_FILE_WRITE, "libpng failed writing %s (disk full?)", path);
  PetscCheck(!rename(tmp, path), PETSC_COMM_SELF, PETSC_ERR_FILE_WRITE, "Cannot rename %s to %s: %s", tmp, path, strerror(errno));
  PetscFunctionReturn(0);
}

static void CanvasFillRGB(Canvas *cv, PetscInt x0, PetscInt y0, PetscInt w, PetscInt h, const unsigned char rgb[3])
{
  for (PetscInt r = PetscMax(y0, 0); r < PetscMin(y0 + h, cv->h); r++)
    for (PetscInt s = PetscMax(x0, 0); s < PetscMin(x0 + w, cv->w); s++) memcpy(cv->rgb + ((size_t)r * cv->w + s) * 3, rgb, 3);
}

static const unsigned char BLACK[3] = {0, 0, 0}, WHITE[3] = {255, 255, 255}, GREY[3] = {160, 160, 160}, RED[3] = {200, 30, 30};

/* A 5x7 pixel font: a byte per row, bit 4 the leftmost column. Lower case is drawn as
   upper case; a character without a glyph as '?'. */
static const char          glyph_chars[]   = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ -.:/=()+,_%?";
static const unsigned char glyph_rows[][7] = {
  {0x0E, 0x11, 0x13, 0x15, 0x19, 0x11, 0x0E}, {0x04, 0x0C, 0x04, 0x04, 0x04, 0x04, 0x0E}, {0x0E, 0x11, 0x01, 0x02, 0x04, 0x08, 0x1F}, {0x1F, 0x02, 0x04, 0x02, 0x01, 0x11, 0x0E},
  {0x02, 0x06, 0x0A, 0x12, 0x1F, 0x02, 0x02}, {0x1F, 0x10, 0x1E, 0x01, 0x01, 0x11, 0x0E}, {0x06, 0x08, 0x10, 0x1E, 0x11, 0x11, 0x0E}, {0x1F, 0x01, 0x02, 0x04, 0x08, 0x08, 0x08},
  {0x0E, 0x11, 0x11, 0x0E, 0x11, 0x11, 0x0E}, {0x0E, 0x11, 0x11, 0x0F, 0x01, 0x02, 0x0C}, {0x0E, 0x11, 0x11, 0x1F, 0x11, 0x11, 0x11}, {0x1E, 0x11, 0x11, 0x1E, 0x11, 0x11, 0x1E},
  {0x0E, 0x11, 0x10, 0x10, 0x10, 0x11, 0x0E}, {0x1C, 0x12, 0x11, 0x11, 0x11, 0x12, 0x1C}, {0x1F, 0x10, 0x10, 0x1E, 0x10, 0x10, 0x1F}, {0x1F, 0x10, 0x10, 0x1E, 0x10, 0x10, 0x10},
  {0x0E, 0x11, 0x10, 0x17, 0x11, 0x11, 0x0F}, {0x11, 0x11, 0x11, 0x1F, 0x11, 0x11, 0x11}, {0x0E, 0x04, 0x04, 0x04, 0x04, 0x04, 0x0E}, {0x07, 0x02, 0x02, 0x02, 0x02, 0x12, 0x0C},
  {0x11, 0x12, 0x14, 0x18, 0x14, 0x12, 0x11}, {0x10, 0x10, 0x10, 0x10, 0x10, 0x10, 0x1F}, {0x11, 0x1B, 0x15, 0x15, 0x11, 0x11, 0x11}, {0x11, 0x11, 0x19, 0x15, 0x13, 0x11, 0x11},
  {0x0E, 0x11, 0x11, 0x11, 0x11, 0x11, 0x0E}, {0x1E, 0x11, 0x11, 0x1E, 0x10, 0x10, 0x10}, {0x0E, 0x11, 0x11, 0x11, 0x15, 0x12, 0x0D}, {0x1E, 0x11, 0x11, 0x1E, 0x14, 0x12, 0x11},
  {0x0F, 0x10, 0x10, 0x0E, 0x01, 0x01, 0x1E}, {0x1F, 0x04, 0x04, 0x04, 0x04, 0x04, 0x04}, {0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x0E}, {0x11, 0x11, 0x11, 0x11, 0x11, 0x0A, 0x04},
  {0x11, 0x11, 0x11, 0x15, 0x15, 0x15, 0x0A}, {0x11, 0x11, 0x0A, 0x04, 0x0A, 0x11, 0x11}, {0x11, 0x11, 0x11, 0x0A, 0x04, 0x04, 0x04}, {0x1F, 0x01, 0x02, 0x04, 0x08, 0x10, 0x1F},
  {0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00}, {0x00, 0x00, 0x00, 0x1F, 0x00, 0x00, 0x00}, {0x00, 0x00, 0x00, 0x00, 0x00, 0x0C, 0x0C}, {0x00, 0x0C, 0x0C, 0x00, 0x0C, 0x0C, 0x00},
  {0x01, 0x01, 0x02, 0x04, 0x08, 0x10, 0x10}, {0x00, 0x00, 0x1F, 0x00, 0x1F, 0x00, 0x00}, {0x02, 0x04, 0x08, 0x08, 0x08, 0x04, 0x02}, {0x08, 0x04, 0x02, 0x02, 0x02, 0x04, 0x08},
  {0x00, 0x04, 0x04, 0x1F, 0x04, 0x04, 0x00}, {0x00, 0x00, 0x00, 0x00, 0x0C, 0x04, 0x08}, {0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x1F}, {0x19, 0x19, 0x02, 0x04, 0x08, 0x13, 0x13},
  {0x0E, 0x11, 0x01, 0x02, 0x04, 0x00, 0x04},
};
#define GLYPH_W 6 /* advance in font pixels: 5 columns and a space */
#define GLYPH_H 7

static PetscInt TextWidth(const char s[], PetscInt scale)
{
  size_t n = strlen(s);
  return n ? (PetscInt)n * GLYPH_W * scale - scale : 0;
}

/* Draws s with its top left corner at (x0,y0), scale canvas pixels per font pixel. */
static void CanvasText(Canvas *cv, PetscInt x0, PetscInt y0, const char s[], PetscInt scale, const unsigned char rgb[3])
{
  const size_t nglyph = sizeof(glyph_rows) / sizeof(glyph_rows[0]);
  for (const char *p = s; *p; p++, x0 += GLYPH_W * scale) {
    const char          *at = strchr(glyph_chars, toupper((unsigned char)*p));
    const unsigned char *g  = glyph_rows[at ? (size_t)(at - glyph_chars) : nglyph - 1];
    for (PetscInt r = 0; r < GLYPH_H; r++)
      for (PetscInt col = 0; col < 5; col++)
        if ((g[r] >> (4 - col)) & 1) CanvasFillRGB(cv, x0 + col * scale, y0 + r * scale, scale, scale, rgb);
  }
}

static void CanvasLine(Canvas *cv, PetscInt x0, PetscInt y0, PetscInt x1, PetscInt y1, const unsigned char rgb[3])
{
  PetscInt steps = PetscMax(PetscAbsInt(x1 - x0), PetscAbsInt(y1 - y0));
  for (PetscInt t = 0; t <= steps; t++) CanvasFillRGB(cv, x0 + (steps ? (x1 - x0) * t / steps : 0), y0 + (steps ? (y1 - y0) * t / steps : 0), 1, 1, rgb);
}

/* Distinct colours for ids: hues a golden angle apart, two brightness levels. */
static void IdColour(PetscInt id, unsigned char rgb[3])
{
  PetscReal h = PetscFmodReal(0.61803398875 * (PetscReal)id, 1.0) * 6.0, v = id % 2 ? 0.65 : 0.9, s = 0.8, f = h - PetscFloorReal(h);
  PetscReal p = v * (1 - s), q = v * (1 - s * f), t = v * (1 - s * (1 - f)), c[3];
  switch ((int)h) {
  case 0: c[0] = v, c[1] = t, c[2] = p; break;
  case 1: c[0] = q, c[1] = v, c[2] = p; break;
  case 2: c[0] = p, c[1] = v, c[2] = t; break;
  case 3: c[0] = p, c[1] = q, c[2] = v; break;
  case 4: c[0] = t, c[1] = p, c[2] = v; break;
  default: c[0] = v, c[1] = p, c[2] = q; break;
  }
  for (int k = 0; k < 3; k++) rgb[k] = (unsigned char)(255 * c[k] + 0.5);
}

/* ------------------------------------------------------------------ the run's record */
/* A string attribute (fixed or variable length) as a new string, or NULL when absent. */
static PetscErrorCode ReadStringAttribute(const char path[], hid_t obj, const char name[], char **value)
{
  hid_t  attr, type, memtype;
  size_t len;

  PetscFunctionBegin;
  *value = NULL;
  if (H5Aexists(obj, name) <= 0) PetscFunctionReturn(0);
  SanetCallHDF5Id(attr, H5Aopen(obj, name, H5P_DEFAULT));
  SanetCallHDF5Id(type, H5Aget_type(attr));
  PetscCheck(H5Tget_class(type) == H5T_STRING, PETSC_COMM_SELF, PETSC_ERR_FILE_UNEXPECTED, "%s: attribute %s is not a string", path, name);
  if (H5Tis_variable_str(type) > 0) {
    char *v = NULL;
    SanetCallHDF5Id(memtype, H5Tcopy(H5T_C_S1));
    SanetCallHDF5(H5Tset_size(memtype, H5T_VARIABLE));
    SanetCallHDF5(H5Aread(attr, memtype, &v));
    PetscCall(PetscStrallocpy(v ? v : "", value));
    if (v) H5free_memory(v);
    SanetCallHDF5(H5Tclose(memtype));
  } else {
    len = H5Tget_size(type);
    PetscCall(PetscCalloc1(len + 1, value));
    SanetCallHDF5(H5Aread(attr, type, *value));
  }
  SanetCallHDF5(H5Tclose(type));
  SanetCallHDF5(H5Aclose(attr));
  PetscFunctionReturn(0);
}

static PetscErrorCode ReadIntAttribute(hid_t obj, const char name[], int64_t *value, PetscBool *found)
{
  hid_t attr;

  PetscFunctionBegin;
  *found = (PetscBool)(H5Aexists(obj, name) > 0);
  if (!*found) PetscFunctionReturn(0);
  SanetCallHDF5Id(attr, H5Aopen(obj, name, H5P_DEFAULT));
  SanetCallHDF5(H5Aread(attr, H5T_NATIVE_INT64, value));
  SanetCallHDF5(H5Aclose(attr));
  PetscFunctionReturn(0);
}

typedef struct {
  char      path[PETSC_MAX_PATH_LEN];
  PetscBool patches;     /* cuts patches: patch_h, patch_w, patch_stride, patch_pad */
  int64_t   patch[4], input[3];
  char     *procedures;  /* a line per procedure of a spectral layer, or NULL */
} StageInfo;

/* The stage files that DIR/result.h5 lists, in network order. A listed file that is
   missing or whose digest differs from the record (left by another run) is named and
   not used: it is not the layer that made this result. */
static PetscErrorCode ReadStages(const char dir[], const char result[], hid_t rfile, PetscInt *nstages, StageInfo **stages)
{
  char     *list, *line, *save = NULL;
  PetscInt  n = 0, cap = 0;

  PetscFunctionBegin;
  *nstages = 0;
  *stages  = NULL;
  PetscCall(ReadStringAttribute(result, rfile, "stages", &list));
  if (!list) {
    PetscCall(PetscPrintf(PETSC_COMM_SELF, "%s lists no stage files (attribute stages): no spectrum.png, no patterns.png\n", result));
    PetscFunctionReturn(0);
  }
  for (const char *c = list; *c; c++) cap += *c == '\n';
  PetscCall(PetscCalloc1(cap + 1, stages));
  for (line = strtok_r(list, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
    char       file[PETSC_MAX_PATH_LEN], want[32], *have;
    StageInfo *s = &(*stages)[n];
    hid_t      f;
    PetscBool  found;
    int64_t    v;

    PetscCheck(sscanf(line, "%1023s %31s", file, want) == 2, PETSC_COMM_SELF, PETSC_ERR_FILE_UNEXPECTED, "%s: attribute stages has a line '%s', not 'FILE DIGEST'", result, line);
    PetscCall(PetscSNPrintf(s->path, sizeof(s->path), "%s/%s", dir, file));
    if (access(s->path, R_OK)) {
      PetscCall(PetscPrintf(PETSC_COMM_SELF, "%s: listed in %s but cannot be read (%s): not used\n", s->path, result, strerror(errno)));
      continue;
    }
    PetscCall(CheckHDF5File("stage file", s->path));
    SanetCallHDF5Id(f, H5Fopen(s->path, H5F_ACC_RDONLY, H5P_DEFAULT));
    PetscCall(ReadStringAttribute(s->path, f, "digest", &have));
    if (!have || strcmp(have, want)) {
      PetscCall(PetscPrintf(PETSC_COMM_SELF, "%s: digest %s, but %s was made from %s (the file is from another run): not used\n", s->path, have ? have : "(none)", result, want));
      PetscCall(PetscFree(have));
      SanetCallHDF5(H5Fclose(f));
      continue;
    }
    PetscCall(PetscFree(have));
    s->patches = PETSC_TRUE;
    for (int d = 0; d < 4; d++) {
      const char *name[4] = {"patch_h", "patch_w", "patch_stride", "patch_pad"};
      PetscCall(ReadIntAttribute(f, name[d], &s->patch[d], &found));
      s->patches = (PetscBool)(s->patches && found);
    }
    for (int d = 0; d < 3; d++) {
      const char *name[3] = {"input_h", "input_w", "input_c"};
      PetscCall(ReadIntAttribute(f, name[d], &v, &found));
      s->input[d] = found ? v : -1;
    }
    PetscCall(ReadStringAttribute(s->path, f, "procedures", &s->procedures));
    SanetCallHDF5(H5Fclose(f));
    PetscCall(PetscPrintf(PETSC_COMM_SELF, "stage file of this run: %s\n", s->path));
    n++;
  }
  PetscCall(PetscFree(list));
  *nstages = n;
  PetscFunctionReturn(0);
}

/* What the pictures share: result.h5's labels and features, the input's labels. */
typedef struct {
  PetscInt   N, K, D, nclasses;
  int       *cluster, *truth; /* truth NULL without /labels */
  PetscReal *feat;
  char     **classname;       /* the input's class map (NULL without one), nclasses entries */
  PetscInt  *order;           /* clusters in display order (class order when labels exist) */
  PetscInt  *match;           /* the class matched to each cluster, -1 if none */
} RunResult;

static PetscErrorCode RunResultRead(ImageFile *img, const char result[], hid_t rfile, RunResult *rr)
{
  hsize_t ldims[1], fdims[2];

  PetscFunctionBegin;
  PetscCall(PetscMemzero(rr, sizeof(*rr)));
  rr->N = (PetscInt)img->dims[0];
  PetscCall(ReadDataset(result, rfile, "labels", H5T_NATIVE_INT, 1, ldims, (void **)&rr->cluster, sizeof(int)));
  PetscCall(ReadDataset(result, rfile, "features", H5T_NATIVE_DOUBLE, 2, fdims, (void **)&rr->feat, sizeof(PetscReal)));
  PetscCheck((PetscInt)ldims[0] == rr->N, PETSC_COMM_SELF, PETSC_ERR_FILE_UNEXPECTED, "%s: /labels has %llu entries but -input has %" PetscInt_FMT " images: not the run of this input", result, (unsigned long long)ldims[0], rr->N);
  PetscCheck((PetscInt)fdims[0] == rr->N, PETSC_COMM_SELF, PETSC_ERR_FILE_UNEXPECTED, "%s: /features has %llu rows but -input has %" PetscInt_FMT " images", result, (unsigned long long)fdims[0], rr->N);
  rr->D = (PetscInt)fdims[1];
  for (PetscInt i = 0; i < rr->N; i++) {
    PetscCheck(rr->cluster[i] >= 0 && rr->cluster[i] < 1000000, PETSC_COMM_SELF, PETSC_ERR_FILE_UNEXPECTED, "%s: /labels[%" PetscInt_FMT "] = %d is not a cluster id", result, i, rr->cluster[i]);
    rr->K = PetscMax(rr->K, (PetscInt)rr->cluster[i] + 1);
  }
  if (H5Lexists(img->file, "labels", H5P_DEFAULT) > 0) {
    hid_t dset;
    char *names;
    PetscCall(ReadDataset(img->path, img->file, "labels", H5T_NATIVE_INT, 1, ldims, (void **)&rr->truth, sizeof(int)));
    PetscCheck((PetscInt)ldims[0] == rr->N, PETSC_COMM_SELF, PETSC_ERR_FILE_UNEXPECTED, "-input %s: /labels has %llu entries for %" PetscInt_FMT " images", img->path, (unsigned long long)ldims[0], rr->N);
    for (PetscInt i = 0; i < rr->N; i++) {
      PetscCheck(rr->truth[i] >= 0 && rr->truth[i] < 1000000, PETSC_COMM_SELF, PETSC_ERR_FILE_UNEXPECTED, "-input %s: /labels[%" PetscInt_FMT "] = %d is not a class id", img->path, i, rr->truth[i]);
      rr->nclasses = PetscMax(rr->nclasses, (PetscInt)rr->truth[i] + 1);
    }
    SanetCallHDF5Id(dset, H5Dopen2(img->file, "labels", H5P_DEFAULT));
    PetscCall(ReadStringAttribute(img->path, dset, "classes", &names));
    SanetCallHDF5(H5Dclose(dset));
    if (names) {
      char *save = NULL, *line = strtok_r(names, "\n", &save);
      PetscCall(PetscCalloc1(rr->nclasses, &rr->classname));
      for (PetscInt a = 0; a < rr->nclasses && line; a++, line = strtok_r(NULL, "\n", &save)) PetscCall(PetscStrallocpy(line, &rr->classname[a]));
      PetscCall(PetscFree(names));
    }
  }
  PetscCall(PetscMalloc2(rr->K, &rr->order, rr->K, &rr->match));
  for (PetscInt k = 0; k < rr->K; k++) {
    rr->order[k] = k;
    rr->match[k] = -1;
  }
  if (rr->truth) {
    /* one-to-one matching of classes to clusters that covers the most images (ACC's),
       over the classes present */
    PetscInt  *row, npresent = 0, n, *assign, placed = 0;
    PetscReal *w;
    PetscBool *used;
    PetscCall(PetscMalloc1(rr->nclasses, &row));
    for (PetscInt a = 0; a < rr->nclasses; a++) row[a] = -1;
    for (PetscInt i = 0; i < rr->N; i++)
      if (row[rr->truth[i]] < 0) row[rr->truth[i]] = 0;
    for (PetscInt a = 0; a < rr->nclasses; a++)
      if (!row[a]) row[a] = npresent++;
    n = PetscMax(npresent, rr->K);
    if (n > 4000) {
      PetscCall(PetscPrintf(PETSC_COMM_SELF, "%" PetscInt_FMT " classes and %" PetscInt_FMT " clusters: too many to match; clusters in id order\n", npresent, rr->K));
    } else {
      PetscCall(PetscCalloc3((size_t)n * n, &w, n, &assign, rr->K, &used));
      for (PetscInt i = 0; i < rr->N; i++) w[(size_t)row[rr->truth[i]] * n + rr->cluster[i]] += 1;
      PetscCall(SanetHungarianMax(n, w, assign));
      for (PetscInt a = 0; a < rr->nclasses; a++) {
        PetscInt r = row[a];
        if (r < 0 || assign[r] >= rr->K || w[(size_t)r * n + assign[r]] <= 0) continue;
        rr->match[assign[r]] = a;
        used[assign[r]]      = PETSC_TRUE;
        rr->order[placed++]  = assign[r];
      }
      for (PetscInt k = 0; k < rr->K; k++)
        if (!used[k]) rr->order[placed++] = k;
      PetscCall(PetscFree3(w, assign, used));
    }
    PetscCall(PetscFree(row));
  }
  PetscFunctionReturn(0);
}

static PetscErrorCode RunResultDestroy(RunResult *rr)
{
  PetscFunctionBegin;
  for (PetscInt a = 0; rr->classname && a < rr->nclasses; a++) PetscCall(PetscFree(rr->classname[a]));
  PetscCall(PetscFree(rr->classname));
  PetscCall(PetscFree2(rr->order, rr->match));
  PetscCall(PetscFree(rr->cluster));
  PetscCall(PetscFree(rr->truth));
  PetscCall(PetscFree(rr->feat));
  PetscFunctionReturn(0);
}

/* The colour of a cluster: its matched class's, so that the two embedding panels agree. */
static void ClusterColour(const RunResult *rr, PetscInt k, unsigned char rgb[3])
{
  IdColour(rr->match[k] >= 0 ? rr->match[k] : PetscMax(rr->nclasses, rr->K) + k, rgb);
}

/* ------------------------------------------------------------------ (a) clusters */
typedef struct {
  PetscReal d;
  PetscInt  i;
} DistIndex;

static int DistIndexCompare(const void *a, const void *b)
{
  const DistIndex *x = (const DistIndex *)a, *y = (const DistIndex *)b;
  if (x->d != y->d) return x->d < y->d ? -1 : 1;
  return x->i < y->i ? -1 : (x->i > y->i);
}

#define TEXT 2 /* font pixels are 2x2 canvas pixels: 14-pixel-high text */

static PetscErrorCode PictureClusters(ImageFile *img, const RunResult *rr, PetscInt per, PetscInt zoom, const char out[])
{
  const PetscInt N = rr->N, K = rr->K, D = rr->D, H = (PetscInt)img->dims[1], W = (PetscInt)img->dims[2], C = (PetscInt)img->dims[3];
  PetscReal     *centre, *pix;
  PetscInt      *count, labelw = 0, rowh = PetscMax(H * zoom, 2 * GLYPH_H * TEXT + 6);
  DistIndex     *di;
  Canvas         cv;
  char           text[32];

  PetscFunctionBegin;
  PetscCall(PetscCalloc2((size_t)K * D, &centre, K, &count));
  for (PetscInt i = 0; i < N; i++) {
    count[rr->cluster[i]]++;
    for (PetscInt d = 0; d < D; d++) centre[(size_t)rr->cluster[i] * D + d] += rr->feat[(size_t)i * D + d];
  }
  for (PetscInt k = 0; k < K; k++) {
    for (PetscInt d = 0; d < D && count[k]; d++) centre[(size_t)k * D + d] /= count[k];
    PetscCall(PetscSNPrintf(text, sizeof(text), "%" PetscInt_FMT, PetscMax(count[k], k))); /* the id is drawn above the size */
    labelw = PetscMax(labelw, TextWidth(text, TEXT) + 8);
  }
  /* a row: the cluster id over its size, then its images */
  PetscCall(CanvasCreate(labelw + per * (W * zoom + GAP) + GAP, K * (rowh + GAP) + GAP, 255, &cv));
  PetscCall(PetscMalloc2(N, &di, (size_t)H * W * C, &pix));
  for (PetscInt r = 0; r < K; r++) {
    const PetscInt k = rr->order[r], y = GAP + r * (rowh + GAP);
    unsigned char  rgb[3];
    PetscInt       n = 0;
    for (PetscInt i = 0; i < N; i++) {
      PetscReal s = 0;
      if (rr->cluster[i] != k) continue;
      for (PetscInt d = 0; d < D; d++) s += PetscSqr(rr->feat[(size_t)i * D + d] - centre[(size_t)k * D + d]);
      di[n].d   = s;
      di[n++].i = i;
    }
    qsort(di, (size_t)n, sizeof(DistIndex), DistIndexCompare);
    ClusterColour(rr, k, rgb);
    CanvasFillRGB(&cv, 0, y, 4, rowh, rgb);
    PetscCall(PetscSNPrintf(text, sizeof(text), "%" PetscInt_FMT, k));
    CanvasText(&cv, 6, y + 2, text, TEXT, BLACK);
    PetscCall(PetscSNPrintf(text, sizeof(text), "%" PetscInt_FMT, n));
    CanvasText(&cv, 6, y + 4 + GLYPH_H * TEXT, text, TEXT, GREY);
    PetscCall(PetscPrintf(PETSC_COMM_SELF, "cluster %" PetscInt_FMT ": %" PetscInt_FMT " images; nearest to the centre:", k, n));
    for (PetscInt j = 0; j < PetscMin(n, per); j++) {
      PetscCall(ImageFileRead(img, di[j].i, 1, pix));
      CanvasDraw(&cv, labelw + GAP + j * (W * zoom + GAP), y, pix, H, W, C, zoom);
      PetscCall(PetscPrintf(PETSC_COMM_SELF, " %" PetscInt_FMT, di[j].i));
    }
    PetscCall(PetscPrintf(PETSC_COMM_SELF, "\n"));
  }
  PetscCall(CanvasWritePNG(&cv, out));
  PetscCall(PetscPrintf(PETSC_COMM_SELF, "wrote %s: %" PetscInt_FMT " clusters x %" PetscInt_FMT " images%s, %" PetscInt_FMT "x%" PetscInt_FMT " pixels\n", out, K, per, rr->truth ? " (rows in class order)" : "", cv.w, cv.h));
  PetscCall(PetscFree(cv.rgb));
  PetscCall(PetscFree2(di, pix));
  PetscCall(PetscFree2(centre, count));
  PetscFunctionReturn(0);
}

/* ------------------------------------------------------------------ (b) confusion */
static PetscErrorCode PictureConfusion(const RunResult *rr, const char out[])
{
  const PetscInt K = rr->K, nc = rr->nclasses;
  PetscInt      *conf, *rowsum, *rows, nrows = 0, cmax = 0, matched = 0, cellw, cellh = GLYPH_H * TEXT + 10, labelw, top, left;
  char           text[64], **rowlabel;
  const char    *title = "CLUSTERS (ORDERED TO MATCH THE CLASSES)";
  Canvas         cv;

  PetscFunctionBegin;
  PetscCall(PetscCalloc3((size_t)nc * K, &conf, nc, &rowsum, nc, &rows));
  for (PetscInt i = 0; i < rr->N; i++) {
    conf[(size_t)rr->truth[i] * K + rr->cluster[i]]++;
    rowsum[rr->truth[i]]++;
  }
  for (PetscInt a = 0; a < nc; a++)
    if (rowsum[a]) rows[nrows++] = a; /* label values that no image has are not classes */
  for (size_t e = 0; e < (size_t)nc * K; e++) cmax = PetscMax(cmax, conf[e]);
  PetscCall(PetscSNPrintf(text, sizeof(text), "%" PetscInt_FMT, PetscMax(cmax, K - 1)));
  cellw = TextWidth(text, TEXT) + 12;
  PetscCall(PetscCalloc1(nrows, &rowlabel));
  labelw = TextWidth("CLASS", TEXT);
  for (PetscInt r = 0; r < nrows; r++) {
    const PetscInt a = rows[r];
    if (rr->classname && rr->classname[a]) PetscCall(PetscSNPrintf(text, 17, "%s", rr->classname[a])); /* names cut at 16 */
    else PetscCall(PetscSNPrintf(text, sizeof(text), "%" PetscInt_FMT, a));
    PetscCall(PetscStrallocpy(text, &rowlabel[r]));
    labelw = PetscMax(labelw, TextWidth(text, TEXT));
  }
  left = labelw + 12;
  top  = 2 * cellh + 4;
  PetscCall(CanvasCreate(PetscMax(left + K * cellw, TextWidth(title, TEXT) + left) + 6, top + nrows * cellh + 6, 255, &cv));
  CanvasText(&cv, left, 6, title, TEXT, BLACK);
  CanvasText(&cv, 6, top - cellh + 5, "CLASS", TEXT, BLACK);
  for (PetscInt j = 0; j < K; j++) {
    PetscCall(PetscSNPrintf(text, sizeof(text), "%" PetscInt_FMT, rr->order[j]));
    CanvasText(&cv, left + j * cellw + (cellw - TextWidth(text, TEXT)) / 2, top - cellh + 5, text, TEXT, BLACK);
  }
  for (PetscInt r = 0; r < nrows; r++) {
    const PetscInt a = rows[r], y = top + r * cellh;
    CanvasText(&cv, 6, y + 5, rowlabel[r], TEXT, BLACK);
    for (PetscInt j = 0; j < K; j++) {
      const PetscInt k = rr->order[j], v = conf[(size_t)a * K + k], x = left + j * cellw;
      PetscReal      share = (PetscReal)v / rowsum[a];
      unsigned char  bg[3] = {(unsigned char)(255 - 190 * share), (unsigned char)(255 - 150 * share), 255};
      CanvasFillRGB(&cv, x, y, cellw, cellh, bg);
      if (rr->match[k] == a) {
        /* the matched cell: framed in red; these cells hold ACC's images */
        CanvasFillRGB(&cv, x, y, cellw, 2, RED);
        CanvasFillRGB(&cv, x, y + cellh - 2, cellw, 2, RED);
        CanvasFillRGB(&cv, x, y, 2, cellh, RED);
        CanvasFillRGB(&cv, x + cellw - 2, y, 2, cellh, RED);
        matched += v;
      }
      if (v) {
        PetscCall(PetscSNPrintf(text, sizeof(text), "%" PetscInt_FMT, v));
        CanvasText(&cv, x + (cellw - TextWidth(text, TEXT)) / 2, y + 5, text, TEXT, share > 0.55 ? WHITE : BLACK);
      }
    }
    CanvasFillRGB(&cv, left, y, K * cellw, 1, GREY);
    PetscCall(PetscFree(rowlabel[r]));
  }
  CanvasFillRGB(&cv, left, top + nrows * cellh, K * cellw, 1, GREY);
  for (PetscInt j = 0; j <= K; j++) CanvasFillRGB(&cv, left + j * cellw, top, 1, nrows * cellh, GREY);
  PetscCall(CanvasWritePNG(&cv, out));
  PetscCall(PetscPrintf(PETSC_COMM_SELF, "confusion: columns (clusters) in class order:"));
  for (PetscInt j = 0; j < K; j++) PetscCall(PetscPrintf(PETSC_COMM_SELF, " %" PetscInt_FMT, rr->order[j]));
  PetscCall(PetscPrintf(PETSC_COMM_SELF, "\nconfusion: the matched cells hold %" PetscInt_FMT " of %" PetscInt_FMT " images (ACC %.4f)\n", matched, rr->N, (double)matched / rr->N));
  PetscCall(PetscPrintf(PETSC_COMM_SELF, "wrote %s: %" PetscInt_FMT " classes x %" PetscInt_FMT " clusters with counts, largest cell %" PetscInt_FMT ", %" PetscInt_FMT "x%" PetscInt_FMT " pixels\n", out, nrows, K, cmax, cv.w, cv.h));
  PetscCall(PetscFree(cv.rgb));
  PetscCall(PetscFree(rowlabel));
  PetscCall(PetscFree3(conf, rowsum, rows));
  PetscFunctionReturn(0);
}

/* ------------------------------------------------------------------ plots */
#define PANEL_W    480 /* a plot panel: title, y labels on the left, x labels below */
#define PANEL_H    270
#define PLOT_LEFT  112
#define PLOT_TOP   (GLYPH_H * TEXT + 12)
#define PLOT_W     (PANEL_W - PLOT_LEFT - 14)
#define PLOT_H     (PANEL_H - PLOT_TOP - GLYPH_H * TEXT - 14)

/* v to 4 digits; within rounding of zero (relative to the axis range) as 0 */
static void FormatNumber(char text[], size_t len, PetscReal v, PetscReal range)
{
  (void)PetscSNPrintf(text, len, "%.4g", (double)(PetscAbsReal(v) < 1e-9 * range ? 0 : v));
}

/* Points (x[i], y[i]) joined in order inside the panel at (x0, y0); a red vertical line at
   x = red and a grey one at x = grey (each when not NaN), named in the title's line. */
static void PlotPanel(Canvas *cv, PetscInt x0, PetscInt y0, const char title[], PetscInt n, const PetscReal x[], const PetscReal y[], PetscReal red, PetscReal grey)
{
  PetscReal xlo = PETSC_MAX_REAL, xhi = -PETSC_MAX_REAL, ylo = PETSC_MAX_REAL, yhi = -PETSC_MAX_REAL;
  PetscInt  px = x0 + PLOT_LEFT, py = y0 + PLOT_TOP, scale = TextWidth(title, TEXT) <= PANEL_W - 8 ? TEXT : 1, lastx = 0, lasty = 0;
  char      text[32];

  for (PetscInt i = 0; i < n; i++) {
    xlo = PetscMin(xlo, x[i]);
    xhi = PetscMax(xhi, x[i]);
    ylo = PetscMin(ylo, y[i]);
    yhi = PetscMax(yhi, y[i]);
  }
  if (xhi <= xlo) xhi = xlo + 1;
  if (yhi <= ylo) yhi = ylo + 1;
  CanvasText(cv, x0 + 4, y0 + 4, title, scale, BLACK);
  CanvasFillRGB(cv, px, py, 1, PLOT_H, BLACK);
  CanvasFillRGB(cv, px, py + PLOT_H, PLOT_W, 1, BLACK);
  FormatNumber(text, sizeof(text), yhi, yhi - ylo);
  CanvasText(cv, px - 6 - TextWidth(text, TEXT), py, text, TEXT, BLACK);
  FormatNumber(text, sizeof(text), ylo, yhi - ylo);
  CanvasText(cv, px - 6 - TextWidth(text, TEXT), py + PLOT_H - GLYPH_H * TEXT, text, TEXT, BLACK);
  FormatNumber(text, sizeof(text), xlo, xhi - xlo);
  CanvasText(cv, px, py + PLOT_H + 6, text, TEXT, BLACK);
  FormatNumber(text, sizeof(text), xhi, xhi - xlo);
  CanvasText(cv, px + PLOT_W - TextWidth(text, TEXT), py + PLOT_H + 6, text, TEXT, BLACK);
  for (int m = 0; m < 2; m++) {
    PetscReal at = m ? red : grey;
    if (PetscIsNanReal(at)) continue;
    for (PetscInt t = 0; t < PLOT_H; t += 2 - m) CanvasFillRGB(cv, px + (PetscInt)((at - xlo) / (xhi - xlo) * (PLOT_W - 1)), py + t, 1 + m, 1, m ? RED : GREY);
  }
  for (PetscInt i = 0; i < n; i++) {
    PetscInt sx = px + (PetscInt)((x[i] - xlo) / (xhi - xlo) * (PLOT_W - 1)), sy = py + PLOT_H - 1 - (PetscInt)((y[i] - ylo) / (yhi - ylo) * (PLOT_H - 1));
    if (i) CanvasLine(cv, lastx, lasty, sx, sy, BLACK);
    CanvasFillRGB(cv, sx - 2, sy - 2, 5, 5, BLACK);
    lastx = sx;
    lasty = sy;
  }
}

/* ------------------------------------------------------------------ (c) embedding */
/* The features are the head's eigenvectors; the leading one of a connected graph keeps
   one sign (its entries follow the degrees), so the first two that change sign are the
   first non-trivial pair. */
static PetscErrorCode PictureEmbedding(const RunResult *rr, const char out[])
{
  const PetscInt N = rr->N, D = rr->D, npanel = rr->truth ? 2 : 1, side = 420, top = GLYPH_H * TEXT + 12;
  PetscInt       col[2] = {-1, -1}, ncol = 0, nsign, dot = N > 20000 ? 1 : N > 3000 ? 2 : 3;
  PetscReal      lo[2], hi[2];
  Canvas         cv;
  char           text[96];

  PetscFunctionBegin;
  for (PetscInt d = 0; d < D && ncol < 2; d++) {
    PetscBool neg = PETSC_FALSE, pos = PETSC_FALSE;
    for (PetscInt i = 0; i < N; i++) {
      neg = (PetscBool)(neg || rr->feat[(size_t)i * D + d] < 0);
      pos = (PetscBool)(pos || rr->feat[(size_t)i * D + d] > 0);
    }
    if (neg && pos) col[ncol++] = d;
  }
  nsign = ncol;
  for (PetscInt d = 0; d < D && ncol < 2; d++)
    if (d != col[0]) col[ncol++] = d; /* fewer than two change sign: take the first ones */
  if (ncol < 2) {
    PetscCall(PetscPrintf(PETSC_COMM_SELF, "no embedding.png: the features have %" PetscInt_FMT " dimension\n", D));
    PetscFunctionReturn(0);
  }
  if (col[0] > col[1]) {
    PetscInt t = col[0];
    col[0]     = col[1];
    col[1]     = t;
  }
  for (int a = 0; a < 2; a++) {
    lo[a] = PETSC_MAX_REAL;
    hi[a] = -PETSC_MAX_REAL;
    for (PetscInt i = 0; i < N; i++) {
      lo[a] = PetscMin(lo[a], rr->feat[(size_t)i * D + col[a]]);
      hi[a] = PetscMax(hi[a], rr->feat[(size_t)i * D + col[a]]);
    }
    if (hi[a] <= lo[a]) hi[a] = lo[a] + 1;
  }
  PetscCall(CanvasCreate(npanel * (side + 20) + 20, top + side + 2 * GLYPH_H * TEXT + 24, 255, &cv));
  for (PetscInt p = 0; p < npanel; p++) {
    const PetscInt x0 = 20 + p * (side + 20);
    PetscCall(PetscSNPrintf(text, sizeof(text), "BY %s", p ? "CLASS" : "CLUSTER"));
    CanvasText(&cv, x0, 6, text, TEXT, BLACK);
    CanvasFillRGB(&cv, x0 - 1, top - 1, side + 2, side + 2, GREY);
    CanvasFillRGB(&cv, x0, top, side, side, WHITE);
    for (PetscInt i = 0; i < N; i++) {
      unsigned char rgb[3];
      PetscInt      sx = x0 + (PetscInt)((rr->feat[(size_t)i * D + col[0]] - lo[0]) / (hi[0] - lo[0]) * (side - dot)), sy = top + side - dot - (PetscInt)((rr->feat[(size_t)i * D + col[1]] - lo[1]) / (hi[1] - lo[1]) * (side - dot));
      if (p) IdColour(rr->truth[i], rgb);
      else ClusterColour(rr, rr->cluster[i], rgb);
      CanvasFillRGB(&cv, sx, sy, dot, dot, rgb);
    }
    PetscCall(PetscSNPrintf(text, sizeof(text), "X: FEATURE %" PetscInt_FMT ", Y: FEATURE %" PetscInt_FMT, col[0], col[1]));
    CanvasText(&cv, x0, top + side + 8, text, TEXT, BLACK);
  }
  if (rr->truth) CanvasText(&cv, 20, top + side + GLYPH_H * TEXT + 14, "A CLUSTER HAS THE COLOUR OF ITS MATCHED CLASS", TEXT, GREY);
  PetscCall(CanvasWritePNG(&cv, out));
  PetscCall(PetscPrintf(PETSC_COMM_SELF, "wrote %s: feature columns %" PetscInt_FMT " and %" PetscInt_FMT " (%s) of %" PetscInt_FMT " images, coloured by cluster%s, %" PetscInt_FMT "x%" PetscInt_FMT " pixels\n", out, col[0], col[1], nsign >= 2 ? "the first two that change sign" : "the first ones: fewer than two change sign", N, rr->truth ? " and by class" : "", cv.w, cv.h));
  PetscCall(PetscFree(cv.rgb));
  PetscFunctionReturn(0);
}

/* ------------------------------------------------------------------ (d) spectrum */
typedef struct {
  char       title[96];
  PetscInt   n;
  PetscReal *x, *y, red, grey;
} Panel;

static PetscErrorCode PanelAdd(Panel **panels, PetscInt *npanels, PetscInt *cap, const char title[], PetscInt n, PetscReal red, PetscReal grey, Panel **added)
{
  PetscFunctionBegin;
  if (*npanels == *cap) {
    Panel *more;
    *cap = 2 * *cap + 4;
    PetscCall(PetscCalloc1(*cap, &more));
    if (*npanels) PetscCall(PetscArraycpy(more, *panels, *npanels));
    PetscCall(PetscFree(*panels));
    *panels = more;
  }
  *added = &(*panels)[(*npanels)++];
  PetscCall(PetscStrncpy((*added)->title, title, sizeof((*added)->title)));
  (*added)->n    = n;
  (*added)->red  = red;
  (*added)->grey = grey;
  PetscCall(PetscMalloc2(n, &(*added)->x, n, &(*added)->y));
  PetscFunctionReturn(0);
}

/* A panel per procedure of every spectral stage (its eigenvalues in the stored order, the
   largest gap after the first marked grey), then the modularity of the candidates that
   -neig auto and -clusters auto scored (the choice marked red). */
static PetscErrorCode PictureSpectrum(PetscInt nstages, const StageInfo stages[], const char result[], hid_t rfile, const char out[])
{
  Panel   *panel = NULL;
  PetscInt npanels = 0, cap = 0, cols;
  Canvas   cv;

  PetscFunctionBegin;
  for (PetscInt s = 0; s < nstages; s++) {
    hid_t     f;
    hsize_t   dims[1], gdims[1];
    PetscReal *eig;
    PetscInt  *group, ngroup = 0;
    char      *lines, *save = NULL, *line;
    if (!stages[s].procedures) continue; /* not a spectral layer */
    SanetCallHDF5Id(f, H5Fopen(stages[s].path, H5F_ACC_RDONLY, H5P_DEFAULT));
    if (H5Lexists(f, "eigval", H5P_DEFAULT) <= 0) {
      SanetCallHDF5(H5Fclose(f));
      continue;
    }
    PetscCall(ReadDataset(stages[s].path, f, "eigval", H5T_NATIVE_DOUBLE, 1, dims, (void **)&eig, sizeof(PetscReal)));
    PetscCall(ReadDataset(stages[s].path, f, "group", sizeof(PetscInt) == 4 ? H5T_NATIVE_INT : H5T_NATIVE_LLONG, 1, gdims, (void **)&group, sizeof(PetscInt)));
    PetscCheck(gdims[0] == dims[0], PETSC_COMM_SELF, PETSC_ERR_FILE_UNEXPECTED, "%s: /group has %llu entries but /eigval %llu", stages[s].path, (unsigned long long)gdims[0], (unsigned long long)dims[0]);
    SanetCallHDF5(H5Fclose(f));
    PetscCall(PetscStrallocpy(stages[s].procedures, &lines));
    line = strtok_r(lines, "\n", &save);
    /* the channels of a procedure are consecutive; its summary line names it */
    for (PetscInt c0 = 0; c0 < (PetscInt)dims[0]; ngroup++) {
      PetscInt c1 = c0, gap = -1;
      char     title[96], *colon;
      Panel   *p;
      while (c1 < (PetscInt)dims[0] && group[c1] == group[c0]) c1++;
      PetscCall(PetscSNPrintf(title, sizeof(title), "%s", line ? line : "procedure"));
      if ((colon = strchr(title, ':'))) *colon = 0;
      for (PetscInt c = c0 + 1; c + 1 < c1; c++)
        if (gap < 0 || PetscAbsReal(eig[c + 1] - eig[c]) > PetscAbsReal(eig[gap + 1] - eig[gap])) gap = c;
      PetscCall(PetscStrlcat(title, ": EIGENVALUES", sizeof(title)));
      PetscCall(PanelAdd(&panel, &npanels, &cap, title, c1 - c0, NAN, gap >= 0 ? gap - c0 + 1.5 : NAN, &p));
      for (PetscInt c = c0; c < c1; c++) {
        p->x[c - c0] = c - c0 + 1;
        p->y[c - c0] = eig[c];
      }
      PetscCall(PetscPrintf(PETSC_COMM_SELF, "spectrum: %s: %" PetscInt_FMT " eigenvalues %.4g..%.4g", title, c1 - c0, (double)eig[c0], (double)eig[c1 - 1]));
      if (gap >= 0) PetscCall(PetscPrintf(PETSC_COMM_SELF, ", largest gap after the first between %" PetscInt_FMT " and %" PetscInt_FMT, gap - c0 + 1, gap - c0 + 2));
      PetscCall(PetscPrintf(PETSC_COMM_SELF, "\n"));
      c0   = c1;
      line = strtok_r(NULL, "\n", &save);
    }
    PetscCall(PetscFree(lines));
    PetscCall(PetscFree(eig));
    PetscCall(PetscFree(group));
  }
  if (H5Lexists(rfile, "selection", H5P_DEFAULT) > 0) {
    hsize_t   dims[2];
    PetscReal *sel;
    int64_t   K = 0, neig = 0;
    PetscBool fk, fn;
    hid_t     root;
    PetscCall(ReadDataset(result, rfile, "selection", H5T_NATIVE_DOUBLE, 2, dims, (void **)&sel, sizeof(PetscReal)));
    PetscCheck(dims[1] >= 3, PETSC_COMM_SELF, PETSC_ERR_FILE_UNEXPECTED, "%s: /selection has %llu columns, not K, neig, modularity, ...", result, (unsigned long long)dims[1]);
    SanetCallHDF5Id(root, H5Gopen2(rfile, "/", H5P_DEFAULT));
    PetscCall(ReadIntAttribute(root, "K", &K, &fk));
    PetscCall(ReadIntAttribute(root, "neig", &neig, &fn));
    SanetCallHDF5(H5Gclose(root));
    /* 0: count varies at the chosen K; 1: K varies at the chosen count */
    for (int by = 0; by < 2 && fk && fn; by++) {
      PetscInt n = 0;
      Panel   *p;
      char     title[96];
      for (hsize_t r = 0; r < dims[0]; r++) n += (int64_t)sel[r * dims[1] + (by ? 1 : 0)] == (by ? neig : K);
      if (n < 2) continue;
      if (by) PetscCall(PetscSNPrintf(title, sizeof(title), "MODULARITY BY K (%" PetscInt64_FMT " EIGENVECTORS)", neig));
      else PetscCall(PetscSNPrintf(title, sizeof(title), "MODULARITY BY EIGENVECTOR COUNT (K %" PetscInt64_FMT ")", K));
      PetscCall(PanelAdd(&panel, &npanels, &cap, title, n, (PetscReal)(by ? K : neig), NAN, &p));
      n = 0;
      for (hsize_t r = 0; r < dims[0]; r++)
        if ((int64_t)sel[r * dims[1] + (by ? 1 : 0)] == (by ? neig : K)) {
          p->x[n]   = sel[r * dims[1] + (by ? 0 : 1)];
          p->y[n++] = sel[r * dims[1] + 2];
        }
      for (PetscInt i = 1; i < n; i++) /* by x: the chosen candidate comes first in the table */
        for (PetscInt j = i; j > 0 && p->x[j - 1] > p->x[j]; j--) {
          PetscReal tx = p->x[j], ty = p->y[j];
          p->x[j] = p->x[j - 1], p->y[j] = p->y[j - 1];
          p->x[j - 1] = tx, p->y[j - 1] = ty;
        }
      PetscCall(PetscPrintf(PETSC_COMM_SELF, "spectrum: %s: %" PetscInt_FMT " candidates, chosen %" PetscInt64_FMT "\n", title, n, by ? K : neig));
    }
    PetscCall(PetscFree(sel));
  }
  if (!npanels) {
    PetscCall(PetscPrintf(PETSC_COMM_SELF, "no spectrum.png: no spectral stage file and no scored candidates\n"));
    PetscFunctionReturn(0);
  }
  cols = PetscMin(npanels, 2);
  PetscCall(CanvasCreate(cols * PANEL_W, ((npanels + cols - 1) / cols) * PANEL_H, 255, &cv));
  for (PetscInt p = 0; p < npanels; p++) {
    PlotPanel(&cv, (p % cols) * PANEL_W, (p / cols) * PANEL_H, panel[p].title, panel[p].n, panel[p].x, panel[p].y, panel[p].red, panel[p].grey);
    PetscCall(PetscFree2(panel[p].x, panel[p].y));
  }
  PetscCall(CanvasWritePNG(&cv, out));
  PetscCall(PetscPrintf(PETSC_COMM_SELF, "wrote %s: %" PetscInt_FMT " panels (grey: the largest eigengap; red: the automatic choice), %" PetscInt_FMT "x%" PetscInt_FMT " pixels\n", out, npanels, cv.w, cv.h));
  PetscCall(PetscFree(cv.rgb));
  PetscCall(PetscFree(panel));
  PetscFunctionReturn(0);
}

/* ------------------------------------------------------------------ (e) patterns */
static PetscErrorCode PicturePatterns(ImageFile *img, const StageInfo *si, PetscInt P, PetscInt maximages, PetscInt zoom, PetscInt seed, const char out[])
{
  const char    *stage = si->path;
  hid_t          file, dset, fspace, mspace;
  hsize_t        dims[4], off[4] = {0, 0, 0, 0}, cnt[4];
  PetscInt       N, m, n, c, H = (PetscInt)img->dims[1], W = (PetscInt)img->dims[2], C = (PetscInt)img->dims[3], ppi, nrows = 0, *rowid, *lab, cols, rows;
  PetscReal     *maps, *X, *sum, inertia;
  PetscInt      *count;
  SanetPatchSpec spec;
  SanetMaps      im;
  SanetKMeans    km;
  Canvas         cv;

  PetscFunctionBegin;
  SanetCallHDF5Id(file, H5Fopen(stage, H5F_ACC_RDONLY, H5P_DEFAULT));
  PetscCheck(H5Lexists(file, "maps", H5P_DEFAULT) > 0, PETSC_COMM_SELF, PETSC_ERR_FILE_UNEXPECTED, "%s has no /maps dataset", stage);
  SanetCallHDF5Id(dset, H5Dopen2(file, "maps", H5P_DEFAULT));
  SanetCallHDF5Id(fspace, H5Dget_space(dset));
  PetscCheck(H5Sget_simple_extent_ndims(fspace) == 4, PETSC_COMM_SELF, PETSC_ERR_FILE_UNEXPECTED, "%s: /maps must have 4 dimensions [N,m,n,c]", stage);
  SanetCallHDF5(H5Sget_simple_extent_dims(fspace, dims, NULL));
  PetscCheck(dims[0] == img->dims[0], PETSC_COMM_SELF, PETSC_ERR_FILE_UNEXPECTED, "%s has maps of %llu images but -input %s has %llu", stage, (unsigned long long)dims[0], img->path, (unsigned long long)img->dims[0]);
  N = PetscMin((PetscInt)dims[0], maximages);
  m = (PetscInt)dims[1];
  n = (PetscInt)dims[2];
  c = (PetscInt)dims[3];
  spec.ph     = (PetscInt)si->patch[0];
  spec.pw     = (PetscInt)si->patch[1];
  spec.stride = (PetscInt)si->patch[2];
  spec.pad    = (PetscBool)(si->patch[3] != 0);
  spec.center = PETSC_FALSE; /* show pixels, not centred values */
  PetscCheck(spec.ph >= 1 && spec.pw >= 1 && spec.stride >= 1 && (spec.pad || (spec.ph <= H && spec.pw <= W)), PETSC_COMM_SELF, PETSC_ERR_FILE_UNEXPECTED, "%s: patch %" PetscInt_FMT "x%" PetscInt_FMT " stride %" PetscInt_FMT " does not fit the %" PetscInt_FMT "x%" PetscInt_FMT " images", stage, spec.ph, spec.pw, spec.stride, H, W);
  PetscCall(SanetPatchSetUp(&spec, H, W, C));
  PetscCheck(spec.mo == m && spec.no == n, PETSC_COMM_SELF, PETSC_ERR_FILE_UNEXPECTED, "%s has a %" PetscInt_FMT "x%" PetscInt_FMT " patch grid but its patch %" PetscInt_FMT "x%" PetscInt_FMT " and stride %" PetscInt_FMT " give %" PetscInt_FMT "x%" PetscInt_FMT " on %" PetscInt_FMT "x%" PetscInt_FMT " images", stage, m, n, spec.ph, spec.pw, spec.stride, spec.mo, spec.no, H, W);
  ppi    = m * n;
  cnt[0] = (hsize_t)N;
  cnt[1] = (hsize_t)m;
  cnt[2] = (hsize_t)n;
  cnt[3] = (hsize_t)c;
  PetscCall(PetscMalloc1((size_t)N * ppi * c, &maps));
  SanetCallHDF5(H5Sselect_hyperslab(fspace, H5S_SELECT_SET, off, NULL, cnt, NULL));
  SanetCallHDF5Id(mspace, H5Screate_simple(4, cnt, NULL));
  SanetCallHDF5(H5Dread(dset, H5T_NATIVE_DOUBLE, mspace, fspace, H5P_DEFAULT, maps));
  SanetCallHDF5(H5Sclose(mspace));
  SanetCallHDF5(H5Sclose(fspace));
  SanetCallHDF5(H5Dclose(dset));
  SanetCallHDF5(H5Fclose(file));

  /* Rows whose features are all zero are patches the layer left out of its graphs
     (flat patches with -zero_patches drop): they are not patterns. */
  PetscCall(PetscMalloc1((size_t)N * ppi, &rowid));
  for (PetscInt r = 0; r < N * ppi; r++) {
    PetscBool nz = PETSC_FALSE;
    for (PetscInt d = 0; d < c && !nz; d++) nz = (PetscBool)(maps[(size_t)r * c + d] != 0);
    if (nz) {
      if (nrows != r) PetscCall(PetscArraycpy(maps + (size_t)nrows * c, maps + (size_t)r * c, c));
      rowid[nrows++] = r;
    }
  }
  PetscCheck(nrows >= P, PETSC_COMM_SELF, PETSC_ERR_ARG_OUTOFRANGE, "-patterns %" PetscInt_FMT ": only %" PetscInt_FMT " patches with features in the first %" PetscInt_FMT " images of %s", P, nrows, N, stage);
  PetscCall(PetscMalloc1(nrows, &lab));
  PetscCall(SanetKMeansCreate(PETSC_COMM_SELF, &km));
  PetscCall(SanetKMeansSetOptionsPrefix(km, "patterns_kmeans_"));
  PetscCall(SanetKMeansSetClusters(km, P));
  PetscCall(SanetKMeansSetSeed(km, (unsigned long)seed));
  /* a picture, not a result: a few restarts (the head's 100 take minutes on 10^5 patches) */
  PetscCall(SanetKMeansSetIterations(km, 3, 100));
  PetscCall(SanetKMeansSetFromOptions(km));
  PetscCall(SanetKMeansApply(km, nrows, c, maps, lab, &inertia));
  PetscCall(SanetKMeansDestroy(&km));
  PetscCall(PetscFree(maps));

  /* Mean image patch of each pattern. */
  PetscCall(SanetMapsCreate(PETSC_COMM_SELF, N, H, W, C, &im));
  PetscCall(ImageFileRead(img, 0, N, im.data));
  PetscCall(PetscMalloc1((size_t)N * ppi * spec.dim, &X));
  PetscCall(SanetPatchExtract(&spec, &im, X));
  PetscCall(SanetMapsDestroy(&im));
  PetscCall(PetscCalloc2((size_t)P * spec.dim, &sum, P, &count));
  for (PetscInt r = 0; r < nrows; r++) {
    count[lab[r]]++;
    for (PetscInt d = 0; d < spec.dim; d++) sum[(size_t)lab[r] * spec.dim + d] += X[(size_t)rowid[r] * spec.dim + d];
  }
  cols = PetscMin(P, 8);
  rows = (P + cols - 1) / cols;
  PetscCall(CanvasCreate(cols * (spec.pw * zoom + GAP) + GAP, rows * (spec.ph * zoom + GAP) + GAP, 255, &cv));
  for (PetscInt p = 0; p < P; p++) {
    PetscReal *s = sum + (size_t)p * spec.dim, lo = PETSC_MAX_REAL, hi = -PETSC_MAX_REAL;
    for (PetscInt d = 0; d < spec.dim; d++) {
      s[d] /= PetscMax(count[p], 1);
      lo = PetscMin(lo, s[d]);
      hi = PetscMax(hi, s[d]);
    }
    /* Stretch to [0,1]: a mean of many patches is a faint blur otherwise. */
    for (PetscInt d = 0; d < spec.dim; d++) s[d] = hi > lo ? (s[d] - lo) / (hi - lo) : 0;
    CanvasDraw(&cv, GAP + (p % cols) * (spec.pw * zoom + GAP), GAP + (p / cols) * (spec.ph * zoom + GAP), s, spec.ph, spec.pw, C, zoom);
  }
  PetscCall(CanvasWritePNG(&cv, out));
  PetscCall(PetscPrintf(PETSC_COMM_SELF, "wrote %s: %" PetscInt_FMT " patterns of %" PetscInt_FMT " patches of %s (%" PetscInt_FMT " images, %" PetscInt_FMT " features each, inertia %g), %" PetscInt_FMT "x%" PetscInt_FMT " pixels\n", out, P, nrows, stage, N, c, (double)inertia, cv.w, cv.h));
  PetscCall(PetscFree(cv.rgb));
  PetscCall(PetscFree2(sum, count));
  PetscCall(PetscFree(X));
  PetscCall(PetscFree(lab));
  PetscCall(PetscFree(rowid));
  PetscFunctionReturn(0);
}

static PetscErrorCode Run(void)
{
  char        input[PETSC_MAX_PATH_LEN] = "", dir[PETSC_MAX_PATH_LEN] = "", result[PETSC_MAX_PATH_LEN], out[PETSC_MAX_PATH_LEN];
  PetscInt    per = 8, P = 40, maximages = 2000, zoom = 0, seed = 0, nstages;
  PetscMPIInt size;
  ImageFile   img;
  hid_t       rfile;
  StageInfo  *stages;
  RunResult   rr;

  SanetOptionCatalog catalog;

  PetscFunctionBegin;
  PetscCallMPI(MPI_Comm_size(PETSC_COMM_WORLD, &size));
  PetscCall(SanetOptionsCheckIntegers(PETSC_COMM_WORLD));
  PetscCall(SanetOptionCatalogBegin(&catalog));
  PetscOptionsBegin(PETSC_COMM_WORLD, NULL, "sanet-pictures", NULL);
  PetscCall(PetscOptionsString("-input", "Input HDF5 file of the run", NULL, input, input, sizeof(input), NULL));
  PetscCall(PetscOptionsString("-output", "The run's output directory (pictures are written there)", NULL, dir, dir, sizeof(dir), NULL));
  PetscCall(PetscOptionsInt("-per_cluster", "Images per cluster", NULL, per, &per, NULL));
  PetscCall(PetscOptionsInt("-patterns", "Layer-1 patterns (0: none)", NULL, P, &P, NULL));
  PetscCall(PetscOptionsInt("-pattern_images", "Most images whose patches enter the pattern k-means", NULL, maximages, &maximages, NULL));
  PetscCall(PetscOptionsInt("-zoom", "Pixel magnification (0: automatic)", NULL, zoom, &zoom, NULL));
  PetscCall(PetscOptionsInt("-seed", "Seed of the pattern k-means", NULL, seed, &seed, NULL));
  PetscOptionsEnd();
  PetscCall(SanetOptionCatalogEnd(catalog));
  if (SanetHelpRequested()) {
    PetscCall(SanetOptionCatalogView(catalog, PETSC_COMM_WORLD));
    PetscCall(SanetOptionCatalogDestroy(&catalog));
    PetscFunctionReturn(0);
  }
  PetscCall(SanetOptionsCheckUnused(PETSC_COMM_WORLD, catalog, NULL, "sanet-pictures"));
  PetscCall(SanetOptionCatalogDestroy(&catalog));
  PetscCheck(size == 1, PETSC_COMM_WORLD, PETSC_ERR_SUP, "sanet-pictures runs on one rank (started on %d)", size);
  PetscCheck(input[0], PETSC_COMM_SELF, PETSC_ERR_USER_INPUT, "Missing -input DATA.h5");
  PetscCheck(dir[0], PETSC_COMM_SELF, PETSC_ERR_USER_INPUT, "Missing -output DIR (the directory of the sanet run)");
  PetscCheck(per >= 1 && per <= 1000, PETSC_COMM_SELF, PETSC_ERR_ARG_OUTOFRANGE, "-per_cluster %" PetscInt_FMT " must be in [1, 1000]", per);
  PetscCheck(P >= 0, PETSC_COMM_SELF, PETSC_ERR_ARG_OUTOFRANGE, "-patterns %" PetscInt_FMT " must be >= 0", P);
  PetscCheck(maximages >= 1, PETSC_COMM_SELF, PETSC_ERR_ARG_OUTOFRANGE, "-pattern_images %" PetscInt_FMT " must be >= 1", maximages);
  PetscCheck(zoom >= 0 && zoom <= 64, PETSC_COMM_SELF, PETSC_ERR_ARG_OUTOFRANGE, "-zoom %" PetscInt_FMT " must be in [0, 64]", zoom);
  PetscCheck(seed >= 0, PETSC_COMM_SELF, PETSC_ERR_ARG_OUTOFRANGE, "-seed %" PetscInt_FMT " must be >= 0", seed);

  PetscCall(ImageFileOpen(input, &img));
  PetscCall(PetscSNPrintf(result, sizeof(result), "%s/result.h5", dir));
  PetscCheck(!access(result, R_OK), PETSC_COMM_SELF, PETSC_ERR_FILE_OPEN, "Cannot read %s (%s): run build/sanet with -output %s first", result, strerror(errno), dir);
  PetscCall(CheckHDF5File("-output", result));
  SanetCallHDF5Id(rfile, H5Fopen(result, H5F_ACC_RDONLY, H5P_DEFAULT));
  PetscCall(RunResultRead(&img, result, rfile, &rr));
  PetscCall(ReadStages(dir, result, rfile, &nstages, &stages));

  PetscCall(PetscSNPrintf(out, sizeof(out), "%s/clusters.png", dir));
  PetscCall(PictureClusters(&img, &rr, per, zoom ? zoom : PetscMax(1, (48 + (PetscInt)img.dims[1] - 1) / (PetscInt)img.dims[1]), out));
  if (rr.truth && (PetscReal)rr.nclasses * rr.K > 1e8) {
    PetscCall(PetscPrintf(PETSC_COMM_SELF, "labels up to %" PetscInt_FMT " and %" PetscInt_FMT " clusters: too large a table to draw; no confusion.png\n", rr.nclasses - 1, rr.K));
  } else if (rr.truth) {
    PetscCall(PetscSNPrintf(out, sizeof(out), "%s/confusion.png", dir));
    PetscCall(PictureConfusion(&rr, out));
  } else PetscCall(PetscPrintf(PETSC_COMM_SELF, "-input %s has no /labels: no confusion.png\n", input));
  PetscCall(PetscSNPrintf(out, sizeof(out), "%s/embedding.png", dir));
  PetscCall(PictureEmbedding(&rr, out));
  PetscCall(PetscSNPrintf(out, sizeof(out), "%s/spectrum.png", dir));
  PetscCall(PictureSpectrum(nstages, stages, result, rfile, out));
  SanetCallHDF5(H5Fclose(rfile));

  if (P > 0) {
    const StageInfo *first = NULL;
    /* the first layer that cuts patches from images of the input's shape */
    for (PetscInt s = 0; s < nstages && !first; s++)
      if (stages[s].patches && stages[s].input[0] == (int64_t)img.dims[1] && stages[s].input[1] == (int64_t)img.dims[2] && stages[s].input[2] == (int64_t)img.dims[3]) first = &stages[s];
    if (first) {
      PetscInt side = (PetscInt)PetscMax(first->patch[0], first->patch[1]);
      PetscCall(PetscSNPrintf(out, sizeof(out), "%s/patterns.png", dir));
      PetscCall(PicturePatterns(&img, first, P, maximages, zoom ? zoom : PetscMax(1, (44 + side - 1) / side), seed, out));
    } else PetscCall(PetscPrintf(PETSC_COMM_SELF, "no stage file of this run cuts patches from the %llux%llux%llu images: no patterns.png\n", (unsigned long long)img.dims[1], (unsigned long long)img.dims[2], (unsigned long long)img.dims[3]));
  }
  for (PetscInt s = 0; s < nstages; s++) PetscCall(PetscFree(stages[s].procedures));
  PetscCall(PetscFree(stages));
  PetscCall(RunResultDestroy(&rr));
  PetscCall(ImageFileClose(&img));
  PetscFunctionReturn(0);
}

int main(int argc, char **argv)
{
  return SanetMain(&argc, &argv, help, "sanet-pictures", PETSC_FALSE, Run);
}
