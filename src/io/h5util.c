#include "sanet.h"

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
    PetscCallHDF5Id(fspace, H5Screate_simple(ndims, dims, NULL));
    PetscCallHDF5Id(dset, H5Dcreate2(file, name, filetype, fspace, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT));
  } else {
    PetscCallHDF5Id(dset, H5Dopen2(file, name, H5P_DEFAULT));
    PetscCallHDF5Id(fspace, H5Dget_space(dset));
  }
  PetscCallHDF5Id(mspace, H5Screate_simple(ndims, count, NULL));
  if (nrows > 0) PetscCallHDF5(H5Sselect_hyperslab(fspace, H5S_SELECT_SET, start, NULL, count, NULL));
  else {
    PetscCallHDF5(H5Sselect_none(fspace));
    PetscCallHDF5(H5Sselect_none(mspace));
  }
  PetscCallHDF5Id(xfer, H5Pcreate(H5P_DATASET_XFER));
  PetscCallHDF5(H5Pset_dxpl_mpio(xfer, H5FD_MPIO_COLLECTIVE));
  if (write) PetscCallHDF5(H5Dwrite(dset, memtype, mspace, fspace, xfer, buf));
  else PetscCallHDF5(H5Dread(dset, memtype, mspace, fspace, xfer, buf));
  PetscCallHDF5(H5Pclose(xfer));
  PetscCallHDF5(H5Sclose(mspace));
  PetscCallHDF5(H5Dclose(dset));
  PetscCallHDF5(H5Sclose(fspace));
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
  PetscCallHDF5Id(space, H5Screate(H5S_SCALAR));
  PetscCallHDF5Id(attr, H5Acreate2(obj, name, type, space, H5P_DEFAULT, H5P_DEFAULT));
  PetscCallHDF5(H5Awrite(attr, type, value));
  PetscCallHDF5(H5Aclose(attr));
  PetscCallHDF5(H5Sclose(space));
  PetscFunctionReturn(0);
}

PetscErrorCode SanetH5WriteStringAttribute(hid_t obj, const char name[], const char value[])
{
  hid_t type;

  PetscFunctionBegin;
  PetscCallHDF5Id(type, H5Tcopy(H5T_C_S1));
  PetscCallHDF5(H5Tset_size(type, strlen(value) + 1));
  PetscCall(SanetH5WriteAttribute(obj, name, type, value));
  PetscCallHDF5(H5Tclose(type));
  PetscFunctionReturn(0);
}

PetscErrorCode SanetH5CreateAtomic(MPI_Comm comm, const char path[], hid_t *file)
{
  char  tmp[PETSC_MAX_PATH_LEN];
  hid_t fapl;

  PetscFunctionBegin;
  PetscCall(PetscSNPrintf(tmp, sizeof(tmp), "%s.tmp", path));
  PetscCallHDF5Id(fapl, H5Pcreate(H5P_FILE_ACCESS));
  PetscCallHDF5(H5Pset_fapl_mpio(fapl, comm, MPI_INFO_NULL));
  *file = H5Fcreate(tmp, H5F_ACC_TRUNC, H5P_DEFAULT, fapl);
  PetscCallHDF5(H5Pclose(fapl));
  PetscCheck(*file >= 0, comm, PETSC_ERR_FILE_OPEN, "Cannot create %s: is the output directory writable?", tmp);
  PetscFunctionReturn(0);
}

PetscErrorCode SanetH5CloseAtomic(MPI_Comm comm, const char path[], hid_t file)
{
  char        tmp[PETSC_MAX_PATH_LEN];
  PetscMPIInt rank;

  PetscFunctionBegin;
  PetscCallMPI(MPI_Comm_rank(comm, &rank));
  PetscCall(PetscSNPrintf(tmp, sizeof(tmp), "%s.tmp", path));
  PetscCallHDF5(H5Fclose(file));
  PetscCallMPI(MPI_Barrier(comm));
  if (!rank) PetscCheck(rename(tmp, path) == 0, PETSC_COMM_SELF, PETSC_ERR_FILE_WRITE, "Cannot rename %s to %s", tmp, path);
  PetscCallMPI(MPI_Barrier(comm));
  PetscFunctionReturn(0);
}
