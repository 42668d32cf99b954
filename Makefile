# The two commands of the README, and what they stand on.
#   make demo   install what is missing, build, run a sandbox demo
#   make test   install what is missing, build, run every test
BUILD ?= build
# -O1 -g1: the demo and the tests run as well, and it builds in half the time
# of -O2 -g on 2 cores (line tables are kept for backtraces). A packaged
# build picks its own flags.
CMAKE_FLAGS ?= -DCMAKE_BUILD_TYPE=RelWithDebInfo '-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=-O1 -g1 -DNDEBUG'

# make test-sanitize: every test again on a build with AddressSanitizer and
# UndefinedBehaviorSanitizer, in its own folder (the caretaker binary the
# integration tests run is instrumented too). Any report fails the run.
SANITIZE_BUILD ?= build-sanitize
SANITIZE := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
# (g++ 12 warns "may be used uninitialized" inside libstdc++'s <regex> once
# instrumented: a known false positive, silenced for this build only.)
SANITIZE_FLAGS ?= -DCMAKE_BUILD_TYPE=RelWithDebInfo \
                  '-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=-O1 -g1 -DNDEBUG $(SANITIZE) -Wno-maybe-uninitialized' \
                  '-DCMAKE_EXE_LINKER_FLAGS=$(SANITIZE)'
export ASAN_OPTIONS ?= detect_leaks=1:abort_on_error=1:strict_string_checks=1:detect_stack_use_after_return=0
export UBSAN_OPTIONS ?= print_stacktrace=1:halt_on_error=1

.PHONY: all deps configure build test test-sanitize demo sandbox bench clean

all: build

deps:
	@tools/install-deps

configure: deps
	@[ -f $(BUILD)/build.ninja ] || cmake -S . -B $(BUILD) -G Ninja $(CMAKE_FLAGS) >/dev/null

build: configure
	@cmake --build $(BUILD)

test: build
	@cd $(BUILD) && ctest --output-on-failure --timeout 900 -j2

test-sanitize: deps
	@[ -f $(SANITIZE_BUILD)/build.ninja ] || cmake -S . -B $(SANITIZE_BUILD) -G Ninja $(SANITIZE_FLAGS) >/dev/null
	@cmake --build $(SANITIZE_BUILD) --target caretaker unit_tests integration_tests  # what the tests run
	@cd $(SANITIZE_BUILD) && ctest --output-on-failure --timeout 1800 -j2

# Only what the demo runs (the tests and benchmarks are half the build).
demo: configure
	@cmake --build $(BUILD) --target caretaker caretaker-demo
	@$(BUILD)/tests/caretaker-demo

# The benchmarks of tests/bench/ (minutes; not part of `make test`): writes
# tests/bench/RESULTS.md and the table in README.md.
bench: build
	@tools/install-deps --bench
	@tools/bench $(BUILD)

# A sandbox to play with: prints its config path, runs until Ctrl-C.
sandbox: build
	@$(BUILD)/tests/caretaker-sandbox up

clean:
	rm -rf $(BUILD) $(SANITIZE_BUILD)
