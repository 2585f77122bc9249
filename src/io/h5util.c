#include "sanet/h5.h"
#include <errno.h>
#include <sys/statvfs.h>

static PetscErrorCode RowTransfer(hid_t file, const char name[], hid_t memtype, hid_t filetype, int ndims, const hsize_t dims[], PetscInt rowstart, PetscInt nrows, void *buf, PetscBool write)
{
  hsize_t start[8] = {0}, count[8];
  hid_t   fspace, mspace, dset, xfer;

  PetscFunctionBegin;
  PetscCheck(ndims >= 1 && ndims <= 8, PETSC_COMM_SELF, PETSC_ERR_ARG_OUTOFRANGE, "Dataset %s: %d dimensions", name, ndims);
  for (int d = 0; d < ndims; d++) count[d] = dims[d];
  start[0] = (hsize_t)rowstart;
  count[0] = (hsize_t)nrows;
  if (write) {
    SanetCallHDF5Id(fspace, H5Screate_simple(ndims, dims, NULL));
    SanetCallHDF5Id(dset, H5Dcreate2(file, name, filetype, fspace, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT));
  } else {
    SanetCallHDF5Id(dset, H5Dopen2(file, name, H5P_DEFAULT));
    SanetCallHDF5Id(fspace, H5Dget_space(dset));
  }
  SanetCallHDF5Id(mspace, H5Screate_simple(ndims, count, NULL));
  if (nrows > 0) SanetCallHDF5(H5Sselect_hyperslab(fspace, H5S_SELECT_SET, start, NULL, count, NULL));
  else {
    SanetCallHDF5(H5Sselect_none(fspace));
    SanetCallHDF5(H5Sselect_none(mspace));
  }
  SanetCallHDF5Id(xfer, H5Pcreate(H5P_DATASET_XFER));
  SanetCallHDF5(H5Pset_dxpl_mpio(xfer, H5FD_MPIO_COLLECTIVE));
  if (write) SanetCallHDF5(H5Dwrite(dset, memtype, mspace, fspace, xfer, buf));
  else SanetCallHDF5(H5Dread(dset, memtype, mspace, fspace, xfer, buf));
  SanetCallHDF5(H5Pclose(xfer));
  SanetCallHDF5(H5Sclose(mspace));
  SanetCallHDF5(H5Dclose(dset));
  SanetCallHDF5(H5Sclose(fspace));
  PetscFunctionReturn(0);
}

PetscErrorCode SanetH5WriteRows(hid_t file, const char name[], hid_t memtype, hid_t filetype, int ndims, const hsize_t dims[], PetscInt rowstart, PetscInt nrows, const void *buf)
{
  PetscFunctionBegin;
  PetscCall(RowTransfer(file, name, memtype, filetype, ndims, dims, rowstart, nrows, (void *)buf, PETSC_TRUE));
  PetscFunctionReturn(0);
}

PetscErrorCode SanetH5ReadRows(hid_t file, const char name[], hid_t memtype, int ndims, const hsize_t dims[], PetscInt rowstart, PetscInt nrows, void *buf)
{
  PetscFunctionBegin;
  PetscCall(RowTransfer(file, name, memtype, -1, ndims, dims, rowstart, nrows, buf, PETSC_FALSE));
  PetscFunctionReturn(0);
}

PetscErrorCode SanetH5WriteAttribute(hid_t obj, const char name[], hid_t type, const void *value)
{
  hid_t space, attr;

  PetscFunctionBegin;
  SanetCallHDF5Id(space, H5Screate(H5S_SCALAR));
  SanetCallHDF5Id(attr, H5Acreate2(obj, name, type, space, H5P_DEFAULT, H5P_DEFAULT));
  SanetCallHDF5(H5Awrite(attr, type, value));
  SanetCallHDF5(H5Aclose(attr));
  SanetCallHDF5(H5Sclose(space));
  PetscFunctionReturn(0);
}

PetscErrorCode SanetH5WriteStringAttribute(hid_t obj, const char name[], const char value[])
{
  hid_t type;

  PetscFunctionBegin;
  SanetCallHDF5Id(type, H5Tcopy(H5T_C_S1));
  SanetCallHDF5(H5Tset_size(type, strlen(value) + 1));
  PetscCall(SanetH5WriteAttribute(obj, name, type, value));
  SanetCallHDF5(H5Tclose(type));
  PetscFunctionReturn(0);
}

static herr_t InnermostError(unsigned n, const H5E_error2_t *e, void *ctx)
{
  if (n == 0 && e->desc) snprintf((char *)ctx, 256, "%s", e->desc);
  return 0;
}

PetscErrorCode SanetH5CallFailed(int line, const char func[], const char file[], const char call[])
{
  char   reason[256] = "";
  size_t len         = strcspn(call, "(");

  H5Ewalk2(H5E_DEFAULT, H5E_WALK_UPWARD, InnermostError, reason);
  return PetscError(PETSC_COMM_SELF, line, func, file, PETSC_ERR_LIB, PETSC_ERROR_INITIAL, "HDF5 call %.*s failed%s%s", (int)len, call, reason[0] ? ": " : "", reason);
}

/* Why a write to path failed, as far as the file system tells: a full one says so. */
static void WriteFailureReason(const char path[], size_t len, char reason[])
{
  char           dir[PETSC_MAX_PATH_LEN];
  struct statvfs fs;
  char          *slash;

  snprintf(dir, sizeof(dir), "%s", path);
  slash = strrchr(dir, '/');
  if (slash) *slash = 0;
  else snprintf(dir, sizeof(dir), ".");
  reason[0] = 0;
  if (!statvfs(dir, &fs) && (double)fs.f_bavail * fs.f_frsize < 1048576.0) snprintf(reason, len, "%s (%.0f kB free on its file system); ", strerror(ENOSPC), (double)fs.f_bavail * fs.f_frsize / 1024.0);
}

PetscErrorCode SanetH5WriteAtomic(MPI_Comm comm, const char path[], PetscErrorCode (*body)(MPI_Comm, hid_t, void *), void *ctx)
{
  char           tmp[PETSC_MAX_PATH_LEN], reason[256], inner[1024];
  hid_t          fapl, file;
  PetscMPIInt    rank;
  PetscErrorCode ierr;
  int            err = 0;

  PetscFunctionBegin;
  PetscCallMPI(MPI_Comm_rank(comm, &rank));
  PetscCall(PetscSNPrintf(tmp, sizeof(tmp), "%s.tmp", path));
  SanetCallHDF5Id(fapl, H5Pcreate(H5P_FILE_ACCESS));
  SanetCallHDF5(H5Pset_fapl_mpio(fapl, comm, MPI_INFO_NULL));
  file = H5Fcreate(tmp, H5F_ACC_TRUNC, H5P_DEFAULT, fapl);
  err  = errno;
  SanetCallHDF5(H5Pclose(fapl));
  PetscCheck(file >= 0, comm, PETSC_ERR_FILE_WRITE, "Cannot create %s: %s", tmp, err ? strerror(err) : "is the output directory writable?");
  err = 0;
  ierr = (*body)(comm, file, ctx);
  if (H5Fclose(file) < 0 && !ierr) ierr = SanetH5CallFailed(__LINE__, PETSC_FUNCTION_NAME, __FILE__, "H5Fclose()"); /* the last data reach the disk here */
  if (ierr) {
    (void)remove(tmp); /* by every rank that got here: the others may be stuck in the write */
    WriteFailureReason(tmp, sizeof(reason), reason);
    PetscCall(PetscStrncpy(inner, SanetErrorGetMessage(), sizeof(inner)));
    return PetscError(PETSC_COMM_SELF, __LINE__, PETSC_FUNCTION_NAME, __FILE__, PETSC_ERR_FILE_WRITE, PETSC_ERROR_INITIAL, "Cannot write %s: %s%s (the partial file is removed)", tmp, reason, inner);
  }
  PetscCallMPI(MPI_Barrier(comm));
  if (!rank && rename(tmp, path)) {
    err = errno;
    (void)remove(tmp);
  }
  PetscCallMPI(MPI_Bcast(&err, 1, MPI_INT, 0, comm));
  PetscCheck(!err, comm, PETSC_ERR_FILE_WRITE, "Cannot rename %s to %s: %s", tmp, path, strerror(err));
  PetscFunctionReturn(0);
}
