#include "sanet/h5.h"
#include <unistd.h>
#include <ctype.h>

static uint64_t FNV1a(uint64_t h, const void *data, size_t len)
{
  const unsigned char *p = (const unsigned char *)data;
  for (size_t i = 0; i < len; i++) h = (h ^ p[i]) * 0x100000001b3ULL;
  return h;
}

PetscErrorCode SanetImagesDigest(MPI_Comm comm, const SanetImages *img, uint64_t *digest)
{
  const SanetMaps *m   = &img->maps;
  const size_t     per = (size_t)m->m * m->n * m->c;
  uint64_t         local = 0, shape[4] = {(uint64_t)m->Nglobal, (uint64_t)m->m, (uint64_t)m->n, (uint64_t)m->c};

  PetscFunctionBegin;
  /* A sum of per-image hashes does not depend on how images are split over ranks. */
  for (PetscInt i = 0; i < m->nlocal; i++) {
    uint64_t h = FNV1a(0xcbf29ce484222325ULL, &(uint64_t){(uint64_t)(m->istart + i)}, sizeof(uint64_t));
    h          = FNV1a(h, m->data + i * per, per * sizeof(PetscReal));
    if (img->labels) h = FNV1a(h, &img->labels[i], sizeof(PetscInt));
    local += h;
  }
  PetscCallMPI(MPI_Allreduce(&local, digest, 1, MPI_UINT64_T, MPI_SUM, comm));
  *digest = FNV1a(*digest, shape, sizeof(shape));
  PetscFunctionReturn(0);
}

/* SanetOptionOnlyReports on the name at the start of s (len characters) */
static PetscBool OnlyReports(const char s[], size_t len)
{
  char name[256];
  snprintf(name, sizeof(name), "%.*s", (int)PetscMin(len, sizeof(name) - 1), s);
  return SanetOptionOnlyReports(name);
}

static int StringCompare(const void *a, const void *b)
{
  return strcmp(*(char *const *)a, *(char *const *)b);
}

PetscErrorCode SanetOptionsDigest(MPI_Comm comm, uint64_t upstream, const char prefix[], PetscInt seed, const char effective[], uint64_t *digest, char **options)
{
  char     *all, *copy, *tok, *save = NULL, **entry, *out;
  size_t    len, plen, n = 0, cap = 16, outlen = 1;
  char      want[128];
  PetscBool kept = PETSC_FALSE;

  PetscFunctionBegin;
  PetscCall(PetscSNPrintf(want, sizeof(want), "-%s", prefix));
  plen = strlen(want);
  PetscCall(PetscOptionsGetAll(NULL, &all));
  PetscCall(PetscStrallocpy(all, &copy));
  PetscCall(PetscMalloc1(cap, &entry));
  /* Entries "-name [value]" under the prefix, sorted so that their order in a file or on
     the command line does not matter; options that only report (progress, viewers,
     monitors) are left out, so changing them reuses the stage. */
  for (tok = strtok_r(copy, " ", &save); tok; tok = strtok_r(NULL, " ", &save)) {
    PetscBool isname = (PetscBool)(tok[0] == '-' && (isalpha((unsigned char)tok[1]) || tok[1] == '_'));
    if (isname) {
      kept = (PetscBool)(!strncmp(tok, want, plen) && !OnlyReports(tok, strlen(tok)));
      if (!kept) continue;
      if (n == cap) PetscCall(PetscRealloc(sizeof(char *) * (cap *= 2), &entry));
      PetscCall(PetscStrallocpy(tok, &entry[n++]));
    } else if (kept && n && !strchr(entry[n - 1], ' ')) {
      char *joined;
      PetscCall(PetscStrlen(entry[n - 1], &len));
      PetscCall(PetscMalloc1(len + strlen(tok) + 2, &joined));
      PetscCall(PetscSNPrintf(joined, len + strlen(tok) + 2, "%s %s", entry[n - 1], tok));
      PetscCall(PetscFree(entry[n - 1]));
      entry[n - 1] = joined;
    }
  }
  qsort(entry, n, sizeof(char *), StringCompare);
  for (size_t i = 0; i < n; i++) outlen += strlen(entry[i]) + 1;
  PetscCall(PetscCalloc1(outlen + 32, &out));
  for (size_t i = 0; i < n; i++) {
    PetscCall(PetscStrlcat(out, entry[i], outlen + 32));
    PetscCall(PetscStrlcat(out, i + 1 < n ? " " : "", outlen + 32));
    PetscCall(PetscFree(entry[i]));
  }
  *digest = FNV1a(upstream ^ 0x9e3779b97f4a7c15ULL, out, strlen(out));
  *digest = FNV1a(*digest, &(int64_t){(int64_t)seed}, sizeof(int64_t));
  for (const char *line = effective; line && *line;) { /* one "-name ..." per line */
    const char *end = strchr(line, '\n');
    size_t      ll  = end ? (size_t)(end - line) : strlen(line);
    if (!OnlyReports(line, strcspn(line, " :<\n"))) *digest = FNV1a(*digest, line, ll);
    line += ll + (end ? 1 : 0);
  }
  PetscCall(PetscFree(entry));
  PetscCall(PetscFree(copy));
  PetscCall(PetscFree(all));
  *options = out;
  PetscFunctionReturn(0);
}

typedef struct {
  const char           *stage, *options, *procedures;
  uint64_t              digest;
  const PetscInt       *inshape;
  const SanetPatchSpec *patch;
  const SanetMaps      *maps;
} StageContent;

static PetscErrorCode WriteStage(MPI_Comm comm, hid_t file, void *ctx)
{
  const StageContent *sc   = (const StageContent *)ctx;
  const SanetMaps    *maps = sc->maps;
  char                hex[32];
  hid_t               root;
  PetscMPIInt         rank;
  hsize_t             dims[4] = {(hsize_t)maps->Nglobal, (hsize_t)maps->m, (hsize_t)maps->n, (hsize_t)maps->c}, cdim[1] = {(hsize_t)maps->c};
  int64_t             N = maps->Nglobal;

  PetscFunctionBegin;
  PetscCallMPI(MPI_Comm_rank(comm, &rank));
  PetscCall(PetscSNPrintf(hex, sizeof(hex), "%016llx", (unsigned long long)sc->digest));
  PetscCall(SanetH5WriteRows(file, "maps", H5T_NATIVE_DOUBLE, H5T_IEEE_F64LE, 4, dims, maps->istart, maps->nlocal, maps->data));
  if (maps->eigval) {
    PetscCall(SanetH5WriteRows(file, "eigval", H5T_NATIVE_DOUBLE, H5T_IEEE_F64LE, 1, cdim, 0, rank ? 0 : maps->c, maps->eigval));
    PetscCall(SanetH5WriteRows(file, "group", sizeof(PetscInt) == 4 ? H5T_NATIVE_INT : H5T_NATIVE_LLONG, H5T_STD_I64LE, 1, cdim, 0, rank ? 0 : maps->c, maps->group));
  }
  SanetCallHDF5Id(root, H5Gopen2(file, "/", H5P_DEFAULT));
  PetscCall(SanetH5WriteStringAttribute(root, "stage", sc->stage));
  PetscCall(SanetH5WriteStringAttribute(root, "digest", hex));
  PetscCall(SanetH5WriteStringAttribute(root, "options", sc->options[0] ? sc->options : "(defaults)"));
  PetscCall(SanetH5WriteAttribute(root, "images", H5T_NATIVE_INT64, &N));
  if (sc->procedures && sc->procedures[0]) PetscCall(SanetH5WriteStringAttribute(root, "procedures", sc->procedures));
  {
    const char *shape[3] = {"input_h", "input_w", "input_c"};
    for (int d = 0; d < 3; d++) {
      int64_t v = sc->inshape[d];
      PetscCall(SanetH5WriteAttribute(root, shape[d], H5T_NATIVE_INT64, &v));
    }
  }
  if (sc->patch) {
    /* what sanet-pictures needs to cut the layer's patches again */
    int64_t v[4] = {sc->patch->ph, sc->patch->pw, sc->patch->stride, sc->patch->pad};
    const char *name[4] = {"patch_h", "patch_w", "patch_stride", "patch_pad"};
    for (int d = 0; d < 4; d++) PetscCall(SanetH5WriteAttribute(root, name[d], H5T_NATIVE_INT64, &v[d]));
  }
  SanetCallHDF5(H5Gclose(root));
  PetscFunctionReturn(0);
}

PetscErrorCode SanetCheckpointWrite(MPI_Comm comm, const char path[], const char stage[], uint64_t digest, const char options[], const char procedures[], const PetscInt inshape[3], const SanetPatchSpec *patch, const SanetMaps *maps)
{
  StageContent sc = {stage, options, procedures, digest, inshape, patch, maps};

  PetscFunctionBegin;
  PetscCall(SanetH5WriteAtomic(comm, path, WriteStage, &sc));
  PetscFunctionReturn(0);
}

/* Rank 0 inspects the file serially; the verdict is shared so that all ranks agree. */
static PetscErrorCode CheckpointInspect(const char path[], uint64_t digest, PetscInt Nglobal, int64_t shape[4], char why[], size_t whylen)
{
  hid_t   file = -1, attr = -1, type = -1, dset = -1, space = -1;
  char    hex[32], stored[64] = "";
  int     nd;
  hsize_t dims[4];

  PetscFunctionBegin;
  why[0] = 0;
  PetscCall(PetscSNPrintf(hex, sizeof(hex), "%016llx", (unsigned long long)digest));
  if (access(path, F_OK)) {
    PetscCall(PetscSNPrintf(why, whylen, "absent"));
    PetscFunctionReturn(0);
  }
  if (H5Fis_hdf5(path) <= 0 || (file = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT)) < 0) {
    PetscCall(PetscSNPrintf(why, whylen, "not a readable HDF5 file (truncated or foreign)"));
    PetscFunctionReturn(0);
  }
  if (H5Aexists(file, "digest") <= 0 || (attr = H5Aopen(file, "digest", H5P_DEFAULT)) < 0 || (type = H5Aget_type(attr)) < 0 || H5Tget_class(type) != H5T_STRING || H5Tget_size(type) >= sizeof(stored) || H5Aread(attr, type, stored) < 0) {
    PetscCall(PetscSNPrintf(why, whylen, "no sanet stage digest (a foreign file)"));
  } else if (strcmp(stored, hex)) {
    PetscCall(PetscSNPrintf(why, whylen, "made from other options or input (digest %s, want %s)", stored, hex));
  } else if ((dset = H5Dopen2(file, "maps", H5P_DEFAULT)) < 0 || (space = H5Dget_space(dset)) < 0 || (nd = H5Sget_simple_extent_ndims(space)) != 4 || H5Sget_simple_extent_dims(space, dims, NULL) < 0 || (PetscInt)dims[0] != Nglobal) {
    PetscCall(PetscSNPrintf(why, whylen, "its /maps dataset is missing or has the wrong shape"));
  } else {
    for (int d = 0; d < 4; d++) shape[d] = (int64_t)dims[d];
  }
  if (space >= 0) H5Sclose(space);
  if (dset >= 0) H5Dclose(dset);
  if (type >= 0) H5Tclose(type);
  if (attr >= 0) H5Aclose(attr);
  H5Fclose(file);
  PetscFunctionReturn(0);
}

static PetscErrorCode CheckpointCheckShape(MPI_Comm comm, const char path[], uint64_t digest, PetscInt Nglobal, int64_t shape[4], char why[], size_t whylen)
{
  PetscMPIInt rank;
  H5E_auto2_t efunc;
  void       *edata;

  PetscFunctionBegin;
  PetscCallMPI(MPI_Comm_rank(comm, &rank));
  SanetCallHDF5(H5Eget_auto2(H5E_DEFAULT, &efunc, &edata));
  SanetCallHDF5(H5Eset_auto2(H5E_DEFAULT, NULL, NULL));
  if (!rank) PetscCall(CheckpointInspect(path, digest, Nglobal, shape, why, whylen));
  SanetCallHDF5(H5Eset_auto2(H5E_DEFAULT, efunc, edata));
  PetscCallMPI(MPI_Bcast(why, (PetscMPIInt)whylen, MPI_CHAR, 0, comm));
  PetscCallMPI(MPI_Bcast(shape, 4, MPI_INT64_T, 0, comm));
  PetscFunctionReturn(0);
}

PetscErrorCode SanetCheckpointCheck(MPI_Comm comm, const char path[], uint64_t digest, PetscInt Nglobal, char why[], size_t whylen)
{
  int64_t shape[4] = {0, 0, 0, 0};

  PetscFunctionBegin;
  PetscCall(CheckpointCheckShape(comm, path, digest, Nglobal, shape, why, whylen));
  PetscFunctionReturn(0);
}

PetscErrorCode SanetCheckpointLoad(MPI_Comm comm, const char path[], uint64_t digest, PetscInt Nglobal, SanetMaps *maps, PetscBool *loaded)
{
  char    why[256] = "";
  int64_t shape[4] = {0, 0, 0, 0};
  hid_t   fapl, file;

  PetscFunctionBegin;
  *loaded = PETSC_FALSE;
  PetscCall(CheckpointCheckShape(comm, path, digest, Nglobal, shape, why, sizeof(why)));
  if (why[0]) {
    if (strcmp(why, "absent")) PetscCall(PetscPrintf(comm, "resume: refusing %s: %s; recomputing\n", path, why));
    PetscFunctionReturn(0);
  }
  PetscCall(SanetMapsCreate(comm, Nglobal, shape[1], shape[2], shape[3], maps));
  SanetCallHDF5Id(fapl, H5Pcreate(H5P_FILE_ACCESS));
  SanetCallHDF5(H5Pset_fapl_mpio(fapl, comm, MPI_INFO_NULL));
  SanetCallHDF5Id(file, H5Fopen(path, H5F_ACC_RDONLY, fapl));
  SanetCallHDF5(H5Pclose(fapl));
  {
    hsize_t dims[4] = {(hsize_t)shape[0], (hsize_t)shape[1], (hsize_t)shape[2], (hsize_t)shape[3]}, cdim[1] = {(hsize_t)shape[3]};
    PetscCall(SanetH5ReadRows(file, "maps", H5T_NATIVE_DOUBLE, 4, dims, maps->istart, maps->nlocal, maps->data));
    if (H5Lexists(file, "eigval", H5P_DEFAULT) > 0) {
      PetscCall(PetscMalloc1(shape[3], &maps->eigval));
      PetscCall(PetscMalloc1(shape[3], &maps->group));
      PetscCall(SanetH5ReadRows(file, "eigval", H5T_NATIVE_DOUBLE, 1, cdim, 0, shape[3], maps->eigval));
      PetscCall(SanetH5ReadRows(file, "group", sizeof(PetscInt) == 4 ? H5T_NATIVE_INT : H5T_NATIVE_LLONG, 1, cdim, 0, shape[3], maps->group));
    }
  }
  SanetCallHDF5(H5Fclose(file));
  *loaded = PETSC_TRUE;
  PetscFunctionReturn(0);
}
