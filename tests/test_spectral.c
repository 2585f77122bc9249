static const char help[] = "SanetProc on graphs with known spectra (cycle, two cliques, a non-regular path-like graph).\n";
/* Every rank builds the same global neighbour lists and passes its PetscSplitOwnership
   block as a SanetProcInput. Checks: eigenvalues ascending and equal to the analytic /
   LAPACK values, features are unit eigenvectors (L_sym u = lambda u, orthonormal), L_rw
   features are D^-1/2 times L_sym features (L_rw f = lambda f), sign rule (sum of cubes
   >= 0), component counts, residuals, drop_trivial and row_normalize. */
#include "sanet.h"
#include <petscblaslapack.h>

typedef struct {
  PetscInt   N, k;
  PetscInt  *nbr; /* N*k global */
  PetscReal *d2;
  PetscReal *A;   /* dense symmetrised adjacency (union), N*N */
} Graph;

static PetscErrorCode GraphFinish(Graph *g)
{
  PetscFunctionBegin;
  PetscCall(PetscCalloc1(g->N * g->N, &g->A));
  for (PetscInt i = 0; i < g->N; i++)
    for (PetscInt a = 0; a < g->k; a++) {
      PetscInt j = g->nbr[i * g->k + a];
      g->A[i * g->N + j] = g->A[j * g->N + i] = 1;
      g->d2[i * g->k + a] = 1 + 0.01 * a; /* sorted, unused by binary weights */
    }
  PetscFunctionReturn(0);
}

static PetscErrorCode GraphDestroy(Graph *g)
{
  PetscFunctionBegin;
  PetscCall(PetscFree2(g->nbr, g->d2));
  PetscCall(PetscFree(g->A));
  PetscFunctionReturn(0);
}

/* Dense L_sym eigenvalues, ascending (LAPACK). */
static PetscErrorCode DenseEigenvalues(const Graph *g, PetscReal ev[])
{
  PetscInt     N = g->N;
  PetscScalar *L, *work;
  PetscBLASInt n, lwork, info;
  PetscReal   *d;

  PetscFunctionBegin;
  PetscCall(PetscBLASIntCast(N, &n));
  lwork = 10 * n;
  PetscCall(PetscMalloc3(N * N, &L, 10 * N, &work, N, &d));
  for (PetscInt i = 0; i < N; i++) {
    d[i] = 0;
    for (PetscInt j = 0; j < N; j++) d[i] += g->A[i * N + j];
  }
  for (PetscInt i = 0; i < N; i++)
    for (PetscInt j = 0; j < N; j++) L[i * N + j] = (i == j ? 1.0 : 0.0) - g->A[i * N + j] / PetscSqrtReal(d[i] * d[j]);
  PetscCallBLAS("LAPACKsyev", LAPACKsyev_("N", "U", &n, L, &n, ev, work, &lwork, &info));
  PetscCheck(!info, PETSC_COMM_SELF, PETSC_ERR_LIB, "syev failed: %d", (int)info);
  PetscCall(PetscFree3(L, work, d));
  PetscFunctionReturn(0);
}

/* Runs a procedure with prefix t_ and returns the global feature matrix (N x neig) on all ranks. */
static PetscErrorCode RunProc(const Graph *g, PetscInt neig, const char *laplacian, PetscBool drop, PetscBool rownorm, PetscReal *F, PetscReal *ev, PetscInt *ncomp, PetscInt *largest, PetscReal *maxres)
{
  SanetProc      proc;
  SanetProcInput in;
  PetscInt       nlocal = PETSC_DECIDE, N = g->N, end, nnz, its, ng;
  PetscReal     *f;
  PetscMPIInt    size, *cnt, *disp, mine;
  char           buf[32];

  PetscFunctionBegin;
  PetscCall(PetscSplitOwnership(PETSC_COMM_WORLD, &nlocal, &N));
  PetscCallMPI(MPI_Scan(&nlocal, &end, 1, MPIU_INT, MPI_SUM, PETSC_COMM_WORLD));
  PetscCall(PetscOptionsSetValue(NULL, "-t_affinity", "knn"));
  PetscCall(PetscSNPrintf(buf, sizeof(buf), "%d", (int)g->k));
  PetscCall(PetscOptionsSetValue(NULL, "-t_k", buf));
  PetscCall(PetscOptionsSetValue(NULL, "-t_selftune_k", "1"));
  PetscCall(PetscSNPrintf(buf, sizeof(buf), "%d", (int)neig));
  PetscCall(PetscOptionsSetValue(NULL, "-t_neig", buf));
  PetscCall(PetscOptionsSetValue(NULL, "-t_weight", "binary"));
  PetscCall(PetscOptionsSetValue(NULL, "-t_laplacian", laplacian));
  PetscCall(PetscOptionsSetValue(NULL, "-t_drop_trivial", drop ? "true" : "false"));
  PetscCall(PetscOptionsSetValue(NULL, "-t_row_normalize", rownorm ? "true" : "false"));
  PetscCall(SanetProcCreate(PETSC_COMM_WORLD, &proc));
  PetscCall(SanetProcSetOptionsPrefix(proc, "t_"));
  PetscCall(SanetProcSetSeed(proc, 7, 0));
  PetscCall(SanetProcSetFromOptions(proc));
  PetscCall(SanetProcGetNumFeatures(proc, &ng));
  PetscCheck(ng == neig, PETSC_COMM_WORLD, PETSC_ERR_PLIB, "SanetProcGetNumFeatures gives %d, -t_neig was %d", (int)ng, (int)neig);
  in.comm      = PETSC_COMM_WORLD;
  in.nlocal    = nlocal;
  in.Nglobal   = g->N;
  in.rstart    = end - nlocal;
  in.kstride   = g->k;
  in.nbr       = g->nbr + in.rstart * g->k;
  in.d2        = g->d2 + in.rstart * g->k;
  in.eta       = 0;
  in.budget_mb = 1000;
  PetscCall(PetscMalloc1(nlocal * neig + 1, &f));
  for (PetscInt a = 0; a < neig; a++) ev[a] = -999;
  PetscCall(SanetProcApply(proc, &in, f, ev));
  PetscCall(SanetProcGetStats(proc, &nnz, ncomp, largest, &its, maxres));
  {
    PetscInt enn = 0;
    for (PetscInt a = 0; a < g->N * g->N; a++) enn += g->A[a] != 0;
    PetscCheck(nnz == enn, PETSC_COMM_WORLD, PETSC_ERR_PLIB, "SanetProcGetStats: %d nonzeros, the graph has %d", (int)nnz, (int)enn);
  }
  PetscCallMPI(MPI_Comm_size(PETSC_COMM_WORLD, &size));
  PetscCall(PetscMalloc2(size, &cnt, size, &disp));
  mine = (PetscMPIInt)(nlocal * neig);
  PetscCallMPI(MPI_Allgather(&mine, 1, MPI_INT, cnt, 1, MPI_INT, PETSC_COMM_WORLD));
  disp[0] = 0;
  for (PetscMPIInt r = 1; r < size; r++) disp[r] = disp[r - 1] + cnt[r - 1];
  PetscCallMPI(MPI_Allgatherv(f, mine, MPIU_REAL, F, cnt, disp, MPIU_REAL, PETSC_COMM_WORLD));
  PetscCall(PetscFree2(cnt, disp));
  PetscCall(PetscFree(f));
  PetscCall(SanetProcDestroy(&proc));
  PetscFunctionReturn(0);
}

/* Eigen-equation, normalisation, orthogonality and sign rule for each feature column. */
static PetscErrorCode CheckFeatures(const Graph *g, PetscInt neig, const PetscReal F[], const PetscReal ev[], PetscBool rw, const char *what)
{
  PetscInt   N = g->N;
  PetscReal *deg, *u, *v;

  PetscFunctionBegin;
  PetscCall(PetscMalloc3(N, &deg, N, &u, N * neig, &v));
  for (PetscInt i = 0; i < N; i++) {
    deg[i] = 0;
    for (PetscInt j = 0; j < N; j++) deg[i] += g->A[i * N + j];
  }
  for (PetscInt c = 0; c < neig; c++) {
    PetscReal cube = 0, nrm = 0, res = 0;
    if (c > 0) PetscCheck(ev[c] >= ev[c - 1] - 1e-12, PETSC_COMM_WORLD, PETSC_ERR_PLIB, "%s: eigenvalues not ascending: ev[%d]=%.12g < ev[%d]=%.12g", what, (int)c, (double)ev[c], (int)(c - 1), (double)ev[c - 1]);
    for (PetscInt i = 0; i < N; i++) cube += PetscPowRealInt(F[i * neig + c], 3);
    PetscCheck(cube >= -1e-10, PETSC_COMM_WORLD, PETSC_ERR_PLIB, "%s: feature column %d has sum of cubes %g < 0 (sign rule)", what, (int)c, (double)cube);
    /* u = D^1/2 f for L_rw (then u is an L_sym eigenvector), u = f for L_sym */
    for (PetscInt i = 0; i < N; i++) u[i] = rw ? F[i * neig + c] * PetscSqrtReal(deg[i]) : F[i * neig + c];
    for (PetscInt i = 0; i < N; i++) nrm += u[i] * u[i];
    nrm = PetscSqrtReal(nrm);
    PetscCheck(PetscAbsReal(nrm - 1) < 1e-6, PETSC_COMM_WORLD, PETSC_ERR_PLIB, "%s: column %d: %s has norm %g, expected a unit eigenvector", what, (int)c, rw ? "D^1/2 f" : "f", (double)nrm);
    for (PetscInt i = 0; i < N; i++) {
      PetscReal Lu = u[i];
      for (PetscInt j = 0; j < N; j++)
        if (g->A[i * N + j] != 0) Lu -= u[j] / PetscSqrtReal(deg[i] * deg[j]);
      res += PetscSqr(Lu - ev[c] * u[i]);
    }
    res = PetscSqrtReal(res);
    PetscCheck(res < 1e-5, PETSC_COMM_WORLD, PETSC_ERR_PLIB, "%s: column %d: ||L_sym u - %g u|| = %g: feature is not an eigenvector for its eigenvalue", what, (int)c, (double)ev[c], (double)res);
    for (PetscInt i = 0; i < N; i++) v[i * neig + c] = u[i];
  }
  for (PetscInt a = 0; a < neig; a++)
    for (PetscInt b = 0; b < a; b++) {
      PetscReal dot = 0;
      for (PetscInt i = 0; i < N; i++) dot += v[i * neig + a] * v[i * neig + b];
      PetscCheck(PetscAbsReal(dot) < 1e-6, PETSC_COMM_WORLD, PETSC_ERR_PLIB, "%s: eigenvectors %d and %d not orthogonal (dot %g): repeated or mixed columns", what, (int)a, (int)b, (double)dot);
    }
  PetscCall(PetscFree3(deg, u, v));
  PetscFunctionReturn(0);
}

static PetscErrorCode CheckValues(PetscInt neig, const PetscReal ev[], const PetscReal ref[], const char *what)
{
  PetscFunctionBegin;
  for (PetscInt c = 0; c < neig; c++)
    if (PetscAbsReal(ev[c] - ref[c]) >= 1e-6) {
      PetscCall(PetscPrintf(PETSC_COMM_WORLD, "%s: eigenvalues returned / expected:\n", what));
      for (PetscInt d = 0; d < neig; d++) PetscCall(PetscPrintf(PETSC_COMM_WORLD, "  %2d  %.12f  %.12f%s\n", (int)d, (double)ev[d], (double)ref[d], PetscAbsReal(ev[d] - ref[d]) >= 1e-6 ? "  <--" : ""));
      break;
    }
  for (PetscInt c = 0; c < neig; c++) PetscCheck(PetscAbsReal(ev[c] - ref[c]) < 1e-6, PETSC_COMM_WORLD, PETSC_ERR_PLIB, "%s: eigenvalue %d is %.12g, expected %.12g", what, (int)c, (double)ev[c], (double)ref[c]);
  PetscFunctionReturn(0);
}

static int CmpReal(const void *a, const void *b)
{
  PetscReal x = *(const PetscReal *)a, y = *(const PetscReal *)b;
  return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
  Graph     g;
  PetscReal F[64 * 64], F2[64 * 64], ev[64], ev2[64], ref[64], maxres;
  PetscInt  ncomp, largest, skip = 0;

  PetscCall(SlepcInitialize(&argc, &argv, NULL, help));
  PetscCall(PetscOptionsGetInt(NULL, NULL, "-skip", &skip, NULL)); /* for diagnosis: skip the first cases */

  /* (a) cycle C_40: L_sym eigenvalues 1 - cos(2 pi j / n), each but 0 (and n/2) twice */
  if (skip >= 1) goto cliques;
  g.N = 40;
  g.k = 2;
  PetscCall(PetscMalloc2(g.N * g.k, &g.nbr, g.N * g.k, &g.d2));
  for (PetscInt i = 0; i < g.N; i++) {
    g.nbr[i * 2]     = (i + 1) % g.N;
    g.nbr[i * 2 + 1] = (i + g.N - 1) % g.N;
  }
  PetscCall(GraphFinish(&g));
  for (PetscInt j = 0; j < g.N; j++) ref[j] = 1 - PetscCosReal(2 * PETSC_PI * j / g.N);
  qsort(ref, g.N, sizeof(PetscReal), CmpReal);
  PetscCall(RunProc(&g, 5, "sym", PETSC_FALSE, PETSC_FALSE, F, ev, &ncomp, &largest, &maxres));
  PetscCheck(ncomp == 1 && largest == 40, PETSC_COMM_WORLD, PETSC_ERR_PLIB, "cycle: %d components (largest %d), expected 1 (40)", (int)ncomp, (int)largest);
  PetscCheck(maxres < 1e-5, PETSC_COMM_WORLD, PETSC_ERR_PLIB, "cycle: reported max residual %g", (double)maxres);
  PetscCall(CheckValues(5, ev, ref, "cycle C_40 L_sym"));
  PetscCall(CheckFeatures(&g, 5, F, ev, PETSC_FALSE, "cycle C_40 L_sym"));
  /* regular graph: L_rw has the same eigenvalues and features scaled by 1/sqrt(2) */
  PetscCall(RunProc(&g, 5, "rw", PETSC_FALSE, PETSC_FALSE, F, ev, &ncomp, &largest, &maxres));
  PetscCall(CheckValues(5, ev, ref, "cycle C_40 L_rw"));
  PetscCall(CheckFeatures(&g, 5, F, ev, PETSC_TRUE, "cycle C_40 L_rw"));
  /* row normalisation: every vertex's feature vector has unit length */
  PetscCall(RunProc(&g, 5, "sym", PETSC_FALSE, PETSC_TRUE, F, ev, &ncomp, &largest, &maxres));
  PetscCall(CheckValues(5, ev, ref, "cycle C_40 row_normalize"));
  for (PetscInt i = 0; i < g.N; i++) {
    PetscReal s = 0;
    for (PetscInt c = 0; c < 5; c++) s += F[i * 5 + c] * F[i * 5 + c];
    PetscCheck(PetscAbsReal(s - 1) < 1e-10, PETSC_COMM_WORLD, PETSC_ERR_PLIB, "row_normalize: row %d has squared norm %g", (int)i, (double)s);
  }
  PetscCall(GraphDestroy(&g));
  PetscCall(PetscPrintf(PETSC_COMM_WORLD, "  cycle: ok\n"));

cliques:
  if (skip >= 2) goto nonregular;
  /* (b) two disjoint K_6: eigenvalue 0 twice, then 6/5 */
  g.N = 12;
  g.k = 5;
  PetscCall(PetscMalloc2(g.N * g.k, &g.nbr, g.N * g.k, &g.d2));
  for (PetscInt i = 0; i < g.N; i++)
    for (PetscInt a = 0, base = (i / 6) * 6, n = 0; a < 6; a++)
      if (base + a != i) g.nbr[i * 5 + n++] = base + a;
  PetscCall(GraphFinish(&g));
  ref[0] = ref[1] = 0;
  for (PetscInt j = 2; j < 12; j++) ref[j] = 1.2;
  PetscCall(RunProc(&g, 4, "sym", PETSC_FALSE, PETSC_FALSE, F, ev, &ncomp, &largest, &maxres));
  PetscCheck(ncomp == 2 && largest == 6, PETSC_COMM_WORLD, PETSC_ERR_PLIB, "two cliques: %d components (largest %d), expected 2 (6)", (int)ncomp, (int)largest);
  PetscCheck(maxres < 1e-5, PETSC_COMM_WORLD, PETSC_ERR_PLIB, "two cliques: reported max residual %g", (double)maxres);
  PetscCall(CheckValues(4, ev, ref, "two cliques"));
  PetscCall(CheckFeatures(&g, 4, F, ev, PETSC_FALSE, "two cliques"));
  /* drop_trivial: the two eigenvalue-0 vectors are skipped */
  PetscCall(RunProc(&g, 4, "sym", PETSC_TRUE, PETSC_FALSE, F, ev, &ncomp, &largest, &maxres));
  PetscCall(CheckValues(4, ev, ref + 2, "two cliques, drop_trivial"));
  PetscCall(CheckFeatures(&g, 4, F, ev, PETSC_FALSE, "two cliques, drop_trivial"));
  PetscCall(GraphDestroy(&g));
  PetscCall(PetscPrintf(PETSC_COMM_WORLD, "  two cliques: ok\n"));

nonregular:
  /* (c) non-regular graph: path 0..29 with chords 0-2 and 29-26 (degrees 1..3) */
  g.N = 30;
  g.k = 2;
  PetscCall(PetscMalloc2(g.N * g.k, &g.nbr, g.N * g.k, &g.d2));
  for (PetscInt i = 0; i < g.N; i++) {
    g.nbr[i * 2]     = i == 0 ? 1 : i - 1;
    g.nbr[i * 2 + 1] = i == 0 ? 2 : (i == g.N - 1 ? g.N - 4 : i + 1);
  }
  PetscCall(GraphFinish(&g));
  PetscCall(DenseEigenvalues(&g, ref));
  PetscCall(RunProc(&g, 6, "sym", PETSC_FALSE, PETSC_FALSE, F, ev, &ncomp, &largest, &maxres));
  PetscCall(CheckValues(6, ev, ref, "path-like graph L_sym (vs LAPACK)"));
  PetscCall(CheckFeatures(&g, 6, F, ev, PETSC_FALSE, "path-like graph L_sym"));
  PetscCall(RunProc(&g, 6, "rw", PETSC_FALSE, PETSC_FALSE, F2, ev2, &ncomp, &largest, &maxres));
  PetscCall(CheckValues(6, ev2, ref, "path-like graph L_rw (vs LAPACK)"));
  PetscCall(CheckFeatures(&g, 6, F2, ev2, PETSC_TRUE, "path-like graph L_rw"));
  for (PetscInt c = 0; c < 6; c++) { /* simple eigenvalues: f_rw = +-D^-1/2 u_sym */
    PetscReal dot = 0, n1 = 0, n2 = 0;
    PetscCheck((c == 0 || ref[c] - ref[c - 1] > 1e-3) && ref[c + 1] - ref[c] > 1e-3, PETSC_COMM_WORLD, PETSC_ERR_PLIB, "test graph has a repeated eigenvalue");
    for (PetscInt i = 0; i < g.N; i++) {
      PetscReal deg = 0, s;
      for (PetscInt j = 0; j < g.N; j++) deg += g.A[i * g.N + j];
      s = F[i * 6 + c] / PetscSqrtReal(deg);
      dot += s * F2[i * 6 + c];
      n1 += s * s;
      n2 += F2[i * 6 + c] * F2[i * 6 + c];
    }
    PetscCheck(PetscAbsReal(dot) / PetscSqrtReal(n1 * n2) > 1 - 1e-8, PETSC_COMM_WORLD, PETSC_ERR_PLIB, "column %d: L_rw feature is not proportional to D^-1/2 times the L_sym feature (cosine %.10f)", (int)c, (double)(dot / PetscSqrtReal(n1 * n2)));
  }
  PetscCall(GraphDestroy(&g));
  PetscCall(PetscPrintf(PETSC_COMM_WORLD, "  non-regular graph, L_sym and L_rw: ok\n"));
  PetscCall(PetscPrintf(PETSC_COMM_WORLD, "test_spectral: all checks passed\n"));
  PetscCall(SlepcFinalize());
  return 0;
}
