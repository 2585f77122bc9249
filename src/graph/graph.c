#include "sanet.h"

const char *const SanetWeights[] = {"binary", "gaussian", "selftune", "SanetWeight", "SANET_WEIGHT_", NULL};

typedef struct {
  PetscInt  row, col;
  PetscReal d2;
} Edge;

static int EdgeCompare(const void *a, const void *b)
{
  const Edge *x = (const Edge *)a, *y = (const Edge *)b;
  if (x->row != y->row) return x->row < y->row ? -1 : 1;
  if (x->col != y->col) return x->col < y->col ? -1 : 1;
  return 0;
}

static PetscErrorCode OwnerRanges(MPI_Comm comm, PetscInt nlocal, PetscInt **ranges)
{
  PetscMPIInt size;

  PetscFunctionBegin;
  PetscCallMPI(MPI_Comm_size(comm, &size));
  PetscCall(PetscMalloc1(size + 1, ranges));
  (*ranges)[0] = 0;
  PetscCallMPI(MPI_Allgather(&nlocal, 1, MPIU_INT, *ranges + 1, 1, MPIU_INT, comm));
  for (PetscMPIInt r = 0; r < size; r++) (*ranges)[r + 1] += (*ranges)[r];
  PetscFunctionReturn(0);
}

static PetscMPIInt OwnerOf(const PetscInt ranges[], PetscMPIInt size, PetscInt g)
{
  PetscMPIInt lo = 0, hi = size - 1;
  while (lo < hi) {
    PetscMPIInt mid = (lo + hi + 1) / 2;
    if (ranges[mid] <= g) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

PetscErrorCode SanetGraphFromNeighbors(MPI_Comm comm, PetscInt nlocal, PetscInt kstride, PetscInt k, const PetscInt nbr[], const PetscReal d2[], PetscReal d2max, const SanetWeightSpec *wspec, Mat *W)
{
  PetscMPIInt  size;
  PetscInt    *ranges, rstart, nout = 0, nrecv, nedge;
  PetscMPIInt *scount, *sdisp, *rcount, *rdisp;
  Edge        *out, *recv, *all;
  MPI_Datatype edgetype;
  PetscReal   *sigma = NULL;

  PetscFunctionBegin;
  PetscCheck(k >= 1 && k <= kstride, comm, PETSC_ERR_ARG_OUTOFRANGE, "Graph neighbour count %" PetscInt_FMT " must be in [1, %" PetscInt_FMT "]", k, kstride);
  PetscCallMPI(MPI_Comm_size(comm, &size));
  PetscCall(OwnerRanges(comm, nlocal, &ranges));
  {
    PetscMPIInt rank;
    PetscCallMPI(MPI_Comm_rank(comm, &rank));
    rstart = ranges[rank];
  }
  /* Reverse edges go to the owner of their target row so that every row sees both
     directions and the graph becomes the union of them. */
  PetscCall(PetscMalloc1((size_t)nlocal * k, &out));
  for (PetscInt i = 0; i < nlocal; i++)
    for (PetscInt a = 0; a < k; a++) {
      const PetscInt  j  = nbr[i * kstride + a];
      const PetscReal dd = d2[i * kstride + a];
      if (dd > d2max || j == rstart + i) continue;
      out[nout].row = j;
      out[nout].col = rstart + i;
      out[nout].d2  = dd;
      nout++;
    }
  qsort(out, nout, sizeof(Edge), EdgeCompare);
  PetscCall(PetscCalloc4(size, &scount, size, &sdisp, size, &rcount, size, &rdisp));
  for (PetscInt e = 0; e < nout; e++) scount[OwnerOf(ranges, size, out[e].row)]++;
  for (PetscMPIInt r = 1; r < size; r++) sdisp[r] = sdisp[r - 1] + scount[r - 1];
  PetscCallMPI(MPI_Alltoall(scount, 1, MPI_INT, rcount, 1, MPI_INT, comm));
  nrecv = 0;
  for (PetscMPIInt r = 0; r < size; r++) {
    rdisp[r] = (PetscMPIInt)nrecv;
    nrecv += rcount[r];
  }
  PetscCallMPI(MPI_Type_contiguous(sizeof(Edge), MPI_BYTE, &edgetype));
  PetscCallMPI(MPI_Type_commit(&edgetype));
  PetscCall(PetscMalloc1(nrecv + (size_t)nlocal * k, &recv));
  PetscCallMPI(MPI_Alltoallv(out, scount, sdisp, edgetype, recv, rcount, rdisp, edgetype, comm));
  PetscCallMPI(MPI_Type_free(&edgetype));
  PetscCall(PetscFree(out));
  /* Append forward edges and merge duplicates. */
  all   = recv;
  nedge = nrecv;
  for (PetscInt i = 0; i < nlocal; i++)
    for (PetscInt a = 0; a < k; a++) {
      const PetscInt  j  = nbr[i * kstride + a];
      const PetscReal dd = d2[i * kstride + a];
      if (dd > d2max || j == rstart + i) continue;
      all[nedge].row = rstart + i;
      all[nedge].col = j;
      all[nedge].d2  = dd;
      nedge++;
    }
  qsort(all, nedge, sizeof(Edge), EdgeCompare);
  {
    PetscInt u = 0;
    for (PetscInt e = 0; e < nedge; e++)
      if (u == 0 || all[e].row != all[u - 1].row || all[e].col != all[u - 1].col) all[u++] = all[e];
    nedge = u;
  }

  if (wspec->type == SANET_WEIGHT_SELFTUNE) {
    /* sigma_i from the row's own list; sigma_j of remote columns through a scatter. */
    Vec        vsig, vghost;
    IS         is;
    VecScatter sct;
    PetscInt  *cols, ncols = 0, m = PetscMin(wspec->selftune, k) - 1;
    PetscReal  floor_sig, sum = 0, Nsum;

    PetscCheck(wspec->selftune >= 1, comm, PETSC_ERR_ARG_OUTOFRANGE, "Self-tuning neighbour %" PetscInt_FMT " must be >= 1", wspec->selftune);
    PetscCall(VecCreateMPI(comm, nlocal, PETSC_DETERMINE, &vsig));
    for (PetscInt i = 0; i < nlocal; i++) {
      PetscReal s = PetscSqrtReal(d2[i * kstride + m]);
      PetscCall(VecSetValue(vsig, rstart + i, s, INSERT_VALUES));
      sum += s;
    }
    PetscCall(VecAssemblyBegin(vsig));
    PetscCall(VecAssemblyEnd(vsig));
    /* Duplicated points have sigma 0; floor it at 1e-3 of the mean sigma so their
       weights stay finite (they are all at distance 0, so weight 1 among themselves). */
    PetscCallMPI(MPI_Allreduce(&sum, &Nsum, 1, MPIU_REAL, MPI_SUM, comm));
    floor_sig = 1e-3 * Nsum / PetscMax(ranges[size], 1);
    if (floor_sig <= 0) floor_sig = 1;
    PetscCall(PetscMalloc1(nedge, &cols));
    for (PetscInt e = 0; e < nedge; e++) cols[ncols++] = all[e].col;
    PetscCall(PetscSortRemoveDupsInt(&ncols, cols));
    PetscCall(ISCreateGeneral(PETSC_COMM_SELF, ncols, cols, PETSC_USE_POINTER, &is));
    PetscCall(VecCreateSeq(PETSC_COMM_SELF, ncols, &vghost));
    PetscCall(VecScatterCreate(vsig, is, vghost, NULL, &sct));
    PetscCall(VecScatterBegin(sct, vsig, vghost, INSERT_VALUES, SCATTER_FORWARD));
    PetscCall(VecScatterEnd(sct, vsig, vghost, INSERT_VALUES, SCATTER_FORWARD));
    PetscCall(PetscMalloc1(nedge, &sigma));
    {
      const PetscScalar *gs;
      PetscCall(VecGetArrayRead(vghost, &gs));
      for (PetscInt e = 0; e < nedge; e++) {
        PetscInt  loc;
        PetscReal si = PetscMax(PetscSqrtReal(d2[(all[e].row - rstart) * kstride + m]), floor_sig), sj;
        PetscCall(PetscFindInt(all[e].col, ncols, cols, &loc));
        sj       = PetscMax(PetscRealPart(gs[loc]), floor_sig);
        sigma[e] = si * sj;
      }
      PetscCall(VecRestoreArrayRead(vghost, &gs));
    }
    PetscCall(VecScatterDestroy(&sct));
    PetscCall(VecDestroy(&vghost));
    PetscCall(ISDestroy(&is));
    PetscCall(VecDestroy(&vsig));
    PetscCall(PetscFree(cols));
  }

  {
    PetscInt *dnz, *onz, rend = rstart + nlocal;
    PetscCall(PetscCalloc2(nlocal, &dnz, nlocal, &onz));
    for (PetscInt e = 0; e < nedge; e++) {
      if (all[e].col >= rstart && all[e].col < rend) dnz[all[e].row - rstart]++;
      else onz[all[e].row - rstart]++;
    }
    PetscCall(MatCreateAIJ(comm, nlocal, nlocal, PETSC_DETERMINE, PETSC_DETERMINE, 0, dnz, 0, onz, W));
    PetscCall(PetscFree2(dnz, onz));
  }
  for (PetscInt e = 0; e < nedge; e++) {
    PetscScalar w = SanetWeightValue(wspec, all[e].d2, sigma ? sigma[e] : 1);
    PetscCall(MatSetValue(*W, all[e].row, all[e].col, w, INSERT_VALUES));
  }
  PetscCall(MatAssemblyBegin(*W, MAT_FINAL_ASSEMBLY));
  PetscCall(MatAssemblyEnd(*W, MAT_FINAL_ASSEMBLY));
  PetscCall(PetscFree(sigma));
  PetscCall(PetscFree(recv));
  PetscCall(PetscFree4(scount, sdisp, rcount, rdisp));
  PetscCall(PetscFree(ranges));
  PetscFunctionReturn(0);
}

/* ---------------------------- spanning forests ------------------------------------ */
typedef struct {
  PetscInt  i, j;
  PetscReal w;
} WEdge;

static int WEdgeCompare(const void *a, const void *b)
{
  const WEdge *x = (const WEdge *)a, *y = (const WEdge *)b;
  if (x->w != y->w) return x->w < y->w ? -1 : 1;
  if (x->i != y->i) return x->i < y->i ? -1 : 1;
  if (x->j != y->j) return x->j < y->j ? -1 : 1;
  return 0;
}

static PetscInt Find(PetscInt *parent, PetscInt x)
{
  while (parent[x] != x) {
    parent[x] = parent[parent[x]];
    x         = parent[x];
  }
  return x;
}

/* Kruskal over edges with global vertex ids: keeps a minimum spanning forest in place. */
static PetscErrorCode KruskalInPlace(WEdge *e, PetscInt *n)
{
  PetscInt *ids, nids = 0, *parent, kept = 0;

  PetscFunctionBegin;
  qsort(e, *n, sizeof(WEdge), WEdgeCompare);
  PetscCall(PetscMalloc1(2 * (*n) + 1, &ids));
  for (PetscInt a = 0; a < *n; a++) {
    ids[nids++] = e[a].i;
    ids[nids++] = e[a].j;
  }
  PetscCall(PetscSortRemoveDupsInt(&nids, ids));
  PetscCall(PetscMalloc1(nids + 1, &parent));
  for (PetscInt a = 0; a < nids; a++) parent[a] = a;
  for (PetscInt a = 0; a < *n; a++) {
    PetscInt li, lj;
    PetscCall(PetscFindInt(e[a].i, nids, ids, &li));
    PetscCall(PetscFindInt(e[a].j, nids, ids, &lj));
    li = Find(parent, li);
    lj = Find(parent, lj);
    if (li == lj) continue;
    parent[PetscMax(li, lj)] = PetscMin(li, lj);
    e[kept++]                = e[a];
  }
  *n = kept;
  PetscCall(PetscFree(parent));
  PetscCall(PetscFree(ids));
  PetscFunctionReturn(0);
}

typedef struct {
  PetscInt size, root;
} Component;

static int ComponentCompare(const void *a, const void *b)
{
  const Component *x = (const Component *)a, *y = (const Component *)b;
  if (x->size != y->size) return x->size > y->size ? -1 : 1;
  return x->root < y->root ? -1 : (x->root > y->root);
}

/* The forest merged on rank 0; with order, rank 0 also gets for every vertex the index of
   its component when components are sorted by size (largest first), then by their
   smallest vertex: a numbering that does not depend on the rank count. */
static PetscErrorCode SpanningForest(MPI_Comm comm, PetscInt Nglobal, PetscInt nedges, const PetscInt ei[], const PetscInt ej[], const PetscReal w[], PetscInt *ncomponents, PetscInt *largest, PetscReal *wmax, PetscInt **order)
{
  PetscMPIInt  rank, size;
  WEdge       *e;
  PetscInt     n = nedges;
  MPI_Datatype etype;
  PetscInt     res[2] = {0, 0};
  PetscReal    wm     = 0;

  PetscFunctionBegin;
  PetscCallMPI(MPI_Comm_rank(comm, &rank));
  PetscCallMPI(MPI_Comm_size(comm, &size));
  PetscCall(PetscMalloc1(PetscMax(n, 1), &e));
  for (PetscInt a = 0; a < n; a++) {
    e[a].i = PetscMin(ei[a], ej[a]);
    e[a].j = PetscMax(ei[a], ej[a]);
    e[a].w = w ? w[a] : 0;
  }
  PetscCall(KruskalInPlace(e, &n));
  PetscCallMPI(MPI_Type_contiguous(sizeof(WEdge), MPI_BYTE, &etype));
  PetscCallMPI(MPI_Type_commit(&etype));
  /* Edges of a cycle never matter once its heaviest edge is dropped, so merging the
     ranks' forests pairwise up a tree gives the forest of the whole graph. */
  for (PetscMPIInt step = 1; step < size; step *= 2) {
    if (rank % (2 * step) == step) {
      PetscCallMPI(MPI_Send(&n, 1, MPIU_INT, rank - step, 0, comm));
      PetscCallMPI(MPI_Send(e, (PetscMPIInt)n, etype, rank - step, 1, comm));
      n = 0;
      break;
    } else if (rank % (2 * step) == 0 && rank + step < size) {
      PetscInt nin;
      PetscCallMPI(MPI_Recv(&nin, 1, MPIU_INT, rank + step, 0, comm, MPI_STATUS_IGNORE));
      PetscCall(PetscRealloc(sizeof(WEdge) * (size_t)PetscMax(n + nin, 1), &e));
      PetscCallMPI(MPI_Recv(e + n, (PetscMPIInt)nin, etype, rank + step, 1, comm, MPI_STATUS_IGNORE));
      n += nin;
      PetscCall(KruskalInPlace(e, &n));
    }
  }
  PetscCallMPI(MPI_Type_free(&etype));
  if (rank == 0) {
    PetscInt *parent, *count;
    PetscCall(PetscMalloc2(Nglobal, &parent, Nglobal, &count));
    for (PetscInt v = 0; v < Nglobal; v++) {
      parent[v] = v;
      count[v]  = 0;
    }
    for (PetscInt a = 0; a < n; a++) {
      PetscInt ri = Find(parent, e[a].i), rj = Find(parent, e[a].j);
      if (ri != rj) parent[PetscMax(ri, rj)] = PetscMin(ri, rj);
      wm = PetscMax(wm, e[a].w);
    }
    for (PetscInt v = 0; v < Nglobal; v++) count[Find(parent, v)]++;
    for (PetscInt v = 0; v < Nglobal; v++) {
      if (count[v]) res[0]++;
      res[1] = PetscMax(res[1], count[v]);
    }
    if (order) {
      Component *comp;
      PetscInt   c = 0;
      /* roots are the smallest vertex of their component (unions keep the smaller) */
      PetscCall(PetscMalloc1(Nglobal, order));
      PetscCall(PetscMalloc1(PetscMax(res[0], 1), &comp));
      for (PetscInt v = 0; v < Nglobal; v++)
        if (count[v]) {
          comp[c].size   = count[v];
          comp[c++].root = v;
        }
      qsort(comp, (size_t)c, sizeof(Component), ComponentCompare);
      for (PetscInt a = 0; a < c; a++) count[comp[a].root] = a; /* count now holds the index */
      for (PetscInt v = 0; v < Nglobal; v++) (*order)[v] = count[Find(parent, v)];
      PetscCall(PetscFree(comp));
    }
    PetscCall(PetscFree2(parent, count));
  }
  PetscCall(PetscFree(e));
  PetscCallMPI(MPI_Bcast(res, 2, MPIU_INT, 0, comm));
  PetscCallMPI(MPI_Bcast(&wm, 1, MPIU_REAL, 0, comm));
  if (ncomponents) *ncomponents = res[0];
  if (largest) *largest = res[1];
  if (wmax) *wmax = wm;
  PetscFunctionReturn(0);
}

PetscErrorCode SanetSpanningForest(MPI_Comm comm, PetscInt Nglobal, PetscInt nedges, const PetscInt ei[], const PetscInt ej[], const PetscReal w[], PetscInt *ncomponents, PetscInt *largest, PetscReal *wmax)
{
  PetscFunctionBegin;
  PetscCall(SpanningForest(comm, Nglobal, nedges, ei, ej, w, ncomponents, largest, wmax, NULL));
  PetscFunctionReturn(0);
}

static PetscErrorCode GraphComponents(Mat W, PetscInt *ncomponents, PetscInt *largest, PetscInt order[])
{
  PetscInt  rstart, rend, N, nedge = 0, cap = 0;
  PetscInt *ei = NULL, *ej = NULL, *all = NULL;

  PetscFunctionBegin;
  PetscCall(MatGetOwnershipRange(W, &rstart, &rend));
  PetscCall(MatGetSize(W, &N, NULL));
  for (PetscInt r = rstart; r < rend; r++) {
    PetscInt        ncols;
    const PetscInt *cols;
    PetscCall(MatGetRow(W, r, &ncols, &cols, NULL));
    cap += ncols;
    PetscCall(MatRestoreRow(W, r, &ncols, &cols, NULL));
  }
  PetscCall(PetscMalloc2(cap + 1, &ei, cap + 1, &ej));
  for (PetscInt r = rstart; r < rend; r++) {
    PetscInt        ncols;
    const PetscInt *cols;
    PetscCall(MatGetRow(W, r, &ncols, &cols, NULL));
    for (PetscInt a = 0; a < ncols; a++)
      if (cols[a] > r) {
        ei[nedge]   = r;
        ej[nedge++] = cols[a];
      }
    PetscCall(MatRestoreRow(W, r, &ncols, &cols, NULL));
  }
  PetscCall(SpanningForest(PetscObjectComm((PetscObject)W), N, nedge, ei, ej, NULL, ncomponents, largest, NULL, order ? &all : NULL));
  PetscCall(PetscFree2(ei, ej));
  if (order) {
    MPI_Comm     comm = PetscObjectComm((PetscObject)W);
    PetscMPIInt  size, rank, *counts = NULL, *displs = NULL;
    const PetscInt *ranges;
    PetscCallMPI(MPI_Comm_size(comm, &size));
    PetscCallMPI(MPI_Comm_rank(comm, &rank));
    PetscCall(MatGetOwnershipRanges(W, &ranges));
    PetscCall(PetscMalloc2(size, &counts, size, &displs));
    for (PetscMPIInt r = 0; r < size; r++) {
      counts[r] = (PetscMPIInt)(ranges[r + 1] - ranges[r]);
      displs[r] = (PetscMPIInt)ranges[r];
    }
    PetscCallMPI(MPI_Scatterv(all, counts, displs, MPIU_INT, order, (PetscMPIInt)(rend - rstart), MPIU_INT, 0, comm));
    PetscCall(PetscFree2(counts, displs));
    PetscCall(PetscFree(all));
  }
  PetscFunctionReturn(0);
}

PetscErrorCode SanetGraphComponents(Mat W, PetscInt *ncomponents, PetscInt *largest)
{
  PetscFunctionBegin;
  PetscCall(GraphComponents(W, ncomponents, largest, NULL));
  PetscFunctionReturn(0);
}

PetscErrorCode SanetGraphComponentOrder(Mat W, PetscInt *ncomponents, PetscInt order[])
{
  PetscFunctionBegin;
  PetscCall(GraphComponents(W, ncomponents, NULL, order));
  PetscFunctionReturn(0);
}
