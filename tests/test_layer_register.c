static const char help[] = "A layer type registered by this file runs in a network (SanetNet) like the built-in ones.\n";
#include "sanet/private/layerimpl.h"
#include <unistd.h>

/* negate: out = -scale * in, the whole type in this file (ops left NULL take the defaults;
   the layer frees l->data itself) */
typedef struct {
  PetscReal scale;
} Layer_Negate;

static PetscErrorCode SetFromOptions_Negate(SanetLayer l, PetscOptionItems *PetscOptionsObject, PetscBool first)
{
  Layer_Negate *neg = (Layer_Negate *)l->data;

  PetscFunctionBegin;
  PetscCall(PetscOptionsReal("-scale", "Factor of the negated maps", NULL, neg->scale, &neg->scale, NULL));
  PetscFunctionReturn(0);
}

static PetscErrorCode SetUp_Negate(SanetLayer l)
{
  Layer_Negate *neg = (Layer_Negate *)l->data;

  PetscFunctionBegin;
  PetscCheck(neg->scale > 0, l->comm, PETSC_ERR_ARG_OUTOFRANGE, "-%sscale %g must be > 0", l->prefix, (double)neg->scale);
  PetscFunctionReturn(0);
}

static PetscErrorCode Apply_Negate(SanetLayer l, const SanetMaps *in, SanetMaps *out)
{
  Layer_Negate *neg = (Layer_Negate *)l->data;

  PetscFunctionBegin;
  PetscCall(SanetMapsCreate(l->comm, in->Nglobal, in->m, in->n, in->c, out));
  for (size_t a = 0; a < (size_t)in->nlocal * in->m * in->n * in->c; a++) out->data[a] = -neg->scale * in->data[a];
  PetscFunctionReturn(0);
}

static PetscErrorCode Create_Negate(SanetLayer l)
{
  Layer_Negate *neg;

  PetscFunctionBegin;
  PetscCall(PetscNew(&neg));
  neg->scale             = 1;
  l->data                = neg;
  l->ops->setfromoptions = SetFromOptions_Negate;
  l->ops->setup          = SetUp_Negate;
  l->ops->apply          = Apply_Negate;
  PetscFunctionReturn(0);
}

/* image g's value at (i, j, ch): a pattern with ties broken by sign, different per image */
static PetscReal Value(PetscInt g, PetscInt i, PetscInt j, PetscInt ch)
{
  return (PetscReal)(((g + 1) * (i * 7 + j * 3 + ch * 5)) % 11) - 5;
}

int main(int argc, char **argv)
{
  const PetscInt     N = 7, m = 4, n = 4, c = 2;
  SanetNet           net;
  SanetMaps          in, out;
  SanetOptionCatalog catalog;
  char               dir[PETSC_MAX_PATH_LEN] = "";
  PetscMPIInt        rank;
  PetscInt           mo, no, co;

  PetscCall(SlepcInitialize(&argc, &argv, NULL, help));
  PetscCallMPI(MPI_Comm_rank(PETSC_COMM_WORLD, &rank));
  PetscCall(SanetLayerRegister("negate", Create_Negate));

  /* a name that no registered type begins is refused, naming the types */
  {
    SanetLayer     l;
    PetscErrorCode ierr;
    PetscCall(SanetLayerCreate(PETSC_COMM_WORLD, "frob", &l));
    PetscCall(PetscPushErrorHandler(PetscReturnErrorHandler, NULL));
    ierr = SanetLayerSetFromOptions(l, PETSC_FALSE);
    PetscCall(PetscPopErrorHandler());
    PetscCheck(ierr == PETSC_ERR_ARG_WRONG, PETSC_COMM_WORLD, PETSC_ERR_PLIB, "layer frob: error %d, expected PETSC_ERR_ARG_WRONG (no type)", (int)ierr);
    PetscCall(SanetLayerDestroy(&l));
  }
  /* SetFromOptions twice gives the same layer (procedures are not added twice) */
  {
    SanetLayer l;
    PetscCall(PetscOptionsSetValue(NULL, "-spec_type", "sal"));
    PetscCall(PetscOptionsSetValue(NULL, "-spec_procedures", "a,b"));
    PetscCall(PetscOptionsSetValue(NULL, "-spec_a_neig", "3"));
    PetscCall(PetscOptionsSetValue(NULL, "-spec_b_neig", "2"));
    PetscCall(SanetLayerCreate(PETSC_COMM_WORLD, "spec", &l));
    PetscCall(SanetLayerSetFromOptions(l, PETSC_TRUE));
    PetscCall(SanetLayerSetFromOptions(l, PETSC_TRUE));
    PetscCall(SanetLayerGetOutputShape(l, 8, 8, 1, &mo, &no, &co));
    PetscCheck(co == 5, PETSC_COMM_WORLD, PETSC_ERR_PLIB, "layer spec (-spec_type sal) after two SetFromOptions: %d channels, expected 3 + 2", (int)co);
    PetscCall(SanetLayerDestroy(&l));
  }

  /* the registered type in a network: negate1 (its type from its name), then pooling */
  PetscCall(PetscOptionsSetValue(NULL, "-network", "negate1,pool"));
  PetscCall(PetscOptionsSetValue(NULL, "-negate1_scale", "2"));
  PetscCall(SanetOptionCatalogBegin(&catalog));
  PetscCall(SanetNetCreate(PETSC_COMM_WORLD, &net));
  PetscCall(SanetNetSetFromOptions(net));
  PetscCall(SanetOptionCatalogEnd(catalog));
  PetscCall(SanetNetSetUp(net, N, m, n, c));
  PetscCall(SanetNetGetOutputShape(net, &mo, &no, &co));
  PetscCheck(mo == 3 && no == 3 && co == 2, PETSC_COMM_WORLD, PETSC_ERR_PLIB, "network output %dx%dx%d, expected 3x3x2", (int)mo, (int)no, (int)co);
  PetscCall(SanetNetView(net, PETSC_VIEWER_STDOUT_WORLD));

  if (!rank) {
    PetscCall(PetscStrncpy(dir, "/tmp/sanet-register-XXXXXX", sizeof(dir)));
    PetscCheck(mkdtemp(dir), PETSC_COMM_SELF, PETSC_ERR_FILE_OPEN, "mkdtemp failed");
  }
  PetscCallMPI(MPI_Bcast(dir, sizeof(dir), MPI_CHAR, 0, PETSC_COMM_WORLD));
  PetscCall(SanetMapsCreate(PETSC_COMM_WORLD, N, m, n, c, &in));
  for (PetscInt img = 0; img < in.nlocal; img++)
    for (PetscInt i = 0; i < m; i++)
      for (PetscInt j = 0; j < n; j++)
        for (PetscInt ch = 0; ch < c; ch++) in.data[((img * m + i) * n + j) * c + ch] = Value(in.istart + img, i, j, ch);
  PetscCall(SanetNetFit(net, catalog, &in, 42, dir, PETSC_FALSE, &out));
  /* each output is the signed value of largest magnitude of -2 x the 2x2 window */
  for (PetscInt img = 0; img < out.nlocal; img++)
    for (PetscInt i = 0; i < 3; i++)
      for (PetscInt j = 0; j < 3; j++)
        for (PetscInt ch = 0; ch < c; ch++) {
          PetscReal best = 0, got = out.data[((img * 3 + i) * 3 + j) * c + ch];
          for (PetscInt a = 0; a < 2; a++)
            for (PetscInt b = 0; b < 2; b++) {
              PetscReal v = -2 * Value(out.istart + img, i + a, j + b, ch);
              if (PetscAbsReal(v) > PetscAbsReal(best)) best = v;
            }
          PetscCheck(got == best, PETSC_COMM_SELF, PETSC_ERR_PLIB, "image %d output (%d,%d,%d) is %g, expected %g", (int)(out.istart + img), (int)i, (int)j, (int)ch, (double)got, (double)best);
        }
  PetscCall(SanetMapsDestroy(&out));
  PetscCall(SanetNetDestroy(&net));
  PetscCall(SanetOptionCatalogDestroy(&catalog));
  PetscCallMPI(MPI_Barrier(PETSC_COMM_WORLD));
  if (!rank) {
    char path[PETSC_MAX_PATH_LEN + 32];
    PetscCall(PetscSNPrintf(path, sizeof(path), "%s/stage-1-negate1.h5", dir));
    PetscCheck(access(path, R_OK) == 0, PETSC_COMM_SELF, PETSC_ERR_PLIB, "no stage file %s", path);
    unlink(path);
    PetscCall(PetscSNPrintf(path, sizeof(path), "%s/stage-2-pool.h5", dir));
    unlink(path);
    rmdir(dir);
  }
  PetscCall(PetscPrintf(PETSC_COMM_WORLD, "ok: the negate type registered here ran in a network\n"));
  PetscCall(SlepcFinalize());
  return 0;
}
