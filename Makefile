# da — top-level commands. `make test` and `make demo` set themselves up (see scripts/bootstrap.sh).
BUILD_DIR ?= build
BUILD_TYPE ?= RelWithDebInfo
JOBS ?= $(shell nproc)
DEMO_DIR ?= $(CURDIR)/demo-data
PORT ?= 8000

.PHONY: all bootstrap build test demo bench clean

all: build

bootstrap:
	@scripts/bootstrap.sh --datasets

$(BUILD_DIR)/CMakeCache.txt:
	cmake -S . -B $(BUILD_DIR) -DCMAKE_BUILD_TYPE=$(BUILD_TYPE)

build: bootstrap $(BUILD_DIR)/CMakeCache.txt
	@cmake --build $(BUILD_DIR) -j $(JOBS)

test: build
	cd $(BUILD_DIR) && ctest --output-on-failure -j $(JOBS) --timeout 1200

demo: build
	scripts/demo.sh "$(DEMO_DIR)" "$(PORT)"

bench: build
	@cmake --build $(BUILD_DIR) -j $(JOBS) --target query_bench copy_ref keboola_emulator
	bench/http_bench.sh $(BUILD_DIR)
	bench/extract_bench.sh $(BUILD_DIR)
	bench/singer_bench.sh $(BUILD_DIR)
	bench/keboola_bench.sh $(BUILD_DIR)

clean:
	rm -rf $(BUILD_DIR)
