# The two commands of README.md, and the rest around them.
#   make run    install what is missing, build, run every lab, say where the report is
#   make test   install what is missing, build, run every test (and again under sanitizers)
BUILD    ?= build
ASAN     ?= build-asan
JOBS     ?= $(shell nproc)
OUT      ?= out

.PHONY: all deps build run test test-unit test-asan test-e2e install bench bench-quick fuzz format clean

all: build

deps:
	@scripts/install-deps.sh

build: deps
	@cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=Release > /dev/null
	@cmake --build $(BUILD) -j $(JOBS)

run: build
	@scripts/run-labs.sh $(BUILD) $(OUT)

test: build
	@cd $(BUILD) && ctest --output-on-failure -j 2
	@$(MAKE) --no-print-directory test-asan
	@scripts/fuzz.sh smoke
	@scripts/test-e2e.sh $(BUILD)

test-asan: deps
	@cmake -S . -B $(ASAN) -DCMAKE_BUILD_TYPE=Debug -DND_SANITIZE=ON -DND_NATIVE=OFF > /dev/null
	@cmake --build $(ASAN) -j $(JOBS)
	@cd $(ASAN) && ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 ctest --output-on-failure -j 2

install: build
	@cmake --install $(BUILD) --prefix $(or $(PREFIX),/usr/local)

bench: build
	@scripts/install-deps.sh bench
	@scripts/bench.sh $(BUILD) full

bench-quick: build
	@scripts/install-deps.sh bench
	@scripts/bench.sh $(BUILD) quick

fuzz: deps
	@scripts/fuzz.sh long

format:
	@clang-format -i $$(git ls-files '*.c' '*.h')

clean:
	rm -rf $(BUILD) $(ASAN) build-fuzz $(OUT)
