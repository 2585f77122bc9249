#include "sanet/h5.h"
#include <sys/stat.h>
#include <stdint.h>
#include <math.h>
#include <unistd.h>

/* HDF5 handles of one load, kept together so they are closed on every exit path. */
typedef struct {
  hid_t fapl, file, dset, fspace, mspace, ltype, lset, lspace, lmspace, dxpl;
} H5Handles;

static void H5HandlesInit(H5Handles *h)
{
  h->fapl = h->file = h->dset = h->fspace = h->mspace = h->ltype = -1;
  h->lset = h->lspace = h->lmspace = h->dxpl = -1;
}

/* Closing is best effort: it runs after an error too, when the first error matters. */
static void H5HandlesClose(H5Handles *h)
{
  if (h->lmspace >= 0) H5Sclose(h->lmspace);
  if (h->lspace >= 0) H5Sclose(h->lspace);
  if (h->ltype >= 0) H5Tclose(h->ltype);
  if (h->lset >= 0) H5Dclose(h->lset);
  if (h->mspace >= 0) H5Sclose(h->mspace);
  if (h->fspace >= 0) H5Sclose(h->fspace);
  if (h->dset >= 0) H5Dclose(h->dset);
  if (h->dxpl >= 0) H5Pclose(h->dxpl);
  if (h->file >= 0) H5Fclose(h->file);
  if (h->fapl >= 0) H5Pclose(h->fapl);
  H5HandlesInit(h);
}

/* Rank 0 looks at the file first so that a missing or non-HDF5 file gives one clear
   message instead of an HDF5 error stack from every rank. */
static PetscErrorCode CheckIsHDF5(MPI_Comm comm, const char path[])
{
  PetscMPIInt rank;
  int         code = 0;

  PetscFunctionBegin;
  PetscCallMPI(MPI_Comm_rank(comm, &rank));
  if (rank == 0) {
    struct stat st;
    if (access(path, R_OK) != 0) code = 1;
    else if (stat(path, &st) || !S_ISREG(st.st_mode)) code = 3; /* a FIFO would block the reader forever */
    else if (H5Fis_hdf5(path) <= 0) code = 2;
  }
  PetscCallMPI(MPI_Bcast(&code, 1, MPI_INT, 0, comm));
  PetscCheck(code != 1, comm, PETSC_ERR_FILE_OPEN, "Input file %s does not exist or is not readable", path);
  PetscCheck(code != 3, comm, PETSC_ERR_FILE_UNEXPECTED, "Input file %s is not a regular file (a directory, FIFO or device)", path);
  PetscCheck(code != 2, comm, PETSC_ERR_FILE_UNEXPECTED, "Input file %s is not an HDF5 file", path);
  PetscFunctionReturn(0);
}

/* A float32 value that is exactly a uint8 pixel k divided by 255 (in single precision,
   however it was computed). */
static int IsByteValue(double v)
{
  double k = round(v * 255.0);
  return (float)v == (float)(k / 255.0) || (float)v == (float)k / 255.0f;
}

/* A dataset whose storage was never written would silently read as fill values. A
   virtual dataset stores nothing itself: its source files must exist instead. */
static PetscErrorCode CheckStored(MPI_Comm comm, const char path[], hid_t dset, PetscBool *isvirtual)
{
  hid_t        dcpl;
  H5D_layout_t layout;

  PetscFunctionBegin;
  SanetCallHDF5Id(dcpl, H5Dget_create_plist(dset));
  layout     = H5Pget_layout(dcpl);
  *isvirtual = (PetscBool)(layout == H5D_VIRTUAL);
  if (layout == H5D_VIRTUAL) {
    size_t count = 0;
    char   dir[PETSC_MAX_PATH_LEN], *slash, missing[2 * PETSC_MAX_PATH_LEN] = "";
    PetscCall(PetscStrncpy(dir, path, sizeof(dir)));
    slash = strrchr(dir, '/');
    if (slash) slash[1] = 0;
    else dir[0] = 0;
    if (H5Pget_virtual_count(dcpl, &count) < 0) count = 0;
    for (size_t i = 0; i < count && !missing[0]; i++) {
      char src[PETSC_MAX_PATH_LEN];
      if (H5Pget_virtual_filename(dcpl, i, src, sizeof(src)) < 0 || !strcmp(src, ".")) continue; /* "." is the file itself */
      PetscCall(PetscSNPrintf(missing, sizeof(missing), "%s%s", src[0] == '/' ? "" : dir, src));
      if (!access(missing, R_OK)) missing[0] = 0;
    }
    SanetCallHDF5(H5Pclose(dcpl)); /* before any error return: HDF5 cannot free it at exit */
    PetscCheck(count > 0, comm, PETSC_ERR_FILE_UNEXPECTED, "Input file %s: the virtual /images maps no source data", path);
    PetscCheck(!missing[0], comm, PETSC_ERR_FILE_OPEN, "Input file %s: source file %s of the virtual /images does not exist or is not readable", path, missing);
  } else {
    SanetCallHDF5(H5Pclose(dcpl));
    PetscCheck(H5Dget_storage_size(dset) > 0, comm, PETSC_ERR_FILE_UNEXPECTED, "Input file %s: /images has no data stored", path);
  }
  PetscFunctionReturn(0);
}

/* Selects this rank's block [start, start+count) of the first dimension. */
static PetscErrorCode SelectBlock(hid_t fspace, int rank, const hsize_t dims[], PetscInt start, PetscInt count, hid_t *mspace)
{
  hsize_t off[4] = {0, 0, 0, 0}, cnt[4], one = 1;

  PetscFunctionBegin;
  for (int d = 0; d < rank; d++) cnt[d] = dims[d];
  off[0] = (hsize_t)start;
  cnt[0] = (hsize_t)count;
  if (count > 0) {
    SanetCallHDF5(H5Sselect_hyperslab(fspace, H5S_SELECT_SET, off, NULL, cnt, NULL));
    SanetCallHDF5Id(*mspace, H5Screate_simple(rank, cnt, NULL));
  } else {
    /* empty ranks still take part in the collective read */
    SanetCallHDF5(H5Sselect_none(fspace));
    SanetCallHDF5Id(*mspace, H5Screate_simple(1, &one, NULL));
    SanetCallHDF5(H5Sselect_none(*mspace));
  }
  PetscFunctionReturn(0);
}

/* This rank's images: a collective read, or (virtual datasets, which parallel HDF5 cannot
   read) an independent one through a serial handle of the file. */
static PetscErrorCode ReadBlock(const char path[], H5Handles *h, PetscBool isvirtual, const SanetMaps *maps, hid_t memtype, void *buf)
{
  hid_t   file, dset, fspace, mspace;
  hsize_t dims[4] = {(hsize_t)maps->Nglobal, (hsize_t)maps->m, (hsize_t)maps->n, (hsize_t)maps->c};

  PetscFunctionBegin;
  if (!isvirtual) {
    SanetCallHDF5(H5Dread(h->dset, memtype, h->mspace, h->fspace, h->dxpl, buf));
    PetscFunctionReturn(0);
  }
  SanetCallHDF5Id(file, H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT));
  SanetCallHDF5Id(dset, H5Dopen2(file, "images", H5P_DEFAULT));
  SanetCallHDF5Id(fspace, H5Dget_space(dset));
  PetscCall(SelectBlock(fspace, 4, dims, maps->istart, maps->nlocal, &mspace));
  SanetCallHDF5(H5Dread(dset, memtype, mspace, fspace, H5P_DEFAULT, buf));
  SanetCallHDF5(H5Sclose(mspace));
  SanetCallHDF5(H5Sclose(fspace));
  SanetCallHDF5(H5Dclose(dset));
  SanetCallHDF5(H5Fclose(file));
  PetscFunctionReturn(0);
}

static PetscErrorCode LoadPixels(MPI_Comm comm, const char path[], H5Handles *h, SanetImages *img)
{
  int         ndims;
  hsize_t     dims[4];
  uint64_t    total = 1;
  H5T_class_t cls;
  size_t      tsize;
  hid_t       dtype;
  PetscBool   isbyte = PETSC_FALSE, isfloat = PETSC_FALSE, isvirtual;
  SanetMaps  *maps   = &img->maps;
  size_t      nval;

  PetscFunctionBegin;
  PetscCheck(H5Lexists(h->file, "images", H5P_DEFAULT) > 0, comm, PETSC_ERR_FILE_UNEXPECTED, "Input file %s has no dataset /images", path);
  h->dset = H5Dopen2(h->file, "images", H5P_DEFAULT);
  PetscCheck(h->dset >= 0, comm, PETSC_ERR_FILE_UNEXPECTED, "Input file %s: /images is not a dataset", path);
  SanetCallHDF5Id(h->fspace, H5Dget_space(h->dset));
  ndims = H5Sget_simple_extent_ndims(h->fspace);
  PetscCheck(ndims == 4, comm, PETSC_ERR_FILE_UNEXPECTED, "Input file %s: /images has rank %d, expected 4 dimensions [N,H,W,C]", path, ndims);
  SanetCallHDF5(H5Sget_simple_extent_dims(h->fspace, dims, NULL));
  for (int d = 0; d < 4; d++) {
    PetscCheck(dims[d] > 0, comm, PETSC_ERR_FILE_UNEXPECTED, "Input file %s: /images dimension %d is zero", path, d);
    PetscCheck(dims[d] <= (hsize_t)PETSC_MAX_INT, comm, PETSC_ERR_FILE_UNEXPECTED, "Input file %s: /images dimension %d (%llu) is too large", path, d, (unsigned long long)dims[d]);
    PetscCheck(total <= UINT64_MAX / dims[d], comm, PETSC_ERR_FILE_UNEXPECTED, "Input file %s: /images size N*H*W*C overflows", path);
    total *= dims[d];
  }
  /* one image must be addressable with PetscInt */
  PetscCheck(dims[1] * dims[2] * dims[3] <= (hsize_t)PETSC_MAX_INT, comm, PETSC_ERR_FILE_UNEXPECTED, "Input file %s: /images has too many values per image (H*W*C)", path);

  SanetCallHDF5Id(dtype, H5Dget_type(h->dset));
  cls   = H5Tget_class(dtype);
  tsize = H5Tget_size(dtype);
  if (cls == H5T_INTEGER && tsize == 1 && H5Tget_sign(dtype) == H5T_SGN_NONE) isbyte = PETSC_TRUE;
  if (cls == H5T_FLOAT && (tsize == 4 || tsize == 8)) isfloat = PETSC_TRUE;
  SanetCallHDF5(H5Tclose(dtype));
  PetscCheck(isbyte || isfloat, comm, PETSC_ERR_FILE_UNEXPECTED, "Input file %s: /images must be uint8 (0..255) or float32 (0..1), found another type", path);
  PetscCall(CheckStored(comm, path, h->dset, &isvirtual));

  PetscCall(SanetMapsCreate(comm, (PetscInt)dims[0], (PetscInt)dims[1], (PetscInt)dims[2], (PetscInt)dims[3], maps));
  PetscCall(SelectBlock(h->fspace, 4, dims, maps->istart, maps->nlocal, &h->mspace));
  nval = (size_t)maps->nlocal * maps->m * maps->n * maps->c;
  if (isbyte) {
    unsigned char *buf;

    PetscCall(PetscMalloc1(nval ? nval : 1, &buf));
    PetscCall(ReadBlock(path, h, isvirtual, maps, H5T_NATIVE_UCHAR, buf));
    for (size_t i = 0; i < nval; i++) maps->data[i] = buf[i] / 255.0;
    PetscCall(PetscFree(buf));
  } else {
    double  *buf;
    PetscInt bad[2] = {PETSC_MAX_INT, PETSC_MAX_INT}; /* first image with NaN/Inf, out of [0,1] */
    int      bytes  = tsize == 4; /* every value a float32 k/255: the pixels of a uint8 file */
    size_t   per    = (size_t)maps->m * maps->n * maps->c;

    PetscCall(PetscMalloc1(nval ? nval : 1, &buf));
    PetscCall(ReadBlock(path, h, isvirtual, maps, H5T_NATIVE_DOUBLE, buf));
    for (size_t i = 0; i < nval; i++) {
      PetscInt im = maps->istart + (PetscInt)(i / per);

      if (!isfinite(buf[i])) bad[0] = PetscMin(bad[0], im);
      else if (buf[i] < 0 || buf[i] > 1) bad[1] = PetscMin(bad[1], im);
      else if (bytes && !IsByteValue(buf[i])) bytes = 0;
      maps->data[i] = buf[i];
    }
    PetscCall(PetscFree(buf));
    /* every rank must take the same decision, so the check is global */
    PetscCall(MPIU_Allreduce(MPI_IN_PLACE, bad, 2, MPIU_INT, MPI_MIN, comm));
    PetscCheck(bad[0] == PETSC_MAX_INT, comm, PETSC_ERR_FILE_UNEXPECTED, "Input file %s: /images contains NaN or Inf (first in image %" PetscInt_FMT ")", path, bad[0]);
    PetscCheck(bad[1] == PETSC_MAX_INT, comm, PETSC_ERR_FILE_UNEXPECTED, "Input file %s: float /images values must lie in [0,1] (first violation in image %" PetscInt_FMT ")", path, bad[1]);
    /* the same pixels as the uint8 file, bit for bit, so that results are the same */
    PetscCallMPI(MPI_Allreduce(MPI_IN_PLACE, &bytes, 1, MPI_INT, MPI_MIN, comm));
    if (bytes)
      for (size_t i = 0; i < nval; i++) maps->data[i] = round(maps->data[i] * 255.0) / 255.0;
  }
  PetscFunctionReturn(0);
}

static PetscErrorCode LoadLabels(MPI_Comm comm, const char path[], H5Handles *h, SanetImages *img)
{
  int        ndims;
  hsize_t    dims[1];
  long long *buf;
  long long  range[2] = {LLONG_MAX, LLONG_MIN}; /* min, max */
  SanetMaps *maps     = &img->maps;

  PetscFunctionBegin;
  if (H5Lexists(h->file, "labels", H5P_DEFAULT) <= 0) PetscFunctionReturn(0);
  h->lset = H5Dopen2(h->file, "labels", H5P_DEFAULT);
  PetscCheck(h->lset >= 0, comm, PETSC_ERR_FILE_UNEXPECTED, "Input file %s: /labels is not a dataset", path);
  SanetCallHDF5Id(h->ltype, H5Dget_type(h->lset));
  PetscCheck(H5Tget_class(h->ltype) == H5T_INTEGER, comm, PETSC_ERR_FILE_UNEXPECTED, "Input file %s: /labels must have an integer type", path);
  SanetCallHDF5Id(h->lspace, H5Dget_space(h->lset));
  ndims = H5Sget_simple_extent_ndims(h->lspace);
  PetscCheck(ndims == 1, comm, PETSC_ERR_FILE_UNEXPECTED, "Input file %s: /labels has rank %d, expected 1", path, ndims);
  SanetCallHDF5(H5Sget_simple_extent_dims(h->lspace, dims, NULL));
  PetscCheck(dims[0] == (hsize_t)maps->Nglobal, comm, PETSC_ERR_FILE_UNEXPECTED, "Input file %s: /labels has %llu entries but /images has %" PetscInt_FMT " images", path, (unsigned long long)dims[0], maps->Nglobal);
  PetscCall(SelectBlock(h->lspace, 1, dims, maps->istart, maps->nlocal, &h->lmspace));
  PetscCall(PetscMalloc1(maps->nlocal ? maps->nlocal : 1, &buf));
  SanetCallHDF5(H5Dread(h->lset, H5T_NATIVE_LLONG, h->lmspace, h->lspace, h->dxpl, buf));
  for (PetscInt i = 0; i < maps->nlocal; i++) {
    range[0] = PetscMin(range[0], buf[i]);
    range[1] = PetscMax(range[1], buf[i]);
  }
  range[0] = -range[0]; /* one MAX reduction gives both */
  PetscCallMPI(MPI_Allreduce(MPI_IN_PLACE, range, 2, MPI_LONG_LONG, MPI_MAX, comm));
  range[0] = -range[0];
  /* copy first so that the error paths below leave nothing to free but img */
  PetscCall(PetscMalloc1(maps->nlocal ? maps->nlocal : 1, &img->labels));
  for (PetscInt i = 0; i < maps->nlocal; i++) img->labels[i] = (PetscInt)buf[i];
  PetscCall(PetscFree(buf));
  PetscCheck(range[0] >= 0, comm, PETSC_ERR_FILE_UNEXPECTED, "Input file %s: /labels contains negative value %lld", path, range[0]);
  PetscCheck(range[1] < PETSC_MAX_INT, comm, PETSC_ERR_FILE_UNEXPECTED, "Input file %s: /labels contains too large value %lld", path, range[1]);
  img->nclasses = (PetscInt)range[1] + 1;
  { /* distinct values: each rank's sorted set, merged on every rank */
    PetscInt    n = maps->nlocal, *mine, *all;
    PetscMPIInt size, nm, *counts, *displs, total = 0;
    PetscCallMPI(MPI_Comm_size(comm, &size));
    PetscCall(PetscMalloc1(n + 1, &mine));
    PetscCall(PetscArraycpy(mine, img->labels, n));
    PetscCall(PetscSortRemoveDupsInt(&n, mine));
    nm = (PetscMPIInt)n;
    PetscCall(PetscMalloc2(size, &counts, size, &displs));
    PetscCallMPI(MPI_Allgather(&nm, 1, MPI_INT, counts, 1, MPI_INT, comm));
    for (PetscMPIInt r = 0; r < size; r++) {
      displs[r] = total;
      total += counts[r];
    }
    PetscCall(PetscMalloc1(total + 1, &all));
    PetscCallMPI(MPI_Allgatherv(mine, nm, MPIU_INT, all, counts, displs, MPIU_INT, comm));
    n = total;
    PetscCall(PetscSortRemoveDupsInt(&n, all));
    img->ndistinct = n;
    PetscCall(PetscFree(all));
    PetscCall(PetscFree2(counts, displs));
    PetscCall(PetscFree(mine));
  }
  PetscFunctionReturn(0);
}

static PetscErrorCode LoadAll(MPI_Comm comm, const char path[], H5Handles *h, SanetImages *img)
{
  PetscFunctionBegin;
  PetscCall(CheckIsHDF5(comm, path));
  SanetCallHDF5Id(h->fapl, H5Pcreate(H5P_FILE_ACCESS));
  SanetCallHDF5(H5Pset_fapl_mpio(h->fapl, comm, MPI_INFO_NULL));
  h->file = H5Fopen(path, H5F_ACC_RDONLY, h->fapl);
  PetscCheck(h->file >= 0, comm, PETSC_ERR_FILE_OPEN, "Cannot open HDF5 file %s", path);
  SanetCallHDF5Id(h->dxpl, H5Pcreate(H5P_DATASET_XFER));
  SanetCallHDF5(H5Pset_dxpl_mpio(h->dxpl, H5FD_MPIO_COLLECTIVE));
  PetscCall(LoadPixels(comm, path, h, img));
  PetscCall(LoadLabels(comm, path, h, img));
  PetscFunctionReturn(0);
}

PetscErrorCode SanetImagesLoad(MPI_Comm comm, const char path[], SanetImages *img)
{
  H5Handles      h;
  H5E_auto2_t    efunc;
  void          *edata;
  PetscErrorCode ierr;

  PetscFunctionBegin;
  PetscCall(PetscMemzero(img, sizeof(*img)));
  H5HandlesInit(&h);
  /* our messages name the file and the problem; HDF5's own stack would only add noise */
  SanetCallHDF5(H5Eget_auto2(H5E_DEFAULT, &efunc, &edata));
  SanetCallHDF5(H5Eset_auto2(H5E_DEFAULT, NULL, NULL));
  ierr = LoadAll(comm, path, &h, img);
  H5HandlesClose(&h);
  SanetCallHDF5(H5Eset_auto2(H5E_DEFAULT, efunc, edata));
  if (ierr) {
    PetscCall(SanetImagesDestroy(img));
    PetscCall(ierr);
  }
  PetscFunctionReturn(0);
}

PetscErrorCode SanetImagesDestroy(SanetImages *img)
{
  PetscFunctionBegin;
  PetscCall(SanetMapsDestroy(&img->maps));
  PetscCall(PetscFree(img->labels));
  img->nclasses  = 0;
  img->ndistinct = 0;
  PetscFunctionReturn(0);
}

/* ------------------------------------ writer ------------------------------------ */

typedef struct {
  hid_t file, space, dcpl, dset;
} WHandles;

static void WHandlesClose(WHandles *w)
{
  if (w->dset >= 0) H5Dclose(w->dset);
  if (w->dcpl >= 0) H5Pclose(w->dcpl);
  if (w->space >= 0) H5Sclose(w->space);
  if (w->file >= 0) H5Fclose(w->file);
  w->file = w->space = w->dcpl = w->dset = -1;
}

static PetscErrorCode WriteAll(const char path[], const char tmp[], WHandles *w, PetscInt N, PetscInt H, PetscInt W, PetscInt C, const unsigned char *pixels, const int *labels, const char classes[])
{
  hsize_t dims[4] = {(hsize_t)N, (hsize_t)H, (hsize_t)W, (hsize_t)C}, chunk[4];
  hsize_t per = (hsize_t)H * W * C;

  PetscFunctionBegin;
  w->file = H5Fcreate(tmp, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
  PetscCheck(w->file >= 0, PETSC_COMM_SELF, PETSC_ERR_FILE_OPEN, "Cannot create output file %s (written first as %s)", path, tmp);
  /* chunks of whole images, about 256 KiB, compress well and read by image blocks */
  chunk[0] = PetscMax(1, PetscMin((hsize_t)N, (hsize_t)(262144 / per)));
  chunk[1] = dims[1];
  chunk[2] = dims[2];
  chunk[3] = dims[3];
  SanetCallHDF5Id(w->space, H5Screate_simple(4, dims, NULL));
  SanetCallHDF5Id(w->dcpl, H5Pcreate(H5P_DATASET_CREATE));
  SanetCallHDF5(H5Pset_chunk(w->dcpl, 4, chunk));
  SanetCallHDF5(H5Pset_deflate(w->dcpl, 6));
  SanetCallHDF5(H5Pset_obj_track_times(w->dcpl, 0)); /* same input, same bytes */
  SanetCallHDF5Id(w->dset, H5Dcreate2(w->file, "images", H5T_STD_U8LE, w->space, H5P_DEFAULT, w->dcpl, H5P_DEFAULT));
  SanetCallHDF5(H5Dwrite(w->dset, H5T_NATIVE_UCHAR, H5S_ALL, H5S_ALL, H5P_DEFAULT, pixels));
  SanetCallHDF5(H5Dclose(w->dset));
  SanetCallHDF5(H5Pclose(w->dcpl));
  SanetCallHDF5(H5Sclose(w->space));
  w->dset = w->dcpl = w->space = -1;
  if (labels) {
    hsize_t lchunk = PetscMin((hsize_t)N, 65536);

    SanetCallHDF5Id(w->space, H5Screate_simple(1, dims, NULL));
    SanetCallHDF5Id(w->dcpl, H5Pcreate(H5P_DATASET_CREATE));
    SanetCallHDF5(H5Pset_chunk(w->dcpl, 1, &lchunk));
    SanetCallHDF5(H5Pset_deflate(w->dcpl, 6));
    SanetCallHDF5(H5Pset_obj_track_times(w->dcpl, 0));
    SanetCallHDF5Id(w->dset, H5Dcreate2(w->file, "labels", H5T_STD_I32LE, w->space, H5P_DEFAULT, w->dcpl, H5P_DEFAULT));
    SanetCallHDF5(H5Dwrite(w->dset, H5T_NATIVE_INT, H5S_ALL, H5S_ALL, H5P_DEFAULT, labels));
    if (classes) PetscCall(SanetH5WriteStringAttribute(w->dset, "classes", classes));
  }
  WHandlesClose(w);
  PetscFunctionReturn(0);
}

PetscErrorCode SanetWriteDatasetFile(const char path[], PetscInt N, PetscInt H, PetscInt W, PetscInt C, const unsigned char *pixels, const PetscInt *labels, const char classes[])
{
  char           tmp[PETSC_MAX_PATH_LEN];
  int           *lab = NULL;
  WHandles       w   = {-1, -1, -1, -1};
  H5E_auto2_t    efunc;
  void          *edata;
  PetscErrorCode ierr;

  PetscFunctionBegin;
  PetscCheck(N > 0 && H > 0 && W > 0 && C > 0, PETSC_COMM_SELF, PETSC_ERR_ARG_OUTOFRANGE, "Output file %s: dataset dimensions must be positive, got [%" PetscInt_FMT ",%" PetscInt_FMT ",%" PetscInt_FMT ",%" PetscInt_FMT "]", path, N, H, W, C);
  PetscCheck((size_t)strlen(path) + 5 <= sizeof(tmp), PETSC_COMM_SELF, PETSC_ERR_ARG_OUTOFRANGE, "Output file name %s is too long", path);
  PetscCall(PetscSNPrintf(tmp, sizeof(tmp), "%s.tmp", path));
  if (labels) {
    for (PetscInt i = 0; i < N; i++) PetscCheck(labels[i] >= 0 && labels[i] <= INT32_MAX, PETSC_COMM_SELF, PETSC_ERR_ARG_OUTOFRANGE, "Output file %s: label %" PetscInt_FMT " of image %" PetscInt_FMT " is out of range", path, labels[i], i);
    PetscCall(PetscMalloc1(N, &lab));
    for (PetscInt i = 0; i < N; i++) lab[i] = (int)labels[i];
  }
  SanetCallHDF5(H5Eget_auto2(H5E_DEFAULT, &efunc, &edata));
  SanetCallHDF5(H5Eset_auto2(H5E_DEFAULT, NULL, NULL));
  ierr = WriteAll(path, tmp, &w, N, H, W, C, pixels, lab, classes);
  WHandlesClose(&w);
  SanetCallHDF5(H5Eset_auto2(H5E_DEFAULT, efunc, edata));
  PetscCall(PetscFree(lab));
  if (ierr) {
    (void)remove(tmp); /* no partial output */
    PetscCall(ierr);
  }
  if (rename(tmp, path) != 0) {
    (void)remove(tmp);
    SETERRQ(PETSC_COMM_SELF, PETSC_ERR_FILE_WRITE, "Cannot rename %s to output file %s", tmp, path);
  }
  PetscFunctionReturn(0);
}
