#include "sanet/h5.h"

typedef struct {
  PetscInt            Nglobal, nlocal, istart, D;
  const PetscInt     *labels;
  const PetscReal    *features;
  const SanetQuality *quality;
  const SanetMetrics *metrics;
  const char         *stages;
} ResultContent;

static PetscErrorCode WriteResult(MPI_Comm comm, hid_t file, void *ctx)
{
  const ResultContent *rc = (const ResultContent *)ctx;
  const PetscInt       Nglobal = rc->Nglobal, nlocal = rc->nlocal, istart = rc->istart, D = rc->D, *labels = rc->labels;
  const PetscReal     *features = rc->features;
  const SanetQuality  *quality  = rc->quality;
  const SanetMetrics  *metrics  = rc->metrics;
  int                 *lab32;
  PetscMPIInt          rank;

  PetscFunctionBegin;
  PetscCallMPI(MPI_Comm_rank(comm, &rank));
  PetscCall(PetscMalloc1(nlocal + 1, &lab32));
  for (PetscInt i = 0; i < nlocal; i++) lab32[i] = (int)labels[i];
  {
    hsize_t dims[2] = {(hsize_t)Nglobal, (hsize_t)D};
    PetscCall(SanetH5WriteRows(file, "labels", H5T_NATIVE_INT, H5T_STD_I32LE, 1, dims, istart, nlocal, lab32));
    PetscCall(SanetH5WriteRows(file, "features", H5T_NATIVE_DOUBLE, H5T_IEEE_F64LE, 2, dims, istart, nlocal, features));
  }
  PetscCall(PetscFree(lab32));
  {
    hid_t root;
    SanetCallHDF5Id(root, H5Gopen2(file, "/", H5P_DEFAULT));
    PetscCall(SanetH5WriteStringAttribute(root, "stages", rc->stages));
    SanetCallHDF5(H5Gclose(root));
  }
  if (quality) {
    hsize_t qdims[2] = {(hsize_t)quality->ncand, (hsize_t)quality->ncol};
    hid_t   root, dset;
    double  v;
    int     iv;
    /* every rank holds the same candidate table; rank 0 writes its rows */
    PetscCall(SanetH5WriteRows(file, "selection", H5T_NATIVE_DOUBLE, H5T_IEEE_F64LE, 2, qdims, 0, rank ? 0 : quality->ncand, quality->cand));
    SanetCallHDF5Id(dset, H5Dopen2(file, "selection", H5P_DEFAULT));
    PetscCall(SanetH5WriteStringAttribute(dset, "columns", "K,neig,modularity,inertia,restarts_at_best"));
    SanetCallHDF5(H5Dclose(dset));
    SanetCallHDF5Id(root, H5Gopen2(file, "/", H5P_DEFAULT));
    v = (double)quality->modularity;
    PetscCall(SanetH5WriteAttribute(root, "modularity", H5T_NATIVE_DOUBLE, &v));
    iv = (int)quality->K;
    PetscCall(SanetH5WriteAttribute(root, "K", H5T_NATIVE_INT, &iv));
    iv = (int)quality->neig;
    PetscCall(SanetH5WriteAttribute(root, "neig", H5T_NATIVE_INT, &iv));
    iv = (int)quality->Kestimate;
    PetscCall(SanetH5WriteAttribute(root, "K_estimate", H5T_NATIVE_INT, &iv));
    PetscCall(SanetH5WriteStringAttribute(root, "quality_graph", quality->graph));
    SanetCallHDF5(H5Gclose(root));
  }
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
    SanetCallHDF5Id(root, H5Gopen2(file, "/", H5P_DEFAULT));
    PetscCall(SanetH5WriteAttribute(root, "ACC", H5T_NATIVE_DOUBLE, &m.acc));
    PetscCall(SanetH5WriteAttribute(root, "NMI", H5T_NATIVE_DOUBLE, &m.nmi));
    PetscCall(SanetH5WriteAttribute(root, "ARI", H5T_NATIVE_DOUBLE, &m.ari));
    PetscCall(SanetH5WriteAttribute(root, "FS", H5T_NATIVE_DOUBLE, &m.fs));
    SanetCallHDF5(H5Gclose(root));
  }
  PetscFunctionReturn(0);
}

PetscErrorCode SanetWriteResult(MPI_Comm comm, const char path[], PetscInt Nglobal, PetscInt nlocal, PetscInt istart, const PetscInt labels[], PetscInt D, const PetscReal features[], const SanetQuality *quality, const SanetMetrics *metrics, const char stages[])
{
  ResultContent rc = {Nglobal, nlocal, istart, D, labels, features, quality, metrics, stages};

  PetscFunctionBegin;
  PetscCall(SanetH5WriteAtomic(comm, path, WriteResult, &rc));
  PetscFunctionReturn(0);
}
