#include "sanet.h"
#include <sys/stat.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <unistd.h>

/* The output folder of a run: created with its parents, written by one run at a time.
   A lock file DIR/.sanet.lock holds "host pid" of the run that owns the folder; a second
   run refuses the folder and names the first. A lock left by a run that died (same host,
   no process of that pid named sanet) is taken over with a message. */
#define LOCK_NAME ".sanet.lock"

static char lock_path[PETSC_MAX_PATH_LEN] = "";

static void RemoveLock(void)
{
  if (lock_path[0]) unlink(lock_path);
  lock_path[0] = 0;
}

/* mkdir -p: 0 or an errno */
static int MakeDirs(const char dir[])
{
  char        path[PETSC_MAX_PATH_LEN];
  struct stat st;
  size_t      len = strlen(dir);

  if (len == 0 || len >= sizeof(path)) return ENAMETOOLONG;
  memcpy(path, dir, len + 1);
  for (char *p = path + 1; *p; p++) {
    if (*p != '/') continue;
    *p = 0;
    if (mkdir(path, 0775) && errno != EEXIST) return errno;
    *p = '/';
  }
  if (mkdir(path, 0775) && errno != EEXIST) return errno;
  if (stat(path, &st)) return errno;
  return S_ISDIR(st.st_mode) ? 0 : ENOTDIR;
}

/* Is process pid a live sanet? *orphan: its launcher is gone (parent 1), so it is about
   to end (MPI ranks outlive a killed mpirun by about a second). */
static PetscBool ProcessIsSanet(long pid, PetscBool *orphan)
{
  char  path[64], comm[64] = "", state = 0;
  long  ppid = 0;
  FILE *fp;

  *orphan = PETSC_FALSE;
  if (kill((pid_t)pid, 0) && errno == ESRCH) return PETSC_FALSE;
  snprintf(path, sizeof(path), "/proc/%ld/stat", pid);
  fp = fopen(path, "r");
  if (fp) {
    if (fscanf(fp, "%*d (%*[^)]) %c %ld", &state, &ppid) != 2) state = 0;
    fclose(fp);
  }
  if (state == 'Z' || state == 'X') return PETSC_FALSE; /* dead, not yet reaped */
  *orphan = (PetscBool)(ppid == 1);
  snprintf(path, sizeof(path), "/proc/%ld/comm", pid);
  fp = fopen(path, "r");
  if (!fp) return PETSC_TRUE; /* alive, name unknown: assume it is the other run */
  if (!fgets(comm, sizeof(comm), fp)) comm[0] = 0;
  fclose(fp);
  return (PetscBool)(strncmp(comm, "sanet", 5) == 0);
}

PetscErrorCode SanetOutputDirCheck(MPI_Comm comm, const char dir[])
{
  PetscMPIInt rank;
  int         err = 0;

  PetscFunctionBegin;
  PetscCallMPI(MPI_Comm_rank(comm, &rank));
  if (!rank) {
    struct stat st;
    if (!stat(dir, &st) && !S_ISDIR(st.st_mode)) err = ENOTDIR;
  }
  PetscCallMPI(MPI_Bcast(&err, 1, MPI_INT, 0, comm));
  PetscCheck(!err, comm, PETSC_ERR_FILE_WRITE, "-output %s: cannot create or write the directory: %s", dir, strerror(err));
  PetscFunctionReturn(0);
}

PetscErrorCode SanetOutputDirOpen(MPI_Comm comm, const char dir[])
{
  PetscMPIInt rank;
  int         err = 0, fd = -1;
  char        host[256] = "", other[PETSC_MAX_PATH_LEN + 512] = "", took[PETSC_MAX_PATH_LEN + 512] = "";

  PetscFunctionBegin;
  PetscCallMPI(MPI_Comm_rank(comm, &rank));
  if (!rank) {
    char path[PETSC_MAX_PATH_LEN], probe[PETSC_MAX_PATH_LEN];
    err = MakeDirs(dir);
    if (!err) {
      FILE *fp;
      snprintf(probe, sizeof(probe), "%s/.sanet-write-test", dir);
      fp = fopen(probe, "w");
      if (!fp) err = errno;
      else {
        fclose(fp);
        remove(probe);
      }
    }
    gethostname(host, sizeof(host) - 1);
    snprintf(path, sizeof(path), "%s/%s", dir, LOCK_NAME);
    for (int attempt = 0; !err && attempt < 2; attempt++) {
      char  ohost[256] = "";
      long  opid       = 0;
      FILE *fp;
      fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0664);
      if (fd >= 0) break;
      if (errno != EEXIST) {
        err = errno;
        break;
      }
      fp = fopen(path, "r");
      if (!fp && errno == ENOENT) continue; /* released meanwhile: try again */
      if (fp) {
        if (fscanf(fp, "%255s %ld", ohost, &opid) != 2) opid = 0;
        fclose(fp);
      }
      if (opid > 0 && !strcmp(ohost, host)) {
        PetscBool orphan = PETSC_FALSE, alive = ProcessIsSanet(opid, &orphan);
        for (int wait = 0; alive && orphan && wait < 100; wait++) { /* at most 10 s */
          usleep(100000);
          alive = ProcessIsSanet(opid, &orphan);
        }
        if (alive) opid = -opid; /* a live run: refused below */
      }
      if (opid > 0 && strcmp(ohost, host) == 0) {
        snprintf(took, sizeof(took), "-output %s: removed the lock of an earlier run (pid %ld on %s) that is gone", dir, opid, ohost);
        unlink(path);
        continue;
      }
      if (opid) snprintf(other, sizeof(other), "another sanet run (pid %ld on host %s) is writing to it", opid > 0 ? opid : -opid, ohost);
      else snprintf(other, sizeof(other), "its lock file %s cannot be read", path);
      break;
    }
    if (fd >= 0) {
      char line[320];
      int  n = snprintf(line, sizeof(line), "%s %ld\n", host, (long)getpid());
      if (write(fd, line, (size_t)n) != n) err = errno ? errno : EIO;
      close(fd);
      snprintf(lock_path, sizeof(lock_path), "%s", path);
      atexit(RemoveLock); /* also after an error: the lock must not outlive the run */
    }
  }
  PetscCallMPI(MPI_Bcast(&err, 1, MPI_INT, 0, comm));
  PetscCallMPI(MPI_Bcast(other, sizeof(other), MPI_CHAR, 0, comm));
  PetscCheck(!err, comm, PETSC_ERR_FILE_WRITE, "-output %s: cannot create or write the directory: %s", dir, strerror(err));
  PetscCheck(!other[0], comm, PETSC_ERR_FILE_WRITE, "-output %s: %s; wait for it or choose another folder (if that run is gone, remove %s/%s)", dir, other, dir, LOCK_NAME);
  if (took[0]) PetscCall(PetscPrintf(PETSC_COMM_SELF, "%s\n", took));
  PetscFunctionReturn(0);
}

PetscErrorCode SanetOutputDirClose(MPI_Comm comm)
{
  PetscFunctionBegin;
  RemoveLock();
  PetscFunctionReturn(0);
}

/* A viewer argument ":file[:format]" of -log_view names a file written at the very end:
   check now that it can be created. */
PetscErrorCode SanetCheckLogViewPath(MPI_Comm comm)
{
  char        value[PETSC_MAX_PATH_LEN], file[PETSC_MAX_PATH_LEN];
  PetscBool   set;
  PetscMPIInt rank;
  int         err = 0;

  PetscFunctionBegin;
  PetscCall(PetscOptionsGetString(NULL, NULL, "-log_view", value, sizeof(value), &set));
  if (!set || value[0] != ':') PetscFunctionReturn(0);
  PetscCall(PetscStrncpy(file, value + 1, sizeof(file)));
  if (strchr(file, ':')) *strchr(file, ':') = 0;
  if (!file[0]) PetscFunctionReturn(0);
  PetscCallMPI(MPI_Comm_rank(comm, &rank));
  if (!rank) {
    int existed = !access(file, F_OK), fd = open(file, O_WRONLY | O_CREAT | O_APPEND, 0664);
    if (fd < 0) err = errno;
    else {
      close(fd);
      if (!existed) unlink(file);
    }
  }
  PetscCallMPI(MPI_Bcast(&err, 1, MPI_INT, 0, comm));
  PetscCheck(!err, comm, PETSC_ERR_FILE_WRITE, "-log_view %s: cannot write %s: %s", value, file, strerror(err));
  PetscFunctionReturn(0);
}
