#include "sanet.h"

/* A network: the layers of -network in order, each under its own prefix, the plan made
   from their shapes, and the fit that runs them stage by stage with checkpoints. */

#define SANET_MAX_LAYERS 32

struct _p_SanetNet {
  MPI_Comm   comm;
  PetscInt   seed;
  PetscInt   nlayers;
  char      *names[SANET_MAX_LAYERS];
  SanetLayer layer[SANET_MAX_LAYERS];
  PetscInt   shape[3];        /* the images the default network derives from (0: 28x28x1) */
  char       defaults[256];   /* how the default network was derived ("" with -network) */
  PetscBool  setup;
  PetscInt   Nglobal, in[3], out[3];
  PetscInt   imagelayer;      /* the last layer when it is image-level (1x1 output, a graph of every image), else -1 */
  SanetWork  rates;           /* measured in SetUp, for the time estimates */
  char       stages[SANET_MAX_LAYERS * 128]; /* "FILE DIGEST" per stage of the last fit */
};

PetscErrorCode SanetNetCreate(MPI_Comm comm, SanetNet *net)
{
  PetscFunctionBegin;
  PetscCall(PetscNew(net));
  (*net)->comm       = comm;
  (*net)->imagelayer = -1;
  PetscFunctionReturn(0);
}

PetscErrorCode SanetNetSetSeed(SanetNet net, PetscInt seed)
{
  PetscFunctionBegin;
  net->seed = seed;
  PetscFunctionReturn(0);
}

PetscErrorCode SanetNetSetImageShape(SanetNet net, PetscInt m, PetscInt n, PetscInt c)
{
  PetscFunctionBegin;
  net->shape[0] = m;
  net->shape[1] = n;
  net->shape[2] = c;
  PetscFunctionReturn(0);
}

static PetscErrorCode DestroyLayers(SanetNet net)
{
  PetscFunctionBegin;
  for (PetscInt l = 0; l < net->nlayers; l++) {
    PetscCall(SanetLayerDestroy(&net->layer[l]));
    PetscCall(PetscFree(net->names[l]));
  }
  net->nlayers = 0;
  net->setup   = PETSC_FALSE;
  PetscFunctionReturn(0);
}

PetscErrorCode SanetNetSetFromOptions(SanetNet net)
{
  MPI_Comm  comm = net->comm;
  PetscBool set;

  PetscFunctionBegin;
  PetscCall(DestroyLayers(net));
  net->nlayers = SANET_MAX_LAYERS;
  PetscCall(SanetOptionsCheckListLength(comm, NULL, "-network", SANET_MAX_LAYERS));
  PetscOptionsBegin(comm, NULL, "SA-Net network", NULL);
  PetscCall(PetscOptionsStringArray("-network", "Layers in order; each name is its options prefix and, without -<layer>_type, begins with its type (sal*, pool*, bin*, code*, deskew*)", "SanetNetSetFromOptions", net->names, &net->nlayers, &set));
  PetscOptionsEnd();
  net->defaults[0] = 0;
  if (!set) {
    PetscInt m = net->shape[0] ? net->shape[0] : 28, n = net->shape[0] ? net->shape[1] : 28, c = net->shape[0] ? net->shape[2] : 1;
    PetscCall(SanetNetworkSetDefaults(m, n, c, &net->nlayers, net->names, sizeof(net->defaults), net->defaults));
  }
  for (PetscInt l = 0; l < net->nlayers; l++) {
    size_t len = strlen(net->names[l]);
    PetscCheck(len >= 1 && len <= 48, comm, PETSC_ERR_ARG_OUTOFRANGE, "-network: layer name '%s' has %zu characters; names have 1 to 48 (each is an options prefix)", net->names[l], len);
    for (PetscInt j = 0; j < l; j++) PetscCheck(strcmp(net->names[j], net->names[l]), comm, PETSC_ERR_ARG_WRONG, "-network: layer %s appears twice (layers %" PetscInt_FMT " and %" PetscInt_FMT "); each layer needs a name of its own, e.g. pool1,pool2", net->names[l], j + 1, l + 1);
  }
  /* the first layer that is not images-only reads images (patch padding and centring on) */
  for (PetscInt l = 0, images_in = 1; l < net->nlayers; l++) {
    PetscBool      only;
    SanetLayerType type;
    PetscCall(SanetLayerCreate(comm, net->names[l], &net->layer[l]));
    PetscCall(SanetLayerSetSeed(net->layer[l], (unsigned long)net->seed, l));
    PetscCall(SanetLayerSetFromOptions(net->layer[l], (PetscBool)images_in));
    PetscCall(SanetLayerIsImagesOnly(net->layer[l], &only));
    PetscCall(SanetLayerGetType(net->layer[l], &type));
    PetscCheck(!only || images_in, comm, PETSC_ERR_ARG_WRONG, "-network: %s (type %s) works on images, so it must come before the first layer of any other type", net->names[l], type);
    images_in = images_in && only;
  }
  /* -neig auto: only in the last layer, an image-level spectral layer, whose graph scores
     the candidates (checked against the shapes in SetUp) */
  for (PetscInt l = 0; l < net->nlayers - 1; l++) {
    PetscBool isauto;
    PetscInt  lo, hi;
    PetscCall(SanetLayerGetAutoRange(net->layer[l], &isauto, &lo, &hi));
    PetscCheck(!isauto, comm, PETSC_ERR_ARG_INCOMP, "-network: %s has a procedure with -neig auto, which only the last layer (an image-level spectral layer) may have", net->names[l]);
  }
  PetscFunctionReturn(0);
}

PetscErrorCode SanetNetGetDefaultsDescription(SanetNet net, const char **desc)
{
  PetscFunctionBegin;
  *desc = net->defaults;
  PetscFunctionReturn(0);
}

PetscErrorCode SanetNetSetUp(SanetNet net, PetscInt Nglobal, PetscInt m, PetscInt n, PetscInt c)
{
  PetscMPIInt size;

  PetscFunctionBegin;
  PetscCheck(net->nlayers > 0, net->comm, PETSC_ERR_ARG_WRONGSTATE, "SanetNetSetUp needs SanetNetSetFromOptions");
  PetscCallMPI(MPI_Comm_size(net->comm, &size));
  net->Nglobal    = Nglobal;
  net->in[0]      = m;
  net->in[1]      = n;
  net->in[2]      = c;
  net->imagelayer = -1;
  for (PetscInt l = 0; l < net->nlayers; l++) {
    PetscInt mo, no, co;
    PetscCall(SanetLayerGetOutputShape(net->layer[l], m, n, c, &mo, &no, &co));
    PetscCall(SanetLayerCheckSizes(net->layer[l], Nglobal, m, n, c, size));
    m = mo;
    n = no;
    c = co;
    if (l == net->nlayers - 1) {
      const SanetPatchSpec *patch;
      PetscBool             isauto, graph;
      PetscInt              lo, hi;
      PetscCall(SanetLayerGetPatchSpec(net->layer[l], &patch));
      PetscCall(SanetLayerGetAutoRange(net->layer[l], &isauto, &lo, &hi));
      PetscCall(SanetLayerCanKeepGraph(net->layer[l], &graph));
      /* a spectral layer whose patch is the whole map has one vertex per image */
      if (patch && m == 1 && n == 1 && graph) net->imagelayer = l;
      PetscCheck(!isauto || net->imagelayer == l, net->comm, PETSC_ERR_ARG_INCOMP, "%s: -neig auto needs an image-level layer with a graph of every image (its patch the whole input map so that its output is 1x1, sparse affinities, zero_patches keep); it gives %" PetscInt_FMT "x%" PetscInt_FMT " maps", net->names[l], m, n);
    }
  }
  net->out[0] = m;
  net->out[1] = n;
  net->out[2] = c;
  PetscCall(SanetWorkMeasureRates(net->comm, &net->rates));
  net->setup = PETSC_TRUE;
  PetscFunctionReturn(0);
}

static PetscErrorCode CheckSetUp(SanetNet net)
{
  PetscFunctionBegin;
  PetscCheck(net->setup, net->comm, PETSC_ERR_ARG_WRONGSTATE, "Call SanetNetSetUp first");
  PetscFunctionReturn(0);
}

PetscErrorCode SanetNetGetOutputShape(SanetNet net, PetscInt *m, PetscInt *n, PetscInt *c)
{
  PetscFunctionBegin;
  PetscCall(CheckSetUp(net));
  *m = net->out[0];
  *n = net->out[1];
  *c = net->out[2];
  PetscFunctionReturn(0);
}

PetscErrorCode SanetNetGetImageLayer(SanetNet net, SanetLayer *layer)
{
  PetscFunctionBegin;
  PetscCall(CheckSetUp(net));
  *layer = net->imagelayer >= 0 ? net->layer[net->imagelayer] : NULL;
  PetscFunctionReturn(0);
}

PetscErrorCode SanetNetGetRates(SanetNet net, SanetWork *rates)
{
  PetscFunctionBegin;
  PetscCall(CheckSetUp(net));
  *rates = net->rates;
  PetscFunctionReturn(0);
}

/* The largest per-layer memory and the summed time of the layers on P ranks. */
static PetscErrorCode Estimate(SanetNet net, PetscMPIInt P, PetscReal *peak, PetscReal *seconds)
{
  PetscInt m = net->in[0], n = net->in[1], c = net->in[2];

  PetscFunctionBegin;
  *peak = 0;
  if (seconds) *seconds = 0;
  for (PetscInt l = 0; l < net->nlayers; l++) {
    PetscInt  mo, no, co;
    PetscReal bytes;
    PetscCall(SanetLayerEstimateMemory(net->layer[l], net->Nglobal, m, n, c, P, &bytes));
    *peak = PetscMax(*peak, bytes);
    if (seconds) {
      SanetWork work;
      PetscCall(SanetLayerEstimateWork(net->layer[l], net->Nglobal, m, n, c, P, &work));
      *seconds += SanetWorkSeconds(&work, &net->rates);
    }
    PetscCall(SanetLayerGetOutputShape(net->layer[l], m, n, c, &mo, &no, &co));
    m = mo;
    n = no;
    c = co;
  }
  PetscFunctionReturn(0);
}

PetscErrorCode SanetNetGetEstimate(SanetNet net, PetscReal *peak, PetscReal *seconds)
{
  PetscMPIInt size;

  PetscFunctionBegin;
  PetscCall(CheckSetUp(net));
  PetscCallMPI(MPI_Comm_size(net->comm, &size));
  PetscCall(Estimate(net, size, peak, seconds));
  PetscFunctionReturn(0);
}

PetscErrorCode SanetNetEstimateRanks(SanetNet net, PetscReal mb, PetscMPIInt *P, PetscReal *bytes)
{
  PetscFunctionBegin;
  PetscCall(CheckSetUp(net));
  /* the estimate is not exactly 1/P: find the smallest P that fits */
  for (*P = 1; *P <= (1 << 20); *P *= 2) {
    PetscCall(Estimate(net, *P, bytes, NULL));
    if (*bytes <= mb * 1048576.0) break;
  }
  PetscFunctionReturn(0);
}

PetscErrorCode SanetNetView(SanetNet net, PetscViewer viewer)
{
  PetscInt    m = net->in[0], n = net->in[1], c = net->in[2];
  PetscMPIInt size;

  PetscFunctionBegin;
  PetscCall(CheckSetUp(net));
  PetscCallMPI(MPI_Comm_size(net->comm, &size));
  for (PetscInt l = 0; l < net->nlayers; l++) {
    PetscInt  mo, no, co;
    PetscReal bytes;
    SanetWork work;
    char      when[32];
    PetscCall(SanetLayerGetOutputShape(net->layer[l], m, n, c, &mo, &no, &co));
    PetscCall(SanetLayerEstimateMemory(net->layer[l], net->Nglobal, m, n, c, size, &bytes));
    PetscCall(SanetLayerEstimateWork(net->layer[l], net->Nglobal, m, n, c, size, &work));
    PetscCall(SanetWorkFormatSeconds(SanetWorkSeconds(&work, &net->rates), sizeof(when), when));
    PetscCall(PetscViewerASCIIPushTab(viewer));
    PetscCall(SanetLayerView(net->layer[l], viewer));
    PetscCall(PetscViewerASCIIPushTab(viewer));
    PetscCall(PetscViewerASCIIPrintf(viewer, "output %" PetscInt_FMT "x%" PetscInt_FMT "x%" PetscInt_FMT " per image, about %.0f MB per rank on %d rank%s, %s\n", mo, no, co, bytes / 1048576.0, size, size > 1 ? "s" : "", when));
    PetscCall(PetscViewerASCIIPopTab(viewer));
    PetscCall(PetscViewerASCIIPopTab(viewer));
    m = mo;
    n = no;
    c = co;
  }
  PetscFunctionReturn(0);
}

/* Layer l's stage file and digest: the upstream digest chained with the seed and every
   option under the layer's prefix, set or effective. */
static PetscErrorCode StageDigest(SanetNet net, SanetOptionCatalog catalog, PetscInt l, const char outdir[], uint64_t *digest, char **options, char stagefile[], size_t len)
{
  char prefix[80], *effective;

  PetscFunctionBegin;
  PetscCall(PetscSNPrintf(prefix, sizeof(prefix), "%s_", net->names[l]));
  PetscCall(SanetOptionCatalogGetLines(catalog, prefix, &effective));
  PetscCall(SanetOptionsDigest(net->comm, *digest, prefix, net->seed, effective, digest, options));
  PetscCall(PetscFree(effective));
  PetscCall(PetscSNPrintf(stagefile, len, "%s/stage-%" PetscInt_FMT "-%s.h5", outdir, l + 1, net->names[l]));
  PetscFunctionReturn(0);
}

PetscErrorCode SanetNetResumeView(SanetNet net, SanetOptionCatalog catalog, uint64_t digest, const char outdir[])
{
  PetscBool reusing = PETSC_TRUE;

  PetscFunctionBegin;
  PetscCall(CheckSetUp(net));
  for (PetscInt l = 0; l < net->nlayers; l++) {
    const char *name = net->names[l];
    char       *options, stagefile[PETSC_MAX_PATH_LEN], why[256] = "";
    PetscCall(StageDigest(net, catalog, l, outdir, &digest, &options, stagefile, sizeof(stagefile)));
    PetscCall(PetscFree(options));
    if (l == net->imagelayer) {
      PetscCall(PetscPrintf(net->comm, "resume: %s would be recomputed (its image graph scores the clusterings)\n", name));
      reusing = PETSC_FALSE;
    } else if (!reusing) {
      PetscCall(PetscPrintf(net->comm, "resume: %s would be recomputed (an earlier stage is)\n", name));
    } else {
      PetscCall(SanetCheckpointCheck(net->comm, stagefile, digest, net->Nglobal, why, sizeof(why)));
      if (!why[0]) PetscCall(PetscPrintf(net->comm, "resume: %s would be reused from %s\n", name, stagefile));
      else PetscCall(PetscPrintf(net->comm, "resume: %s would be recomputed: %s %s\n", name, stagefile, why));
      reusing = (PetscBool)!why[0];
    }
  }
  PetscFunctionReturn(0);
}

PetscErrorCode SanetNetFit(SanetNet net, SanetOptionCatalog catalog, SanetMaps *in, uint64_t digest, const char outdir[], PetscBool resume, SanetMaps *out)
{
  MPI_Comm  comm = net->comm;
  SanetMaps maps = *in, next;
  PetscBool reusing = resume;

  PetscFunctionBegin;
  PetscCall(CheckSetUp(net));
  PetscCheck(in->Nglobal == net->Nglobal && in->m == net->in[0] && in->n == net->in[1] && in->c == net->in[2], comm, PETSC_ERR_ARG_SIZ, "SanetNetFit: %" PetscInt_FMT " maps of %" PetscInt_FMT "x%" PetscInt_FMT "x%" PetscInt_FMT ", set up for %" PetscInt_FMT " of %" PetscInt_FMT "x%" PetscInt_FMT "x%" PetscInt_FMT, in->Nglobal, in->m, in->n, in->c, net->Nglobal, net->in[0], net->in[1], net->in[2]);
  PetscCall(PetscMemzero(in, sizeof(*in)));
  net->stages[0] = 0;
  for (PetscInt l = 0; l < net->nlayers; l++) {
    const char    *name = net->names[l];
    char          *options, stagefile[PETSC_MAX_PATH_LEN];
    PetscBool      loaded = PETSC_FALSE;
    PetscLogStage  stage;
    PetscLogDouble t0, t1;
    PetscCall(StageDigest(net, catalog, l, outdir, &digest, &options, stagefile, sizeof(stagefile)));
    /* Once one stage is recomputed, every later one is too. The image-level layer is
       always recomputed: its graph scores the clusterings and is not in a stage file. */
    if (l == net->imagelayer) {
      PetscCall(SanetLayerSetKeepGraph(net->layer[l], PETSC_TRUE));
      if (reusing) PetscCall(PetscPrintf(comm, "%s: recomputed (its image graph scores the clusterings)\n", name));
      reusing = PETSC_FALSE;
    }
    if (reusing) PetscCall(SanetCheckpointLoad(comm, stagefile, digest, maps.Nglobal, &next, &loaded));
    reusing = loaded;
    if (loaded) {
      PetscCall(PetscPrintf(comm, "%s: reused %s\n", name, stagefile));
    } else {
      const char           *summary;
      const SanetPatchSpec *patch;
      PetscInt              inshape[3] = {maps.m, maps.n, maps.c};
      PetscCall(PetscLogStageRegister(name, &stage));
      PetscCall(PetscLogStagePush(stage));
      PetscCall(PetscTime(&t0));
      PetscCall(SanetLayerApply(net->layer[l], &maps, &next));
      PetscCall(PetscTime(&t1));
      PetscCall(PetscLogStagePop());
      PetscCall(SanetLayerGetSummary(net->layer[l], &summary));
      PetscCall(SanetLayerGetPatchSpec(net->layer[l], &patch));
      PetscCall(SanetCheckpointWrite(comm, stagefile, name, digest, options, summary, inshape, patch, &next));
      PetscCall(PetscPrintf(comm, "%s done: %" PetscInt_FMT "x%" PetscInt_FMT "x%" PetscInt_FMT " per image, %.1f s, wrote %s\n", name, next.m, next.n, next.c, t1 - t0, stagefile));
    }
    {
      char line[PETSC_MAX_PATH_LEN + 40];
      PetscCall(PetscSNPrintf(line, sizeof(line), "stage-%" PetscInt_FMT "-%s.h5 %016llx\n", l + 1, name, (unsigned long long)digest));
      PetscCall(PetscStrlcat(net->stages, line, sizeof(net->stages)));
    }
    PetscCall(PetscFree(options));
    PetscCall(SanetMapsDestroy(&maps));
    maps = next;
  }
  *out = maps;
  PetscFunctionReturn(0);
}

PetscErrorCode SanetNetGetStages(SanetNet net, const char **stages)
{
  PetscFunctionBegin;
  *stages = net->stages;
  PetscFunctionReturn(0);
}

PetscErrorCode SanetNetDestroy(SanetNet *net)
{
  PetscFunctionBegin;
  if (!*net) PetscFunctionReturn(0);
  PetscCall(DestroyLayers(*net));
  PetscCall(PetscFree(*net));
  PetscFunctionReturn(0);
}
