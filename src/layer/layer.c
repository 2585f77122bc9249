#include "sanet/private/layerimpl.h"

/* The layer interface: the registry of types and the calls every type shares. A type is
   one file under impls/ and one SanetLayerRegister line (here for the built-in ones). */

static PetscFunctionList SanetLayerList       = NULL;
static PetscBool         SanetLayerRegistered = PETSC_FALSE;
/* the registered names in order, for the type a layer's name implies */
#define SANET_MAX_LAYER_TYPES 64
static char     SanetLayerTypeNames[SANET_MAX_LAYER_TYPES][32];
static PetscInt SanetLayerNumTypes = 0;

static PetscErrorCode SanetLayerFinalizePackage(void)
{
  PetscFunctionBegin;
  PetscCall(PetscFunctionListDestroy(&SanetLayerList));
  SanetLayerRegistered = PETSC_FALSE;
  SanetLayerNumTypes   = 0;
  PetscFunctionReturn(0);
}

PetscErrorCode SanetLayerRegisterAll(void)
{
  PetscFunctionBegin;
  if (SanetLayerRegistered) PetscFunctionReturn(0);
  SanetLayerRegistered = PETSC_TRUE;
  PetscCall(PetscRegisterFinalize(SanetLayerFinalizePackage));
  PetscCall(SanetLayerRegister(SANETLAYERSAL, SanetLayerCreate_SAL));
  PetscCall(SanetLayerRegister(SANETLAYERPOOL, SanetLayerCreate_Pool));
  PetscCall(SanetLayerRegister(SANETLAYERBIN, SanetLayerCreate_Bin));
  PetscCall(SanetLayerRegister(SANETLAYERCODE, SanetLayerCreate_Code));
  PetscCall(SanetLayerRegister(SANETLAYERDESKEW, SanetLayerCreate_Deskew));
  PetscFunctionReturn(0);
}

PetscErrorCode SanetLayerRegister(const char type[], PetscErrorCode (*create)(SanetLayer))
{
  size_t len;

  PetscFunctionBegin;
  PetscCall(SanetLayerRegisterAll());
  PetscCall(PetscStrlen(type, &len));
  PetscCheck(len >= 1 && len < sizeof(SanetLayerTypeNames[0]), PETSC_COMM_SELF, PETSC_ERR_ARG_OUTOFRANGE, "Layer type name '%s' must have 1 to %zu characters", type, sizeof(SanetLayerTypeNames[0]) - 1);
  for (PetscInt t = 0; t < SanetLayerNumTypes; t++) {
    PetscBool same;
    PetscCall(PetscStrcmp(SanetLayerTypeNames[t], type, &same));
    PetscCheck(!same, PETSC_COMM_SELF, PETSC_ERR_ARG_WRONG, "Layer type '%s' is registered already", type);
  }
  PetscCheck(SanetLayerNumTypes < SANET_MAX_LAYER_TYPES, PETSC_COMM_SELF, PETSC_ERR_ARG_OUTOFRANGE, "More than %d layer types registered", SANET_MAX_LAYER_TYPES);
  PetscCall(PetscStrncpy(SanetLayerTypeNames[SanetLayerNumTypes++], type, sizeof(SanetLayerTypeNames[0])));
  PetscCall(PetscFunctionListAdd(&SanetLayerList, type, create));
  PetscFunctionReturn(0);
}

/* The longest registered type name that begins name ("" when none does), and the list of
   all of them for messages. */
static PetscErrorCode TypeFromName(const char name[], size_t len, char type[], size_t tlen, char list[])
{
  size_t best = 0;

  PetscFunctionBegin;
  type[0] = list[0] = 0;
  for (PetscInt t = 0; t < SanetLayerNumTypes; t++) {
    PetscBool begins;
    size_t    l;
    PetscCall(PetscStrbeginswith(name, SanetLayerTypeNames[t], &begins));
    PetscCall(PetscStrlen(SanetLayerTypeNames[t], &l));
    if (begins && l > best) {
      best = l;
      PetscCall(PetscStrncpy(type, SanetLayerTypeNames[t], tlen));
    }
    if (t) PetscCall(PetscStrlcat(list, ", ", len));
    PetscCall(PetscStrlcat(list, SanetLayerTypeNames[t], len));
  }
  PetscFunctionReturn(0);
}

PetscErrorCode SanetLayerCreate(MPI_Comm comm, const char name[], SanetLayer *layer)
{
  SanetLayer l;

  PetscFunctionBegin;
  PetscCall(SanetLayerRegisterAll());
  PetscCall(PetscNew(&l));
  l->comm = comm;
  PetscCall(PetscStrncpy(l->name, name, sizeof(l->name)));
  PetscCall(PetscSNPrintf(l->prefix, sizeof(l->prefix), "%s_", name));
  *layer = l;
  PetscFunctionReturn(0);
}

PetscErrorCode SanetLayerSetType(SanetLayer l, SanetLayerType type)
{
  PetscErrorCode (*create)(SanetLayer);
  PetscBool same;

  PetscFunctionBegin;
  PetscCall(PetscStrcmp(l->type, type, &same));
  if (same) PetscFunctionReturn(0);
  PetscCall(PetscFunctionListFind(SanetLayerList, type, &create));
  if (!create) {
    char implied[32], list[256];
    PetscCall(TypeFromName(l->name, sizeof(list), implied, sizeof(implied), list));
    SETERRQ(l->comm, PETSC_ERR_ARG_UNKNOWN_TYPE, "Layer %s: unknown type '%s' (-%stype); the types are %s", l->name, type, l->prefix, list);
  }
  if (l->ops->destroy) PetscCall((*l->ops->destroy)(l));
  PetscCall(PetscFree(l->data));
  PetscCall(PetscMemzero(l->ops, sizeof(l->ops)));
  l->images_only          = PETSC_FALSE;
  l->makes_eigval         = PETSC_FALSE;
  l->setfromoptionscalled = PETSC_FALSE;
  PetscCall(PetscStrncpy(l->type, type, sizeof(l->type)));
  PetscCall((*create)(l));
  PetscFunctionReturn(0);
}

PetscErrorCode SanetLayerGetType(SanetLayer l, SanetLayerType *type)
{
  PetscFunctionBegin;
  *type = l->type;
  PetscFunctionReturn(0);
}

PetscErrorCode SanetLayerSetSeed(SanetLayer l, unsigned long seed, PetscInt index)
{
  PetscFunctionBegin;
  l->seed  = seed;
  l->index = index;
  PetscFunctionReturn(0);
}

PetscErrorCode SanetLayerSetFromOptions(SanetLayer l, PetscBool first)
{
  char      type[32], fromname[32], list[256];
  PetscBool set;

  PetscFunctionBegin;
  /* without -X_type, a name's leading letters give its type (sal1, pool, salimg, ...) */
  PetscCall(TypeFromName(l->name, sizeof(list), fromname, sizeof(fromname), list));
  PetscCall(PetscStrncpy(type, l->type[0] ? l->type : fromname, sizeof(type)));
  PetscCall(SanetOptionsCheckListLength(l->comm, l->prefix, "-procedures", 32));
  PetscCall(SanetOptionsCheckListLength(l->comm, l->prefix, "-patch", 2));
  PetscOptionsBegin(l->comm, l->prefix, "SA-Net layer", NULL);
  PetscCall(PetscOptionsFList("-type", "Layer type (default: the type its name begins with)", "SanetLayerSetType", SanetLayerList, type, type, sizeof(type), &set));
  PetscCheck(type[0], l->comm, PETSC_ERR_ARG_WRONG, "-network: layer name '%s' must start with a layer type (%s), or give -%stype", l->name, list, l->prefix);
  PetscCall(SanetLayerSetType(l, type));
  if (l->ops->setfromoptions) PetscCall((*l->ops->setfromoptions)(l, PetscOptionsObject, first));
  PetscOptionsEnd();
  if (l->ops->setup) PetscCall((*l->ops->setup)(l));
  l->setfromoptionscalled = PETSC_TRUE;
  PetscFunctionReturn(0);
}

static PetscErrorCode CheckReady(SanetLayer l)
{
  PetscFunctionBegin;
  PetscCheck(l->setfromoptionscalled, l->comm, PETSC_ERR_ARG_WRONGSTATE, "Layer %s: call SanetLayerSetFromOptions first", l->name);
  PetscFunctionReturn(0);
}

PetscErrorCode SanetLayerGetOutputShape(SanetLayer l, PetscInt m, PetscInt n, PetscInt c, PetscInt *mo, PetscInt *no, PetscInt *co)
{
  PetscFunctionBegin;
  PetscCall(CheckReady(l));
  *mo = m;
  *no = n;
  *co = c;
  if (l->ops->getoutputshape) PetscCall((*l->ops->getoutputshape)(l, m, n, c, mo, no, co));
  PetscFunctionReturn(0);
}

PetscErrorCode SanetLayerApply(SanetLayer l, const SanetMaps *in, SanetMaps *out)
{
  PetscFunctionBegin;
  PetscCall(CheckReady(l));
  PetscCall((*l->ops->apply)(l, in, out));
  /* a type that keeps the channels keeps their eigenvalue order for a later coding */
  if (!l->makes_eigval && in->eigval && out->c == in->c) {
    PetscCall(PetscMalloc1(in->c, &out->eigval));
    PetscCall(PetscMalloc1(in->c, &out->group));
    PetscCall(PetscArraycpy(out->eigval, in->eigval, in->c));
    PetscCall(PetscArraycpy(out->group, in->group, in->c));
  }
  PetscFunctionReturn(0);
}

PetscErrorCode SanetLayerEstimateMemory(SanetLayer l, PetscInt Nglobal, PetscInt m, PetscInt n, PetscInt c, PetscMPIInt P, PetscReal *bytes)
{
  PetscInt  mo, no, co;
  PetscReal images = PetscCeilReal((PetscReal)Nglobal / P), extra = 0;

  PetscFunctionBegin;
  PetscCall(SanetLayerGetOutputShape(l, m, n, c, &mo, &no, &co));
  /* every layer holds its input and its output maps */
  *bytes = images * (m * n * c + mo * no * co) * sizeof(PetscReal);
  if (l->ops->estimatememory) PetscCall((*l->ops->estimatememory)(l, Nglobal, mo, no, P, &extra));
  *bytes += extra;
  PetscFunctionReturn(0);
}

PetscErrorCode SanetLayerEstimateWork(SanetLayer l, PetscInt Nglobal, PetscInt m, PetscInt n, PetscInt c, PetscMPIInt P, SanetWork *work)
{
  PetscInt  mo, no, co;
  PetscReal images = PetscCeilReal((PetscReal)Nglobal / P);
  SanetWork extra  = {0, 0};

  PetscFunctionBegin;
  PetscCall(SanetLayerGetOutputShape(l, m, n, c, &mo, &no, &co));
  /* every layer reads its input and writes its output a few times */
  if (l->ops->estimatework) PetscCall((*l->ops->estimatework)(l, Nglobal, mo, no, P, &extra));
  work->gemm   = extra.gemm;
  work->stream = extra.stream + 4 * images * (m * n * c + mo * no * co);
  PetscFunctionReturn(0);
}

PetscErrorCode SanetLayerCheckSizes(SanetLayer l, PetscInt Nglobal, PetscInt m, PetscInt n, PetscInt c, PetscMPIInt P)
{
  PetscInt mo, no, co;

  PetscFunctionBegin;
  PetscCall(SanetLayerGetOutputShape(l, m, n, c, &mo, &no, &co));
  if (l->ops->checksizes) PetscCall((*l->ops->checksizes)(l, Nglobal, mo, no, P));
  PetscFunctionReturn(0);
}

PetscErrorCode SanetLayerView(SanetLayer l, PetscViewer viewer)
{
  PetscFunctionBegin;
  PetscCall(CheckReady(l));
  if (l->ops->view) PetscCall((*l->ops->view)(l, viewer));
  else PetscCall(PetscViewerASCIIPrintf(viewer, "%s: %s\n", l->name, l->type));
  PetscFunctionReturn(0);
}

PetscErrorCode SanetLayerIsImagesOnly(SanetLayer l, PetscBool *flg)
{
  PetscFunctionBegin;
  PetscCall(CheckReady(l));
  *flg = l->images_only;
  PetscFunctionReturn(0);
}

PetscErrorCode SanetLayerGetAutoRange(SanetLayer l, PetscBool *isauto, PetscInt *fewest, PetscInt *most)
{
  PetscFunctionBegin;
  *isauto = PETSC_FALSE;
  if (l->ops->getautorange) PetscCall((*l->ops->getautorange)(l, isauto, fewest, most));
  PetscFunctionReturn(0);
}

PetscErrorCode SanetLayerSetKeepGraph(SanetLayer l, PetscBool flg)
{
  PetscFunctionBegin;
  PetscCheck(!flg || l->ops->setkeepgraph, l->comm, PETSC_ERR_ARG_WRONG, "Layer %s (type %s) makes no graph to keep", l->name, l->type);
  if (l->ops->setkeepgraph) PetscCall((*l->ops->setkeepgraph)(l, flg));
  PetscFunctionReturn(0);
}

PetscErrorCode SanetLayerCanKeepGraph(SanetLayer l, PetscBool *flg)
{
  PetscFunctionBegin;
  *flg = PETSC_FALSE;
  if (l->ops->cankeepgraph) PetscCall((*l->ops->cankeepgraph)(l, flg));
  PetscFunctionReturn(0);
}

PetscErrorCode SanetLayerGetGraph(SanetLayer l, Mat *W)
{
  PetscFunctionBegin;
  *W = NULL;
  PetscCheck(l->ops->getgraph, l->comm, PETSC_ERR_ARG_WRONG, "Layer %s (type %s) has no graph", l->name, l->type);
  PetscCall((*l->ops->getgraph)(l, W));
  PetscFunctionReturn(0);
}

PetscErrorCode SanetLayerSelectFeatures(SanetLayer l, const SanetMaps *full, PetscInt neig, SanetMaps *out)
{
  PetscFunctionBegin;
  PetscCheck(l->ops->selectfeatures, l->comm, PETSC_ERR_ARG_WRONG, "Layer %s (type %s) has no eigenvector count to choose", l->name, l->type);
  PetscCall((*l->ops->selectfeatures)(l, full, neig, out));
  PetscFunctionReturn(0);
}

PetscErrorCode SanetLayerGetSummary(SanetLayer l, const char **summary)
{
  PetscFunctionBegin;
  *summary = "";
  if (l->ops->getsummary) PetscCall((*l->ops->getsummary)(l, summary));
  PetscFunctionReturn(0);
}

PetscErrorCode SanetLayerGetPatchSpec(SanetLayer l, const SanetPatchSpec **spec)
{
  PetscFunctionBegin;
  *spec = NULL;
  if (l->ops->getpatchspec) PetscCall((*l->ops->getpatchspec)(l, spec));
  PetscFunctionReturn(0);
}

PetscErrorCode SanetLayerGetName(SanetLayer l, const char **name)
{
  PetscFunctionBegin;
  *name = l->name;
  PetscFunctionReturn(0);
}

PetscErrorCode SanetLayerDestroy(SanetLayer *layer)
{
  PetscFunctionBegin;
  if (!*layer) PetscFunctionReturn(0);
  if ((*layer)->ops->destroy) PetscCall((*(*layer)->ops->destroy)(*layer));
  PetscCall(PetscFree((*layer)->data));
  PetscCall(PetscFree(*layer));
  PetscFunctionReturn(0);
}
