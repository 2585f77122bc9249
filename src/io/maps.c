#include "sanet.h"

PetscErrorCode SanetMapsCreate(MPI_Comm comm, PetscInt Nglobal, PetscInt m, PetscInt n, PetscInt c, SanetMaps *maps)
{
  PetscInt nlocal = PETSC_DECIDE, iend;

  PetscFunctionBegin;
  PetscCall(PetscMemzero(maps, sizeof(*maps)));
  PetscCall(PetscSplitOwnership(comm, &nlocal, &Nglobal));
  PetscCallMPI(MPI_Scan(&nlocal, &iend, 1, MPIU_INT, MPI_SUM, comm));
  maps->Nglobal = Nglobal;
  maps->nlocal  = nlocal;
  maps->istart  = iend - nlocal;
  maps->m       = m;
  maps->n       = n;
  maps->c       = c;
  PetscCall(PetscCalloc1((size_t)nlocal * m * n * c, &maps->data));
  PetscFunctionReturn(0);
}

PetscErrorCode SanetMapsDestroy(SanetMaps *maps)
{
  PetscFunctionBegin;
  PetscCall(PetscFree(maps->data));
  PetscCall(PetscFree(maps->eigval));
  PetscCall(PetscFree(maps->group));
  PetscCall(PetscMemzero(maps, sizeof(*maps)));
  PetscFunctionReturn(0);
}
