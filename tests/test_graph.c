static const char help[] = "SanetGraphFromNeighbors, SanetSpanningForest, SanetGraphComponents against serial references.\n";
/* Every rank builds the same global neighbour lists / edge lists from a fixed generator,
   passes its PetscSplitOwnership block, and checks its rows against a dense reference. */
#include "sanet.h"

static unsigned long long lcg;
static PetscReal          Rand(void)
{
  lcg ^= lcg << 13;
  lcg ^= lcg >> 7;
  lcg ^= lcg << 17;
  return (PetscReal)(lcg >> 11) / 9007199254740992.0;
}

static PetscErrorCode Block(PetscInt N, PetscInt *nlocal, PetscInt *rstart)
{
  PetscInt n = PETSC_DECIDE, end;

  PetscFunctionBegin;
  PetscCall(PetscSplitOwnership(PETSC_COMM_WORLD, &n, &N));
  PetscCallMPI(MPI_Scan(&n, &end, 1, MPIU_INT, MPI_SUM, PETSC_COMM_WORLD));
  *nlocal = n;
  *rstart = end - n;
  PetscFunctionReturn(0);
}

/* Compares the local rows of W with the dense N x N reference (0 = no edge). */
static PetscErrorCode CompareMat(Mat W, PetscInt N, const PetscReal ref[], const char *what)
{
  PetscInt  rs, re, M, Nc, nnz = 0, gnnz, refnnz = 0;
  PetscBool sym;

  PetscFunctionBegin;
  PetscCall(MatGetSize(W, &M, &Nc));
  PetscCheck(M == N && Nc == N, PETSC_COMM_WORLD, PETSC_ERR_PLIB, "%s: matrix is %dx%d, expected %dx%d", what, (int)M, (int)Nc, (int)N, (int)N);
  PetscCall(MatGetOwnershipRange(W, &rs, &re));
  for (PetscInt r = rs; r < re; r++) {
    PetscInt           ncols;
    const PetscInt    *cols;
    const PetscScalar *vals;
    PetscInt           expect = 0;
    for (PetscInt j = 0; j < N; j++) expect += ref[r * N + j] != 0;
    PetscCall(MatGetRow(W, r, &ncols, &cols, &vals));
    for (PetscInt a = 0; a < ncols; a++) {
      PetscReal e = ref[r * N + cols[a]];
      PetscCheck(cols[a] != r, PETSC_COMM_SELF, PETSC_ERR_PLIB, "%s: diagonal entry (%d,%d) present", what, (int)r, (int)r);
      PetscCheck(e != 0, PETSC_COMM_SELF, PETSC_ERR_PLIB, "%s: unexpected entry (%d,%d) = %g", what, (int)r, (int)cols[a], (double)PetscRealPart(vals[a]));
      PetscCheck(PetscAbsReal(PetscRealPart(vals[a]) - e) <= 1e-12 * PetscMax(1, PetscAbsReal(e)), PETSC_COMM_SELF, PETSC_ERR_PLIB, "%s: entry (%d,%d) = %.15g, expected %.15g", what, (int)r, (int)cols[a], (double)PetscRealPart(vals[a]), (double)e);
    }
    PetscCheck(ncols == expect, PETSC_COMM_SELF, PETSC_ERR_PLIB, "%s: row %d has %d entries, expected %d", what, (int)r, (int)ncols, (int)expect);
    nnz += ncols;
    PetscCall(MatRestoreRow(W, r, &ncols, &cols, &vals));
  }
  for (PetscInt a = 0; a < N * N; a++) refnnz += ref[a] != 0;
  PetscCallMPI(MPI_Allreduce(&nnz, &gnnz, 1, MPIU_INT, MPI_SUM, PETSC_COMM_WORLD));
  PetscCheck(gnnz == refnnz, PETSC_COMM_WORLD, PETSC_ERR_PLIB, "%s: %d nonzeros, expected %d", what, (int)gnnz, (int)refnnz);
  PetscCall(MatIsSymmetric(W, 0.0, &sym));
  PetscCheck(sym, PETSC_COMM_WORLD, PETSC_ERR_PLIB, "%s: matrix is not symmetric", what);
  PetscFunctionReturn(0);
}

/* Hand-made asymmetric lists, k = 2 stored with kstride 3 (third column is a decoy that
   must not be read); row 2 lists itself (no self loops); d2 of a pair is the same both ways. */
static PetscErrorCode TestHand(void)
{
  enum { N = 6, KS = 3 };
  const PetscInt  nbr[N * KS] = {1, 2, 5, 2, 0, 5, 2, 1, 5, 0, 4, 5, 3, 0, 5, 4, 3, 0};
  const PetscReal d2[N * KS]  = {1, 4, 0, 2, 1, 0, 0, 2, 0, 9, 3, 0, 3, 16, 0, 25, 9, 0};
  /* union edges: 0-1 (1), 0-2 (4), 1-2 (2), 0-3 (9), 3-4 (3), 0-4 (16), 4-5 (25), 3-5 (9) */
  PetscReal ref[N * N];
  PetscInt  nlocal, rstart;
  Mat       W;
  SanetWeightSpec ws = {SANET_WEIGHT_BINARY, 1.0, 1};

  PetscFunctionBegin;
  PetscCall(Block(N, &nlocal, &rstart));
  PetscCall(PetscArrayzero(ref, N * N));
  {
    const PetscInt e[][2] = {{0, 1}, {0, 2}, {1, 2}, {0, 3}, {3, 4}, {0, 4}, {4, 5}, {3, 5}};
    for (size_t a = 0; a < sizeof(e) / sizeof(e[0]); a++) ref[e[a][0] * N + e[a][1]] = ref[e[a][1] * N + e[a][0]] = 1;
  }
  PetscCall(SanetGraphFromNeighbors(PETSC_COMM_WORLD, nlocal, KS, 2, nbr + rstart * KS, d2 + rstart * KS, PETSC_MAX_REAL, &ws, &W));
  PetscCall(CompareMat(W, N, ref, "hand-made lists, binary"));
  PetscCall(MatDestroy(&W));
  /* d2max = 9 drops 0-4 (16) and 4-5 (25) in both directions */
  ref[0 * N + 4] = ref[4 * N + 0] = ref[4 * N + 5] = ref[5 * N + 4] = 0;
  PetscCall(SanetGraphFromNeighbors(PETSC_COMM_WORLD, nlocal, KS, 2, nbr + rstart * KS, d2 + rstart * KS, 9.0, &ws, &W));
  PetscCall(CompareMat(W, N, ref, "hand-made lists, binary, d2max 9"));
  PetscCall(MatDestroy(&W));
  PetscFunctionReturn(0);
}

/* Random points, exact kNN lists sorted by (d2, index), k used < kstride. */
static PetscErrorCode TestRandomKNN(PetscInt N, PetscInt dim, PetscInt kstride, PetscInt k)
{
  PetscReal *P, *D2, *ref;
  PetscInt  *nbr, nlocal, rstart;
  PetscReal *d2l, *sig;

  PetscFunctionBegin;
  lcg = 0x9E3779B97F4A7C15ULL;
  PetscCall(PetscMalloc5(N * dim, &P, N * N, &D2, N * N, &ref, N * kstride, &nbr, N * kstride, &d2l));
  PetscCall(PetscMalloc1(N, &sig));
  for (PetscInt a = 0; a < N * dim; a++) P[a] = Rand();
  for (PetscInt i = 0; i < N; i++)
    for (PetscInt j = 0; j < N; j++) {
      PetscReal s = 0;
      for (PetscInt d = 0; d < dim; d++) s += PetscSqr(P[i * dim + d] - P[j * dim + d]);
      D2[i * N + j] = s;
    }
  for (PetscInt i = 0; i < N; i++) { /* selection of the kstride nearest other points */
    PetscBool *used;
    PetscCall(PetscCalloc1(N, &used));
    used[i] = PETSC_TRUE;
    for (PetscInt a = 0; a < kstride; a++) {
      PetscInt best = -1;
      for (PetscInt j = 0; j < N; j++)
        if (!used[j] && (best < 0 || D2[i * N + j] < D2[i * N + best])) best = j;
      used[best]             = PETSC_TRUE;
      nbr[i * kstride + a] = best;
      d2l[i * kstride + a] = D2[i * N + best];
    }
    PetscCall(PetscFree(used));
  }
  PetscCall(Block(N, &nlocal, &rstart));
  for (PetscInt type = 0; type < 3; type++) {
    SanetWeightSpec ws    = {(SanetWeight)type, 0.3, 2};
    PetscReal       d2max = type == SANET_WEIGHT_GAUSSIAN ? 0.02 : PETSC_MAX_REAL;
    char            what[128];
    Mat             W;
    PetscInt        ncomp, largest, rcomp = 0, rlargest = 0, *parent, *cnt;

    for (PetscInt i = 0; i < N; i++) sig[i] = PetscSqrtReal(d2l[i * kstride + ws.selftune - 1]);
    PetscCall(PetscArrayzero(ref, N * N));
    for (PetscInt i = 0; i < N; i++)
      for (PetscInt a = 0; a < k; a++) {
        PetscInt  j = nbr[i * kstride + a];
        PetscReal d = D2[i * N + j], w;
        if (d > d2max) continue;
        if (type == SANET_WEIGHT_BINARY) w = 1;
        else if (type == SANET_WEIGHT_GAUSSIAN) w = PetscExpReal(-d / (2 * 0.3 * 0.3));
        else w = PetscExpReal(-d / (sig[i] * sig[j]));
        ref[i * N + j] = ref[j * N + i] = w;
      }
    PetscCall(PetscSNPrintf(what, sizeof(what), "random %d points, k %d of %d, %s weights", (int)N, (int)k, (int)kstride, SanetWeights[type]));
    PetscCall(SanetGraphFromNeighbors(PETSC_COMM_WORLD, nlocal, kstride, k, nbr + rstart * kstride, d2l + rstart * kstride, d2max, &ws, &W));
    PetscCall(CompareMat(W, N, ref, what));
    /* components of this graph vs union-find on the reference */
    PetscCall(PetscMalloc2(N, &parent, N, &cnt));
    for (PetscInt v = 0; v < N; v++) parent[v] = v, cnt[v] = 0;
    for (PetscInt i = 0; i < N; i++)
      for (PetscInt j = 0; j < N; j++)
        if (ref[i * N + j] != 0) {
          PetscInt a = i, b = j;
          while (parent[a] != a) a = parent[a];
          while (parent[b] != b) b = parent[b];
          if (a != b) parent[PetscMax(a, b)] = PetscMin(a, b);
        }
    for (PetscInt v = 0; v < N; v++) {
      PetscInt a = v;
      while (parent[a] != a) a = parent[a];
      cnt[a]++;
    }
    for (PetscInt v = 0; v < N; v++) {
      rcomp += cnt[v] > 0;
      rlargest = PetscMax(rlargest, cnt[v]);
    }
    PetscCall(PetscFree2(parent, cnt));
    PetscCall(SanetGraphComponents(W, &ncomp, &largest));
    PetscCheck(ncomp == rcomp && largest == rlargest, PETSC_COMM_WORLD, PETSC_ERR_PLIB, "%s: SanetGraphComponents gives %d components (largest %d), expected %d (largest %d)", what, (int)ncomp, (int)largest, (int)rcomp, (int)rlargest);
    PetscCall(PetscPrintf(PETSC_COMM_WORLD, "  %s: ok (%d components)\n", what, (int)rcomp));
    PetscCall(MatDestroy(&W));
  }
  PetscCall(PetscFree(sig));
  PetscCall(PetscFree5(P, D2, ref, nbr, d2l));
  PetscFunctionReturn(0);
}

/* 3 disjoint cycles (5, 7, 4 vertices) + 2 isolated vertices, vertex ids permuted. */
static PetscErrorCode TestComponents(void)
{
  enum { N = 18 };
  PetscInt perm[N], nlocal, rstart, ncomp, largest;
  Mat      W;
  const PetscInt sizes[3] = {5, 7, 4};

  PetscFunctionBegin;
  lcg = 12345;
  for (PetscInt a = 0; a < N; a++) perm[a] = a;
  for (PetscInt a = N - 1; a > 0; a--) {
    PetscInt b = (PetscInt)(Rand() * (a + 1)), t = perm[a];
    perm[a] = perm[b];
    perm[b] = t;
  }
  PetscCall(Block(N, &nlocal, &rstart));
  PetscCall(MatCreateAIJ(PETSC_COMM_WORLD, nlocal, nlocal, N, N, 2, NULL, 2, NULL, &W));
  for (PetscInt c = 0, base = 0; c < 3; base += sizes[c], c++)
    for (PetscInt a = 0; a < sizes[c]; a++) {
      PetscInt u = perm[base + a], v = perm[base + (a + 1) % sizes[c]];
      if (u >= rstart && u < rstart + nlocal) PetscCall(MatSetValue(W, u, v, 1.0, INSERT_VALUES));
      if (v >= rstart && v < rstart + nlocal) PetscCall(MatSetValue(W, v, u, 1.0, INSERT_VALUES));
    }
  PetscCall(MatAssemblyBegin(W, MAT_FINAL_ASSEMBLY));
  PetscCall(MatAssemblyEnd(W, MAT_FINAL_ASSEMBLY));
  PetscCall(SanetGraphComponents(W, &ncomp, &largest));
  PetscCheck(ncomp == 5 && largest == 7, PETSC_COMM_WORLD, PETSC_ERR_PLIB, "3 cycles + 2 isolated vertices: %d components (largest %d), expected 5 (largest 7)", (int)ncomp, (int)largest);
  PetscCall(MatDestroy(&W));
  PetscFunctionReturn(0);
}

static PetscInt FindRoot(PetscInt *p, PetscInt x)
{
  while (p[x] != x) x = p[x] = p[p[x]];
  return x;
}

/* Random weighted multigraph (duplicates, self loops, isolated vertices, several
   components); edges dealt to the ranks in blocks (or all on the last rank). */
static PetscErrorCode TestForest(PetscInt N, PetscInt E, PetscInt ngroups, PetscBool lastonly, unsigned long long seed)
{
  PetscInt   *ei, *ej, *order, *parent, *cnt, rcomp = 0, rlargest = 0, ncomp, largest, nloc, estart;
  PetscReal  *w, rwmax = 0, wmax;
  PetscMPIInt rank, size;

  PetscFunctionBegin;
  PetscCallMPI(MPI_Comm_rank(PETSC_COMM_WORLD, &rank));
  PetscCallMPI(MPI_Comm_size(PETSC_COMM_WORLD, &size));
  lcg = seed;
  PetscCall(PetscMalloc4(E, &ei, E, &ej, E, &w, E, &order));
  for (PetscInt a = 0; a < E; a++) {
    /* vertices N-3..N-1 stay isolated; edges mostly within a group of vertices */
    PetscInt g = (PetscInt)(Rand() * ngroups), span = (N - 3) / ngroups;
    ei[a] = g * span + (PetscInt)(Rand() * span);
    ej[a] = Rand() < 0.05 ? ei[a] : g * span + (PetscInt)(Rand() * span); /* some self loops */
    w[a]  = (PetscReal)(PetscInt)(Rand() * 1000) / 7.0;                    /* ties happen */
    if (a > 0 && Rand() < 0.05) {                                          /* duplicates, reversed */
      ei[a] = ej[a - 1];
      ej[a] = ei[a - 1];
      w[a]  = w[a - 1];
    }
  }
  /* serial Kruskal reference */
  for (PetscInt a = 0; a < E; a++) order[a] = a;
  for (PetscInt a = 1; a < E; a++) { /* insertion sort by weight */
    PetscInt v = order[a], b = a - 1;
    while (b >= 0 && w[order[b]] > w[v]) {
      order[b + 1] = order[b];
      b--;
    }
    order[b + 1] = v;
  }
  PetscCall(PetscMalloc2(N, &parent, N, &cnt));
  for (PetscInt v = 0; v < N; v++) parent[v] = v, cnt[v] = 0;
  for (PetscInt a = 0; a < E; a++) {
    PetscInt e = order[a], ri = FindRoot(parent, ei[e]), rj = FindRoot(parent, ej[e]);
    if (ri == rj) continue;
    parent[ri] = rj;
    rwmax      = PetscMax(rwmax, w[e]);
  }
  for (PetscInt v = 0; v < N; v++) cnt[FindRoot(parent, v)]++;
  for (PetscInt v = 0; v < N; v++) {
    rcomp += cnt[v] > 0;
    rlargest = PetscMax(rlargest, cnt[v]);
  }
  if (lastonly) {
    nloc   = rank == size - 1 ? E : 0;
    estart = 0;
  } else {
    nloc = PETSC_DECIDE;
    PetscCall(PetscSplitOwnership(PETSC_COMM_WORLD, &nloc, &E));
    PetscCallMPI(MPI_Scan(&nloc, &estart, 1, MPIU_INT, MPI_SUM, PETSC_COMM_WORLD));
    estart -= nloc;
  }
  PetscCall(SanetSpanningForest(PETSC_COMM_WORLD, N, nloc, ei + estart, ej + estart, w + estart, &ncomp, &largest, &wmax));
  PetscCheck(ncomp == rcomp && largest == rlargest && wmax == rwmax, PETSC_COMM_WORLD, PETSC_ERR_PLIB, "spanning forest of %d vertices, %d edges%s: %d components (largest %d), max edge %g; Kruskal reference: %d (largest %d), max edge %g", (int)N, (int)E, lastonly ? " (all on one rank)" : "", (int)ncomp, (int)largest, (double)wmax, (int)rcomp, (int)rlargest, (double)rwmax);
  PetscCall(PetscPrintf(PETSC_COMM_WORLD, "  forest %d vertices %d edges%s: %d components, largest %d, max edge %g: ok\n", (int)N, (int)E, lastonly ? " (one rank)" : "", (int)rcomp, (int)rlargest, (double)rwmax));
  PetscCall(PetscFree2(parent, cnt));
  PetscCall(PetscFree4(ei, ej, w, order));
  PetscFunctionReturn(0);
}

int main(int argc, char **argv)
{
  PetscCall(PetscInitialize(&argc, &argv, NULL, help));
  PetscCall(TestHand());
  PetscCall(TestRandomKNN(40, 2, 5, 3));
  PetscCall(TestRandomKNN(57, 3, 4, 4));
  PetscCall(TestComponents());
  PetscCall(TestForest(203, 600, 4, PETSC_FALSE, 777));
  PetscCall(TestForest(203, 600, 4, PETSC_TRUE, 777));
  PetscCall(TestForest(1000, 1500, 1, PETSC_FALSE, 31337)); /* sparse: many small pieces */
  PetscCall(TestForest(50, 3, 1, PETSC_FALSE, 99));         /* fewer edges than ranks */
  PetscCall(TestForest(10, 1, 1, PETSC_TRUE, 5));           /* a single edge */
  PetscCall(PetscPrintf(PETSC_COMM_WORLD, "test_graph: all checks passed\n"));
  PetscCall(PetscFinalize());
  return 0;
}
