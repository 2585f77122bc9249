#include "sanet.h"

/* SplitMix64 finaliser: a strong 64-bit mix, so hashing (seed, stream, index) gives
   reproducible streams that do not depend on how work is split across ranks. */
static uint64_t Mix64(uint64_t z)
{
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

PetscReal SanetRandUniform(unsigned long seed, unsigned long stream, unsigned long index)
{
  uint64_t h = Mix64(Mix64(Mix64((uint64_t)seed + 0x9e3779b97f4a7c15ULL) ^ (uint64_t)stream) ^ (uint64_t)index);
  return (PetscReal)(h >> 11) * (1.0 / 9007199254740992.0); /* [0,1) with 53 bits */
}
