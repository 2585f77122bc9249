static const char help[] = "Pooling, binarization and coding layers on hand-made maps.\n";
#include "sanet.h"

static PetscErrorCode MakeLayer(const char *name, const char *opts[][2], SanetLayer *l)
{
  PetscFunctionBegin;
  for (PetscInt a = 0; opts && opts[a][0]; a++) PetscCall(PetscOptionsSetValue(NULL, opts[a][0], opts[a][1]));
  PetscCall(SanetLayerCreate(PETSC_COMM_WORLD, name, l));
  PetscCall(SanetLayerSetFromOptions(*l, PETSC_FALSE));
  PetscFunctionReturn(0);
}

/* maps of Nglobal images, image g's channel ch at (i,j) = v[(i*n+j)*c+ch] * (g+1) */
static PetscErrorCode MakeMaps(PetscInt N, PetscInt m, PetscInt n, PetscInt c, const PetscReal v[], const PetscReal eig[], const PetscInt grp[], SanetMaps *maps)
{
  PetscFunctionBegin;
  PetscCall(SanetMapsCreate(PETSC_COMM_WORLD, N, m, n, c, maps));
  for (PetscInt img = 0; img < maps->nlocal; img++)
    for (PetscInt a = 0; a < m * n * c; a++) maps->data[img * m * n * c + a] = v[a] * (maps->istart + img + 1);
  if (eig) {
    PetscCall(PetscMalloc1(c, &maps->eigval));
    PetscCall(PetscMalloc1(c, &maps->group));
    PetscCall(PetscArraycpy(maps->eigval, eig, c));
    PetscCall(PetscArraycpy(maps->group, grp, c));
  }
  PetscFunctionReturn(0);
}

static PetscErrorCode CheckPool(const char *name, const char *size, const char *stride, PetscInt m, PetscInt n, const PetscReal v[], PetscInt mo, PetscInt no, const PetscReal ref[])
{
  const char *opts[3][2] = {{NULL, NULL}, {NULL, NULL}, {NULL, NULL}};
  char        o1[64], o2[64];
  SanetLayer  l;
  SanetMaps   in, out;
  PetscReal   v2[64], r2[64], eig[2] = {0.5, 0.25};
  PetscInt    grp[2] = {0, 1}, cm, cn, cc;

  PetscFunctionBegin;
  PetscCall(PetscSNPrintf(o1, sizeof(o1), "-%s_size", name));
  PetscCall(PetscSNPrintf(o2, sizeof(o2), "-%s_stride", name));
  opts[0][0] = o1;
  opts[0][1] = size;
  opts[1][0] = o2;
  opts[1][1] = stride;
  PetscCall(MakeLayer(name, opts, &l));
  /* two channels: the given map and its negative */
  for (PetscInt a = 0; a < m * n; a++) v2[2 * a] = v[a], v2[2 * a + 1] = -v[a];
  for (PetscInt a = 0; a < mo * no; a++) r2[2 * a] = ref[a], r2[2 * a + 1] = -ref[a];
  PetscCall(MakeMaps(3, m, n, 2, v2, eig, grp, &in));
  PetscCall(SanetLayerGetOutputShape(l, m, n, 2, &cm, &cn, &cc));
  PetscCheck(cm == mo && cn == no && cc == 2, PETSC_COMM_WORLD, PETSC_ERR_PLIB, "%s: output shape %dx%dx%d, expected %dx%dx2", name, (int)cm, (int)cn, (int)cc, (int)mo, (int)no);
  PetscCall(SanetLayerApply(l, &in, &out));
  PetscCheck(out.m == mo && out.n == no && out.c == 2 && out.nlocal == in.nlocal && out.Nglobal == 3, PETSC_COMM_WORLD, PETSC_ERR_PLIB, "%s: output maps %dx%dx%d, expected %dx%dx2", name, (int)out.m, (int)out.n, (int)out.c, (int)mo, (int)no);
  for (PetscInt img = 0; img < out.nlocal; img++)
    for (PetscInt a = 0; a < mo * no * 2; a++) {
      PetscReal e = r2[a] * (out.istart + img + 1), got = out.data[img * mo * no * 2 + a];
      PetscCheck(got == e, PETSC_COMM_SELF, PETSC_ERR_PLIB, "%s (window %s stride %s): image %d output (%d,%d) channel %d is %g, expected %g (signed value of largest magnitude)", name, size, stride, (int)(out.istart + img), (int)(a / 2 / no), (int)(a / 2 % no), (int)(a % 2), (double)got, (double)e);
    }
  PetscCheck(out.eigval && out.group && out.eigval[0] == 0.5 && out.eigval[1] == 0.25 && out.group[1] == 1, PETSC_COMM_WORLD, PETSC_ERR_PLIB, "%s: eigenvalues/groups not carried through pooling", name);
  PetscCall(SanetMapsDestroy(&in));
  PetscCall(SanetMapsDestroy(&out));
  PetscCall(SanetLayerDestroy(&l));
  PetscFunctionReturn(0);
}

/* Expected decimal maps: channels sorted by (group if per procedure, eigenvalue), chunks of
   L (a new chunk at each new group), first channel of a chunk weighs 2^(L-1). */
static PetscErrorCode CheckCode(const char *name, PetscInt L, PetscBool perproc, PetscInt c, const PetscReal eig[], const PetscInt grp[], PetscInt expect_maps)
{
  const char *opts[3][2] = {{NULL, NULL}, {NULL, NULL}, {NULL, NULL}};
  char        o1[64], o2[64], lv[16];
  SanetLayer  l;
  SanetMaps   in, out;
  PetscInt    order[64], chunk[64], pos[64], nch = 0, m = 3, n = 2;
  PetscReal  *v;

  PetscFunctionBegin;
  PetscCall(PetscSNPrintf(o1, sizeof(o1), "-%s_L", name));
  PetscCall(PetscSNPrintf(o2, sizeof(o2), "-%s_order", name));
  PetscCall(PetscSNPrintf(lv, sizeof(lv), "%d", (int)L));
  opts[0][0] = o1;
  opts[0][1] = lv;
  opts[1][0] = o2;
  opts[1][1] = perproc ? "procedure" : "global";
  PetscCall(MakeLayer(name, opts, &l));
  /* reference order (selection sort, stable) */
  for (PetscInt a = 0; a < c; a++) order[a] = a;
  for (PetscInt a = 0; a < c; a++) {
    PetscInt best = a;
    for (PetscInt b = a + 1; b < c; b++) {
      PetscInt u = order[b], w = order[best];
      if ((perproc && grp[u] != grp[w]) ? grp[u] < grp[w] : eig[u] < eig[w]) best = b;
    }
    PetscInt t = order[best];
    for (PetscInt b = best; b > a; b--) order[b] = order[b - 1];
    order[a] = t;
  }
  for (PetscInt a = 0, start = 0; a < c; a++) {
    if (a == 0 || a - start == L || (perproc && grp[order[a]] != grp[order[a - 1]])) {
      start = a;
      nch++;
    }
    chunk[order[a]] = nch - 1;
    pos[order[a]]   = a - start;
  }
  PetscCheck(nch == expect_maps, PETSC_COMM_WORLD, PETSC_ERR_PLIB, "test reference: %d maps, expected %d", (int)nch, (int)expect_maps);
  /* pixel p, channel ch positive iff bit (p*7+ch*3) % 5 < 2; pixel 0: only the smallest-eigenvalue channel */
  PetscCall(PetscMalloc1(m * n * c, &v));
  for (PetscInt p = 0; p < m * n; p++)
    for (PetscInt ch = 0; ch < c; ch++) v[p * c + ch] = p == 0 ? (ch == order[0] ? 0.3 : -0.2) : (((p * 7 + ch * 3) % 5) < 2 ? 0.1 + ch : (ch % 2 ? -1.0 : 0.0));
  PetscCall(MakeMaps(2, m, n, c, v, eig, grp, &in));
  PetscCall(SanetLayerApply(l, &in, &out));
  PetscCheck(out.c == nch && out.m == m && out.n == n, PETSC_COMM_WORLD, PETSC_ERR_PLIB, "%s (L=%d, %s order, %d channels): %d output maps of %dx%d, expected %d of %dx%d", name, (int)L, perproc ? "procedure" : "global", (int)c, (int)out.c, (int)out.m, (int)out.n, (int)nch, (int)m, (int)n);
  if (!perproc) {
    PetscInt cm, cn, cc;
    PetscCall(SanetLayerGetOutputShape(l, m, n, c, &cm, &cn, &cc));
    PetscCheck(cc == nch, PETSC_COMM_WORLD, PETSC_ERR_PLIB, "%s: SanetLayerGetOutputShape says %d maps, Apply made %d", name, (int)cc, (int)nch);
  }
  for (PetscInt img = 0; img < out.nlocal; img++)
    for (PetscInt p = 0; p < m * n; p++)
      for (PetscInt g = 0; g < nch; g++) {
        PetscReal e = 0, got = out.data[(img * m * n + p) * nch + g];
        for (PetscInt ch = 0; ch < c; ch++)
          if (chunk[ch] == g && v[p * c + ch] > 0) e += (PetscReal)(1 << (L - 1 - pos[ch]));
        PetscCheck(got == e, PETSC_COMM_SELF, PETSC_ERR_PLIB, "%s (L=%d, %s order): image %d pixel %d map %d is %g, expected %g", name, (int)L, perproc ? "procedure" : "global", (int)(out.istart + img), (int)p, (int)g, (double)got, (double)e);
      }
  if (out.nlocal) {
    PetscCheck(out.data[0] == (PetscReal)(1 << (L - 1)), PETSC_COMM_SELF, PETSC_ERR_PLIB, "%s: the channel with the smallest eigenvalue alone gives %g, expected 2^(L-1) = %d", name, (double)out.data[0], 1 << (L - 1));
    for (PetscInt g = 1; g < nch; g++) PetscCheck(out.data[g] == 0, PETSC_COMM_SELF, PETSC_ERR_PLIB, "%s: pixel 0 map %d is %g, expected 0", name, (int)g, (double)out.data[g]);
  }
  PetscCheck(out.eigval && out.group, PETSC_COMM_WORLD, PETSC_ERR_PLIB, "%s: coded maps carry no eigenvalues/groups", name);
  for (PetscInt g = 0; g < nch; g++)
    for (PetscInt ch = 0; ch < c; ch++)
      if (chunk[ch] == g && pos[ch] == 0) PetscCheck(out.eigval[g] == eig[ch] && out.group[g] == grp[ch], PETSC_COMM_WORLD, PETSC_ERR_PLIB, "%s: map %d carries eigenvalue %g group %d, expected %g group %d (its first channel)", name, (int)g, (double)out.eigval[g], (int)out.group[g], (double)eig[ch], (int)grp[ch]);
  PetscCall(PetscFree(v));
  PetscCall(SanetMapsDestroy(&in));
  PetscCall(SanetMapsDestroy(&out));
  PetscCall(SanetLayerDestroy(&l));
  PetscFunctionReturn(0);
}

static PetscErrorCode ExpectOptionError(const char *name, const char *opt, const char *val)
{
  SanetLayer     l = NULL;
  PetscErrorCode ierr;

  PetscFunctionBegin;
  PetscCall(PetscOptionsSetValue(NULL, opt, val));
  PetscCall(PetscPushErrorHandler(PetscReturnErrorHandler, NULL));
  ierr = SanetLayerCreate(PETSC_COMM_WORLD, name, &l);
  if (!ierr) ierr = SanetLayerSetFromOptions(l, PETSC_FALSE);
  PetscCall(PetscPopErrorHandler());
  PetscCheck(ierr, PETSC_COMM_WORLD, PETSC_ERR_PLIB, "layer %s accepted %s %s", name, opt, val);
  PetscCall(PetscOptionsClearValue(NULL, opt));
  PetscFunctionReturn(0);
}

int main(int argc, char **argv)
{
  PetscCall(SlepcInitialize(&argc, &argv, NULL, help));
  { /* max-abs pooling */
    const PetscReal a[9] = {1, -5, 2, 3, 4, -6, -7, 0, 8}, ra[4] = {-5, -6, -7, 8};
    const PetscReal b[16] = {1, 2, -3, 0.5, -4, 0, 1, 2.5, 0, 0, 0, 0, 0, 0, 0, -0.1}, rb[4] = {-4, -3, 0, -0.1};
    const PetscReal rb1[9] = {-4, -3, -3, -4, 1, 2.5, 0, 0, -0.1};
    PetscCall(CheckPool("pool", "2", "1", 3, 3, a, 2, 2, ra));
    PetscCall(CheckPool("poolb", "2", "2", 4, 4, b, 2, 2, rb));
    PetscCall(CheckPool("poolc", "2", "1", 4, 4, b, 3, 3, rb1));
    PetscCall(CheckPool("poold", "3", "1", 3, 3, a, 1, 1, (const PetscReal[]){8}));
  }
  { /* pooling window larger than the maps */
    SanetLayer     l;
    SanetMaps      in, out;
    PetscReal      z[9] = {0};
    PetscErrorCode ierr;
    const char    *opts[][2] = {{"-poolbig_size", "4"}, {NULL, NULL}};
    PetscCall(MakeLayer("poolbig", opts, &l));
    PetscCall(MakeMaps(2, 3, 3, 1, z, NULL, NULL, &in));
    PetscCall(PetscPushErrorHandler(PetscReturnErrorHandler, NULL));
    ierr = SanetLayerApply(l, &in, &out);
    PetscCall(PetscPopErrorHandler());
    PetscCheck(ierr, PETSC_COMM_WORLD, PETSC_ERR_PLIB, "4x4 pooling of 3x3 maps was accepted");
    PetscCall(SanetMapsDestroy(&in));
    PetscCall(SanetLayerDestroy(&l));
  }
  { /* binarization */
    const PetscReal v[6] = {0.5, -0.5, 0, 1e-300, -1e-300, 7};
    const PetscReal e[6] = {1, 0, 0, 1, 0, 1};
    SanetLayer      l;
    SanetMaps       in, out;
    PetscReal       eig[3] = {0.1, 0.2, 0.3};
    PetscInt        grp[3] = {4, 4, 5};
    PetscCall(MakeLayer("bin", NULL, &l));
    PetscCall(MakeMaps(3, 1, 2, 3, v, eig, grp, &in));
    PetscCall(SanetLayerApply(l, &in, &out));
    PetscCheck(out.m == 1 && out.n == 2 && out.c == 3, PETSC_COMM_WORLD, PETSC_ERR_PLIB, "bin: shape changed");
    for (PetscInt a = 0; a < out.nlocal * 6; a++) PetscCheck(out.data[a] == e[a % 6], PETSC_COMM_SELF, PETSC_ERR_PLIB, "bin: input %g gives %g, expected %g", (double)in.data[a], (double)out.data[a], (double)e[a % 6]);
    PetscCheck(out.eigval && out.group && out.eigval[2] == 0.3 && out.group[2] == 5, PETSC_COMM_WORLD, PETSC_ERR_PLIB, "bin: eigenvalues/groups not carried");
    PetscCall(SanetMapsDestroy(&in));
    PetscCall(SanetMapsDestroy(&out));
    PetscCall(SanetLayerDestroy(&l));
  }
  { /* coding */
    PetscReal eig[16];
    PetscInt  grp[16];
    for (PetscInt ch = 0; ch < 16; ch++) eig[ch] = 0.05 + 0.1 * ((ch * 7) % 16); /* shuffled */
    for (PetscInt ch = 0; ch < 16; ch++) grp[ch] = 0;
    PetscCall(CheckCode("code", 8, PETSC_FALSE, 16, eig, grp, 2));
    PetscCall(CheckCode("codeb", 8, PETSC_FALSE, 10, eig, grp, 2)); /* partial last group */
    PetscCall(CheckCode("codec", 4, PETSC_FALSE, 16, eig, grp, 4));
    for (PetscInt ch = 0; ch < 16; ch++) grp[ch] = ch < 10 ? 3 : 5;
    PetscCall(CheckCode("coded", 8, PETSC_TRUE, 16, eig, grp, 3)); /* 10 -> 8+2, 6 -> 6 */
    PetscCall(CheckCode("codee", 8, PETSC_FALSE, 16, eig, grp, 2)); /* global order ignores groups */
    { /* exact decimal values, global order, 16 channels: all positive gives 255 255 */
      SanetLayer l;
      SanetMaps  in, out;
      PetscReal  v[16];
      PetscInt   g0[16] = {0};
      const char *opts[][2] = {{"-codef_L", "8"}, {NULL, NULL}};
      PetscCall(MakeLayer("codef", opts, &l));
      /* positive: the 1st, 3rd and 9th smallest eigenvalues -> 128+32 and 128 */
      for (PetscInt ch = 0; ch < 16; ch++) {
        PetscInt r = (ch * 7) % 16;
        v[ch]      = (r == 0 || r == 2 || r == 8) ? 1 : -1;
      }
      PetscCall(MakeMaps(1, 1, 1, 16, v, eig, g0, &in));
      PetscCall(SanetLayerApply(l, &in, &out));
      if (out.nlocal) PetscCheck(out.data[0] == 160 && out.data[1] == 128, PETSC_COMM_SELF, PETSC_ERR_PLIB, "code: channels of eigenvalue rank 1, 3 and 9 set give %g %g, expected 160 128", (double)out.data[0], (double)out.data[1]);
      PetscCall(SanetMapsDestroy(&in));
      PetscCall(SanetMapsDestroy(&out));
      PetscCall(SanetLayerDestroy(&l));
    }
  }
  PetscCall(ExpectOptionError("poolx", "-poolx_size", "0"));
  PetscCall(ExpectOptionError("pooly", "-pooly_stride", "0"));
  PetscCall(ExpectOptionError("codex", "-codex_L", "0"));
  PetscCall(ExpectOptionError("codey", "-codey_L", "31"));
  PetscCall(ExpectOptionError("codez", "-codez_order", "bogus"));
  PetscCall(ExpectOptionError("foo1", "-foo1_x", "1"));
  PetscCall(PetscPrintf(PETSC_COMM_WORLD, "test_layers: all checks passed\n"));
  PetscCall(SlepcFinalize());
  return 0;
}
