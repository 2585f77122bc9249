#pragma once
/* sanet: image clustering by stacked spectral analysis layers (SA-Net). */
#include <petsc.h>
#include <slepc.h>

/* ------------------------------- options and errors --------------------------------
   src/sys/options.c. The catalog records every option the objects read (with its
   effective value) between Begin and End; the checks then refuse options nobody read,
   integers beyond PetscInt and overlong lists, before any work. */
typedef struct _n_SanetOptionCatalog *SanetOptionCatalog;
PetscErrorCode SanetOptionCatalogBegin(SanetOptionCatalog *);
PetscErrorCode SanetOptionCatalogEnd(SanetOptionCatalog);
/* the sorted lines "-name <now value ...>: help" of every option under -prefix */
PetscErrorCode SanetOptionCatalogGetLines(SanetOptionCatalog, const char prefix[], char **text);
PetscErrorCode SanetOptionCatalogView(SanetOptionCatalog, MPI_Comm);
PetscErrorCode SanetOptionCatalogDestroy(SanetOptionCatalog *);
/* Refuses every option of the database that was not read, naming the closest name of
   the catalog (or of known[], NULL-terminated, when cat is NULL). */
PetscErrorCode SanetOptionsCheckUnused(MPI_Comm, SanetOptionCatalog, const char *const known[], const char context[]);
PetscErrorCode SanetOptionsCheckIntegers(MPI_Comm);
PetscErrorCode SanetOptionsCheckListLength(MPI_Comm, const char prefix[], const char name[], PetscInt nmax);
/* Options that only report on a computation (progress, viewers, monitors, errors shown
   after a solve): never part of a stage digest, read after the unused-option check. */
PetscBool SanetOptionOnlyReports(const char name[]);

/* Exit status of the programs, one per class of error (docs/robustness.md). */
enum {
  SANET_EXIT_INTERNAL  = 1, /* a bug or a library failure */
  SANET_EXIT_OPTIONS   = 2, /* bad option, value or combination */
  SANET_EXIT_INPUT     = 3, /* bad or unreadable input file */
  SANET_EXIT_IO        = 4, /* output cannot be written (permissions, full disk, lock) */
  SANET_EXIT_NUMERICAL = 5, /* no convergence, degenerate or non-finite numbers */
  SANET_EXIT_MEMORY    = 6  /* out of memory or past a memory budget */
};
/* Installs the one-line error printer (messages start with "program: error:"). */
PetscErrorCode SanetErrorHandlerPush(const char program[]);
int            SanetExitCode(PetscErrorCode);
/* The message of the newest error (to restate it with context, e.g. the file written). */
const char *SanetErrorGetMessage(void);
/* YAML options files (src/sys/optfile.c): 0 if path parses, else 1 and a message naming
   the file, line and column. CheckOptionFiles does it for every -options_file of argv
   before PETSc reads them, printing the message; it returns an exit status. */
int SanetCheckOptionsFile(const char path[], size_t len, char message[]);
int SanetCheckOptionFiles(int argc, char **argv, const char program[]);
/* A program's main: initializes PETSc (and SLEPc), installs the error printer, runs run,
   finalizes, and returns the exit status of docs/robustness.md. */
int SanetMain(int *argc, char ***argv, const char help[], const char program[], PetscBool slepc, PetscErrorCode (*run)(void));
/* -help (or -h) was given: SanetMain printed the usage, run lists the options and stops. */
PetscBool SanetHelpRequested(void);

/* ------------------------------------------------------------------------------------
   Feature maps: per image an m x n grid with c channels, layout [image][row][col][chan].
   Images are distributed by contiguous blocks (PetscSplitOwnership over Nglobal);
   images of the input are maps with c = colour channels.
   ------------------------------------------------------------------------------------ */
typedef struct {
  PetscInt   Nglobal, nlocal, istart; /* images: global count, local count, first global */
  PetscInt   m, n, c;                 /* grid rows, cols, channels */
  PetscReal *data;                    /* nlocal*m*n*c */
  PetscReal *eigval;                  /* c eigenvalues (one per channel) or NULL */
  PetscInt  *group;                   /* c ids of the procedure that made each channel, or NULL */
} SanetMaps;

PetscErrorCode SanetMapsCreate(MPI_Comm, PetscInt Nglobal, PetscInt m, PetscInt n, PetscInt c, SanetMaps *);
PetscErrorCode SanetMapsDestroy(SanetMaps *);

/* ---------------------------------- time estimates ---------------------------------- */
/* Rough work of a stage on one rank, in flops of two kinds: those that run at matrix-product
   speed (GEMM: distances, kernels, dense factors) and those bound by memory traffic (sparse
   products, Krylov orthogonalization, neighbour heaps). */
typedef struct {
  PetscReal gemm, stream;
} SanetWork;
/* Flops per second of one rank of each kind, from a short probe run on every rank at once
   (the slowest rank's rate). */
PetscErrorCode SanetWorkMeasureRates(MPI_Comm, SanetWork *rates);
/* Seconds the work takes at the rates, and as text ("under 1 s", "40 s", "12 min"). */
PetscReal      SanetWorkSeconds(const SanetWork *work, const SanetWork *rates);
PetscErrorCode SanetWorkFormatSeconds(PetscReal seconds, size_t len, char buf[]);

/* ---------------------------------- input / output ---------------------------------- */
typedef struct {
  SanetMaps maps;      /* pixels scaled to [0,1] */
  PetscInt *labels;    /* nlocal ground-truth labels or NULL */
  PetscInt  nclasses;  /* largest label + 1 (global), 0 without labels */
  PetscInt  ndistinct; /* number of distinct label values (global), 0 without labels */
} SanetImages;

/* Reads /images [N,H,W,C] (uint8 or float32) and optional /labels [N]; each rank reads its
   own block of images. Validates shapes, types, value ranges; errors name the file. */
PetscErrorCode SanetImagesLoad(MPI_Comm, const char path[], SanetImages *);
PetscErrorCode SanetImagesDestroy(SanetImages *);

/* Serial writer of the canonical layout (used by the converters and tools); writes to a
   temporary name and renames on success so no partial file is left behind. classes (or
   NULL): the class name of each label id, one per line, kept as /labels' attribute. */
PetscErrorCode SanetWriteDatasetFile(const char path[], PetscInt N, PetscInt H, PetscInt W, PetscInt C, const unsigned char *pixels, const PetscInt *labels, const char classes[]);

/* ------------------------------------- patches -------------------------------------- */
/* Samples ph x pw x c patches from each local image. With pad, ceil(m/stride) centres per
   axis, `stride` apart and spread symmetrically over the axis, pixels outside the image
   read as zero; without, only patches fully inside, (m-ph)/stride+1 per axis. Output rows are image-major, patch layout [r][c][ch]. */
typedef struct {
  PetscInt   ph, pw, stride;
  PetscBool  pad, center; /* center: subtract each patch's mean */
  PetscInt   mo, no;      /* output grid */
  PetscInt   dim;         /* ph*pw*c */
} SanetPatchSpec;
PetscErrorCode SanetPatchSetUp(SanetPatchSpec *, PetscInt m, PetscInt n, PetscInt c);
PetscErrorCode SanetPatchExtract(const SanetPatchSpec *, const SanetMaps *, PetscReal *X /* nlocal*mo*no x dim */);
/* Moment-based deskewing of one m x n x c map: a horizontal shear about the centroid row
   that makes the ink's row/column covariance zero (upright strokes), bilinear
   interpolation, zero outside; with recenter the centre of mass also moves to the centre
   of the map. A blank map is copied. */
PetscErrorCode SanetDeskewImage(PetscInt m, PetscInt n, PetscInt c, const PetscReal in[], PetscBool recenter, PetscReal out[]);
/* The patch x patch patches of every image of an input file, with padding and centring
   (as a first layer takes them), as float rows like a layer hands to the kNN: nlocal rows
   of dim on this rank (its block of images), in image order. X is PetscMalloc'ed. */
PetscErrorCode SanetPatchesLoad(MPI_Comm, const char path[], PetscInt patch, PetscInt stride, PetscInt *nlocal, PetscInt *dim, float **X);

/* ------------------------------------- kNN ------------------------------------------ */
/* Exact k nearest neighbours (squared Euclidean) of the rows of a distributed matrix X
   (nlocal rows of dim on this rank, global row index = rstart + i). Excludes the row
   itself; ties broken by global index. Blocks of X travel around the ranks in a ring;
   distances by single-precision GEMM. nbr and d2 are nlocal*k. spec gives the tile and
   the extra candidates (NULL: defaults); its type is not read. */

/* Approximate kNN by an inverted file (IVF): nlist k-means centroids trained on a seeded
   sample of the rows; every row belongs to the list of its nearest centroid and is
   compared only with the rows of its nprobe nearest lists (more when those few lists hold
   fewer rows than the candidates kept). Same ring, float selection, exact double
   re-ranking, tie rule and output as SanetKNNExact, whose result nprobe = nlist gives
   exactly; the same seed gives the same lists and neighbours at any rank count. */
typedef enum { SANET_KNN_EXACT, SANET_KNN_IVF } SanetKNNType;
PETSC_EXTERN const char *const SanetKNNTypes[];
typedef struct {
  SanetKNNType  type;
  PetscInt      nlist;       /* IVF lists; 0: about sqrt of the row count */
  PetscInt      nprobe;      /* IVF lists searched per row */
  unsigned long seed, stream; /* of the training sample and the k-means seeding */
  PetscInt      tile_queries, tile_refs; /* GEMM tile; its blocking decides ties in float */
  PetscInt      extra;       /* candidates kept beyond k by the float pass, re-ranked in double */
  char          prefix[128]; /* options prefix, named in error messages */
} SanetKNNSpec;
PetscErrorCode SanetKNNExact(MPI_Comm, const SanetKNNSpec *, PetscInt nlocal, PetscInt dim, const float *X, PetscInt k, PetscInt *nbr, PetscReal *d2);
/* Defaults (exact; nlist 0, nprobe 8), then -<prefix>knn exact|ivf, -<prefix>knn_nlist,
   -<prefix>knn_nprobe, range-checked. */
PetscErrorCode SanetKNNSpecSetFromOptions(MPI_Comm, const char prefix[], unsigned long seed, unsigned long stream, SanetKNNSpec *);
/* The search in a few words, for plans: "exact kNN", "IVF kNN (nlist ..., nprobe ...)". */
PetscErrorCode SanetKNNSpecGetDescription(const SanetKNNSpec *, size_t len, char buf[]);
PetscErrorCode SanetKNNIVF(MPI_Comm, const SanetKNNSpec *, PetscInt nlocal, PetscInt dim, const float *X, PetscInt k, PetscInt *nbr, PetscReal *d2);
/* The search the spec names (SanetKNNExact or SanetKNNIVF). */
PetscErrorCode SanetKNN(MPI_Comm, const SanetKNNSpec *, PetscInt nlocal, PetscInt dim, const float *X, PetscInt k, PetscInt *nbr, PetscReal *d2);

/* ---------------------------------- clustering -------------------------------------- */
typedef struct _p_SanetKMeans *SanetKMeans;
PetscErrorCode SanetKMeansCreate(MPI_Comm, SanetKMeans *);
PetscErrorCode SanetKMeansSetOptionsPrefix(SanetKMeans, const char[]);
PetscErrorCode SanetKMeansSetClusters(SanetKMeans, PetscInt K);
PetscErrorCode SanetKMeansSetSeed(SanetKMeans, unsigned long seed);
/* Restarts (independent seedings) and most Lloyd iterations per restart, for callers
   that set them without options. */
PetscErrorCode SanetKMeansSetIterations(SanetKMeans, PetscInt restarts, PetscInt max_it);
PetscErrorCode SanetKMeansGetIterations(SanetKMeans, PetscInt *restarts, PetscInt *max_it);
PetscErrorCode SanetKMeansSetFromOptions(SanetKMeans);
/* Clusters nlocal rows of dim on each rank; labels nlocal; inertia global. */
PetscErrorCode SanetKMeansApply(SanetKMeans, PetscInt nlocal, PetscInt dim, const PetscReal *X, PetscInt *labels, PetscReal *inertia);
/* Every rank holds all N rows (in global order); the restarts are shared out over the
   ranks and each runs serially, so the labels (N, on every rank) are those of one rank. */
PetscErrorCode SanetKMeansApplyReplicated(SanetKMeans, PetscInt N, PetscInt dim, const PetscReal *X, PetscInt *labels, PetscReal *inertia);
PetscErrorCode SanetKMeansView(SanetKMeans, PetscViewer);
/* Of the last Apply: restarts run, how many reached the best inertia (relative 1e-9),
   and the median and worst inertia over restarts. */
PetscErrorCode SanetKMeansGetRestartStats(SanetKMeans, PetscInt *restarts, PetscInt *nbest, PetscReal *median, PetscReal *worst);
PetscErrorCode SanetKMeansDestroy(SanetKMeans *);

/* Label-free choice of K and of the head's eigenvector count (src/cluster/select.c):
   each candidate is clustered by k-means and scored by the modularity of its partition
   on the image graph. FIXED: K given; AUTO: K chosen in -clusters_range; REPORT: K given
   (from the labels) and the estimate printed too. */
typedef enum { SANET_SELECT_FIXED, SANET_SELECT_AUTO, SANET_SELECT_REPORT } SanetSelectMode;
typedef struct _p_SanetSelect *SanetSelect;
typedef struct _p_SanetLayer  *SanetLayer; /* see layers below */
PetscErrorCode SanetSelectCreate(MPI_Comm, SanetSelect *);
PetscErrorCode SanetSelectSetFromOptions(SanetSelect);
PetscErrorCode SanetSelectSetClusters(SanetSelect, SanetSelectMode, PetscInt K);
PetscErrorCode SanetSelectGetClustersRange(SanetSelect, PetscInt *fewest, PetscInt *most);
/* Fits the K range to Nglobal images: a given -clusters_range past it is an error, the
   default one shrinks. Called by SetUp; call it early to fail before any work. */
PetscErrorCode SanetSelectSetNumImages(SanetSelect, PetscInt Nglobal);
/* head: the last layer when it is an image-level spectral layer (its -neig auto
   procedures give the candidate counts), else NULL; full: the network's output; W: the
   head's image graph, or NULL for a 10-NN graph of full. */
PetscErrorCode SanetSelectSetUp(SanetSelect, SanetLayer head, const SanetMaps *full, Mat W, SanetKMeans);
PetscErrorCode SanetSelectApply(SanetSelect);
/* Rough work per rank of the selection's k-means runs and score graph on Nglobal feature
   rows of dim, after SetClusters and SetNumImages. head: the image-level layer (whose
   graph scores and whose count may be chosen), or NULL. */
PetscErrorCode SanetSelectEstimateWork(SanetSelect, SanetLayer head, SanetKMeans, PetscInt Nglobal, PetscInt dim, PetscMPIInt P, SanetWork *);
/* The chosen clustering (labels nlocal, the features it used), K, eigenvector count (the
   feature dimension without a head), its modularity, k-means inertia and the restarts
   that reached it, and the K of highest modularity over every candidate tried. Owned by
   the object. */
PetscErrorCode SanetSelectGetResult(SanetSelect, const PetscInt **labels, const SanetMaps **features, PetscInt *K, PetscInt *neig, PetscReal *modularity, PetscReal *inertia, PetscInt *nbest, PetscInt *Kestimate);
/* Every candidate tried, ncand rows of ncol: K, eigenvector count, modularity, inertia,
   restarts that reached the best inertia; and the graph they were scored on. */
PetscErrorCode SanetSelectGetCandidates(SanetSelect, PetscInt *ncand, PetscInt *ncol, const PetscReal **cand, const char **graph);
PetscErrorCode SanetSelectDestroy(SanetSelect *);
/* Modularity of a partition (labels 0..K-1 of the local rows) on the symmetric graph W. */
PetscErrorCode SanetModularity(Mat W, PetscInt nlocal, const PetscInt labels[], PetscInt K, PetscReal *Q);

typedef struct {
  PetscReal acc, nmi, ari, fs;
  PetscInt  nclasses, nclusters;
  PetscInt *confusion; /* nclasses x nclusters, row-major, owned */
} SanetMetrics;
/* Serial; labels of both sides are 0..(max). Matches scikit-learn's definitions. */
PetscErrorCode SanetMetricsCompute(PetscInt N, const PetscInt truth[], const PetscInt pred[], SanetMetrics *);
PetscErrorCode SanetMetricsDestroy(SanetMetrics *);
/* Hungarian algorithm, maximising sum of w[i*n+assign[i]] over an n x n matrix. */
PetscErrorCode SanetHungarianMax(PetscInt n, const PetscReal w[], PetscInt assign[]);

/* ------------------------------------ random ---------------------------------------- */
/* Counter-based generator: the same (seed, stream, index) always gives the same number,
   whatever the rank count. */
PetscReal SanetRandUniform(unsigned long seed, unsigned long stream, unsigned long index);

/* ------------------------------------- graphs --------------------------------------- */
typedef enum { SANET_WEIGHT_BINARY, SANET_WEIGHT_GAUSSIAN, SANET_WEIGHT_SELFTUNE } SanetWeight;
PETSC_EXTERN const char *const SanetWeights[];

typedef struct {
  SanetWeight type;
  PetscReal   sigma;     /* Gaussian: w = exp(-d^2 / (2 sigma^2)) */
  PetscInt    selftune;  /* self-tuning: sigma_i = distance to this neighbour (1-based) */
} SanetWeightSpec;
/* The weight of an edge of squared length d2 whose ends have self-tuning scales of product
   sisj: the one formula of the sparse graphs and the never-formed full affinities. */
static inline PetscReal SanetWeightValue(const SanetWeightSpec *w, PetscReal d2, PetscReal sisj)
{
  if (w->type == SANET_WEIGHT_BINARY) return 1;
  if (w->type == SANET_WEIGHT_GAUSSIAN) return PetscExpReal(-d2 / (2 * w->sigma * w->sigma));
  return PetscExpReal(-d2 / sisj);
}

/* Symmetric affinity W (MPIAIJ, no diagonal) from neighbour lists: row i (global
   rstart+i) links to nbr[i*kstride + 0..k-1] whose squared distance is <= d2max; an edge
   present in either direction is kept (union). nbr/d2 as returned by SanetKNNExact. */
PetscErrorCode SanetGraphFromNeighbors(MPI_Comm, PetscInt nlocal, PetscInt kstride, PetscInt k, const PetscInt nbr[], const PetscReal d2[], PetscReal d2max, const SanetWeightSpec *, Mat *W);

/* Minimum spanning forest of a distributed edge list (global vertex ids < Nglobal) by
   Kruskal on each rank, merged up a binary tree (rank 0 holds O(Nglobal) edges at most).
   Returns, on all ranks, the number of connected components, the size of the largest,
   and the largest forest edge weight. */
PetscErrorCode SanetSpanningForest(MPI_Comm, PetscInt Nglobal, PetscInt nedges, const PetscInt ei[], const PetscInt ej[], const PetscReal w[], PetscInt *ncomponents, PetscInt *largest, PetscReal *wmax);
/* Components of a symmetric graph matrix (its nonzero pattern). */
PetscErrorCode SanetGraphComponents(Mat W, PetscInt *ncomponents, PetscInt *largest);
/* order[i] (local rows): the index of row i's component when components are sorted by
   size, largest first, then by their smallest vertex (independent of the rank count). */
PetscErrorCode SanetGraphComponentOrder(Mat W, PetscInt *ncomponents, PetscInt order[]);

/* ------------------------------ spectral procedures --------------------------------- */
/* A spectral analysis procedure = (affinity, Laplacian, computing method), each procedure
   under its own options prefix. Computing methods are registered implementations
   (src/spectral/impls/, include/sanet/private/procimpl.h): a sparse one solves the formed
   kNN or eps graph, a dense one the full affinity, never formed. */
typedef enum { SANET_AFFINITY_KNN, SANET_AFFINITY_EPS, SANET_AFFINITY_FULL } SanetAffinity;
typedef enum { SANET_LAPLACIAN_SYM, SANET_LAPLACIAN_RW } SanetLaplacian;
typedef const char *SanetProcMethod;
#define SANETPROCKRYLOV    "krylov"
#define SANETPROCNYSTROM   "nystrom"
#define SANETPROCMINIBATCH "minibatch"
PETSC_EXTERN const char *const SanetAffinities[];
PETSC_EXTERN const char *const SanetLaplacians[];

typedef struct _p_SanetProc *SanetProc;

/* What a layer hands to its procedures: the graph vertices (kept patches) and their
   shared neighbour lists. */
typedef struct {
  MPI_Comm         comm;
  PetscInt         nlocal, Nglobal, rstart; /* vertices */
  PetscInt         kstride;                 /* neighbours stored per vertex */
  const PetscInt  *nbr;
  const PetscReal *d2;
  PetscReal        eta;                     /* longest MST edge (0 when not computed) */
  const float     *X;                       /* the vertices' vectors, nlocal x dim */
  PetscInt         dim;
  PetscReal        budget_mb;               /* per-rank memory budget for one graph */
} SanetProcInput;

/* Adds a computing method: create fills the procedure's ops and data (see procimpl.h). */
PetscErrorCode SanetProcRegister(const char method[], PetscErrorCode (*create)(SanetProc));
PetscErrorCode SanetProcRegisterAll(void);
PetscErrorCode SanetProcCreate(MPI_Comm, SanetProc *);
PetscErrorCode SanetProcSetMethod(SanetProc, SanetProcMethod);
PetscErrorCode SanetProcGetMethod(SanetProc, SanetProcMethod *);
PetscErrorCode SanetProcSetOptionsPrefix(SanetProc, const char[]);
PetscErrorCode SanetProcSetSeed(SanetProc, unsigned long seed, PetscInt stream);
PetscErrorCode SanetProcSetFromOptions(SanetProc);
/* Neighbours this procedure needs from the shared lists, and whether it needs eta. */
PetscErrorCode SanetProcGetNeighborNeeds(SanetProc, PetscInt *k, PetscBool *eta);
PetscErrorCode SanetProcGetNumFeatures(SanetProc, PetscInt *neig);
/* -neig auto: the procedure computes `most` eigenvectors; the caller keeps the leading
   fewest..most of them, as chosen from the graph (see SanetSelect). */
PetscErrorCode SanetProcGetAutoRange(SanetProc, PetscBool *isauto, PetscInt *fewest, PetscInt *most);
PetscErrorCode SanetProcGetRowNormalize(SanetProc, PetscBool *);
/* Keep a copy of the affinity W (symmetric, before normalization) after Apply. */
PetscErrorCode SanetProcSetKeepGraph(SanetProc, PetscBool);
/* Whether Apply forms a graph (false for dense affinities). */
PetscErrorCode SanetProcHasGraph(SanetProc, PetscBool *);
/* The kept graph (owned by the procedure) or NULL. */
PetscErrorCode SanetProcGetGraph(SanetProc, Mat *W);
/* Computes neig features per vertex (row-major, nlocal x neig) and the Laplacian
   eigenvalue of each (ascending). */
PetscErrorCode SanetProcApply(SanetProc, const SanetProcInput *, PetscReal *features, PetscReal *eigval);
PetscErrorCode SanetProcView(SanetProc, PetscViewer);
/* Bytes one rank needs while this procedure runs on nlocal vertices (graph or factors,
   eigensolver workspace), beyond what the layer holds. */
PetscErrorCode SanetProcEstimateMemory(SanetProc, PetscInt nlocal, PetscReal *bytes);
/* Rough work per rank of this procedure on Nglobal vertices of dim over P ranks. */
PetscErrorCode SanetProcEstimateWork(SanetProc, PetscReal Nglobal, PetscInt dim, PetscMPIInt P, SanetWork *);
PetscErrorCode SanetProcGetStats(SanetProc, PetscInt *nnz, PetscInt *ncomponents, PetscInt *largest, PetscInt *its, PetscReal *maxres);
PetscErrorCode SanetProcDestroy(SanetProc *);

/* -------------------------------------- layers -------------------------------------- */
/* A network is a list of layers named in -network; the name is the layer's options prefix
   (-sal1_...), and its type is -X_type or else the longest registered type name the name
   begins with (sal1 -> sal). Types are registered implementations (src/layer/impls/,
   include/sanet/private/layerimpl.h). */
typedef const char *SanetLayerType;
#define SANETLAYERSAL    "sal"
#define SANETLAYERPOOL   "pool"
#define SANETLAYERBIN    "bin"
#define SANETLAYERCODE   "code"
#define SANETLAYERDESKEW "deskew"
typedef struct _p_SanetLayer *SanetLayer;

/* Adds a type: create fills the layer's ops and data (see layerimpl.h). */
PetscErrorCode SanetLayerRegister(const char type[], PetscErrorCode (*create)(SanetLayer));
PetscErrorCode SanetLayerRegisterAll(void);
PetscErrorCode SanetLayerCreate(MPI_Comm, const char name[], SanetLayer *);
PetscErrorCode SanetLayerSetType(SanetLayer, SanetLayerType);
PetscErrorCode SanetLayerGetType(SanetLayer, SanetLayerType *);
PetscErrorCode SanetLayerSetSeed(SanetLayer, unsigned long seed, PetscInt index);
/* Reads -X_type and the type's options and checks them (idempotent). first: the layer
   reads images (patch padding and centring default on). */
PetscErrorCode SanetLayerSetFromOptions(SanetLayer, PetscBool first);
/* Whether the layer reads images and writes images (deskewing), so that only such layers
   may come before it. */
PetscErrorCode SanetLayerIsImagesOnly(SanetLayer, PetscBool *);
/* Output shape for an input of m x n x c (no computation), for plans and checks. */
PetscErrorCode SanetLayerGetOutputShape(SanetLayer, PetscInt m, PetscInt n, PetscInt c, PetscInt *mo, PetscInt *no, PetscInt *co);
PetscErrorCode SanetLayerApply(SanetLayer, const SanetMaps *in, SanetMaps *out);
/* Peak bytes per rank of this layer on P ranks for Nglobal inputs of m x n x c. */
PetscErrorCode SanetLayerEstimateMemory(SanetLayer, PetscInt Nglobal, PetscInt m, PetscInt n, PetscInt c, PetscMPIInt P, PetscReal *bytes);
/* Rough work per rank of this layer on P ranks for Nglobal inputs of m x n x c. */
PetscErrorCode SanetLayerEstimateWork(SanetLayer, PetscInt Nglobal, PetscInt m, PetscInt n, PetscInt c, PetscMPIInt P, SanetWork *);
PetscErrorCode SanetLayerView(SanetLayer, PetscViewer);
PetscErrorCode SanetLayerGetName(SanetLayer, const char **);
/* What the last Apply did, a line per procedure (sizes, iterations, residuals, time). */
PetscErrorCode SanetLayerGetSummary(SanetLayer, const char **);
/* The patch geometry of a spectral layer (set up by its last Apply), NULL for others. */
PetscErrorCode SanetLayerGetPatchSpec(SanetLayer, const SanetPatchSpec **);
/* Whether a procedure of the layer has -neig auto, and its candidate range. */
PetscErrorCode SanetLayerGetAutoRange(SanetLayer, PetscBool *isauto, PetscInt *fewest, PetscInt *most);
/* Keep the procedures' graphs after Apply (for an image-level layer: the image graph). */
PetscErrorCode SanetLayerSetKeepGraph(SanetLayer, PetscBool);
/* Whether the layer can keep a graph over all its vertices: sparse affinities only (dense
   ones are never formed) and zero patches kept. */
PetscErrorCode SanetLayerCanKeepGraph(SanetLayer, PetscBool *);
/* The sum of the procedures' kept graphs, a new matrix; every vertex must be in it. */
PetscErrorCode SanetLayerGetGraph(SanetLayer, Mat *W);
/* The layer's output with the leading neig channels of each -neig auto procedure (rows of
   row-normalized procedures rescaled to the norm of the whole row); others whole. */
PetscErrorCode SanetLayerSelectFeatures(SanetLayer, const SanetMaps *full, PetscInt neig, SanetMaps *out);
/* Refuses, from the sizes alone (before any work), neighbour and eigenvector counts and
   IVF lists past the layer's patch count, and graphs past -graph_budget_mb on P ranks. */
PetscErrorCode SanetLayerCheckSizes(SanetLayer, PetscInt Nglobal, PetscInt m, PetscInt n, PetscInt c, PetscMPIInt P);
PetscErrorCode SanetLayerDestroy(SanetLayer *);
/* The network run without -network, from the image size (src/net/defaults.c): sets in
   the options database every default option not already there, returns the layer names
   (PetscStrallocpy'ed, at most 4) and a one-line description for the plan. */
PetscErrorCode SanetNetworkSetDefaults(PetscInt H, PetscInt W, PetscInt C, PetscInt *nlayers, char *names[], size_t len, char desc[]);

/* ------------------------------------- network -------------------------------------- */
/* The layers of -network in order (src/net/net.c): Create, SetSeed, optionally
   SetImageShape (what the default network derives from when -network is absent),
   SetFromOptions (every layer's options read and checked), SetUp (shapes, size checks,
   the plan's estimates), View (the plan), Fit (the stages, with checkpoints), Destroy. */
typedef struct _p_SanetNet *SanetNet;
PetscErrorCode SanetNetCreate(MPI_Comm, SanetNet *);
PetscErrorCode SanetNetSetSeed(SanetNet, PetscInt seed);
PetscErrorCode SanetNetSetImageShape(SanetNet, PetscInt m, PetscInt n, PetscInt c);
PetscErrorCode SanetNetSetFromOptions(SanetNet);
/* How the default network was derived, for the plan ("" when -network was given). */
PetscErrorCode SanetNetGetDefaultsDescription(SanetNet, const char **);
PetscErrorCode SanetNetSetUp(SanetNet, PetscInt Nglobal, PetscInt m, PetscInt n, PetscInt c);
PetscErrorCode SanetNetView(SanetNet, PetscViewer);
PetscErrorCode SanetNetGetOutputShape(SanetNet, PetscInt *m, PetscInt *n, PetscInt *c);
/* The last layer when it is image-level (its patch the whole map, a graph of every
   image: its graph scores the clusterings), else NULL. */
PetscErrorCode SanetNetGetImageLayer(SanetNet, SanetLayer *);
/* The flop rates measured in SetUp, the largest per-layer memory per rank and the
   layers' estimated seconds on this communicator, and the fewest ranks (a power of 2)
   whose per-rank memory fits mb. */
PetscErrorCode SanetNetGetRates(SanetNet, SanetWork *);
PetscErrorCode SanetNetGetEstimate(SanetNet, PetscReal *peak_bytes, PetscReal *seconds);
PetscErrorCode SanetNetEstimateRanks(SanetNet, PetscReal mb, PetscMPIInt *P, PetscReal *bytes);
/* Which stage files in outdir a fit from input digest would reuse, and why not the rest. */
PetscErrorCode SanetNetResumeView(SanetNet, SanetOptionCatalog, uint64_t digest, const char outdir[]);
/* Runs the layers on in (taken over and emptied) into out, each stage's maps written to
   outdir/stage-L-NAME.h5 under a digest chained from digest and the layer's effective
   options (from the catalog); with resume, matching stage files are loaded instead. */
PetscErrorCode SanetNetFit(SanetNet, SanetOptionCatalog, SanetMaps *in, uint64_t digest, const char outdir[], PetscBool resume, SanetMaps *out);
/* "FILE DIGEST" lines of the last fit's stages, for result.h5. */
PetscErrorCode SanetNetGetStages(SanetNet, const char **);
PetscErrorCode SanetNetDestroy(SanetNet *);

/* The label-free side of a result: the chosen K and eigenvector count, the modularity of
   the clustering on the image graph, the K estimate, and every candidate scored. */
typedef struct {
  PetscInt         K, neig, Kestimate, ncand, ncol;
  const PetscReal *cand;
  PetscReal        modularity;
  const char      *graph;
} SanetQuality;

/* Writes DIR/result.h5 collectively: /labels [N] int32, /features [N,D] float64, the
   label-free score (attributes modularity, K, neig, K_estimate, quality_graph; /selection
   [ncand, 5]: K, neig, modularity, inertia, restarts at the best), and the confusion
   matrix and metric attributes when metrics != NULL (rank 0's copy is used); attribute
   stages: a line "FILE DIGEST" per stage file the result came from, in network order.
   Written under a temporary name and renamed once closed. */
PetscErrorCode SanetWriteResult(MPI_Comm, const char path[], PetscInt Nglobal, PetscInt nlocal, PetscInt istart, const PetscInt labels[], PetscInt D, const PetscReal features[], const SanetQuality *quality, const SanetMetrics *metrics, const char stages[]);

/* ---------------------------------- output folder ----------------------------------- */
/* src/io/outdir.c. Check: -output is not an existing non-folder (for -dry_run). Open:
   creates the folder with its parents and takes its lock (DIR/.sanet.lock, "host pid"),
   refusing a folder another live run holds; Close releases it (so does the exit). */
PetscErrorCode SanetOutputDirCheck(MPI_Comm, const char dir[]);
PetscErrorCode SanetOutputDirOpen(MPI_Comm, const char dir[]);
PetscErrorCode SanetOutputDirClose(MPI_Comm);
/* -log_view :FILE is written at the end of a run: refuse an unwritable FILE at start-up. */
PetscErrorCode SanetCheckLogViewPath(MPI_Comm);

/* ---------------------------------- checkpoints ------------------------------------- */
/* Digest of the input (shape and every pixel; independent of the rank count). */
PetscErrorCode SanetImagesDigest(MPI_Comm, const SanetImages *, uint64_t *);
/* Digest of a stage: the upstream digest, the seed, every option set under prefix and
   the effective value of every option read under it (effective: the option catalog's
   lines, defaults included, so that a changed default does not reuse a stale stage). */
PetscErrorCode SanetOptionsDigest(MPI_Comm, uint64_t upstream, const char prefix[], PetscInt seed, const char effective[], uint64_t *, char **options);
/* Stage file: /maps [N,m,n,c], /eigval, /group, attributes stage, digest, options,
   procedures (what each did: sizes, iterations, residuals), input_shape [m,n,c] of the
   layer's input and, for a layer that cuts patches (patch != NULL), patch_h, patch_w,
   patch_stride, patch_pad. Written under a temporary name and renamed when complete. */
PetscErrorCode SanetCheckpointWrite(MPI_Comm, const char path[], const char stage[], uint64_t digest, const char options[], const char procedures[], const PetscInt inshape[3], const SanetPatchSpec *patch, const SanetMaps *);
/* Loads a stage file if it is complete and its digest matches; otherwise says why on
   stdout and returns *loaded = false. */
PetscErrorCode SanetCheckpointLoad(MPI_Comm, const char path[], uint64_t digest, PetscInt Nglobal, SanetMaps *, PetscBool *loaded);
/* Whether the stage file could be loaded: why[0] == 0, else why not ("absent", or the
   reason Load would give). Collective; nothing is read beyond the header. */
PetscErrorCode SanetCheckpointCheck(MPI_Comm, const char path[], uint64_t digest, PetscInt Nglobal, char why[], size_t whylen);

/* ------------------------------------ Nystrom --------------------------------------- */
/* Dense Gaussian affinity approximated from l landmark columns, never formed:
   K ~ G G^T with G (N x l) the partial Cholesky factor of K on the landmarks. Landmarks
   are chosen by sparse greedy matrix approximation (SMGA: at each step, of `candidates`
   random columns the one that most reduces the Frobenius error) or uniformly. The
   normalized affinity D^-1/2 G G^T D^-1/2 = H H^T then has its eigenvectors in closed
   form from the l x l matrix H^T H (one-shot orthogonalization, Fowlkes et al.). */
typedef enum { SANET_LANDMARKS_SMGA, SANET_LANDMARKS_UNIFORM } SanetLandmarks;
PETSC_EXTERN const char *const SanetLandmarkTypes[];
/* Solver of the l x l eigenproblem: LAPACK on every rank, or ScaLAPACK over the ranks;
   auto takes ScaLAPACK from scalapack_min columns on more than one rank. */
typedef enum { SANET_NYSTROM_EIG_AUTO, SANET_NYSTROM_EIG_LAPACK, SANET_NYSTROM_EIG_SCALAPACK } SanetNystromEig;
PETSC_EXTERN const char *const SanetNystromEigTypes[];
typedef struct {
  PetscInt        ncols, candidates;
  SanetLandmarks  select;
  SanetWeightSpec weight;   /* gaussian (sigma) or selftune (sigma_i per row) */
  unsigned long   seed;
  PetscInt        stream;
  SanetNystromEig eig;
  PetscInt        scalapack_min;
} SanetNystromSpec;

/* X: nlocal rows of dim (global rows rstart..); sigma: per-row self-tuning scales or NULL.
   On return U (nlocal x neig, row-major) holds eigenvectors of D^-1/2 K D^-1/2 with the
   largest eigenvalues lambda (descending), dinv the local D^-1/2. */
PetscErrorCode SanetNystrom(MPI_Comm, PetscInt nlocal, PetscInt rstart, PetscInt dim, const float X[], const PetscReal sigma[], const SanetNystromSpec *, PetscInt neig, PetscReal U[], PetscReal lambda[], PetscReal dinv[]);

/* Mini-batch spectral analysis (Han & Filippone): stochastic Riemannian ascent of
   tr(U^T S U) on the Stiefel manifold, S = D^-1/2 K D^-1/2, each step using a random batch
   of columns of S; the caller gives a start U (e.g. Nystrom's) and D^-1/2. */
typedef struct {
  PetscInt        batch;     /* columns per step */
  PetscInt        max_steps;
  PetscReal       step, tol; /* initial step size; stop when the averaged change is below tol */
  SanetWeightSpec weight;
  unsigned long   seed;
  PetscInt        stream;
} SanetMiniBatchSpec;
PetscErrorCode SanetMiniBatch(MPI_Comm, PetscInt nlocal, PetscInt rstart, PetscInt dim, const float X[], const PetscReal sigma[], const PetscReal dinv[], const SanetMiniBatchSpec *, PetscInt neig, PetscReal U[], PetscInt *steps);

/* ---------------------------------------- PCA --------------------------------------- */
/* Principal components of the rows of X (nlocal x dim on each rank): the mean (dim) and
   the D leading directions W (dim x D, row-major), with the fraction of the variance they
   keep. The covariance is summed over ranks and its eigenproblem solved on rank 0. */
PetscErrorCode SanetPCAFit(MPI_Comm, PetscInt nlocal, PetscInt dim, const PetscReal X[], PetscInt D, PetscReal mean[], PetscReal W[], PetscReal *kept);
