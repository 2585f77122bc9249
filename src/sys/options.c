#include "sanet/h5.h"
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>

/* ------------------------------------------------------------------------------------
   The catalog of every option a program reads. PETSc's help printer already lists each
   queried option with its effective value ("-sal1_stride <now 5 : formerly 1>: ..."), for
   sanet's objects and for SLEPc's alike, so the catalog turns -help on while the objects
   read their options and keeps the lines instead of printing them (SanetOptionCatalogView
   prints them for the programs' -help). The names give the suggestions for misspelt options; the lines give the
   stage digests every effective value, defaults included.
   ------------------------------------------------------------------------------------ */
struct _n_SanetOptionCatalog {
  char   *buf; /* everything printed while collecting */
  size_t  len, cap;
  char  **line; /* sorted "-name ..." lines, NUL-terminated, pointing into copies */
  size_t  nline;
  PetscBool set_help;
  PetscErrorCode (*print)(MPI_Comm, const char[], ...);
  PetscErrorCode (*vfprint)(FILE *, const char[], va_list);
};

static SanetOptionCatalog collecting = NULL;

static PetscErrorCode CollectHelp(MPI_Comm comm, const char fmt[], ...)
{
  va_list ap;
  int     n;

  va_start(ap, fmt);
  n = vsnprintf(NULL, 0, fmt, ap);
  va_end(ap);
  if (n < 0) return 0;
  if (collecting->len + (size_t)n + 1 > collecting->cap) {
    size_t cap = PetscMax(2 * collecting->cap, collecting->len + (size_t)n + 4096);
    char  *b   = (char *)realloc(collecting->buf, cap);
    if (!b) return PETSC_ERR_MEM;
    collecting->buf = b;
    collecting->cap = cap;
  }
  va_start(ap, fmt);
  vsnprintf(collecting->buf + collecting->len, (size_t)n + 1, fmt, ap);
  va_end(ap);
  collecting->len += (size_t)n;
  return 0;
}

/* Type lists (-X_eps_type ... (one of) ...) are printed to stdout directly, on the first
   rank only: they are dropped (SanetOptionCatalogView lists the options). */
static PetscErrorCode DropStdout(FILE *fd, const char fmt[], va_list ap)
{
  if (fd == PETSC_STDOUT) return 0;
  return (*collecting->vfprint)(fd, fmt, ap);
}

PetscErrorCode SanetOptionCatalogBegin(SanetOptionCatalog *cat)
{
  SanetOptionCatalog c;

  PetscFunctionBegin;
  PetscCheck(!collecting, PETSC_COMM_SELF, PETSC_ERR_ARG_WRONGSTATE, "An option catalog is already collecting");
  PetscCall(PetscNew(&c));
  PetscCall(PetscOptionsHasHelp(NULL, &c->set_help));
  c->set_help = (PetscBool)!c->set_help;
  if (c->set_help) PetscCall(PetscOptionsSetValue(NULL, "-help", NULL));
  c->print        = PetscHelpPrintf;
  c->vfprint      = PetscVFPrintf;
  collecting      = c;
  PetscHelpPrintf = CollectHelp;
  PetscVFPrintf   = DropStdout;
  *cat            = c;
  PetscFunctionReturn(0);
}

static int LineCompare(const void *a, const void *b)
{
  return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Length of the option name at the start of s ("-name <..." or "-name: <..."). */
static size_t NameLength(const char s[])
{
  size_t n = 1;
  while (s[n] && s[n] != ' ' && s[n] != ':' && s[n] != '<' && s[n] != '\n') n++;
  return n;
}

PetscErrorCode SanetOptionCatalogEnd(SanetOptionCatalog cat)
{
  char  *s, *save = NULL;
  size_t cap = 64;

  PetscFunctionBegin;
  PetscCheck(collecting == cat, PETSC_COMM_SELF, PETSC_ERR_ARG_WRONGSTATE, "This option catalog is not collecting");
  PetscHelpPrintf = cat->print;
  PetscVFPrintf   = cat->vfprint;
  collecting      = NULL;
  if (cat->set_help) PetscCall(PetscOptionsClearValue(NULL, "-help"));
  PetscCall(PetscMalloc1(cap, &cat->line));
  /* keep the option lines: two spaces, then "-name" */
  for (s = cat->buf ? strtok_r(cat->buf, "\n", &save) : NULL; s; s = strtok_r(NULL, "\n", &save)) {
    while (*s == ' ') s++;
    if (s[0] != '-' || !(isalpha((unsigned char)s[1]) || s[1] == '_')) continue;
    if (cat->nline == cap) PetscCall(PetscRealloc(sizeof(char *) * (cap *= 2), &cat->line));
    cat->line[cat->nline++] = s;
  }
  qsort(cat->line, cat->nline, sizeof(char *), LineCompare);
  PetscFunctionReturn(0);
}

PetscErrorCode SanetOptionCatalogDestroy(SanetOptionCatalog *cat)
{
  PetscFunctionBegin;
  if (!*cat) PetscFunctionReturn(0);
  if (collecting == *cat) PetscCall(SanetOptionCatalogEnd(*cat));
  free((*cat)->buf);
  PetscCall(PetscFree((*cat)->line));
  PetscCall(PetscFree(*cat));
  PetscFunctionReturn(0);
}

PetscErrorCode SanetOptionCatalogGetLines(SanetOptionCatalog cat, const char prefix[], char **text)
{
  char   want[256];
  size_t plen, len = 1;

  PetscFunctionBegin;
  PetscCall(PetscSNPrintf(want, sizeof(want), "-%s", prefix ? prefix : ""));
  plen = strlen(want);
  for (size_t i = 0; i < cat->nline; i++)
    if (!strncmp(cat->line[i], want, plen)) len += strlen(cat->line[i]) + 1;
  PetscCall(PetscCalloc1(len, text));
  for (size_t i = 0; i < cat->nline; i++)
    if (!strncmp(cat->line[i], want, plen)) {
      PetscCall(PetscStrlcat(*text, cat->line[i], len));
      PetscCall(PetscStrlcat(*text, "\n", len));
    }
  PetscFunctionReturn(0);
}

PetscErrorCode SanetOptionCatalogView(SanetOptionCatalog cat, MPI_Comm comm)
{
  PetscFunctionBegin;
  PetscCall(PetscPrintf(comm, "Options read (name <current value : default>: meaning):\n"));
  for (size_t i = 0; i < cat->nline; i++) PetscCall(PetscPrintf(comm, "  %s\n", cat->line[i]));
  PetscFunctionReturn(0);
}

/* Optimal string alignment distance (edits: insert, delete, substitute, swap adjacent). */
static size_t EditDistance(const char *a, size_t la, const char *b, size_t lb)
{
  size_t  d[3][130], *prev2 = d[0], *prev = d[1], *cur = d[2];
  if (la > 128 || lb > 128) return (size_t)-1;
  for (size_t j = 0; j <= lb; j++) prev[j] = j;
  for (size_t i = 1; i <= la; i++) {
    cur[0] = i;
    for (size_t j = 1; j <= lb; j++) {
      size_t cost = a[i - 1] != b[j - 1], v = PetscMin(prev[j] + 1, cur[j - 1] + 1);
      v = PetscMin(v, prev[j - 1] + cost);
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]) v = PetscMin(v, prev2[j - 2] + 1);
      cur[j] = v;
    }
    size_t *t = prev2;
    prev2     = prev;
    prev      = cur;
    cur       = t;
  }
  return prev[lb];
}

static PetscErrorCode CatalogSuggest(SanetOptionCatalog cat, const char name[], size_t len, char suggestion[])
{
  size_t best = (size_t)-1, nl = strlen(name);

  PetscFunctionBegin;
  suggestion[0] = 0;
  for (size_t i = 0; i < cat->nline; i++) {
    size_t l = NameLength(cat->line[i]), d = EditDistance(name, nl, cat->line[i], l);
    if (d < best) {
      best = d;
      PetscCall(PetscStrncpy(suggestion, cat->line[i], PetscMin(len, l + 1)));
    }
  }
  /* a suggestion only when it is close: a few edits, fewer for short names */
  if (best > PetscMax(2, nl / 4)) suggestion[0] = 0;
  PetscFunctionReturn(0);
}

PetscBool SanetOptionOnlyReports(const char name[])
{
  static const char *words[] = {"_view", "view_", "_monitor", "_progress", "_converged_reason", "_error_absolute", "_error_relative", "_error_backward"};
  for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++)
    if (strstr(name, words[i])) return PETSC_TRUE;
  return PETSC_FALSE;
}

/* Options PETSc reads after the check (solvers' viewers when a solve ends) or at its own
   start-up and end (-log_*, -options_*, -malloc*, -info): the check lets them pass. */
static PetscBool ReadLater(const char name[])
{
  return (PetscBool)(SanetOptionOnlyReports(name) || !strncmp(name, "log_", 4) || !strncmp(name, "options_", 8) || !strncmp(name, "malloc", 6) || !strcmp(name, "info"));
}

/* The closest of a list of names (for programs that read options without a catalog). */
static void SuggestFromList(const char *const known[], const char name[], size_t len, char suggestion[])
{
  size_t best = (size_t)-1, nl = strlen(name);
  suggestion[0] = 0;
  for (size_t i = 0; known && known[i]; i++) {
    size_t d = EditDistance(name, nl, known[i], strlen(known[i]));
    if (d < best && d <= PetscMax(2, nl / 4)) {
      best = d;
      snprintf(suggestion, len, "%s", known[i]);
    }
  }
}

PetscErrorCode SanetOptionsCheckUnused(MPI_Comm comm, SanetOptionCatalog cat, const char *const known[], const char context[])
{
  PetscInt N, nbad = 0;
  char   **names, **values, *msg;
  size_t   len = 1024;

  PetscFunctionBegin;
  PetscCall(PetscOptionsLeftGet(NULL, &N, &names, &values));
  for (PetscInt i = 0; i < N; i++) len += strlen(names[i]) + (values[i] ? strlen(values[i]) : 0) + 200;
  PetscCall(PetscCalloc1(len, &msg));
  for (PetscInt i = 0; i < N; i++) {
    char name[PETSC_MAX_OPTION_NAME + 2], near[PETSC_MAX_OPTION_NAME + 2], line[2 * PETSC_MAX_OPTION_NAME + 400];
    if (ReadLater(names[i])) continue;
    PetscCall(PetscSNPrintf(name, sizeof(name), "-%s", names[i]));
    if (cat) PetscCall(CatalogSuggest(cat, name, sizeof(near), near));
    else SuggestFromList(known, name, sizeof(near), near);
    if (near[0]) PetscCall(PetscSNPrintf(line, sizeof(line), "\n  %s%s%s: did you mean %s?", name, values[i] ? " " : "", values[i] ? values[i] : "", near));
    else PetscCall(PetscSNPrintf(line, sizeof(line), "\n  %s%s%s: no option of this name", name, values[i] ? " " : "", values[i] ? values[i] : ""));
    PetscCall(PetscStrlcat(msg, line, len));
    nbad++;
  }
  PetscCall(PetscOptionsLeftRestore(NULL, &N, &names, &values));
  if (nbad) {
    PetscErrorCode ierr = PetscError(comm, __LINE__, PETSC_FUNCTION_NAME, __FILE__, PETSC_ERR_USER_INPUT, PETSC_ERROR_INITIAL, "%" PetscInt_FMT " option%s not read by %s (misspelt, or for a layer or procedure that is not in the network):%s", nbad, nbad > 1 ? "s are" : " is", context, msg);
    PetscCall(PetscFree(msg));
    return ierr;
  }
  PetscCall(PetscFree(msg));
  PetscFunctionReturn(0);
}

/* Options whose values are names (files, folders, layers): digits there are not numbers,
   e.g. an -output folder named by a time stamp. */
static PetscBool TakesNames(const char name[])
{
  static const char *names[] = {"-input", "-output", "-o", "-images", "-labels", "-options_file", "-options_file_yaml", "-log_view", "-network"};
  size_t             len     = strlen(name);
  for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
    if (!strcmp(name, names[i])) return PETSC_TRUE;
  return (PetscBool)(len >= 11 && !strcmp(name + len - 11, "_procedures"));
}

/* PETSc converts integer option values with a C cast, so 4294967299 becomes 3: refuse
   every integer literal of the database (and in comma lists) beyond PetscInt. */
PetscErrorCode SanetOptionsCheckIntegers(MPI_Comm comm)
{
  char *all, *tok, *save = NULL, name[PETSC_MAX_OPTION_NAME] = "";

  PetscFunctionBegin;
  PetscCall(PetscOptionsGetAll(NULL, &all));
  for (tok = strtok_r(all, " ", &save); tok; tok = strtok_r(NULL, " ", &save)) {
    char *item, *isave = NULL, copy[1024];
    if (tok[0] == '-' && (isalpha((unsigned char)tok[1]) || tok[1] == '_')) {
      PetscCall(PetscStrncpy(name, tok, sizeof(name)));
      continue;
    }
    if (TakesNames(name)) continue;
    PetscCall(PetscStrncpy(copy, tok, sizeof(copy)));
    for (item = strtok_r(copy, ",", &isave); item; item = strtok_r(NULL, ",", &isave)) {
      const char *p = item + (item[0] == '+' || item[0] == '-');
      long long   v;
      if (!*p || strspn(p, "0123456789") != strlen(p)) continue;
      errno = 0;
      v     = strtoll(item, NULL, 10);
      if (errno == ERANGE || v > PETSC_MAX_INT || v < PETSC_MIN_INT) {
        PetscErrorCode ierr = PetscError(comm, __LINE__, PETSC_FUNCTION_NAME, __FILE__, PETSC_ERR_ARG_OUTOFRANGE, PETSC_ERROR_INITIAL, "%s %s: %s is beyond the integer range %" PetscInt_FMT "..%" PetscInt_FMT " (it would wrap around)", name, tok, item, PETSC_MIN_INT, PETSC_MAX_INT);
        PetscCall(PetscFree(all));
        return ierr;
      }
    }
  }
  PetscCall(PetscFree(all));
  PetscFunctionReturn(0);
}

PetscErrorCode SanetOptionsCheckListLength(MPI_Comm comm, const char prefix[], const char name[], PetscInt nmax)
{
  char      value[4096];
  PetscBool set;
  PetscInt  n = 1;

  PetscFunctionBegin;
  PetscCall(PetscOptionsGetString(NULL, prefix, name, value, sizeof(value), &set));
  if (!set || !value[0]) PetscFunctionReturn(0);
  for (const char *p = value; *p; p++) n += *p == ',';
  PetscCheck(n <= nmax, comm, PETSC_ERR_ARG_OUTOFRANGE, "-%s%s has %" PetscInt_FMT " entries; at most %" PetscInt_FMT " are allowed", prefix ? prefix : "", name + 1, n, nmax);
  PetscFunctionReturn(0);
}

/* ------------------------------------------------------------------------------------
   Errors: one line per error (the first message, from the first rank of the failing
   communicator), not PETSc's traceback with its configure and option dumps, and one
   exit status per class of error (docs/robustness.md).
   ------------------------------------------------------------------------------------ */
static const char *error_program = "sanet";
static struct {
  PetscBool      set, print;
  PetscErrorCode code;
  PetscMPIInt    wrank;
  PetscBool      local; /* raised on one rank's own communicator */
  char           where[512], message[4096];
} last_error;

/* Keeps the newest first message of an error; SanetMain prints it once the error has
   unwound, so that a caller may restate it with context (SanetErrorGetMessage). */
static PetscErrorCode ErrorHandler(MPI_Comm comm, int line, const char *fun, const char *file, PetscErrorCode n, PetscErrorType p, const char *mess, void *ctx)
{
  PetscMPIInt rank = 0, size = 1, wsize = 1;
  const char *text = NULL;

  if (p != PETSC_ERROR_INITIAL) return n;
  if (comm != MPI_COMM_NULL) {
    MPI_Comm_rank(comm, &rank);
    MPI_Comm_size(comm, &size);
  }
  MPI_Comm_rank(MPI_COMM_WORLD, &last_error.wrank);
  MPI_Comm_size(MPI_COMM_WORLD, &wsize);
  PetscErrorMessage(n, &text, NULL);
  last_error.set   = PETSC_TRUE;
  last_error.code  = n;
  last_error.local = (PetscBool)(size == 1 && wsize > 1);
  /* a message from the first rank of its communicator; every rank reads the same
     options and fails alike, so one message is enough for those */
  last_error.print = (PetscBool)(!(size > 1 && rank) && !(SanetExitCode(n) == SANET_EXIT_OPTIONS && last_error.wrank));
  snprintf(last_error.message, sizeof(last_error.message), "%s", mess && mess[0] ? mess : (text ? text : "unknown error"));
  snprintf(last_error.where, sizeof(last_error.where), "PETSc error %d: %s, in %s() at %s:%d", (int)n, text ? text : "", fun, file, line);
  return n;
}

const char *SanetErrorGetMessage(void)
{
  return last_error.set ? last_error.message : "";
}

static void ErrorPrint(void)
{
  if (!last_error.set || !last_error.print) return;
  if (last_error.local && SanetExitCode(last_error.code) != SANET_EXIT_OPTIONS) fprintf(stderr, "%s: error on rank %d: %s\n", error_program, last_error.wrank, last_error.message);
  else fprintf(stderr, "%s: error: %s\n", error_program, last_error.message);
  if (SanetExitCode(last_error.code) == SANET_EXIT_INTERNAL) fprintf(stderr, "%s: (%s)\n", error_program, last_error.where);
  fflush(stderr);
}

PetscErrorCode SanetErrorHandlerPush(const char program[])
{
  PetscFunctionBegin;
  error_program = program;
  PetscCall(PetscPushErrorHandler(ErrorHandler, NULL));
  /* HDF5's own stack dumps say nothing the message does not */
  H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
  PetscFunctionReturn(0);
}

int SanetExitCode(PetscErrorCode n)
{
  switch (n) {
  case 0:
    return 0;
  case PETSC_ERR_ARG_OUTOFRANGE:
  case PETSC_ERR_ARG_WRONG:
  case PETSC_ERR_ARG_INCOMP:
  case PETSC_ERR_ARG_SIZ:
  case PETSC_ERR_ARG_UNKNOWN_TYPE:
  case PETSC_ERR_ARG_TYPENOTSET:
  case PETSC_ERR_ARG_NOTSAMETYPE:
  case PETSC_ERR_USER_INPUT:
  case PETSC_ERR_USER: /* PETSc's options parser: a value that is not one of the choices */
  case PETSC_ERR_SUP:
    return SANET_EXIT_OPTIONS;
  case PETSC_ERR_FILE_OPEN:
  case PETSC_ERR_FILE_READ:
  case PETSC_ERR_FILE_UNEXPECTED:
    return SANET_EXIT_INPUT;
  case PETSC_ERR_FILE_WRITE:
    return SANET_EXIT_IO;
  case PETSC_ERR_NOT_CONVERGED:
  case PETSC_ERR_CONV_FAILED:
  case PETSC_ERR_FP:
  case PETSC_ERR_MAT_LU_ZRPVT:
  case PETSC_ERR_MAT_CH_ZRPVT:
    return SANET_EXIT_NUMERICAL;
  case PETSC_ERR_MEM:
    return SANET_EXIT_MEMORY;
  default:
    return SANET_EXIT_INTERNAL;
  }
}

static PetscBool help_requested = PETSC_FALSE;

PetscBool SanetHelpRequested(void)
{
  return help_requested;
}

int SanetMain(int *argc, char ***argv, const char help[], const char program[], PetscBool slepc, PetscErrorCode (*run)(void))
{
  PetscErrorCode ierr;
  int            status = SanetCheckOptionFiles(*argc, *argv, program), n = 1;

  if (status) return status;
  /* -help is the program's own: PETSc's would list some 90 generic options first */
  for (int i = 1; i < *argc; i++) {
    if (!strcmp((*argv)[i], "-help") || !strcmp((*argv)[i], "-h") || !strcmp((*argv)[i], "--help")) help_requested = PETSC_TRUE;
    else (*argv)[n++] = (*argv)[i];
  }
  *argc = n;
  ierr  = slepc ? SlepcInitialize(argc, argv, NULL, NULL) : PetscInitialize(argc, argv, NULL, NULL);
  if (ierr) return SanetExitCode(ierr);
  if (help_requested) ierr = PetscPrintf(PETSC_COMM_WORLD, "%s", help);
  if (!ierr) ierr = SanetErrorHandlerPush(program);
  if (!ierr) ierr = (*run)();
  /* no finalize after an error: another rank may still be inside a collective call */
  if (ierr) {
    ErrorPrint();
    return SanetExitCode(ierr);
  }
  ierr = slepc ? SlepcFinalize() : PetscFinalize();
  return ierr ? SANET_EXIT_INTERNAL : 0;
}
