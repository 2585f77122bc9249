#include "sanet/private/layerimpl.h"

/* bin: binarization, 1 where a value is positive and 0 elsewhere (paper section 3.2). */

static PetscErrorCode SanetLayerApply_Bin(SanetLayer l, const SanetMaps *in, SanetMaps *out)
{
  PetscFunctionBegin;
  PetscCall(SanetMapsCreate(l->comm, in->Nglobal, in->m, in->n, in->c, out));
  for (size_t a = 0; a < (size_t)in->nlocal * in->m * in->n * in->c; a++) out->data[a] = in->data[a] > 0 ? 1 : 0;
  PetscFunctionReturn(0);
}

static PetscErrorCode SanetLayerView_Bin(SanetLayer l, PetscViewer viewer)
{
  PetscFunctionBegin;
  PetscCall(PetscViewerASCIIPrintf(viewer, "%s: binarization (x > 0)\n", l->name));
  PetscFunctionReturn(0);
}

PetscErrorCode SanetLayerCreate_Bin(SanetLayer l)
{
  PetscFunctionBegin;
  l->ops->apply = SanetLayerApply_Bin;
  l->ops->view  = SanetLayerView_Bin;
  PetscFunctionReturn(0);
}
