static const char help[] = "sanet-pictures: pictures of a sanet run as PNG files.\n\n"
                           "Usage: sanet-pictures -input DATA.h5 -output DIR [-per_cluster 8] [-patterns 40] [-zoom Z]\n"
                           "  -input DATA.h5     the input the run clustered (/images [N,H,W,C])\n"
                           "  -output DIR        the run's output directory (DIR/result.h5, DIR/stage-1-*.h5);\n"
                           "                     the pictures are written there:\n"
                           "    DIR/clusters.png   K rows x n columns: per cluster the n images nearest to its centre\n"
                           "                       (mean of /features over its members; Euclidean), nearest first\n"
                           "    DIR/confusion.png  the confusion matrix (rows: classes, columns: clusters), cells\n"
                           "                       shaded by count (black: the largest cell), when result.h5 has it\n"
                           "    DIR/patterns.png   layer-1 visual patterns, from the first spectral layer's stage file\n"
                           "                       DIR/stage-<i>-sal*.h5 (patches cut from -input, so undeskewed):\n"
                           "                       k-means of the per-patch layer-1 features into P patterns, each\n"
                           "                       the mean of its image patches (contrast stretched), 8 per row\n"
                           "  -per_cluster n     images per cluster row (default 8)\n"
                           "  -patterns P        layer-1 patterns (default 40; 0: none)\n"
                           "  -patch p -stride s patch size and stride of layer 1 (default 11 and 5, padded as layer 1)\n"
                           "  -pattern_images M  most images whose patches enter the pattern k-means (default 2000)\n"
                           "  -zoom Z            pixel magnification of images and patches (default: 1, or more so\n"
                           "                     that an image is at least 48 pixels high)\n"
                           "  -cell c            confusion matrix cell size in pixels (default 16)\n"
                           "  -seed S            seed of the pattern k-means (default 0)\n"
                           "Runs on one rank.\n\n";

#include "sanet.h"
#include <png.h>
#include <glob.h>
#include <stdlib.h>
#include <string.h>
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
  PetscCallHDF5Id(f->file, H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT));
  PetscCheck(H5Lexists(f->file, "images", H5P_DEFAULT) > 0, PETSC_COMM_SELF, PETSC_ERR_FILE_UNEXPECTED, "-input %s has no /images dataset", path);
  PetscCallHDF5Id(f->dset, H5Dopen2(f->file, "images", H5P_DEFAULT));
  PetscCallHDF5Id(space, H5Dget_space(f->dset));
  PetscCheck(H5Sget_simple_extent_ndims(space) == 4, PETSC_COMM_SELF, PETSC_ERR_FILE_UNEXPECTED, "-input %s: /images must have 4 dimensions [N,H,W,C]", path);
  PetscCallHDF5(H5Sget_simple_extent_dims(space, f->dims, NULL));
  PetscCallHDF5(H5Sclose(space));
  PetscCheck(f->dims[0] >= 1 && f->dims[1] >= 1 && f->dims[2] >= 1 && f->dims[3] >= 1, PETSC_COMM_SELF, PETSC_ERR_FILE_UNEXPECTED, "-input %s: /images has an empty dimension", path);
  PetscCallHDF5Id(type, H5Dget_type(f->dset));
  cls = H5Tget_class(type);
  PetscCallHDF5(H5Tclose(type));
  PetscCheck(cls == H5T_INTEGER || cls == H5T_FLOAT, PETSC_COMM_SELF, PETSC_ERR_FILE_UNEXPECTED, "-input %s: /images must be uint8 or float", path);
  f->scale = (PetscBool)(cls == H5T_INTEGER);
  PetscFunctionReturn(0);
}

static PetscErrorCode ImageFileClose(ImageFile *f)
{
  PetscFunctionBegin;
  PetscCallHDF5(H5Dclose(f->dset));
  PetscCallHDF5(H5Fclose(f->file));
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
  PetscCallHDF5Id(fspace, H5Dget_space(f->dset));
  PetscCallHDF5(H5Sselect_hyperslab(fspace, H5S_SELECT_SET, off, NULL, cnt, NULL));
  PetscCallHDF5Id(mspace, H5Screate_simple(4, cnt, NULL));
  PetscCallHDF5(H5Dread(f->dset, H5T_NATIVE_DOUBLE, mspace, fspace, H5P_DEFAULT, buf));
  PetscCallHDF5(H5Sclose(mspace));
  PetscCallHDF5(H5Sclose(fspace));
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
  PetscCallHDF5Id(dset, H5Dopen2(file, name, H5P_DEFAULT));
  PetscCallHDF5Id(space, H5Dget_space(dset));
  PetscCheck(H5Sget_simple_extent_ndims(space) == ndims, PETSC_COMM_SELF, PETSC_ERR_FILE_UNEXPECTED, "%s: /%s must have %d dimension%s", path, name, ndims, ndims > 1 ? "s" : "");
  PetscCallHDF5(H5Sget_simple_extent_dims(space, dims, NULL));
  for (int d = 0; d < ndims; d++) n *= dims[d];
  PetscCheck(n >= 1, PETSC_COMM_SELF, PETSC_ERR_FILE_UNEXPECTED, "%s: /%s is empty", path, name);
  PetscCall(PetscMalloc(n * elsize, buf));
  PetscCallHDF5(H5Dread(dset, memtype, H5S_ALL, H5S_ALL, H5P_DEFAULT, *buf));
  PetscCallHDF5(H5Sclose(space));
  PetscCallHDF5(H5Dclose(dset));
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
  PetscCheck(w >= 1 && h >= 1 && w <= 65535 && h <= 65535, PETSC_COMM_SELF, PETSC_ERR_ARG_OUTOFRANGE, "Picture of %" PetscInt_FMT "x%" PetscInt_FMT " pixels: lower -per_cluster, -patterns, -zoom or -cell", w, h);
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

static void CanvasFill(Canvas *cv, PetscInt x0, PetscInt y0, PetscInt w, PetscInt h, unsigned char v)
{
  for (PetscInt r = y0; r < y0 + h; r++) memset(cv->rgb + ((size_t)r * cv->w + x0) * 3, v, (size_t)w * 3);
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

static PetscErrorCode PictureClusters(ImageFile *img, const char result[], hid_t rfile, PetscInt per, PetscInt zoom, const char out[])
{
  hsize_t    ldims[1], fdims[2];
  int       *lab;
  PetscReal *feat, *centre, *pix;
  PetscInt   N = (PetscInt)img->dims[0], H = (PetscInt)img->dims[1], W = (PetscInt)img->dims[2], C = (PetscInt)img->dims[3], K = 0, D, *count;
  DistIndex *di;
  Canvas     cv;

  PetscFunctionBegin;
  PetscCall(ReadDataset(result, rfile, "labels", H5T_NATIVE_INT, 1, ldims, (void **)&lab, sizeof(int)));
  PetscCall(ReadDataset(result, rfile, "features", H5T_NATIVE_DOUBLE, 2, fdims, (void **)&feat, sizeof(PetscReal)));
  PetscCheck((PetscInt)ldims[0] == N, PETSC_COMM_SELF, PETSC_ERR_FILE_UNEXPECTED, "%s: /labels has %llu entries but -input has %" PetscInt_FMT " images: not the run of this input", result, (unsigned long long)ldims[0], N);
  PetscCheck((PetscInt)fdims[0] == N, PETSC_COMM_SELF, PETSC_ERR_FILE_UNEXPECTED, "%s: /features has %llu rows but -input has %" PetscInt_FMT " images", result, (unsigned long long)fdims[0], N);
  D = (PetscInt)fdims[1];
  for (PetscInt i = 0; i < N; i++) {
    PetscCheck(lab[i] >= 0, PETSC_COMM_SELF, PETSC_ERR_FILE_UNEXPECTED, "%s: /labels[%" PetscInt_FMT "] = %d is negative", result, i, lab[i]);
    K = PetscMax(K, (PetscInt)lab[i] + 1);
  }
  PetscCall(PetscCalloc2((size_t)K * D, &centre, K, &count));
  for (PetscInt i = 0; i < N; i++) {
    count[lab[i]]++;
    for (PetscInt d = 0; d < D; d++) centre[(size_t)lab[i] * D + d] += feat[(size_t)i * D + d];
  }
  for (PetscInt k = 0; k < K; k++)
    for (PetscInt d = 0; d < D && count[k]; d++) centre[(size_t)k * D + d] /= count[k];
  PetscCall(CanvasCreate(per * (W * zoom + GAP) + GAP, K * (H * zoom + GAP) + GAP, 255, &cv));
  PetscCall(PetscMalloc2(N, &di, (size_t)H * W * C, &pix));
  for (PetscInt k = 0; k < K; k++) {
    PetscInt n = 0;
    for (PetscInt i = 0; i < N; i++) {
      PetscReal s = 0;
      if (lab[i] != k) continue;
      for (PetscInt d = 0; d < D; d++) s += PetscSqr(feat[(size_t)i * D + d] - centre[(size_t)k * D + d]);
      di[n].d   = s;
      di[n++].i = i;
    }
    qsort(di, (size_t)n, sizeof(DistIndex), DistIndexCompare);
    PetscCall(PetscPrintf(PETSC_COMM_SELF, "cluster %" PetscInt_FMT ": %" PetscInt_FMT " images; nearest to the centre:", k, n));
    for (PetscInt j = 0; j < PetscMin(n, per); j++) {
      PetscCall(ImageFileRead(img, di[j].i, 1, pix));
      CanvasDraw(&cv, GAP + j * (W * zoom + GAP), GAP + k * (H * zoom + GAP), pix, H, W, C, zoom);
      PetscCall(PetscPrintf(PETSC_COMM_SELF, " %" PetscInt_FMT, di[j].i));
    }
    PetscCall(PetscPrintf(PETSC_COMM_SELF, "\n"));
  }
  PetscCall(CanvasWritePNG(&cv, out));
  PetscCall(PetscPrintf(PETSC_COMM_SELF, "wrote %s: %" PetscInt_FMT " clusters x %" PetscInt_FMT " images, %" PetscInt_FMT "x%" PetscInt_FMT " pixels\n", out, K, per, cv.w, cv.h));
  PetscCall(PetscFree(cv.rgb));
  PetscCall(PetscFree2(di, pix));
  PetscCall(PetscFree2(centre, count));
  PetscCall(PetscFree(lab));
  PetscCall(PetscFree(feat));
  PetscFunctionReturn(0);
}

/* ------------------------------------------------------------------ (b) confusion */
static PetscErrorCode PictureConfusion(const char result[], hid_t rfile, PetscInt cell, const char out[])
{
  hsize_t dims[2];
  int    *conf, cmax = 0;
  Canvas  cv;

  PetscFunctionBegin;
  PetscCall(ReadDataset(result, rfile, "confusion", H5T_NATIVE_INT, 2, dims, (void **)&conf, sizeof(int)));
  for (size_t a = 0; a < dims[0] * dims[1]; a++) {
    PetscCheck(conf[a] >= 0, PETSC_COMM_SELF, PETSC_ERR_FILE_UNEXPECTED, "%s: /confusion has a negative count", result);
    cmax = PetscMax(cmax, conf[a]);
  }
  /* Grid lines of one pixel (mid grey) around cells of `cell` pixels. */
  PetscCall(CanvasCreate((PetscInt)dims[1] * (cell + 1) + 1, (PetscInt)dims[0] * (cell + 1) + 1, 128, &cv));
  for (PetscInt a = 0; a < (PetscInt)dims[0]; a++)
    for (PetscInt b = 0; b < (PetscInt)dims[1]; b++) {
      int v = cmax ? conf[a * dims[1] + b] : 0;
      CanvasFill(&cv, 1 + b * (cell + 1), 1 + a * (cell + 1), cell, cell, (unsigned char)(255 - (255L * v + cmax / 2) / (cmax ? cmax : 1)));
    }
  PetscCall(CanvasWritePNG(&cv, out));
  PetscCall(PetscPrintf(PETSC_COMM_SELF, "wrote %s: %llu classes x %llu clusters, largest cell %d, %" PetscInt_FMT "x%" PetscInt_FMT " pixels\n", out, (unsigned long long)dims[0], (unsigned long long)dims[1], cmax, cv.w, cv.h));
  PetscCall(PetscFree(cv.rgb));
  PetscCall(PetscFree(conf));
  PetscFunctionReturn(0);
}

/* ------------------------------------------------------------------ (c) patterns */
static PetscErrorCode PicturePatterns(ImageFile *img, const char stage[], PetscInt P, PetscInt patch, PetscInt stride, PetscInt maximages, PetscInt zoom, PetscInt seed, const char out[])
{
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
  PetscCallHDF5Id(file, H5Fopen(stage, H5F_ACC_RDONLY, H5P_DEFAULT));
  PetscCheck(H5Lexists(file, "maps", H5P_DEFAULT) > 0, PETSC_COMM_SELF, PETSC_ERR_FILE_UNEXPECTED, "%s has no /maps dataset", stage);
  PetscCallHDF5Id(dset, H5Dopen2(file, "maps", H5P_DEFAULT));
  PetscCallHDF5Id(fspace, H5Dget_space(dset));
  PetscCheck(H5Sget_simple_extent_ndims(fspace) == 4, PETSC_COMM_SELF, PETSC_ERR_FILE_UNEXPECTED, "%s: /maps must have 4 dimensions [N,m,n,c]", stage);
  PetscCallHDF5(H5Sget_simple_extent_dims(fspace, dims, NULL));
  PetscCheck(dims[0] == img->dims[0], PETSC_COMM_SELF, PETSC_ERR_FILE_UNEXPECTED, "%s has maps of %llu images but -input %s has %llu", stage, (unsigned long long)dims[0], img->path, (unsigned long long)img->dims[0]);
  N = PetscMin((PetscInt)dims[0], maximages);
  m = (PetscInt)dims[1];
  n = (PetscInt)dims[2];
  c = (PetscInt)dims[3];
  spec.ph = spec.pw = patch;
  spec.stride       = stride;
  spec.pad          = PETSC_TRUE;
  spec.center       = PETSC_FALSE; /* show pixels, not centred values */
  PetscCall(SanetPatchSetUp(&spec, H, W, C));
  PetscCheck(spec.mo == m && spec.no == n, PETSC_COMM_SELF, PETSC_ERR_ARG_INCOMP, "%s has a %" PetscInt_FMT "x%" PetscInt_FMT " patch grid but -patch %" PetscInt_FMT " -stride %" PetscInt_FMT " with padding give %" PetscInt_FMT "x%" PetscInt_FMT " on %" PetscInt_FMT "x%" PetscInt_FMT " images: give the layer's -patch and -stride", stage, m, n, patch, stride, spec.mo, spec.no, H, W);
  ppi    = m * n;
  cnt[0] = (hsize_t)N;
  cnt[1] = (hsize_t)m;
  cnt[2] = (hsize_t)n;
  cnt[3] = (hsize_t)c;
  PetscCall(PetscMalloc1((size_t)N * ppi * c, &maps));
  PetscCallHDF5(H5Sselect_hyperslab(fspace, H5S_SELECT_SET, off, NULL, cnt, NULL));
  PetscCallHDF5Id(mspace, H5Screate_simple(4, cnt, NULL));
  PetscCallHDF5(H5Dread(dset, H5T_NATIVE_DOUBLE, mspace, fspace, H5P_DEFAULT, maps));
  PetscCallHDF5(H5Sclose(mspace));
  PetscCallHDF5(H5Sclose(fspace));
  PetscCallHDF5(H5Dclose(dset));
  PetscCallHDF5(H5Fclose(file));

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
  PetscCall(CanvasCreate(cols * (patch * zoom + GAP) + GAP, rows * (patch * zoom + GAP) + GAP, 255, &cv));
  for (PetscInt p = 0; p < P; p++) {
    PetscReal *s = sum + (size_t)p * spec.dim, lo = PETSC_MAX_REAL, hi = -PETSC_MAX_REAL;
    for (PetscInt d = 0; d < spec.dim; d++) {
      s[d] /= PetscMax(count[p], 1);
      lo = PetscMin(lo, s[d]);
      hi = PetscMax(hi, s[d]);
    }
    /* Stretch to [0,1]: a mean of many patches is a faint blur otherwise. */
    for (PetscInt d = 0; d < spec.dim; d++) s[d] = hi > lo ? (s[d] - lo) / (hi - lo) : 0;
    CanvasDraw(&cv, GAP + (p % cols) * (patch * zoom + GAP), GAP + (p / cols) * (patch * zoom + GAP), s, patch, patch, C, zoom);
  }
  PetscCall(CanvasWritePNG(&cv, out));
  PetscCall(PetscPrintf(PETSC_COMM_SELF, "wrote %s: %" PetscInt_FMT " patterns of %" PetscInt_FMT " patches (%" PetscInt_FMT " images, %" PetscInt_FMT " features each, inertia %g), %" PetscInt_FMT "x%" PetscInt_FMT " pixels\n", out, P, nrows, N, c, (double)inertia, cv.w, cv.h));
  PetscCall(PetscFree(cv.rgb));
  PetscCall(PetscFree2(sum, count));
  PetscCall(PetscFree(X));
  PetscCall(PetscFree(lab));
  PetscCall(PetscFree(rowid));
  PetscFunctionReturn(0);
}

static PetscErrorCode Run(void)
{
  char        input[PETSC_MAX_PATH_LEN] = "", dir[PETSC_MAX_PATH_LEN] = "", result[PETSC_MAX_PATH_LEN], out[PETSC_MAX_PATH_LEN], pattern[PETSC_MAX_PATH_LEN];
  PetscInt    per = 8, P = 40, patch = 11, stride = 5, maximages = 2000, zoom = 0, cell = 16, seed = 0;
  PetscMPIInt size;
  ImageFile   img;
  hid_t       rfile;
  glob_t      g;
  int         grc;

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
  PetscCall(PetscOptionsInt("-patch", "Layer-1 patch size", NULL, patch, &patch, NULL));
  PetscCall(PetscOptionsInt("-stride", "Layer-1 patch stride", NULL, stride, &stride, NULL));
  PetscCall(PetscOptionsInt("-pattern_images", "Most images whose patches enter the pattern k-means", NULL, maximages, &maximages, NULL));
  PetscCall(PetscOptionsInt("-zoom", "Pixel magnification (0: automatic)", NULL, zoom, &zoom, NULL));
  PetscCall(PetscOptionsInt("-cell", "Confusion matrix cell size in pixels", NULL, cell, &cell, NULL));
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
  PetscCheck(patch >= 1 && stride >= 1, PETSC_COMM_SELF, PETSC_ERR_ARG_OUTOFRANGE, "-patch %" PetscInt_FMT " and -stride %" PetscInt_FMT " must be >= 1", patch, stride);
  PetscCheck(maximages >= 1, PETSC_COMM_SELF, PETSC_ERR_ARG_OUTOFRANGE, "-pattern_images %" PetscInt_FMT " must be >= 1", maximages);
  PetscCheck(zoom >= 0 && zoom <= 64, PETSC_COMM_SELF, PETSC_ERR_ARG_OUTOFRANGE, "-zoom %" PetscInt_FMT " must be in [0, 64]", zoom);
  PetscCheck(cell >= 1 && cell <= 256, PETSC_COMM_SELF, PETSC_ERR_ARG_OUTOFRANGE, "-cell %" PetscInt_FMT " must be in [1, 256]", cell);
  PetscCheck(seed >= 0, PETSC_COMM_SELF, PETSC_ERR_ARG_OUTOFRANGE, "-seed %" PetscInt_FMT " must be >= 0", seed);

  PetscCall(ImageFileOpen(input, &img));
  if (!zoom) zoom = PetscMax(1, (48 + (PetscInt)img.dims[1] - 1) / (PetscInt)img.dims[1]);
  PetscCall(PetscSNPrintf(result, sizeof(result), "%s/result.h5", dir));
  PetscCheck(!access(result, R_OK), PETSC_COMM_SELF, PETSC_ERR_FILE_OPEN, "Cannot read %s (%s): run build/sanet with -output %s first", result, strerror(errno), dir);
  PetscCall(CheckHDF5File("-output", result));
  PetscCallHDF5Id(rfile, H5Fopen(result, H5F_ACC_RDONLY, H5P_DEFAULT));

  PetscCall(PetscSNPrintf(out, sizeof(out), "%s/clusters.png", dir));
  PetscCall(PictureClusters(&img, result, rfile, per, zoom, out));
  if (H5Lexists(rfile, "confusion", H5P_DEFAULT) > 0) {
    PetscCall(PetscSNPrintf(out, sizeof(out), "%s/confusion.png", dir));
    PetscCall(PictureConfusion(result, rfile, cell, out));
  } else PetscCall(PetscPrintf(PETSC_COMM_SELF, "%s has no /confusion (input without labels): no confusion.png\n", result));
  PetscCallHDF5(H5Fclose(rfile));

  if (P > 0) {
    PetscCall(PetscSNPrintf(pattern, sizeof(pattern), "%s/stage-*-sal*.h5", dir));
    grc = glob(pattern, 0, NULL, &g);
    if (grc == 0 && g.gl_pathc >= 1) {
      size_t first = 0; /* the first spectral layer: lowest stage number, not glob's text order */
      for (size_t a = 1; a < g.gl_pathc; a++)
        if (atol(g.gl_pathv[a] + strlen(dir) + 7) < atol(g.gl_pathv[first] + strlen(dir) + 7)) first = a;
      PetscCall(PetscSNPrintf(out, sizeof(out), "%s/patterns.png", dir));
      PetscCall(PicturePatterns(&img, g.gl_pathv[first], P, patch, stride, maximages, zoom, seed, out));
    } else PetscCall(PetscPrintf(PETSC_COMM_SELF, "no %s: no patterns.png\n", pattern));
    if (grc == 0) globfree(&g);
  }
  PetscCall(ImageFileClose(&img));
  PetscFunctionReturn(0);
}

int main(int argc, char **argv)
{
  return SanetMain(&argc, &argv, help, "sanet-pictures", PETSC_FALSE, Run);
}
