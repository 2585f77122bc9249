#include "sanet.h"
#include <cblas.h>

/* Runs op until at least 20 ms have passed and returns its flops per second. */
static PetscErrorCode ProbeRate(void (*op)(PetscInt, float *, double *), PetscInt n, float *f, double *d, PetscReal flops_per_call, PetscReal *rate)
{
  PetscLogDouble t0, t1;
  PetscInt       calls = 0;

  PetscFunctionBegin;
  op(n, f, d); /* warm the caches and the BLAS's threads */
  PetscCall(PetscTime(&t0));
  do {
    op(n, f, d);
    calls++;
    PetscCall(PetscTime(&t1));
  } while (t1 - t0 < 0.02);
  *rate = calls * flops_per_call / (t1 - t0);
  PetscFunctionReturn(0);
}

/* single-precision products, as the neighbour searches and kernels run them */
static void GemmOp(PetscInt n, float *f, double *d)
{
  cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)n, (int)n, (int)n, 1.0f, f, (int)n, f + n * n, (int)n, 0.0f, f + 2 * n * n, (int)n);
}

/* a matrix-vector product on a matrix larger than the caches: memory-bound like a sparse
   product or a Gram-Schmidt sweep over a Krylov basis */
static void StreamOp(PetscInt n, float *f, double *d)
{
  cblas_dgemv(CblasRowMajor, CblasNoTrans, (int)n, (int)n, 1.0, d, (int)n, d + n * n, 1, 0.0, d + n * n + n, 1);
}

PetscErrorCode SanetWorkMeasureRates(MPI_Comm comm, SanetWork *rates)
{
  const PetscInt ng = 256, ns = 1600;
  float         *f;
  double        *d;
  PetscReal      r[2];

  PetscFunctionBegin;
  PetscCall(PetscMalloc2(3 * ng * ng, &f, ns * ns + 2 * ns, &d));
  for (PetscInt a = 0; a < 3 * ng * ng; a++) f[a] = (float)((a % 7) * 0.125);
  for (PetscInt a = 0; a < ns * ns + 2 * ns; a++) d[a] = (a % 5) * 0.25;
  /* every rank at once, as in a run: they share the memory bandwidth */
  PetscCallMPI(MPI_Barrier(comm));
  PetscCall(ProbeRate(GemmOp, ng, f, d, 2.0 * ng * ng * ng, &r[0]));
  PetscCallMPI(MPI_Barrier(comm));
  PetscCall(ProbeRate(StreamOp, ns, f, d, 2.0 * ns * ns, &r[1]));
  PetscCall(PetscFree2(f, d));
  PetscCallMPI(MPI_Allreduce(MPI_IN_PLACE, r, 2, MPIU_REAL, MPIU_MIN, comm));
  rates->gemm   = r[0];
  rates->stream = r[1];
  PetscFunctionReturn(0);
}

PetscReal SanetWorkSeconds(const SanetWork *work, const SanetWork *rates)
{
  return work->gemm / rates->gemm + work->stream / rates->stream;
}

PetscErrorCode SanetWorkFormatSeconds(PetscReal s, size_t len, char buf[])
{
  PetscFunctionBegin;
  /* two significant figures at most: the estimate is rough */
  if (s < 1) PetscCall(PetscSNPrintf(buf, len, "under 1 s"));
  else if (s < 100) PetscCall(PetscSNPrintf(buf, len, "%.0f s", (double)s));
  else if (s < 6000) PetscCall(PetscSNPrintf(buf, len, "%.0f min", (double)(s / 60)));
  else PetscCall(PetscSNPrintf(buf, len, "%.1f h", (double)(s / 3600)));
  PetscFunctionReturn(0);
}
