#include "sanet.h"

PetscErrorCode SanetWriteResult(MPI_Comm comm, const char path[], PetscInt Nglobal, PetscInt nlocal, PetscInt istart, const PetscInt labels[], PetscInt D, const PetscReal features[], const SanetMetrics *metrics)
{
  hid_t       file;
  int        *lab32;
  PetscMPIInt rank;

  PetscFunctionBegin;
  PetscCallMPI(MPI_Comm_rank(comm, &rank));
  PetscCall(SanetH5CreateAtomic(comm, path, &file));
  PetscCall(PetscMalloc1(nlocal + 1, &lab32));
  for (PetscInt i = 0; i < nlocal; i++) lab32[i] = (int)labels[i];
  {
    hsize_t dims[2] = {(hsize_t)Nglobal, (hsize_t)D};
    PetscCall(SanetH5WriteRows(file, "labels", H5T_NATIVE_INT, H5T_STD_I32LE, 1, dims, istart, nlocal, lab32));
    PetscCall(SanetH5WriteRows(file, "features", H5T_NATIVE_DOUBLE, H5T_IEEE_F64LE, 2, dims, istart, nlocal, features));
  }
  PetscCall(PetscFree(lab32));
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
    {
      hsize_t cdims[2] = {(hsize_t)shape[0], (hsize_t)shape[1]};
      PetscCall(SanetH5WriteRows(file, "confusion", H5T_NATIVE_INT, H5T_STD_I32LE, 2, cdims, 0, rank ? 0 : shape[0], conf));
    }
    PetscCall(PetscFree(conf));
    PetscCallHDF5Id(root, H5Gopen2(file, "/", H5P_DEFAULT));
    PetscCall(SanetH5WriteAttribute(root, "ACC", H5T_NATIVE_DOUBLE, &m.acc));
    PetscCall(SanetH5WriteAttribute(root, "NMI", H5T_NATIVE_DOUBLE, &m.nmi));
    PetscCall(SanetH5WriteAttribute(root, "ARI", H5T_NATIVE_DOUBLE, &m.ari));
    PetscCall(SanetH5WriteAttribute(root, "FS", H5T_NATIVE_DOUBLE, &m.fs));
    PetscCallHDF5(H5Gclose(root));
  }
  PetscCall(SanetH5CloseAtomic(comm, path, file));
  PetscFunctionReturn(0);
}
