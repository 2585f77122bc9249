static const char help[] = "SanetDeskewImage on images whose deskewed form is known.\n";
/* A slanted bar r -> column s0 + t (r - rc) becomes upright: after deskewing every row's
   ink centroid sits in the same column and the row/column covariance is zero. An upright
   image is unchanged; a blank one is copied; recentring puts the centroid at the centre;
   channels are sheared alike. */
#include "sanet.h"

static void Moments(PetscInt m, PetscInt n, PetscInt c, const PetscReal img[], PetscReal *mr, PetscReal *ms, PetscReal *cov)
{
  PetscReal w = 0, a = 0, b = 0, x = 0;
  for (PetscInt r = 0; r < m; r++)
    for (PetscInt s = 0; s < n; s++)
      for (PetscInt ch = 0; ch < c; ch++) {
        PetscReal v = img[(r * n + s) * c + ch];
        w += v;
        a += v * r;
        b += v * s;
      }
  a /= w;
  b /= w;
  for (PetscInt r = 0; r < m; r++)
    for (PetscInt s = 0; s < n; s++)
      for (PetscInt ch = 0; ch < c; ch++) x += img[(r * n + s) * c + ch] * (r - a) * (s - b);
  *mr  = a;
  *ms  = b;
  *cov = x / w;
}

/* A two-pixel-wide bar whose column moves by slope per row, sampled exactly. */
static void Bar(PetscInt m, PetscInt n, PetscInt c, PetscReal s0, PetscReal slope, PetscReal img[])
{
  for (PetscInt r = 0; r < m; r++)
    for (PetscInt s = 0; s < n; s++)
      for (PetscInt ch = 0; ch < c; ch++) {
        PetscReal x = s - (s0 + slope * (r - (m - 1) / 2.0));
        img[(r * n + s) * c + ch] = (ch + 1) * PetscMax(0.0, 1 - PetscAbsReal(x) / 2);
      }
}

int main(int argc, char **argv)
{
  const PetscInt m = 28, n = 28, c = 2;
  PetscReal      in[28 * 28 * 2], out[28 * 28 * 2], mr, ms, cov, mr0, ms0, cov0, cov1;

  PetscFunctionBeginUser;
  PetscCall(PetscInitialize(&argc, &argv, NULL, help));
  /* slanted bar: covariance goes from clearly nonzero to zero, centroid column kept */
  Bar(m, n, c, 12.0, 0.4, in);
  Moments(m, n, c, in, &mr0, &ms0, &cov0);
  PetscCall(SanetDeskewImage(m, n, c, in, PETSC_FALSE, out));
  Moments(m, n, c, out, &mr, &ms, &cov);
  cov1 = cov;
  PetscCheck(PetscAbsReal(cov0) > 5, PETSC_COMM_SELF, PETSC_ERR_PLIB, "test bar not slanted (cov %g)", (double)cov0);
  PetscCheck(PetscAbsReal(cov) < 1e-2 * PetscAbsReal(cov0), PETSC_COMM_SELF, PETSC_ERR_PLIB, "deskewed bar covariance %g (was %g)", (double)cov, (double)cov0);
  PetscCheck(PetscAbsReal(ms - ms0) < 0.05 && PetscAbsReal(mr - mr0) < 0.05, PETSC_COMM_SELF, PETSC_ERR_PLIB, "centroid moved from (%g, %g) to (%g, %g) without recentring", (double)mr0, (double)ms0, (double)mr, (double)ms);
  /* linear interpolation keeps first moments: every row's ink centroid is the centroid column */
  for (PetscInt r = 0; r < m; r++) {
    PetscReal w = 0, x = 0;
    for (PetscInt s = 0; s < n; s++) {
      w += out[(r * n + s) * c];
      x += out[(r * n + s) * c] * s;
    }
    PetscCheck(PetscAbsReal(x / w - ms0) < 1e-9, PETSC_COMM_SELF, PETSC_ERR_PLIB, "row %d: ink centroid at column %g, want %g", (int)r, (double)(x / w), (double)ms0);
  }
  /* an upright image is a fixed point */
  Bar(m, n, c, ms0, 0.0, in);
  PetscCall(SanetDeskewImage(m, n, c, in, PETSC_FALSE, out));
  for (PetscInt a = 0; a < m * n * c; a++) PetscCheck(PetscAbsReal(out[a] - in[a]) < 1e-12, PETSC_COMM_SELF, PETSC_ERR_PLIB, "upright image changed at %d", (int)a);
  /* recentring moves the centroid to the centre of the map */
  Bar(m, n, c, 7.0, -0.3, in);
  PetscCall(SanetDeskewImage(m, n, c, in, PETSC_TRUE, out));
  Moments(m, n, c, out, &mr, &ms, &cov);
  PetscCheck(PetscAbsReal(mr - (m - 1) / 2.0) < 0.05 && PetscAbsReal(ms - (n - 1) / 2.0) < 0.05 && PetscAbsReal(cov) < 0.05, PETSC_COMM_SELF, PETSC_ERR_PLIB, "recentred: centroid (%g, %g), covariance %g", (double)mr, (double)ms, (double)cov);
  /* both channels sheared alike: channel 2 stays twice channel 1 */
  for (PetscInt a = 0; a < m * n; a++) PetscCheck(PetscAbsReal(out[2 * a + 1] - 2 * out[2 * a]) < 1e-12, PETSC_COMM_SELF, PETSC_ERR_PLIB, "channels differ at %d", (int)a);
  /* a blank image is copied */
  for (PetscInt a = 0; a < m * n * c; a++) in[a] = 0;
  PetscCall(SanetDeskewImage(m, n, c, in, PETSC_TRUE, out));
  for (PetscInt a = 0; a < m * n * c; a++) PetscCheck(out[a] == 0, PETSC_COMM_SELF, PETSC_ERR_PLIB, "blank image changed");
  PetscCall(PetscPrintf(PETSC_COMM_SELF, "deskew: slanted bar covariance %.3g -> %.2g, upright and blank images unchanged, recentred centroid (%.3f, %.3f)\n", (double)cov0, (double)cov1, (double)mr, (double)ms));
  PetscCall(PetscFinalize());
  return 0;
}
