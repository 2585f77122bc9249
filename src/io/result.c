#include "sanet.h"

/* Writes rows [istart, istart+nlocal) of a 1-D or 2-D dataset collectively. */
static PetscErrorCode WriteRows(hid_t file, const char name[], hid_t memtype, hid_t filetype, PetscInt Nglobal, PetscInt nlocal, PetscInt istart, PetscInt ncols, const void *buf)
{
  hsize_t dims[2] = {(hsize_t)Nglobal, (hsize_t)ncols}, start[2] = {(hsize_t)istart, 0}, count[2] = {(hsize_t)nlocal, (hsize_t)ncols};
  int     rank    = ncols > 0 ? 2 : 1;
  hid_t   fspace, mspace, dset, xfer;

  PetscFunctionBegin;
  PetscCallHDF5Id(fspace, H5Screate_simple(rank, dims, NULL));
  PetscCallHDF5Id(dset, H5Dcreate2(file, name, filetype, fspace, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT));
  PetscCallHDF5Id(mspace, H5Screate_simple(rank, count, NULL));
  PetscCallHDF5(H5Sselect_hyperslab(fspace, H5S_SELECT_SET, start, NULL, count, NULL));
  PetscCallHDF5Id(xfer, H5Pcreate(H5P_DATASET_XFER));
  PetscCallHDF5(H5Pset_dxpl_mpio(xfer, H5FD_MPIO_COLLECTIVE));
  PetscCallHDF5(H5Dwrite(dset, memtype, mspace, fspace, xfer, buf));
  PetscCallHDF5(H5Pclose(xfer));
  PetscCallHDF5(H5Sclose(mspace));
  PetscCallHDF5(H5Dclose(dset));
  PetscCallHDF5(H5Sclose(fspace));
  PetscFunctionReturn(0);
}

static PetscErrorCode WriteAttribute(hid_t obj, const char name[], double value)
{
  hid_t space, attr;

  PetscFunctionBegin;
  PetscCallHDF5Id(space, H5Screate(H5S_SCALAR));
  PetscCallHDF5Id(attr, H5Acreate2(obj, name, H5T_NATIVE_DOUBLE, space, H5P_DEFAULT, H5P_DEFAULT));
  PetscCallHDF5(H5Awrite(attr, H5T_NATIVE_DOUBLE, &value));
  PetscCallHDF5(H5Aclose(attr));
  PetscCallHDF5(H5Sclose(space));
  PetscFunctionReturn(0);
}

PetscErrorCode SanetWriteResult(MPI_Comm comm, const char path[], PetscInt Nglobal, PetscInt nlocal, PetscInt istart, const PetscInt labels[], PetscInt D, const PetscReal features[], const SanetMetrics *metrics)
{
  char        tmp[PETSC_MAX_PATH_LEN];
  hid_t       fapl, file;
  int        *lab32;
  PetscMPIInt rank;

  PetscFunctionBegin;
  PetscCallMPI(MPI_Comm_rank(comm, &rank));
  PetscCall(PetscSNPrintf(tmp, sizeof(tmp), "%s.tmp", path));
  PetscCallHDF5Id(fapl, H5Pcreate(H5P_FILE_ACCESS));
  PetscCallHDF5(H5Pset_fapl_mpio(fapl, comm, MPI_INFO_NULL));
  file = H5Fcreate(tmp, H5F_ACC_TRUNC, H5P_DEFAULT, fapl);
  PetscCheck(file >= 0, comm, PETSC_ERR_FILE_OPEN, "Cannot create %s: is the output directory writable?", tmp);
  PetscCallHDF5(H5Pclose(fapl));
  PetscCall(PetscMalloc1(nlocal + 1, &lab32));
  for (PetscInt i = 0; i < nlocal; i++) lab32[i] = (int)labels[i];
  PetscCall(WriteRows(file, "labels", H5T_NATIVE_INT, H5T_STD_I32LE, Nglobal, nlocal, istart, 0, lab32));
  PetscCall(PetscFree(lab32));
  PetscCall(WriteRows(file, "features", H5T_NATIVE_DOUBLE, H5T_IEEE_F64LE, Nglobal, nlocal, istart, D, features));
  if (metrics) {
    SanetMetrics m = *metrics;
    PetscInt     shape[2] = {m.nclasses, m.nclusters};
    int         *conf;
    hid_t        root;
    /* every rank writes the same rank-0 values (attributes are collective) */
    PetscCallMPI(MPI_Bcast(&m.acc, 4, MPIU_REAL, 0, comm));
    PetscCallMPI(MPI_Bcast(shape, 2, MPIU_INT, 0, comm));
    PetscCall(PetscMalloc1(shape[0] * shape[1], &conf));
    if (!rank)
      for (PetscInt a = 0; a < shape[0] * shape[1]; a++) conf[a] = (int)m.confusion[a];
    PetscCallMPI(MPI_Bcast(conf, (PetscMPIInt)(shape[0] * shape[1]), MPI_INT, 0, comm));
    PetscCall(WriteRows(file, "confusion", H5T_NATIVE_INT, H5T_STD_I32LE, shape[0], rank ? 0 : shape[0], 0, shape[1], conf));
    PetscCall(PetscFree(conf));
    PetscCallHDF5Id(root, H5Gopen2(file, "/", H5P_DEFAULT));
    PetscCall(WriteAttribute(root, "ACC", m.acc));
    PetscCall(WriteAttribute(root, "NMI", m.nmi));
    PetscCall(WriteAttribute(root, "ARI", m.ari));
    PetscCall(WriteAttribute(root, "FS", m.fs));
    PetscCallHDF5(H5Gclose(root));
  }
  PetscCallHDF5(H5Fclose(file));
  PetscCallMPI(MPI_Barrier(comm));
  if (!rank) PetscCheck(rename(tmp, path) == 0, PETSC_COMM_SELF, PETSC_ERR_FILE_WRITE, "Cannot rename %s to %s", tmp, path);
  PetscCallMPI(MPI_Barrier(comm));
  PetscFunctionReturn(0);
}
