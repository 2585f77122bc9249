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

/* The metrics of labels against the truth (gathered on rank 0), with the confusion matrix printed. */
static PetscErrorCode Metrics(MPI_Comm comm, PetscInt N, PetscInt nlocal, const PetscInt truth[], const PetscInt labels[], SanetMetrics *metrics)
{
  PetscInt    *all_truth = NULL, *all_pred = NULL;
  PetscMPIInt *counts = NULL, *displs = NULL, nl = (PetscMPIInt)nlocal, rank, size;

  PetscFunctionBegin;
  PetscCallMPI(MPI_Comm_rank(comm, &rank));
  PetscCallMPI(MPI_Comm_size(comm, &size));
  PetscCall(PetscMemzero(metrics, sizeof(*metrics)));
  if (!rank) PetscCall(PetscMalloc4(N, &all_truth, N, &all_pred, size, &counts, size, &displs));
  PetscCallMPI(MPI_Gather(&nl, 1, MPI_INT, counts, 1, MPI_INT, 0, comm));
  if (!rank)
    for (PetscMPIInt r = 0; r < size; r++) displs[r] = r ? displs[r - 1] + counts[r - 1] : 0;
  PetscCallMPI(MPI_Gatherv(truth, nl, MPIU_INT, all_truth, counts, displs, MPIU_INT, 0, comm));
  PetscCallMPI(MPI_Gatherv(labels, nl, MPIU_INT, all_pred, counts, displs, MPIU_INT, 0, comm));
  if (!rank) {
    PetscCall(SanetMetricsCompute(N, all_truth, all_pred, metrics));
    PetscCall(PetscPrintf(PETSC_COMM_SELF, "confusion matrix (rows: classes, columns: clusters):\n"));
    for (PetscInt a = 0; a < metrics->nclasses; a++) {
      for (PetscInt b = 0; b < metrics->nclusters; b++) PetscCall(PetscPrintf(PETSC_COMM_SELF, " %6" PetscInt_FMT, metrics->confusion[a * metrics->nclusters + b]));
      PetscCall(PetscPrintf(PETSC_COMM_SELF, "\n"));
    }
    PetscCall(PetscFree4(all_truth, all_pred, counts, displs));
  }
  PetscFunctionReturn(0);
}

static PetscErrorCode Run(void)
{
  MPI_Comm           comm = PETSC_COMM_WORLD;
  char               input[PETSC_MAX_PATH_LEN] = "", outdir[PETSC_MAX_PATH_LEN] = "", path[PETSC_MAX_PATH_LEN], kstr[32] = "";
  PetscInt           K = 0, seed = 0, D;
  PetscBool          kset, dry_run = PETSC_FALSE, resume = PETSC_FALSE, has_network, want_help = SanetHelpRequested();
  PetscReal          rank_mb = 0, peak, total;
  uint64_t           digest;
  SanetNet           net;
  SanetLayer         imagelayer;
  SanetImages        images;
  SanetMaps          maps;
  SanetKMeans        km;
  SanetSelect        sel;
  SanetSelectMode    kmode = SANET_SELECT_AUTO;
  SanetQuality       quality;
  SanetWork          rates;
  const PetscInt    *labels;
  const SanetMaps   *feat;
  const char        *defaults_desc, *stages;
  PetscLogStage      stage;
  PetscLogDouble     t0, t1, tstart;
  PetscMPIInt        rank, size;
  SanetOptionCatalog catalog;

  PetscFunctionBegin;
  PetscCall(PetscMemzero(&images, sizeof(images)));
  PetscCallMPI(MPI_Comm_rank(comm, &rank));
  PetscCallMPI(MPI_Comm_size(comm, &size));
  PetscCall(PetscTime(&tstart));
  PetscCall(CheckBLASKernel(comm));
  PetscCall(SanetOptionsCheckIntegers(comm));
  PetscCall(SanetOptionCatalogBegin(&catalog));
  PetscOptionsBegin(comm, NULL, "sanet", NULL);
  PetscCall(PetscOptionsString("-input", "Input HDF5 file (/images [N,H,W,C], optional /labels)", NULL, input, input, sizeof(input), NULL));
  PetscCall(PetscOptionsString("-output", "Output directory", NULL, outdir, outdir, sizeof(outdir), NULL));
  PetscCall(PetscOptionsString("-clusters", "Number of clusters, or auto: chosen by modularity in -clusters_range (default: the distinct values of /labels, else auto)", NULL, kstr, kstr, sizeof(kstr), &kset));
  PetscCall(PetscOptionsInt("-seed", "Seed of every random choice", NULL, seed, &seed, NULL));
  PetscCall(PetscOptionsBool("-resume", "Reuse every stage file in -output whose options and input match", NULL, resume, &resume, NULL));
  PetscCall(PetscOptionsReal("-memory_per_rank_mb", "With -dry_run: memory each rank may use (MB), to say how many ranks the run needs", NULL, rank_mb, &rank_mb, NULL));
  PetscCall(PetscOptionsBool("-dry_run", "Validate input and options, print the plan, compute nothing", NULL, dry_run, &dry_run, NULL));
  PetscOptionsEnd();
  PetscCheck(input[0] || want_help, comm, PETSC_ERR_USER_INPUT, "Missing -input DATA.h5");
  PetscCheck(outdir[0] || dry_run || want_help, comm, PETSC_ERR_USER_INPUT, "Missing -output DIR");
  PetscCheck(seed >= 0, comm, PETSC_ERR_ARG_OUTOFRANGE, "-seed %" PetscInt_FMT " must be >= 0", seed);
  PetscCheck(rank_mb >= 0 && !PetscIsInfOrNanReal(rank_mb), comm, PETSC_ERR_ARG_OUTOFRANGE, "-memory_per_rank_mb %g must be >= 0 (0: not asked)", (double)rank_mb);
  if (outdir[0]) PetscCall(SanetOutputDirCheck(comm, outdir));
  PetscCall(SanetCheckLogViewPath(comm));
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

  PetscCall(SanetNetCreate(comm, &net));
  PetscCall(SanetNetSetSeed(net, seed));
  PetscCall(PetscOptionsHasName(NULL, NULL, "-network", &has_network));
  if (!has_network && input[0]) { /* the default network needs the image size: read the input first */
    PetscCall(PetscLogStageRegister("Input", &stage));
    PetscCall(PetscLogStagePush(stage));
    PetscCall(SanetImagesLoad(comm, input, &images));
    PetscCall(PetscLogStagePop());
    PetscCall(SanetNetSetImageShape(net, images.maps.m, images.maps.n, images.maps.c));
  }
  /* Options first: a bad option fails before any data is read. */
  PetscCall(SanetNetSetFromOptions(net));
  PetscCall(SanetNetGetDefaultsDescription(net, &defaults_desc));
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
    if (!has_network) PetscCall(PetscPrintf(comm, "Without -network, the default network %s (%s):\n", input[0] ? "for the images of -input" : "for 28x28 grey images (give -input for yours)", defaults_desc));
    PetscCall(SanetOptionCatalogView(catalog, comm));
    goto done;
  }
  PetscCall(SanetOptionsCheckUnused(comm, catalog, NULL, "sanet"));

  if (has_network) {
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

  /* the plan */
  {
    char kdesc[96];
    if (kmode == SANET_SELECT_AUTO) {
      PetscInt lo, hi;
      PetscCall(SanetSelectGetClustersRange(sel, &lo, &hi));
      PetscCall(PetscSNPrintf(kdesc, sizeof(kdesc), "K chosen in %" PetscInt_FMT "..%" PetscInt_FMT " by modularity", lo, hi));
    } else PetscCall(PetscSNPrintf(kdesc, sizeof(kdesc), "%" PetscInt_FMT " clusters%s", K, kmode == SANET_SELECT_REPORT ? " (the distinct labels)" : ""));
    if (defaults_desc[0]) PetscCall(PetscPrintf(comm, "defaults: %s\n", defaults_desc));
    PetscCall(PetscPrintf(comm, "sanet: %" PetscInt_FMT " images of %" PetscInt_FMT "x%" PetscInt_FMT "x%" PetscInt_FMT " from %s on %d rank%s, %s, seed %" PetscInt_FMT ", OpenBLAS %s kernel\n", images.maps.Nglobal, images.maps.m, images.maps.n, images.maps.c, input, size, size > 1 ? "s" : "", kdesc, seed, openblas_get_corename()));
  }
  PetscCall(SanetNetSetUp(net, images.maps.Nglobal, images.maps.m, images.maps.n, images.maps.c));
  PetscCall(SanetNetView(net, PETSC_VIEWER_STDOUT_WORLD));
  PetscCall(SanetNetGetImageLayer(net, &imagelayer));
  PetscCall(SanetNetGetEstimate(net, &peak, &total));
  PetscCall(SanetNetGetRates(net, &rates));
  PetscCall(PetscPrintf(comm, "label-free score: modularity of the clusters on %s\n", imagelayer ? "the last layer's image graph" : "a 10-NN graph of the final features"));
  /* the K estimate beside the labels' count is cheap only on a head's small features */
  if (kmode == SANET_SELECT_REPORT && !imagelayer) {
    kmode = SANET_SELECT_FIXED;
    PetscCall(SanetSelectSetClusters(sel, kmode, K));
  }
  PetscCall(SanetSelectSetNumImages(sel, images.maps.Nglobal));
  PetscCall(PetscViewerASCIIPushTab(PETSC_VIEWER_STDOUT_WORLD));
  PetscCall(SanetKMeansView(km, PETSC_VIEWER_STDOUT_WORLD));
  {
    SanetWork work;
    PetscReal seconds;
    PetscInt  m, n, c;
    char      when[32];
    PetscCall(SanetNetGetOutputShape(net, &m, &n, &c));
    PetscCall(SanetSelectEstimateWork(sel, imagelayer, km, images.maps.Nglobal, m * n * c, size, &work));
    seconds = SanetWorkSeconds(&work, &rates);
    total += seconds;
    PetscCall(SanetWorkFormatSeconds(seconds, sizeof(when), when));
    PetscCall(PetscViewerASCIIPrintf(PETSC_VIEWER_STDOUT_WORLD, "clustering and scoring: %s\n", when));
  }
  PetscCall(PetscViewerASCIIPopTab(PETSC_VIEWER_STDOUT_WORLD));
  PetscCall(PetscPrintf(comm, "estimated peak memory: %.0f MB per rank on %d rank%s\n", peak / 1048576.0, size, size > 1 ? "s" : ""));
  {
    char when[32];
    PetscCall(SanetWorkFormatSeconds(total, sizeof(when), when));
    /* a rough guide: iteration counts are assumed, and the rates come from 40 ms probes */
    PetscCall(PetscPrintf(comm, "estimated time: %s (rough: counted flops at the measured %.1f Gflop/s per rank in products and %.1f in memory-bound work)\n", when, rates.gemm / 1e9, rates.stream / 1e9));
  }
  if (rank_mb > 0) {
    PetscMPIInt P;
    PetscReal   bytes;
    PetscCall(SanetNetEstimateRanks(net, rank_mb, &P, &bytes));
    PetscCall(PetscPrintf(comm, "with %.0f MB per rank: %d ranks (about %.0f MB each)\n", (double)rank_mb, P, bytes / 1048576.0));
  }
  if (dry_run) {
    if (resume && outdir[0]) {
      PetscCall(SanetImagesDigest(comm, &images, &digest));
      PetscCall(SanetNetResumeView(net, catalog, digest, outdir));
    } else if (resume) PetscCall(PetscPrintf(comm, "resume: no -output given, so no stage files to compare\n"));
    PetscCall(PetscPrintf(comm, "dry run: input and options are valid; nothing computed\n"));
    goto done;
  }

  PetscCall(SanetOutputDirOpen(comm, outdir));
  PetscCall(SanetImagesDigest(comm, &images, &digest));
  PetscCall(SanetNetFit(net, catalog, &images.maps, digest, outdir, resume, &maps));
  PetscCall(SanetNetGetStages(net, &stages));
  {
    Mat       W = NULL;
    PetscReal inertia;
    PetscInt  restarts, nbest;
    if (imagelayer) PetscCall(SanetLayerGetGraph(imagelayer, &W));
    PetscCall(PetscLogStageRegister("k-means", &stage));
    PetscCall(PetscLogStagePush(stage));
    PetscCall(PetscTime(&t0));
    PetscCall(SanetSelectSetUp(sel, imagelayer, &maps, W, km));
    PetscCall(MatDestroy(&W));
    PetscCall(SanetSelectApply(sel));
    PetscCall(PetscTime(&t1));
    PetscCall(PetscLogStagePop());
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
  {
    SanetMetrics metrics;
    if (images.labels) PetscCall(Metrics(comm, maps.Nglobal, maps.nlocal, images.labels, labels, &metrics));
    PetscCall(SanetWriteResult(comm, path, maps.Nglobal, maps.nlocal, maps.istart, labels, D, feat->data, &quality, images.labels ? &metrics : NULL, stages));
    PetscCall(PetscTime(&t1));
    PetscCall(PetscPrintf(comm, "wrote %s; total %.1f s\n", path, t1 - tstart));
    if (images.labels) {
      PetscCall(PetscPrintf(comm, "metrics: ACC=%.4f NMI=%.4f ARI=%.4f FS=%.4f\n", (double)metrics.acc, (double)metrics.nmi, (double)metrics.ari, (double)metrics.fs));
      if (!rank) PetscCall(SanetMetricsDestroy(&metrics));
    }
  }
  PetscCall(PetscLogStagePop());
  PetscCall(SanetMapsDestroy(&maps));
  PetscCall(SanetOutputDirClose(comm));
done:
  PetscCall(SanetSelectDestroy(&sel));
  PetscCall(SanetKMeansDestroy(&km));
  PetscCall(SanetNetDestroy(&net));
  PetscCall(SanetImagesDestroy(&images));
  PetscCall(SanetOptionCatalogDestroy(&catalog));
  PetscFunctionReturn(0);
}

int main(int argc, char **argv)
{
  return SanetMain(&argc, &argv, help, "sanet", PETSC_TRUE, Run);
}
