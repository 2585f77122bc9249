#pragma once
/* What a computing method of a spectral procedure implements (src/spectral/impls/, one
   file a method) and what every procedure holds. A method is registered with
   SanetProcRegister(name, create); create fills p->ops and p->data, and says whether it
   solves a formed sparse graph (p->sparse: the kNN and eps affinities) or the full
   affinity, never formed. */
#include "sanet.h"

typedef struct _SanetProcOps *SanetProcOps;
struct _SanetProcOps {
  /* reads the method's options under p->prefix (inside the procedure's options block) */
  PetscErrorCode (*setfromoptions)(SanetProc, PetscOptionItems *);
  /* checks once every option is read; a solver's own options are validated here */
  PetscErrorCode (*setup)(SanetProc);
  /* W: the affinity of a sparse method (normalized in place as the method needs), NULL
     for a dense one; writes neig features per vertex (row-major) with SanetProcEmitFeature
     and the neig Laplacian eigenvalues ascending, and fills its, maxres, tol */
  PetscErrorCode (*solve)(SanetProc, const SanetProcInput *, Mat W, PetscReal *features, PetscReal *eigval);
  /* eigenvectors the method computes (before any it drops), for estimates */
  PetscErrorCode (*getnumcomputed)(SanetProc, PetscInt *);
  PetscErrorCode (*estimatememory)(SanetProc, PetscReal nlocal, PetscReal *bytes);
  PetscErrorCode (*estimatework)(SanetProc, PetscReal Nglobal, PetscInt dim, PetscMPIInt P, SanetWork *);
  /* appends the method's settings to the plan line (", 3 rounds") */
  PetscErrorCode (*describe)(SanetProc, size_t len, char buf[]);
  /* frees what p->data holds; the procedure frees p->data itself */
  PetscErrorCode (*destroy)(SanetProc);
};

struct _p_SanetProc {
  MPI_Comm        comm;
  char           *prefix;
  char            method[32];
  SanetAffinity   affinity;
  PetscInt        k;         /* kNN: neighbours; eps: candidate neighbours (cap) */
  PetscReal       eps_scale; /* eps = eps_scale * eta */
  SanetWeightSpec weight;
  SanetLaplacian  laplacian;
  PetscInt        neig;      /* with neig_auto: the most candidates, computed once */
  PetscBool       neig_auto; /* the caller picks the count among neig_range from the graph */
  PetscInt        neig_range[2];
  PetscBool       keep_graph; /* keep a copy of W (before normalization) after Apply */
  Mat             graph;
  PetscBool       row_normalize;
  unsigned long   seed;
  PetscInt        stream;
  /* set by the method's create: */
  struct _SanetProcOps ops[1];
  PetscBool            sparse;
  void                *data;
  /* results of the last Apply, for progress lines and checkpoints */
  PetscInt  nnz, ncomponents, largest, its, capped;
  PetscReal maxres, tol;
};

/* Writes feature column col from an eigenvector u of S (entry i at u[i*stride]): L_rw
   features are D^-1/2 u; the sign is fixed by a rank-independent rule. */
PETSC_INTERN PetscErrorCode SanetProcEmitFeature(SanetProc, PetscInt nlocal, const PetscScalar *u, PetscInt stride, const PetscScalar *dinv, PetscInt col, PetscReal *features);

/* Nystrom's landmark factor, which the mini-batch method refines (impls/nystrom.c) */
typedef struct {
  PetscInt        ncols, candidates, scalapack_min;
  SanetLandmarks  landmarks;
  SanetNystromEig eig;
} SanetProc_Nystrom;
PETSC_INTERN void           SanetProcNystromDefaults(SanetProc_Nystrom *);
PETSC_INTERN PetscErrorCode SanetProcNystromSetFromOptions(SanetProc, SanetProc_Nystrom *, PetscOptionItems *);
PETSC_INTERN PetscErrorCode SanetProcNystromSetUp(SanetProc, SanetProc_Nystrom *);
/* U (nlocal x neig), lambda (neig), dinv (nlocal) from PetscMalloc3, and the self-tuning
   scales sigma (PetscMalloc1, NULL for Gaussian weights) */
PETSC_INTERN PetscErrorCode SanetProcNystromFactor(SanetProc, const SanetProc_Nystrom *, const SanetProcInput *, PetscReal **U, PetscReal **lambda, PetscReal **dinv, PetscReal **sigma);
/* features and eigenvalues from U and lambda; frees what Factor allocated */
PETSC_INTERN PetscErrorCode SanetProcNystromFinish(SanetProc, PetscInt nlocal, PetscReal *U, PetscReal *lambda, PetscReal *dinv, PetscReal *sigma, PetscReal *features, PetscReal *eigval);
PETSC_INTERN PetscErrorCode SanetProcNystromEstimateMemory(SanetProc, const SanetProc_Nystrom *, PetscReal nlocal, PetscReal *bytes);
PETSC_INTERN PetscErrorCode SanetProcNystromEstimateWork(SanetProc, const SanetProc_Nystrom *, PetscReal Nglobal, PetscInt dim, PetscMPIInt P, SanetWork *);
PETSC_INTERN PetscErrorCode SanetProcNystromDescribe(SanetProc, const SanetProc_Nystrom *, size_t len, char buf[]);

/* The built-in methods (src/spectral/impls/) */
PETSC_INTERN PetscErrorCode SanetProcCreate_Krylov(SanetProc);
PETSC_INTERN PetscErrorCode SanetProcCreate_Nystrom(SanetProc);
PETSC_INTERN PetscErrorCode SanetProcCreate_MiniBatch(SanetProc);
