#include "sanet/private/layerimpl.h"

/* deskew: each image straightened by its second moments (src/patch/deskew.c), optionally
   with its centre of mass moved to the centre. It reads images and writes images, so it
   comes before the first layer of any other type. */

typedef struct {
  PetscBool recenter;
} SanetLayer_Deskew;

static PetscErrorCode SanetLayerSetFromOptions_Deskew(SanetLayer l, PetscOptionItems *PetscOptionsObject, PetscBool first)
{
  SanetLayer_Deskew *d = (SanetLayer_Deskew *)l->data;

  PetscFunctionBegin;
  PetscCall(PetscOptionsBool("-recenter", "Also move each image's centre of mass to the centre of the map", NULL, d->recenter, &d->recenter, NULL));
  PetscFunctionReturn(0);
}

static PetscErrorCode SanetLayerApply_Deskew(SanetLayer l, const SanetMaps *in, SanetMaps *out)
{
  SanetLayer_Deskew *d   = (SanetLayer_Deskew *)l->data;
  const size_t       per = (size_t)in->m * in->n * in->c;

  PetscFunctionBegin;
  PetscCall(SanetMapsCreate(l->comm, in->Nglobal, in->m, in->n, in->c, out));
  for (PetscInt img = 0; img < in->nlocal; img++) PetscCall(SanetDeskewImage(in->m, in->n, in->c, in->data + img * per, d->recenter, out->data + img * per));
  PetscFunctionReturn(0);
}

static PetscErrorCode SanetLayerView_Deskew(SanetLayer l, PetscViewer viewer)
{
  SanetLayer_Deskew *d = (SanetLayer_Deskew *)l->data;

  PetscFunctionBegin;
  PetscCall(PetscViewerASCIIPrintf(viewer, "%s: deskewing by image moments%s\n", l->name, d->recenter ? ", centre of mass to the centre" : ""));
  PetscFunctionReturn(0);
}

PetscErrorCode SanetLayerCreate_Deskew(SanetLayer l)
{
  SanetLayer_Deskew *d;

  PetscFunctionBegin;
  PetscCall(PetscNew(&d));
  l->data                = d;
  l->images_only         = PETSC_TRUE;
  l->ops->setfromoptions = SanetLayerSetFromOptions_Deskew;
  l->ops->apply          = SanetLayerApply_Deskew;
  l->ops->view           = SanetLayerView_Deskew;
  PetscFunctionReturn(0);
}
