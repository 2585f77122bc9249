#pragma once
/* What a layer type implements (src/layer/impls/, one file a type) and what every layer
   holds. A type is registered with SanetLayerRegister(name, create); create fills
   l->ops and l->data. Ops left NULL take the defaults of src/layer/layer.c. */
#include "sanet.h"

typedef struct _SanetLayerOps *SanetLayerOps;
struct _SanetLayerOps {
  /* reads the type's options under l->prefix (inside the layer's PetscOptionsBegin) */
  PetscErrorCode (*setfromoptions)(SanetLayer, PetscOptionItems *, PetscBool first);
  /* checks made once the whole options block is read (ranges, children's options) */
  PetscErrorCode (*setup)(SanetLayer);
  /* default: the input shape */
  PetscErrorCode (*getoutputshape)(SanetLayer, PetscInt m, PetscInt n, PetscInt c, PetscInt *mo, PetscInt *no, PetscInt *co);
  PetscErrorCode (*apply)(SanetLayer, const SanetMaps *in, SanetMaps *out);
  /* bytes and work beyond reading the input maps and writing the output maps */
  PetscErrorCode (*estimatememory)(SanetLayer, PetscInt Nglobal, PetscInt mo, PetscInt no, PetscMPIInt P, PetscReal *bytes);
  PetscErrorCode (*estimatework)(SanetLayer, PetscInt Nglobal, PetscInt mo, PetscInt no, PetscMPIInt P, SanetWork *);
  PetscErrorCode (*checksizes)(SanetLayer, PetscInt Nglobal, PetscInt mo, PetscInt no, PetscMPIInt P);
  PetscErrorCode (*view)(SanetLayer, PetscViewer);
  /* frees what l->data holds; the layer frees l->data itself */
  PetscErrorCode (*destroy)(SanetLayer);
  /* spectral layers only (NULL elsewhere: no graph, no automatic count, no patches) */
  PetscErrorCode (*getautorange)(SanetLayer, PetscBool *isauto, PetscInt *fewest, PetscInt *most);
  PetscErrorCode (*setkeepgraph)(SanetLayer, PetscBool);
  PetscErrorCode (*cankeepgraph)(SanetLayer, PetscBool *);
  PetscErrorCode (*getgraph)(SanetLayer, Mat *);
  PetscErrorCode (*selectfeatures)(SanetLayer, const SanetMaps *full, PetscInt neig, SanetMaps *out);
  PetscErrorCode (*getpatchspec)(SanetLayer, const SanetPatchSpec **);
  PetscErrorCode (*getsummary)(SanetLayer, const char **);
};

struct _p_SanetLayer {
  MPI_Comm              comm;
  char                  name[64], prefix[80], type[32];
  unsigned long         seed;
  PetscInt              index;
  PetscBool             setfromoptionscalled;
  /* set by the type's create: */
  struct _SanetLayerOps ops[1];
  PetscBool             images_only;   /* reads images and writes images (deskewing) */
  PetscBool             makes_eigval;  /* sets out->eigval and out->group itself; other types pass the input's on */
  void                 *data;
};

/* The built-in types (src/layer/impls/) */
PETSC_INTERN PetscErrorCode SanetLayerCreate_SAL(SanetLayer);
PETSC_INTERN PetscErrorCode SanetLayerCreate_Pool(SanetLayer);
PETSC_INTERN PetscErrorCode SanetLayerCreate_Bin(SanetLayer);
PETSC_INTERN PetscErrorCode SanetLayerCreate_Code(SanetLayer);
PETSC_INTERN PetscErrorCode SanetLayerCreate_Deskew(SanetLayer);
