# The two commands of README.md, and the rest around them.
#   make run    install what is missing, build, run every lab, say where the report is
#   make test   install what is missing, build, run every test (and again under sanitizers)
BUILD    ?= build
ASAN     ?= build-asan
TSAN     ?= build-tsan
NOBLAS   ?= build-noblas
JOBS     ?= $(shell nproc)
OUT      ?= out

.PHONY: all deps build run test check-layers test-unit test-asan test-tsan test-noblas test-wasm test-e2e install bench bench-quick fuzz format clean

all: build

deps:
	@scripts/install-deps.sh

# nd for WebAssembly too (scripts/build-wasm.sh; quick when up to date): its
# page is what nd labs writes as out/interactive.html.
build: deps
	@cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=Release > /dev/null
	@cmake --build $(BUILD) -j $(JOBS)
	@if command -v emcc > /dev/null; then scripts/build-wasm.sh build-wasm; \
	 else echo "build: no emcc (scripts/install-deps.sh installs it): out/interactive.html will say so"; fi

run: build
	@scripts/run-labs.sh $(BUILD) $(OUT)

test: build
	@cd $(BUILD) && ctest --output-on-failure -j 2
	@$(MAKE) --no-print-directory test-asan
	@$(MAKE) --no-print-directory test-tsan
	@$(MAKE) --no-print-directory test-noblas
	@$(MAKE) --no-print-directory test-wasm
	@scripts/fuzz.sh smoke
	@scripts/check-layers.sh $(BUILD)
	@scripts/test-e2e.sh $(BUILD)

# The layers call only downward (scripts/check-layers.sh reads the objects of
# the Release build): quick, after make build.
check-layers: build
	@scripts/check-layers.sh $(BUILD)

test-asan: deps
	@cmake -S . -B $(ASAN) -DCMAKE_BUILD_TYPE=Debug -DND_SANITIZE=ON -DND_NATIVE=OFF > /dev/null
	@cmake --build $(ASAN) -j $(JOBS)
	@cd $(ASAN) && ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 ctest --output-on-failure -j 2

# ThreadSanitizer: the threads test and the core tests (the list is in
# cmake/nd_tests.cmake), nd without OpenMP (see CMakeLists.txt for why).
test-tsan: deps
	@cmake -S . -B $(TSAN) -DCMAKE_BUILD_TYPE=Debug -DND_TSAN=ON -DND_NATIVE=OFF -DND_BUILD_CLI=OFF > /dev/null
	@cmake --build $(TSAN) -j $(JOBS) --target tsan_tests
	@cd $(TSAN) && ctest --output-on-failure -j 2

# nd without BLAS, as the browser build has it: its own matrix kernel
# (src/ops/gemm_kernel.c) under the tests of products, layers, optimizers and
# Jacobians, against the same goldens (the list is in cmake/nd_tests.cmake).
test-noblas: deps
	@cmake -S . -B $(NOBLAS) -DCMAKE_BUILD_TYPE=Release -DND_BLAS=OFF -DND_BUILD_CLI=OFF > /dev/null
	@cmake --build $(NOBLAS) -j $(JOBS)
	@cd $(NOBLAS) && ctest --output-on-failure -j 2

# nd compiled to WebAssembly (scripts/build-wasm.sh), its numbers checked in Node.
test-wasm: deps
	@scripts/build-wasm.sh build-wasm
	@ND_WASM_DIR=$(CURDIR)/build-wasm node --test web/test/

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
	rm -rf $(BUILD) $(ASAN) $(TSAN) $(NOBLAS) build-wasm build-fuzz $(OUT)
