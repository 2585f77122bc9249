#include "sanet.h"
#include <errno.h>
#include <stdlib.h>
#include <yaml.h>

/* PETSc reads -options_file during initialization and reports a broken YAML file as
   "YAML parser loading error", naming neither the file nor the place. The programs parse
   each YAML options file first, with the same libyaml, and name both. */
int SanetCheckOptionsFile(const char path[], size_t len, char message[])
{
  FILE         *fp = fopen(path, "rb");
  yaml_parser_t parser;
  yaml_event_t  event;
  int           done = 0, bad = 0;

  message[0] = 0;
  if (!fp) {
    snprintf(message, len, "options file %s: cannot open it: %s", path, strerror(errno));
    return 1;
  }
  if (!yaml_parser_initialize(&parser)) {
    fclose(fp);
    snprintf(message, len, "options file %s: cannot start the YAML parser", path);
    return 1;
  }
  yaml_parser_set_input_file(&parser, fp);
  while (!done) {
    if (!yaml_parser_parse(&parser, &event)) {
      snprintf(message, len, "options file %s: line %lu, column %lu: %s%s%s", path, (unsigned long)parser.problem_mark.line + 1, (unsigned long)parser.problem_mark.column + 1, parser.problem ? parser.problem : "YAML syntax error", parser.context ? " " : "", parser.context ? parser.context : "");
      bad = 1;
      break;
    }
    done = event.type == YAML_STREAM_END_EVENT;
    yaml_event_delete(&event);
  }
  yaml_parser_delete(&parser);
  fclose(fp);
  return bad;
}

static int IsYAML(const char path[])
{
  size_t n = strlen(path);
  return (n > 5 && !strcmp(path + n - 5, ".yaml")) || (n > 4 && !strcmp(path + n - 4, ".yml"));
}

int SanetCheckOptionFiles(int argc, char **argv, const char program[])
{
  for (int i = 1; i + 1 < argc; i++) {
    char message[PETSC_MAX_PATH_LEN + 512];
    int  yaml = !strcmp(argv[i], "-options_file_yaml") || (!strcmp(argv[i], "-options_file") && IsYAML(argv[i + 1]));
    if (!yaml) continue;
    if (SanetCheckOptionsFile(argv[i + 1], sizeof(message), message)) {
      /* MPI is not started yet: the launcher's rank variable keeps it to one message */
      const char *vars[] = {"OMPI_COMM_WORLD_RANK", "PMI_RANK", "PMIX_RANK", "SLURM_PROCID"}, *r = NULL;
      for (size_t v = 0; v < sizeof(vars) / sizeof(vars[0]) && !r; v++) r = getenv(vars[v]);
      if (!r || !strcmp(r, "0")) fprintf(stderr, "%s: error: %s\n", program, message);
      return SANET_EXIT_OPTIONS;
    }
  }
  return 0;
}
