#pragma once
/* sanet's HDF5 helpers (src/io/h5util.c), for the readers and writers that make raw
   HDF5 calls: the header that brings in hdf5.h, kept out of sanet.h. */
#include "sanet.h"
#include <hdf5.h>

/* Checked HDF5 call: negative return values become PETSc errors whose message gives the
   call and HDF5's innermost reason (src/io/h5util.c). */
PetscErrorCode SanetH5CallFailed(int line, const char func[], const char file[], const char call[]);
#define SanetCallHDF5(call) \
  do { \
    if ((call) < 0) return SanetH5CallFailed(__LINE__, PETSC_FUNCTION_NAME, __FILE__, #call); \
  } while (0)
/* Same, for calls returning an hid_t that must be kept. */
#define SanetCallHDF5Id(id, call) \
  do { \
    (id) = (call); \
    if ((id) < 0) return SanetH5CallFailed(__LINE__, PETSC_FUNCTION_NAME, __FILE__, #call); \
  } while (0)

/* ---------------------------------- HDF5 helpers ------------------------------------ */
/* Collective write/read of rows [rowstart, rowstart+nrows) of a dataset whose first
   dimension is dims[0]; the other dimensions are whole. */
PetscErrorCode SanetH5WriteRows(hid_t file, const char name[], hid_t memtype, hid_t filetype, int ndims, const hsize_t dims[], PetscInt rowstart, PetscInt nrows, const void *buf);
PetscErrorCode SanetH5ReadRows(hid_t file, const char name[], hid_t memtype, int ndims, const hsize_t dims[], PetscInt rowstart, PetscInt nrows, void *buf);
PetscErrorCode SanetH5WriteAttribute(hid_t obj, const char name[], hid_t type, const void *value);
/* A file that is complete or absent: written by body as PATH.tmp (parallel I/O) and
   renamed to PATH once closed. On any failure PATH.tmp is removed and the error names
   the file and, when its file system is full, says so. */
PetscErrorCode SanetH5WriteAtomic(MPI_Comm, const char path[], PetscErrorCode (*body)(MPI_Comm, hid_t file, void *ctx), void *ctx);
PetscErrorCode SanetH5WriteStringAttribute(hid_t obj, const char name[], const char value[]);
