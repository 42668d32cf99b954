# The two commands of the README, and what they stand on.
#   make demo   install what is missing, build, run a sandbox demo
#   make test   install what is missing, build, run every test
BUILD ?= build
CMAKE_FLAGS ?= -DCMAKE_BUILD_TYPE=RelWithDebInfo

.PHONY: all deps configure build test demo sandbox clean

all: build

deps:
	@tools/install-deps

configure: deps
	@[ -f $(BUILD)/build.ninja ] || cmake -S . -B $(BUILD) -G Ninja $(CMAKE_FLAGS) >/dev/null

build: configure
	@cmake --build $(BUILD)

test: build
	@cd $(BUILD) && ctest --output-on-failure --timeout 900 -j2

demo: build
	@$(BUILD)/tests/caretaker-demo

# A sandbox to play with: prints its config path, runs until Ctrl-C.
sandbox: build
	@$(BUILD)/tests/caretaker-sandbox up

clean:
	rm -rf $(BUILD)
