#include "sanet.h"

/* Bilinear sample of channel ch at a fractional position; outside the map reads zero. */
static PetscReal Sample(PetscInt m, PetscInt n, PetscInt c, const PetscReal img[], PetscInt ch, PetscReal r, PetscReal s)
{
  PetscInt  r0 = (PetscInt)PetscFloorReal(r), s0 = (PetscInt)PetscFloorReal(s);
  PetscReal fr = r - r0, fs = s - s0, v = 0;
  for (PetscInt a = 0; a < 2; a++)
    for (PetscInt b = 0; b < 2; b++) {
      PetscInt  rr = r0 + a, ss = s0 + b;
      PetscReal w  = (a ? fr : 1 - fr) * (b ? fs : 1 - fs);
      if (rr >= 0 && rr < m && ss >= 0 && ss < n && w > 0) v += w * img[(rr * n + ss) * c + ch];
    }
  return v;
}

PetscErrorCode SanetDeskewImage(PetscInt m, PetscInt n, PetscInt c, const PetscReal in[], PetscBool recenter, PetscReal out[])
{
  PetscReal mass = 0, mr = 0, ms = 0, vr = 0, crs = 0, shear = 0, dr = 0, ds = 0;

  PetscFunctionBegin;
  /* moments of the ink summed over channels */
  for (PetscInt r = 0; r < m; r++)
    for (PetscInt s = 0; s < n; s++)
      for (PetscInt ch = 0; ch < c; ch++) {
        PetscReal v = in[(r * n + s) * c + ch];
        mass += v;
        mr += v * r;
        ms += v * s;
      }
  if (mass <= 0) { /* a blank image has no axis */
    PetscCall(PetscArraycpy(out, in, m * n * c));
    PetscFunctionReturn(0);
  }
  mr /= mass;
  ms /= mass;
  for (PetscInt r = 0; r < m; r++)
    for (PetscInt s = 0; s < n; s++)
      for (PetscInt ch = 0; ch < c; ch++) {
        PetscReal v = in[(r * n + s) * c + ch];
        vr += v * (r - mr) * (r - mr);
        crs += v * (r - mr) * (s - ms);
      }
  if (vr > 0) shear = crs / vr;
  /* Output pixel (r, s) reads the input at row r + dr and column s + ds + shear (r + dr - mr):
     the shear about the centroid row makes the row/column covariance zero, and with
     recenter the centroid lands on the centre of the map. */
  if (recenter) {
    dr = mr - (m - 1) / 2.0;
    ds = ms - (n - 1) / 2.0;
  }
  for (PetscInt r = 0; r < m; r++)
    for (PetscInt s = 0; s < n; s++)
      for (PetscInt ch = 0; ch < c; ch++) out[(r * n + s) * c + ch] = Sample(m, n, c, in, ch, r + dr, s + ds + shear * (r + dr - mr));
  PetscFunctionReturn(0);
}
