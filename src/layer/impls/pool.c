#include "sanet/private/layerimpl.h"

/* pool: max-abs pooling of each channel over size x size windows at a stride (paper
   section 3.2); the value of largest magnitude keeps its sign. */

typedef struct {
  PetscInt size, stride;
} SanetLayer_Pool;

static PetscErrorCode SanetLayerSetFromOptions_Pool(SanetLayer l, PetscOptionItems *PetscOptionsObject, PetscBool first)
{
  SanetLayer_Pool *pl = (SanetLayer_Pool *)l->data;

  PetscFunctionBegin;
  PetscCall(PetscOptionsInt("-size", "Pooling window (square)", NULL, pl->size, &pl->size, NULL));
  PetscCall(PetscOptionsInt("-stride", "Pooling stride (windows may overlap)", NULL, pl->stride, &pl->stride, NULL));
  PetscFunctionReturn(0);
}

static PetscErrorCode SanetLayerSetUp_Pool(SanetLayer l)
{
  SanetLayer_Pool *pl = (SanetLayer_Pool *)l->data;

  PetscFunctionBegin;
  PetscCheck(pl->size >= 1 && pl->stride >= 1, l->comm, PETSC_ERR_ARG_OUTOFRANGE, "-%ssize %" PetscInt_FMT " and -%sstride %" PetscInt_FMT " must be >= 1", l->prefix, pl->size, l->prefix, pl->stride);
  PetscFunctionReturn(0);
}

static PetscErrorCode SanetLayerGetOutputShape_Pool(SanetLayer l, PetscInt m, PetscInt n, PetscInt c, PetscInt *mo, PetscInt *no, PetscInt *co)
{
  SanetLayer_Pool *pl = (SanetLayer_Pool *)l->data;

  PetscFunctionBegin;
  PetscCheck(pl->size <= m && pl->size <= n, l->comm, PETSC_ERR_ARG_OUTOFRANGE, "-%ssize %" PetscInt_FMT " is larger than its %" PetscInt_FMT "x%" PetscInt_FMT " input maps", l->prefix, pl->size, m, n);
  *mo = (m - pl->size) / pl->stride + 1;
  *no = (n - pl->size) / pl->stride + 1;
  *co = c;
  PetscFunctionReturn(0);
}

static PetscErrorCode SanetLayerApply_Pool(SanetLayer l, const SanetMaps *in, SanetMaps *out)
{
  SanetLayer_Pool *pl = (SanetLayer_Pool *)l->data;
  PetscInt         mo, no, c;

  PetscFunctionBegin;
  PetscCall(SanetLayerGetOutputShape_Pool(l, in->m, in->n, in->c, &mo, &no, &c));
  PetscCall(SanetMapsCreate(l->comm, in->Nglobal, mo, no, c, out));
  for (PetscInt img = 0; img < in->nlocal; img++)
    for (PetscInt i = 0; i < mo; i++)
      for (PetscInt j = 0; j < no; j++)
        for (PetscInt ch = 0; ch < c; ch++) {
          PetscReal best = 0;
          for (PetscInt a = 0; a < pl->size; a++)
            for (PetscInt b = 0; b < pl->size; b++) {
              PetscReal v = in->data[(((size_t)img * in->m + i * pl->stride + a) * in->n + j * pl->stride + b) * c + ch];
              if (PetscAbsReal(v) > PetscAbsReal(best)) best = v;
            }
          out->data[(((size_t)img * mo + i) * no + j) * c + ch] = best;
        }
  PetscFunctionReturn(0);
}

static PetscErrorCode SanetLayerView_Pool(SanetLayer l, PetscViewer viewer)
{
  SanetLayer_Pool *pl = (SanetLayer_Pool *)l->data;

  PetscFunctionBegin;
  PetscCall(PetscViewerASCIIPrintf(viewer, "%s: max-abs pooling, window %" PetscInt_FMT ", stride %" PetscInt_FMT "\n", l->name, pl->size, pl->stride));
  PetscFunctionReturn(0);
}

PetscErrorCode SanetLayerCreate_Pool(SanetLayer l)
{
  SanetLayer_Pool *pl;

  PetscFunctionBegin;
  PetscCall(PetscNew(&pl));
  pl->size               = 2;
  pl->stride             = 1;
  l->data                = pl;
  l->ops->setfromoptions = SanetLayerSetFromOptions_Pool;
  l->ops->setup          = SanetLayerSetUp_Pool;
  l->ops->getoutputshape = SanetLayerGetOutputShape_Pool;
  l->ops->apply          = SanetLayerApply_Pool;
  l->ops->view           = SanetLayerView_Pool;
  PetscFunctionReturn(0);
}
