#include "sanet.h"

/* The network sanet runs without -network, derived from the image size alone:

     sal1 -> pool -> bin -> salimg

   sal1 takes patches at a stride of a sixth of the shorter side (rounded up), each about
   2.2 strides wide (11/5 for 28x28, 13/6 for 32x32, 4/2 for 8x8), padded and centred, flat patches left out of
   the graphs (after centring they are all the zero vector, which makes hub vertices),
   two degree-regularized kNN graphs (k = 9 and 17) with 32 eigenvectors each, features
   scaled by the patch norm; patches of more than 128 values are searched on their first
   64 principal components. Max-abs pooling 2/1 and binarization follow, then salimg, a
   spectral layer over the whole pooled map (a self-tuning 10-NN graph of the images)
   whose eigenvector count, like K without labels, is chosen by modularity on its graph.
   Each value is set only when the options database does not already hold it, so any of
   them can still be given. */

static PetscErrorCode SetDefault(const char name[], const char value[])
{
  PetscBool has;

  PetscFunctionBegin;
  PetscCall(PetscOptionsHasName(NULL, NULL, name, &has));
  if (!has) PetscCall(PetscOptionsSetValue(NULL, name, value));
  PetscFunctionReturn(0);
}

/* Whether name is in the comma-separated list of the option (the defaults of a procedure
   the user's list leaves out would be options nothing reads). */
static PetscErrorCode Listed(const char option[], const char name[], PetscBool *listed)
{
  char      list[1024], *tok, *save = NULL;
  PetscBool set;

  PetscFunctionBegin;
  *listed = PETSC_FALSE;
  PetscCall(PetscOptionsGetString(NULL, NULL, option, list, sizeof(list), &set));
  for (tok = set ? strtok_r(list, ",", &save) : NULL; tok && !*listed; tok = strtok_r(NULL, ",", &save)) PetscCall(PetscStrcmp(tok, name, listed));
  PetscFunctionReturn(0);
}

PetscErrorCode SanetNetworkSetDefaults(PetscInt H, PetscInt W, PetscInt C, PetscInt *nlayers, char *names[], size_t len, char desc[])
{
  const char *layers[] = {"sal1", "pool", "bin", "salimg"};
  const char *procs[]  = {"knn9", "knn17"};
  const char *ks[]     = {"9", "17"};
  PetscInt    side = PetscMin(H, W), patch, stride, gh, gw, pool;
  char        buf[64], key[64];

  PetscFunctionBegin;
  /* about 6 patch positions per axis, each patch spanning about 2.2 strides */
  stride = PetscMax(1, (side + 5) / 6);
  patch  = PetscMin(side, PetscMax(1, (PetscInt)PetscFloorReal(2.2 * stride + 0.5)));
  gh     = (H + stride - 1) / stride; /* padded: ceil(size / stride) patches per axis */
  gw     = (W + stride - 1) / stride;
  pool   = PetscMin(gh, gw) >= 2 ? 2 : 1; /* 2/1 max pooling where the grid allows */
  *nlayers = 4;
  for (PetscInt l = 0; l < 4; l++) PetscCall(PetscStrallocpy(layers[l], &names[l]));
  PetscCall(PetscSNPrintf(buf, sizeof(buf), "%" PetscInt_FMT, patch));
  PetscCall(SetDefault("-sal1_patch", buf));
  PetscCall(PetscSNPrintf(buf, sizeof(buf), "%" PetscInt_FMT, stride));
  PetscCall(SetDefault("-sal1_stride", buf));
  PetscCall(SetDefault("-sal1_zero_patches", "drop"));
  PetscCall(SetDefault("-sal1_norm_power", "1"));
  if (patch * patch * C > 128) PetscCall(SetDefault("-sal1_pca", "64"));
  PetscCall(SetDefault("-sal1_procedures", "knn9,knn17"));
  for (PetscInt p = 0; p < 2; p++) {
    const char *opt[][2] = {{"affinity", "knn"}, {"k", ks[p]}, {"neig", "32"}, {"regularize", "1"}, {"row_normalize", "true"}};
    PetscBool   listed;
    PetscCall(Listed("-sal1_procedures", procs[p], &listed));
    for (size_t o = 0; listed && o < sizeof(opt) / sizeof(opt[0]); o++) {
      PetscCall(PetscSNPrintf(key, sizeof(key), "-sal1_%s_%s", procs[p], opt[o][0]));
      PetscCall(SetDefault(key, opt[o][1]));
    }
  }
  PetscCall(SetDefault("-pool_size", pool == 2 ? "2" : "1"));
  PetscCall(SetDefault("-pool_stride", "1"));
  { /* the head covers the whole pooled map, from the values in effect (given or derived) */
    PetscInt  hw[2] = {patch, patch}, n = 2, ps = pool, pst = 1, s;
    PetscBool pad = PETSC_TRUE, set;
    PetscCall(PetscOptionsGetIntArray(NULL, NULL, "-sal1_patch", hw, &n, &set));
    if (set && n == 1) hw[1] = hw[0];
    PetscCall(PetscOptionsGetInt(NULL, NULL, "-sal1_stride", &stride, NULL));
    s     = stride;
    patch = hw[0];
    PetscCall(PetscOptionsGetBool(NULL, NULL, "-sal1_pad", &pad, NULL));
    PetscCall(PetscOptionsGetInt(NULL, NULL, "-pool_size", &ps, NULL));
    PetscCall(PetscOptionsGetInt(NULL, NULL, "-pool_stride", &pst, NULL));
    if (s >= 1 && pst >= 1) { /* bad values are reported by the layers' own checks */
      gh = pad ? (H + s - 1) / s : (H - hw[0]) / s + 1;
      gw = pad ? (W + s - 1) / s : (W - hw[1]) / s + 1;
      gh = (gh - ps) / pst + 1;
      gw = (gw - ps) / pst + 1;
    }
  }
  PetscCall(PetscSNPrintf(buf, sizeof(buf), "%" PetscInt_FMT ",%" PetscInt_FMT, PetscMax(gh, 1), PetscMax(gw, 1)));
  PetscCall(SetDefault("-salimg_patch", buf));
  PetscCall(SetDefault("-salimg_pad", "false"));
  PetscCall(SetDefault("-salimg_center", "false"));
  PetscCall(SetDefault("-salimg_procedures", "a"));
  {
    PetscBool listed;
    PetscCall(Listed("-salimg_procedures", "a", &listed));
    if (listed) {
      PetscCall(SetDefault("-salimg_a_affinity", "knn"));
      PetscCall(SetDefault("-salimg_a_k", "10"));
      PetscCall(SetDefault("-salimg_a_weight", "selftune"));
      PetscCall(SetDefault("-salimg_a_neig", "auto"));
      PetscCall(SetDefault("-salimg_a_row_normalize", "true"));
    }
  }
  PetscCall(PetscSNPrintf(desc, len, "no -network given: sal1,pool,bin,salimg derived from the %" PetscInt_FMT "x%" PetscInt_FMT "x%" PetscInt_FMT " images (%" PetscInt_FMT "x%" PetscInt_FMT " patches, stride %" PetscInt_FMT "%s; docs/usage.md)", H, W, C, patch, patch, stride, patch * patch * C > 128 ? ", kNN on 64 principal components" : ""));
  PetscFunctionReturn(0);
}
