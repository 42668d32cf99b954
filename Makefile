# The two commands of the README, and what they stand on.
#   make demo   install what is missing, build, run a sandbox demo
#   make test   install what is missing, build, run every test
BUILD ?= build
# -O1 -g1: the demo and the tests run as well, and it builds in half the time
# of -O2 -g on 2 cores (line tables are kept for backtraces). A packaged
# build picks its own flags.
CMAKE_FLAGS ?= -DCMAKE_BUILD_TYPE=RelWithDebInfo '-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=-O1 -g1 -DNDEBUG'

.PHONY: all deps configure build test demo sandbox bench clean

all: build

deps:
	@tools/install-deps

configure: deps
	@[ -f $(BUILD)/build.ninja ] || cmake -S . -B $(BUILD) -G Ninja $(CMAKE_FLAGS) >/dev/null

build: configure
	@cmake --build $(BUILD)

test: build
	@cd $(BUILD) && ctest --output-on-failure --timeout 900 -j2

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
	rm -rf $(BUILD)
