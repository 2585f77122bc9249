/* libFuzzer harness of the options-file check: the input is written as a YAML options
   file and parsed by SanetCheckOptionsFile (what the programs run on every YAML
   -options_file before PETSc starts). A bad file must give a message naming the file,
   never a crash or a leak. PETSc's own YAML reader is left out: it leaks its libyaml
   parser on some of its error returns (one-frame stacks no suppression can name). */
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  char path[512], message[1024];

  FuzzWrite("options.yaml", data, size, path, sizeof(path));
  if (SanetCheckOptionsFile(path, sizeof(message), message) && !strstr(message, path)) abort();
  return 0;
}
