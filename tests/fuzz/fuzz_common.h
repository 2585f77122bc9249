/* Shared set-up of the libFuzzer harnesses: PETSc initialized once, errors returned
   instead of printed or aborting, and fuzz inputs written to files in a private
   tmpfs folder (the readers take paths). */
#pragma once
#include "sanet_io.h"
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static char fuzz_dir[256];

static void FuzzCleanup(void)
{
  char cmd[300];

  if (!fuzz_dir[0]) return;
  snprintf(cmd, sizeof(cmd), "rm -rf '%s'", fuzz_dir);
  if (system(cmd)) { /* best effort */
  }
}

/* Called once by libFuzzer before any input, so that the one-time allocations of MPI
   and PETSc are not attributed to (and reported as leaks of) the first input. */
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
  const char *base = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";

  /* PETSc's SEGV handler would hide crashes from libFuzzer/ASan */
  if (PetscOptionsSetValue(NULL, "-no_signal_handler", NULL)) abort();
  if (PetscInitializeNoArguments()) abort();
  if (PetscPushErrorHandler(PetscReturnErrorHandler, NULL)) abort();
  snprintf(fuzz_dir, sizeof(fuzz_dir), "%s/sanet-fuzz.XXXXXX", base);
  if (!mkdtemp(fuzz_dir)) abort();
  atexit(FuzzCleanup);
  return 0;
}

/* Writes data to fuzz_dir/name and returns the path (static buffer per call site). */
static void FuzzWrite(const char name[], const uint8_t *data, size_t size, char path[], size_t len)
{
  FILE *fp;

  snprintf(path, len, "%s/%s", fuzz_dir, name);
  fp = fopen(path, "wb");
  if (!fp) abort();
  if (size && fwrite(data, 1, size, fp) != size) abort();
  if (fclose(fp)) abort();
}
