#include "sanet/private/layerimpl.h"

/* code: binary maps grouped L at a time by ascending Laplacian eigenvalue, each group
   read as one decimal map (paper eq. 11, fig. 4). */

typedef enum { SANET_CODE_GLOBAL, SANET_CODE_PROCEDURE } SanetCodeOrder;
static const char *const SanetCodeOrders[] = {"global", "procedure", "SanetCodeOrder", "SANET_CODE_", NULL};

typedef struct {
  PetscInt       L;
  SanetCodeOrder order;
} SanetLayer_Code;

static PetscErrorCode SanetLayerSetFromOptions_Code(SanetLayer l, PetscOptionItems *PetscOptionsObject, PetscBool first)
{
  SanetLayer_Code *cl = (SanetLayer_Code *)l->data;

  PetscFunctionBegin;
  PetscCall(PetscOptionsInt("-L", "Binary maps per decimal map", NULL, cl->L, &cl->L, NULL));
  PetscCall(PetscOptionsEnum("-order", "Group maps by eigenvalue over the whole layer or within each procedure", NULL, SanetCodeOrders, (PetscEnum)cl->order, (PetscEnum *)&cl->order, NULL));
  PetscFunctionReturn(0);
}

static PetscErrorCode SanetLayerSetUp_Code(SanetLayer l)
{
  SanetLayer_Code *cl = (SanetLayer_Code *)l->data;

  PetscFunctionBegin;
  PetscCheck(cl->L >= 1 && cl->L <= 30, l->comm, PETSC_ERR_ARG_OUTOFRANGE, "-%sL %" PetscInt_FMT " must be in [1, 30]", l->prefix, cl->L);
  PetscFunctionReturn(0);
}

static PetscErrorCode SanetLayerGetOutputShape_Code(SanetLayer l, PetscInt m, PetscInt n, PetscInt c, PetscInt *mo, PetscInt *no, PetscInt *co)
{
  SanetLayer_Code *cl = (SanetLayer_Code *)l->data;

  PetscFunctionBegin;
  *mo = m;
  *no = n;
  *co = (c + cl->L - 1) / cl->L; /* global order; per procedure may add a few */
  PetscFunctionReturn(0);
}

/* Channel order for coding: ascending eigenvalue, per procedure or over the layer. */
static PetscErrorCode CodeOrder(SanetLayer l, const SanetMaps *in, PetscInt order[], PetscInt *ngroups, PetscInt gstart[])
{
  SanetLayer_Code *cl = (SanetLayer_Code *)l->data;
  PetscInt c = in->c, n = 0;

  PetscFunctionBegin;
  for (PetscInt ch = 0; ch < c; ch++) order[ch] = ch;
  /* insertion sort keeps equal keys in channel order: deterministic */
  for (PetscInt a = 1; a < c; a++) {
    PetscInt v = order[a], b = a - 1;
    while (b >= 0) {
      PetscInt  u  = order[b];
      PetscBool gt = PETSC_FALSE;
      if (cl->order == SANET_CODE_PROCEDURE && in->group[u] != in->group[v]) gt = (PetscBool)(in->group[u] > in->group[v]);
      else gt = (PetscBool)(in->eigval[u] > in->eigval[v]);
      if (!gt) break;
      order[b + 1] = u;
      b--;
    }
    order[b + 1] = v;
  }
  for (PetscInt a = 0; a < c; a++) {
    PetscBool newproc = (PetscBool)(a > 0 && cl->order == SANET_CODE_PROCEDURE && in->group[order[a]] != in->group[order[a - 1]]);
    if (a == 0 || newproc || a - gstart[n - 1] == cl->L) gstart[n++] = a;
  }
  gstart[n] = c;
  *ngroups  = n;
  PetscFunctionReturn(0);
}

static PetscErrorCode SanetLayerApply_Code(SanetLayer l, const SanetMaps *in, SanetMaps *out)
{
  SanetLayer_Code *cl = (SanetLayer_Code *)l->data;
  PetscInt *order, *gstart, ng;

  PetscFunctionBegin;
  PetscCheck(in->eigval && in->group, l->comm, PETSC_ERR_ARG_WRONGSTATE, "Layer %s: coding needs maps that carry eigenvalues (put a sal layer before it)", l->name);
  PetscCall(PetscMalloc2(in->c, &order, in->c + 1, &gstart));
  PetscCall(CodeOrder(l, in, order, &ng, gstart));
  PetscCall(SanetMapsCreate(l->comm, in->Nglobal, in->m, in->n, ng, out));
  PetscCall(PetscMalloc1(ng, &out->eigval));
  PetscCall(PetscMalloc1(ng, &out->group));
  for (PetscInt g = 0; g < ng; g++) {
    out->eigval[g] = in->eigval[order[gstart[g]]];
    out->group[g]  = in->group[order[gstart[g]]];
  }
  for (size_t px = 0; px < (size_t)in->nlocal * in->m * in->n; px++)
    for (PetscInt g = 0; g < ng; g++) {
      PetscReal v = 0;
      /* Smallest eigenvalue gets the highest bit: 2^(L-1) (eq. 11, fig. 4). */
      for (PetscInt a = gstart[g]; a < gstart[g + 1]; a++)
        if (in->data[px * in->c + order[a]] > 0) v += (PetscReal)(1 << (cl->L - 1 - (a - gstart[g])));
      out->data[px * ng + g] = v;
    }
  PetscCall(PetscFree2(order, gstart));
  PetscFunctionReturn(0);
}

static PetscErrorCode SanetLayerView_Code(SanetLayer l, PetscViewer viewer)
{
  SanetLayer_Code *cl = (SanetLayer_Code *)l->data;

  PetscFunctionBegin;
  PetscCall(PetscViewerASCIIPrintf(viewer, "%s: coding, groups of %" PetscInt_FMT " by ascending eigenvalue (%s order)\n", l->name, cl->L, SanetCodeOrders[cl->order]));
  PetscFunctionReturn(0);
}

PetscErrorCode SanetLayerCreate_Code(SanetLayer l)
{
  SanetLayer_Code *cl;

  PetscFunctionBegin;
  PetscCall(PetscNew(&cl));
  cl->L                  = 8;
  l->data                = cl;
  l->makes_eigval        = PETSC_TRUE;
  l->ops->setfromoptions = SanetLayerSetFromOptions_Code;
  l->ops->setup          = SanetLayerSetUp_Code;
  l->ops->getoutputshape = SanetLayerGetOutputShape_Code;
  l->ops->apply          = SanetLayerApply_Code;
  l->ops->view           = SanetLayerView_Code;
  PetscFunctionReturn(0);
}
