static const char help[] = "sanet: image clustering by stacked spectral analysis layers (SA-Net).\n\n"
                           "  mpirun -np P sanet -input DATA.h5 -output DIR [-options_file jobs/mnist.yaml]\n"
                           "        [-clusters K|auto] [-seed S] [-resume] [-dry_run]\n\n"
                           "  -network sal1,sal2,pool,bin,code   layers in order; each name is its options prefix\n"
                           "  -sal1_patch 11 -sal1_stride 5 -sal1_procedures a,b   spectral analysis layer\n"
                           "  -sal1_a_affinity knn|eps -sal1_a_k 9 -sal1_a_weight binary|gaussian|selftune\n"
                           "  -sal1_a_laplacian sym|rw -sal1_a_neig 16|auto -sal1_a_neig_range 4,24 -sal1_a_eps_type krylovschur|lanczos\n"
                           "  -pool_size 2 -pool_stride 1   -code_L 8 -code_order global|procedure\n"
                           "  -kmeans_restarts 100 -kmeans_max_it 300 -kmeans_tol 0   -clusters_range 2,20\n"
                           "See docs/usage.md for every option.\n\n";

#include "sanet.h"
#include <sys/stat.h>
#include <errno.h>
#include <stdlib.h>

#define SANET_MAX_LAYERS 32

/* OpenBLAS inside VMs often cannot identify the CPU and runs its slowest kernel. */
extern char *openblas_get_corename(void);
static PetscErrorCode CheckBLASKernel(MPI_Comm comm)
{
  const char *core = openblas_get_corename();

  PetscFunctionBegin;
  PetscCall(PetscInfo(NULL, "OpenBLAS kernel: %s\n", core ? core : "unknown"));
  __builtin_cpu_init();
  if (core && (!strcmp(core, "Prescott") || !strcmp(core, "Core2") || !strcmp(core, "Nehalem")) && (__builtin_cpu_supports("avx2") || __builtin_cpu_supports("avx512f")))
    PetscCall(PetscPrintf(comm, "warning: OpenBLAS runs its generic '%s' kernel on a CPU with %s; set OPENBLAS_CORETYPE=%s for several times faster GEMM\n", core, __builtin_cpu_supports("avx512f") ? "AVX-512" : "AVX2", __builtin_cpu_supports("avx512f") ? "SkylakeX" : "Haswell"));
  PetscFunctionReturn(0);
}

/* Layer l's stage file and digest: the upstream digest chained with the seed and every
   option under the layer's prefix, set or effective. */
static PetscErrorCode StageDigest(MPI_Comm comm, SanetOptionCatalog catalog, SanetLayer layer, PetscInt l, const char outdir[], PetscInt seed, uint64_t *digest, char **options, char stagefile[], size_t len)
{
  const char *name;
  char        prefix[80], *effective;

  PetscFunctionBegin;
  PetscCall(SanetLayerGetName(layer, &name));
  PetscCall(PetscSNPrintf(prefix, sizeof(prefix), "%s_", name));
  PetscCall(SanetOptionCatalogGetLines(catalog, prefix, &effective));
  PetscCall(SanetOptionsDigest(comm, *digest, prefix, seed, effective, digest, options));
  PetscCall(PetscFree(effective));
  PetscCall(PetscSNPrintf(stagefile, len, "%s/stage-%" PetscInt_FMT "-%s.h5", outdir, l + 1, name));
  PetscFunctionReturn(0);
}

/* -dry_run -resume: which stage files a run would reuse, and why not the others. */
static PetscErrorCode ResumePlan(MPI_Comm comm, SanetOptionCatalog catalog, const SanetImages *images, PetscInt nlayers, SanetLayer layer[], PetscInt nimagelayer, const char outdir[], PetscInt seed)
{
  uint64_t  digest;
  PetscBool reusing = PETSC_TRUE;

  PetscFunctionBegin;
  PetscCall(SanetImagesDigest(comm, images, &digest));
  for (PetscInt l = 0; l < nlayers; l++) {
    const char *name;
    char       *options, stagefile[PETSC_MAX_PATH_LEN], why[256] = "";
    PetscCall(SanetLayerGetName(layer[l], &name));
    PetscCall(StageDigest(comm, catalog, layer[l], l, outdir, seed, &digest, &options, stagefile, sizeof(stagefile)));
    PetscCall(PetscFree(options));
    if (l == nimagelayer) {
      PetscCall(PetscPrintf(comm, "resume: %s would be recomputed (its image graph scores the clusterings)\n", name));
      reusing = PETSC_FALSE;
    } else if (!reusing) {
      PetscCall(PetscPrintf(comm, "resume: %s would be recomputed (an earlier stage is)\n", name));
    } else {
      PetscCall(SanetCheckpointCheck(comm, stagefile, digest, images->maps.Nglobal, why, sizeof(why)));
      if (!why[0]) PetscCall(PetscPrintf(comm, "resume: %s would be reused from %s\n", name, stagefile));
      else PetscCall(PetscPrintf(comm, "resume: %s would be recomputed: %s %s\n", name, stagefile, why));
      reusing = (PetscBool)!why[0];
    }
  }
  PetscFunctionReturn(0);
}

static PetscErrorCode Run(void)
{
  MPI_Comm       comm;
  char           input[PETSC_MAX_PATH_LEN] = "", outdir[PETSC_MAX_PATH_LEN] = "", path[PETSC_MAX_PATH_LEN];
  char          *names[SANET_MAX_LAYERS];
  PetscInt       nlayers = SANET_MAX_LAYERS, K = 0, seed = 0, D;
  PetscBool      set, kset, dry_run = PETSC_FALSE, resume = PETSC_FALSE, reusing;
  PetscReal      rank_mb = 0, peak = 0;
  uint64_t       digest;
  SanetLayer     layer[SANET_MAX_LAYERS];
  SanetImages    images;
  SanetMaps      maps, next;
  SanetKMeans    km;
  SanetSelect    sel;
  SanetQuality   quality;
  const PetscInt *labels;
  const SanetMaps *feat;
  SanetSelectMode kmode;
  char           kstr[32] = "";
  PetscInt       nimagelayer = -1;
  PetscBool      loaded_early = PETSC_FALSE;
  char           defaults_desc[256] = "";
  char           stages[SANET_MAX_LAYERS * 128] = ""; /* "FILE DIGEST" per stage, for result.h5 */
  PetscLogStage  stage;
  PetscLogDouble t0, t1, tstart;
  SanetWork      rates;
  PetscReal      total = 0; /* estimated seconds of the whole run */
  PetscMPIInt    rank, size;
  SanetOptionCatalog catalog;
  PetscBool          want_help;

  PetscFunctionBegin;
  comm = PETSC_COMM_WORLD;
  want_help = SanetHelpRequested();
  PetscCall(PetscMemzero(&images, sizeof(images)));
  PetscCallMPI(MPI_Comm_rank(comm, &rank));
  PetscCallMPI(MPI_Comm_size(comm, &size));
  PetscCall(PetscTime(&tstart));
  PetscCall(CheckBLASKernel(comm));
  PetscCall(SanetOptionsCheckIntegers(comm));
  PetscCall(SanetOptionsCheckListLength(comm, NULL, "-network", SANET_MAX_LAYERS));
  PetscCall(SanetOptionCatalogBegin(&catalog));
  PetscOptionsBegin(comm, NULL, "sanet", NULL);
  PetscCall(PetscOptionsString("-input", "Input HDF5 file (/images [N,H,W,C], optional /labels)", NULL, input, input, sizeof(input), NULL));
  PetscCall(PetscOptionsString("-output", "Output directory", NULL, outdir, outdir, sizeof(outdir), NULL));
  PetscCall(PetscOptionsString("-clusters", "Number of clusters, or auto: chosen by modularity in -clusters_range (default: the distinct values of /labels, else auto)", NULL, kstr, kstr, sizeof(kstr), &kset));
  PetscCall(PetscOptionsInt("-seed", "Seed of every random choice", NULL, seed, &seed, NULL));
  PetscCall(PetscOptionsBool("-resume", "Reuse every stage file in -output whose options and input match", NULL, resume, &resume, NULL));
  PetscCall(PetscOptionsReal("-memory_per_rank_mb", "With -dry_run: memory each rank may use (MB), to say how many ranks the run needs", NULL, rank_mb, &rank_mb, NULL));
  PetscCall(PetscOptionsBool("-dry_run", "Validate input and options, print the plan, compute nothing", NULL, dry_run, &dry_run, NULL));
  PetscCall(PetscOptionsStringArray("-network", "Layers in order (sal*, pool*, bin*, code*, deskew*)", NULL, names, &nlayers, &set));
  PetscOptionsEnd();
  PetscCheck(input[0] || want_help, comm, PETSC_ERR_USER_INPUT, "Missing -input DATA.h5");
  PetscCheck(outdir[0] || dry_run || want_help, comm, PETSC_ERR_USER_INPUT, "Missing -output DIR");
  PetscCheck(seed >= 0, comm, PETSC_ERR_ARG_OUTOFRANGE, "-seed %" PetscInt_FMT " must be >= 0", seed);
  PetscCheck(rank_mb >= 0 && !PetscIsInfOrNanReal(rank_mb), comm, PETSC_ERR_ARG_OUTOFRANGE, "-memory_per_rank_mb %g must be >= 0 (0: not asked)", (double)rank_mb);
  if (outdir[0]) PetscCall(SanetOutputDirCheck(comm, outdir));
  PetscCall(SanetCheckLogViewPath(comm));
  kmode = SANET_SELECT_AUTO;
  if (kset) {
    PetscBool isauto;
    PetscCall(PetscStrcasecmp(kstr, "auto", &isauto));
    if (!isauto) {
      char     *end;
      long long v;
      errno = 0;
      v     = strtoll(kstr, &end, 10);
      PetscCheck(end != kstr && !*end && !errno && v >= 1 && v <= PETSC_MAX_INT, comm, PETSC_ERR_ARG_OUTOFRANGE, "-clusters %s must be auto or an integer >= 1", kstr);
      K     = (PetscInt)v;
      kmode = SANET_SELECT_FIXED;
    }
  }
  if (!set && !input[0]) { /* -help alone: the default network of 28x28 grey images */
    PetscCall(SanetNetworkSetDefaults(28, 28, 1, &nlayers, names, sizeof(defaults_desc), defaults_desc));
  } else if (!set) { /* the default network needs the image size: read the input first */
    PetscCall(PetscLogStageRegister("Input", &stage));
    PetscCall(PetscLogStagePush(stage));
    PetscCall(SanetImagesLoad(comm, input, &images));
    PetscCall(PetscLogStagePop());
    loaded_early = PETSC_TRUE;
    PetscCall(SanetNetworkSetDefaults(images.maps.m, images.maps.n, images.maps.c, &nlayers, names, sizeof(defaults_desc), defaults_desc));
  }

  for (PetscInt l = 0; l < nlayers; l++) {
    size_t len = strlen(names[l]);
    PetscCheck(len >= 1 && len <= 48, comm, PETSC_ERR_ARG_OUTOFRANGE, "-network: layer name '%s' has %zu characters; names have 1 to 48 (each is an options prefix)", names[l], len);
    for (PetscInt j = 0; j < l; j++) PetscCheck(strcmp(names[j], names[l]), comm, PETSC_ERR_ARG_WRONG, "-network: layer %s appears twice (layers %" PetscInt_FMT " and %" PetscInt_FMT "); each layer needs a name of its own, e.g. pool1,pool2", names[l], j + 1, l + 1);
  }
  /* Options first: a bad option fails before any data is read. The first spectral layer
     reads images (deskewing keeps them images). */
  for (PetscInt l = 0, images_in = 1; l < nlayers; l++) {
    SanetLayerType type;
    PetscCall(SanetLayerCreate(comm, names[l], &layer[l]));
    PetscCall(SanetLayerSetSeed(layer[l], (unsigned long)seed, l));
    PetscCall(SanetLayerGetType(layer[l], &type));
    PetscCheck(type != SANET_LAYER_DESKEW || images_in, comm, PETSC_ERR_ARG_WRONG, "-network: %s deskews images, so it must come before the first sal, pool, bin or code layer", names[l]);
    PetscCall(SanetLayerSetFromOptions(layer[l], (PetscBool)images_in));
    images_in = images_in && type == SANET_LAYER_DESKEW;
  }
  /* -neig auto: only in the last layer, an image-level spectral layer, whose graph scores
     the candidates (checked against shapes below) */
  for (PetscInt l = 0; l < nlayers; l++) {
    PetscBool isauto;
    PetscInt  lo, hi;
    PetscCall(SanetLayerGetAutoRange(layer[l], &isauto, &lo, &hi));
    PetscCheck(!isauto || l == nlayers - 1, comm, PETSC_ERR_ARG_INCOMP, "-network: %s has a procedure with -neig auto, which only the last layer (an image-level spectral layer) may have", names[l]);
  }
  PetscCall(SanetSelectCreate(comm, &sel));
  PetscCall(SanetSelectSetFromOptions(sel));
  PetscCall(SanetKMeansCreate(comm, &km));
  PetscCall(SanetKMeansSetOptionsPrefix(km, "kmeans_"));
  {
    PetscBool has;
    /* K is set per candidate by the selection: a k-means K of its own would be ignored */
    PetscCall(PetscOptionsHasName(NULL, "kmeans_", "-clusters", &has));
    PetscCheck(!has, comm, PETSC_ERR_ARG_WRONG, "-kmeans_clusters is not read by sanet; give -clusters K or -clusters auto");
  }
  PetscCall(SanetKMeansSetSeed(km, (unsigned long)seed));
  PetscCall(SanetKMeansSetFromOptions(km));
  PetscCall(SanetOptionCatalogEnd(catalog));
  if (want_help) {
    if (!set) PetscCall(PetscPrintf(comm, "Without -network, the default network %s (%s):\n", input[0] ? "for the images of -input" : "for 28x28 grey images (give -input for yours)", defaults_desc));
    PetscCall(SanetOptionCatalogView(catalog, comm));
    goto done;
  }
  PetscCall(SanetOptionsCheckUnused(comm, catalog, NULL, "sanet"));

  if (!loaded_early) {
    PetscCall(PetscLogStageRegister("Input", &stage));
    PetscCall(PetscLogStagePush(stage));
    PetscCall(SanetImagesLoad(comm, input, &images));
    PetscCall(PetscLogStagePop());
  }
  if (!kset && images.labels) { /* K from the labels, with the estimate printed beside it */
    K     = images.ndistinct;
    kmode = SANET_SELECT_REPORT;
  }
  if (kmode == SANET_SELECT_AUTO) PetscCall(SanetSelectGetClustersRange(sel, &K, NULL));
  PetscCall(SanetSelectSetClusters(sel, kmode, K));
  PetscCheck(K <= images.maps.Nglobal, comm, PETSC_ERR_ARG_OUTOFRANGE, "-clusters %" PetscInt_FMT " is more than the %" PetscInt_FMT " images in %s", K, images.maps.Nglobal, input);
  /* metrics index a square contingency table by label: refuse absurd labels before any work */
  PetscCheck(!images.labels || (PetscInt64)PetscMax(images.nclasses, K) * PetscMax(images.nclasses, K) <= PETSC_MAX_INT, comm, PETSC_ERR_ARG_OUTOFRANGE, "%s: /labels go up to %" PetscInt_FMT "; label ids must stay below 46341 for the metrics' contingency table", input, images.nclasses - 1);
  PetscCall(SanetKMeansSetClusters(km, K));

  PetscCall(SanetWorkMeasureRates(comm, &rates));
  {
    PetscInt m = images.maps.m, n = images.maps.n, c = images.maps.c;
    char kdesc[96];
    if (kmode == SANET_SELECT_AUTO) {
      PetscInt lo, hi;
      PetscCall(SanetSelectGetClustersRange(sel, &lo, &hi));
      PetscCall(PetscSNPrintf(kdesc, sizeof(kdesc), "K chosen in %" PetscInt_FMT "..%" PetscInt_FMT " by modularity", lo, hi));
    } else PetscCall(PetscSNPrintf(kdesc, sizeof(kdesc), "%" PetscInt_FMT " clusters%s", K, kmode == SANET_SELECT_REPORT ? " (the distinct labels)" : ""));
    if (defaults_desc[0]) PetscCall(PetscPrintf(comm, "defaults: %s\n", defaults_desc));
    PetscCall(PetscPrintf(comm, "sanet: %" PetscInt_FMT " images of %" PetscInt_FMT "x%" PetscInt_FMT "x%" PetscInt_FMT " from %s on %d rank%s, %s, seed %" PetscInt_FMT ", OpenBLAS %s kernel\n", images.maps.Nglobal, m, n, c, input, size, size > 1 ? "s" : "", kdesc, seed, openblas_get_corename()));
    for (PetscInt l = 0; l < nlayers; l++) {
      PetscInt mo, no, co;
      PetscCall(SanetLayerGetOutputShape(layer[l], m, n, c, &mo, &no, &co));
      PetscCall(SanetLayerCheckSizes(layer[l], images.maps.Nglobal, m, n, c, size));
      PetscCall(PetscViewerASCIIPushTab(PETSC_VIEWER_STDOUT_WORLD));
      PetscCall(SanetLayerView(layer[l], PETSC_VIEWER_STDOUT_WORLD));
      PetscCall(PetscViewerASCIIPushTab(PETSC_VIEWER_STDOUT_WORLD));
      {
        PetscReal bytes, seconds;
        SanetWork work;
        char      when[32];
        PetscCall(SanetLayerEstimateMemory(layer[l], images.maps.Nglobal, m, n, c, size, &bytes));
        PetscCall(SanetLayerEstimateWork(layer[l], images.maps.Nglobal, m, n, c, size, &work));
        peak = PetscMax(peak, bytes);
        seconds = SanetWorkSeconds(&work, &rates);
        total += seconds;
        PetscCall(SanetWorkFormatSeconds(seconds, sizeof(when), when));
        PetscCall(PetscViewerASCIIPrintf(PETSC_VIEWER_STDOUT_WORLD, "output %" PetscInt_FMT "x%" PetscInt_FMT "x%" PetscInt_FMT " per image, about %.0f MB per rank on %d rank%s, %s\n", mo, no, co, bytes / 1048576.0, size, size > 1 ? "s" : "", when));
      }
      PetscCall(PetscViewerASCIIPopTab(PETSC_VIEWER_STDOUT_WORLD));
      PetscCall(PetscViewerASCIIPopTab(PETSC_VIEWER_STDOUT_WORLD));
      m = mo;
      n = no;
      c = co;
      if (l == nlayers - 1) {
        SanetLayerType type;
        PetscBool      isauto;
        PetscInt       lo, hi;
        PetscCall(SanetLayerGetType(layer[l], &type));
        PetscCall(SanetLayerGetAutoRange(layer[l], &isauto, &lo, &hi));
        PetscBool      graph;
        PetscCall(SanetLayerCanKeepGraph(layer[l], &graph));
        /* a spectral layer whose patch is the whole map has one vertex per image */
        if (type == SANET_LAYER_SAL && m == 1 && n == 1 && graph) nimagelayer = l;
        PetscCheck(!isauto || nimagelayer == l, comm, PETSC_ERR_ARG_INCOMP, "%s: -neig auto needs an image-level layer with a graph of every image (its patch the whole input map so that its output is 1x1, sparse affinities, zero_patches keep); it gives %" PetscInt_FMT "x%" PetscInt_FMT " maps", names[l], m, n);
      }
    }
    PetscCall(PetscPrintf(comm, "label-free score: modularity of the clusters on %s\n", nimagelayer >= 0 ? "the last layer's image graph" : "a 10-NN graph of the final features"));
    /* the K estimate beside the labels' count is cheap only on a head's small features */
    if (kmode == SANET_SELECT_REPORT && nimagelayer < 0) {
      kmode = SANET_SELECT_FIXED;
      PetscCall(SanetSelectSetClusters(sel, kmode, K));
    }
    PetscCall(SanetSelectSetNumImages(sel, images.maps.Nglobal));
    PetscCall(PetscViewerASCIIPushTab(PETSC_VIEWER_STDOUT_WORLD));
    PetscCall(SanetKMeansView(km, PETSC_VIEWER_STDOUT_WORLD));
    {
      SanetWork work;
      PetscReal seconds;
      char      when[32];
      PetscCall(SanetSelectEstimateWork(sel, nimagelayer >= 0 ? layer[nimagelayer] : NULL, km, images.maps.Nglobal, m * n * c, size, &work));
      seconds = SanetWorkSeconds(&work, &rates);
      total += seconds;
      PetscCall(SanetWorkFormatSeconds(seconds, sizeof(when), when));
      PetscCall(PetscViewerASCIIPrintf(PETSC_VIEWER_STDOUT_WORLD, "clustering and scoring: %s\n", when));
    }
    PetscCall(PetscViewerASCIIPopTab(PETSC_VIEWER_STDOUT_WORLD));
  }
  PetscCall(PetscPrintf(comm, "estimated peak memory: %.0f MB per rank on %d rank%s\n", peak / 1048576.0, size, size > 1 ? "s" : ""));
  {
    char when[32];
    PetscCall(SanetWorkFormatSeconds(total, sizeof(when), when));
    /* a rough guide: iteration counts are assumed, and the rates come from 40 ms probes */
    PetscCall(PetscPrintf(comm, "estimated time: %s (rough: counted flops at the measured %.1f Gflop/s per rank in products and %.1f in memory-bound work)\n", when, rates.gemm / 1e9, rates.stream / 1e9));
  }
  if (rank_mb > 0) {
    PetscMPIInt P = 1;
    PetscReal   bytes = PETSC_MAX_REAL;
    /* the estimate is not exactly 1/P: find the smallest P that fits */
    for (; P <= (1 << 20); P *= 2) {
      PetscReal b, worst = 0;
      PetscInt  m = images.maps.m, n = images.maps.n, c = images.maps.c, mo, no, co;
      for (PetscInt l = 0; l < nlayers; l++) {
        PetscCall(SanetLayerEstimateMemory(layer[l], images.maps.Nglobal, m, n, c, P, &b));
        PetscCall(SanetLayerGetOutputShape(layer[l], m, n, c, &mo, &no, &co));
        worst = PetscMax(worst, b);
        m     = mo;
        n     = no;
        c     = co;
      }
      bytes = worst;
      if (bytes <= rank_mb * 1048576.0) break;
    }
    PetscCall(PetscPrintf(comm, "with %.0f MB per rank: %d ranks (about %.0f MB each)\n", (double)rank_mb, P, bytes / 1048576.0));
  }
  if (dry_run) {
    if (resume && outdir[0]) PetscCall(ResumePlan(comm, catalog, &images, nlayers, layer, nimagelayer, outdir, seed));
    else if (resume) PetscCall(PetscPrintf(comm, "resume: no -output given, so no stage files to compare\n"));
    PetscCall(PetscPrintf(comm, "dry run: input and options are valid; nothing computed\n"));
  } else {
    PetscCall(SanetOutputDirOpen(comm, outdir));
    PetscCall(SanetImagesDigest(comm, &images, &digest));
    maps = images.maps;
    PetscCall(PetscMemzero(&images.maps, sizeof(images.maps)));
    reusing = resume;
    for (PetscInt l = 0; l < nlayers; l++) {
      const char *name;
      char       *options, stagefile[PETSC_MAX_PATH_LEN];
      PetscBool   loaded = PETSC_FALSE;
      PetscCall(SanetLayerGetName(layer[l], &name));
      PetscCall(StageDigest(comm, catalog, layer[l], l, outdir, seed, &digest, &options, stagefile, sizeof(stagefile)));
      /* Once one stage is recomputed, every later one is too. The image-level head is
         always recomputed: its graph scores the clusterings and is not in a stage file. */
      if (l == nimagelayer) {
        PetscCall(SanetLayerSetKeepGraph(layer[l], PETSC_TRUE));
        if (reusing) PetscCall(PetscPrintf(comm, "%s: recomputed (its image graph scores the clusterings)\n", name));
        reusing = PETSC_FALSE;
      }
      if (reusing) PetscCall(SanetCheckpointLoad(comm, stagefile, digest, maps.Nglobal, &next, &loaded));
      reusing = loaded;
      if (loaded) {
        PetscCall(PetscPrintf(comm, "%s: reused %s\n", name, stagefile));
      } else {
        PetscCall(PetscLogStageRegister(name, &stage));
        PetscCall(PetscLogStagePush(stage));
        PetscCall(PetscTime(&t0));
        PetscCall(SanetLayerApply(layer[l], &maps, &next));
        PetscCall(PetscTime(&t1));
        PetscCall(PetscLogStagePop());
        {
          const char *summary;
          const SanetPatchSpec *patch;
          PetscInt              inshape[3] = {maps.m, maps.n, maps.c};
          PetscCall(SanetLayerGetSummary(layer[l], &summary));
          PetscCall(SanetLayerGetPatchSpec(layer[l], &patch));
          PetscCall(SanetCheckpointWrite(comm, stagefile, name, digest, options, summary, inshape, patch, &next));
        }
        PetscCall(PetscPrintf(comm, "%s done: %" PetscInt_FMT "x%" PetscInt_FMT "x%" PetscInt_FMT " per image, %.1f s, wrote %s\n", name, next.m, next.n, next.c, t1 - t0, stagefile));
      }
      {
        char line[PETSC_MAX_PATH_LEN + 40];
        PetscCall(PetscSNPrintf(line, sizeof(line), "stage-%" PetscInt_FMT "-%s.h5 %016llx\n", l + 1, name, (unsigned long long)digest));
        PetscCall(PetscStrlcat(stages, line, sizeof(stages)));
      }
      PetscCall(PetscFree(options));
      PetscCall(SanetMapsDestroy(&maps));
      maps = next;
    }
    {
      Mat W = NULL;
      if (nimagelayer >= 0) PetscCall(SanetLayerGetGraph(layer[nimagelayer], &W));
      PetscCall(PetscLogStageRegister("k-means", &stage));
      PetscCall(PetscLogStagePush(stage));
      PetscCall(PetscTime(&t0));
      PetscCall(SanetSelectSetUp(sel, nimagelayer >= 0 ? layer[nimagelayer] : NULL, &maps, W, km));
      PetscCall(MatDestroy(&W));
      PetscCall(SanetSelectApply(sel));
      PetscCall(PetscTime(&t1));
      PetscCall(PetscLogStagePop());
    }
    {
      PetscReal inertia;
      PetscInt  restarts, nbest;
      PetscCall(SanetSelectGetResult(sel, &labels, &feat, &K, &quality.neig, &quality.modularity, &inertia, &nbest, &quality.Kestimate));
      PetscCall(SanetSelectGetCandidates(sel, &quality.ncand, &quality.ncol, &quality.cand, &quality.graph));
      PetscCall(SanetKMeansGetRestartStats(km, &restarts, NULL, NULL, NULL));
      quality.K = K;
      D         = feat->m * feat->n * feat->c;
      PetscCall(PetscPrintf(comm, "k-means: %" PetscInt_FMT " clusters of %" PetscInt_FMT "-dimensional features, inertia %.6g (best of %" PetscInt_FMT " restarts, reached by %" PetscInt_FMT "), %" PetscInt_FMT " candidate%s in %.1f s\n", K, D, (double)inertia, restarts, nbest, quality.ncand, quality.ncand > 1 ? "s" : "", t1 - t0));
    }
    if (kmode != SANET_SELECT_FIXED) PetscCall(PetscPrintf(comm, "estimated K: %" PetscInt_FMT " (highest modularity on %s)%s\n", quality.Kestimate, quality.graph, kmode == SANET_SELECT_REPORT ? "; the labels' count is used" : ""));
    PetscCall(PetscPrintf(comm, "quality: modularity %.4f of the %" PetscInt_FMT " clusters on %s (label-free; higher is better)\n", (double)quality.modularity, K, quality.graph));

    PetscCall(PetscLogStageRegister("Output", &stage));
    PetscCall(PetscLogStagePush(stage));
    PetscCall(PetscSNPrintf(path, sizeof(path), "%s/result.h5", outdir));
    if (images.labels) {
      PetscInt    *all_truth = NULL, *all_pred = NULL;
      PetscMPIInt *counts = NULL, *displs = NULL, nl = (PetscMPIInt)maps.nlocal;
      SanetMetrics metrics;
      PetscCall(PetscMemzero(&metrics, sizeof(metrics)));
      if (!rank) PetscCall(PetscMalloc4(maps.Nglobal, &all_truth, maps.Nglobal, &all_pred, size, &counts, size, &displs));
      PetscCallMPI(MPI_Gather(&nl, 1, MPI_INT, counts, 1, MPI_INT, 0, comm));
      if (!rank)
        for (PetscMPIInt r = 0; r < size; r++) displs[r] = r ? displs[r - 1] + counts[r - 1] : 0;
      PetscCallMPI(MPI_Gatherv(images.labels, nl, MPIU_INT, all_truth, counts, displs, MPIU_INT, 0, comm));
      PetscCallMPI(MPI_Gatherv(labels, nl, MPIU_INT, all_pred, counts, displs, MPIU_INT, 0, comm));
      if (!rank) {
        PetscCall(SanetMetricsCompute(maps.Nglobal, all_truth, all_pred, &metrics));
        PetscCall(PetscPrintf(PETSC_COMM_SELF, "confusion matrix (rows: classes, columns: clusters):\n"));
        for (PetscInt a = 0; a < metrics.nclasses; a++) {
          for (PetscInt b = 0; b < metrics.nclusters; b++) PetscCall(PetscPrintf(PETSC_COMM_SELF, " %6" PetscInt_FMT, metrics.confusion[a * metrics.nclusters + b]));
          PetscCall(PetscPrintf(PETSC_COMM_SELF, "\n"));
        }
      }
      PetscCall(SanetWriteResult(comm, path, maps.Nglobal, maps.nlocal, maps.istart, labels, D, feat->data, &quality, &metrics, stages));
      PetscCall(PetscTime(&t1));
      PetscCall(PetscPrintf(comm, "wrote %s; total %.1f s\n", path, t1 - tstart));
      PetscCall(PetscPrintf(comm, "metrics: ACC=%.4f NMI=%.4f ARI=%.4f FS=%.4f\n", (double)metrics.acc, (double)metrics.nmi, (double)metrics.ari, (double)metrics.fs));
      if (!rank) {
        PetscCall(SanetMetricsDestroy(&metrics));
        PetscCall(PetscFree4(all_truth, all_pred, counts, displs));
      }
    } else {
      PetscCall(SanetWriteResult(comm, path, maps.Nglobal, maps.nlocal, maps.istart, labels, D, feat->data, &quality, NULL, stages));
      PetscCall(PetscTime(&t1));
      PetscCall(PetscPrintf(comm, "wrote %s; total %.1f s\n", path, t1 - tstart));
    }
    PetscCall(PetscLogStagePop());
    PetscCall(SanetMapsDestroy(&maps));
  }
done:
  PetscCall(SanetSelectDestroy(&sel));
  PetscCall(SanetKMeansDestroy(&km));
  for (PetscInt l = 0; l < nlayers; l++) {
    PetscCall(SanetLayerDestroy(&layer[l]));
    PetscCall(PetscFree(names[l]));
  }
  PetscCall(SanetImagesDestroy(&images));
  PetscCall(SanetOptionCatalogDestroy(&catalog));
  if (!dry_run && !want_help) PetscCall(SanetOutputDirClose(comm));
  PetscFunctionReturn(0);
}

int main(int argc, char **argv)
{
  return SanetMain(&argc, &argv, help, "sanet", PETSC_TRUE, Run);
}
