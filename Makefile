# Accord's user interface: make run, make test (and deps, build, clean).
SHELL := /bin/bash
BUILD_DIR ?= build
JOBS ?= 2

# Every Debian package the build, the tests and `make run` need.
DEPS := cmake make g++ pkg-config git ca-certificates \
  libgrpc++-dev protobuf-compiler-grpc libprotobuf-dev protobuf-compiler libabsl-dev \
  libsqlite3-dev libpq-dev postgresql libssl-dev libre2-dev libyaml-dev libcli11-dev libjwt-dev libhttp-parser-dev libnghttp2-dev zlib1g-dev libgoogle-perftools-dev prometheus-cpp-dev \
  libgtest-dev libgmock-dev libbenchmark-dev golang-github-gogo-googleapis-dev grpc-proto \
  python3 python3-grpcio python3-protobuf python3-jwt python3-cryptography python3-yaml python3-h2 curl procps openssl

# Extra packages for the benchmarks (not needed by build, run or test).
BENCH_DEPS := nghttp2-client etcd-server util-linux nginx

# What `make run` runs: it builds these four, not the tests, fuzz targets and benchmarks.
RUN_TARGETS := accord-registry accord-scoring accord-gateway accordctl

.PHONY: deps install-packages node console node-deps configure build run test bench clean

deps:
	@$(MAKE) --no-print-directory install-packages PACKAGES="$(DEPS)"

install-packages:
	@missing=""; for p in $(PACKAGES); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "install ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  SUDO=""; [ "$$(id -u)" -eq 0 ] || SUDO=sudo; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends $$missing; \
	fi

configure: deps
	@cmake -S . -B $(BUILD_DIR) -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null

# CMake's progress lines and the compilers' errors, without make's directory chatter.
build: configure console
	@cmake --build $(BUILD_DIR) -j $(JOBS) -- --no-print-directory

run: configure console
	@cmake --build $(BUILD_DIR) -j $(JOBS) --target $(RUN_TARGETS) -- --no-print-directory
	@scripts/run.sh $(BUILD_DIR)

# Node.js and npm: the machine's if it has them (Node 18 or newer), else Debian's (Node 18).
node:
	@command -v npm >/dev/null || $(MAKE) --no-print-directory install-packages PACKAGES="nodejs npm"

# The review console (console/): npm packages pinned by console/package-lock.json, installed
# again only when the lock file changes; type-checked and bundled into $(BUILD_DIR)/console,
# which accord-gateway serves at /console/ (--console_dir).
console: node
	@cd console && if ! cmp -s package-lock.json node_modules/.accord-lock; then \
	  npm ci --no-audit --no-fund --loglevel=error && cp package-lock.json node_modules/.accord-lock; \
	fi
	@node console/build.mjs $(BUILD_DIR)/console

# npm packages for the tests, pinned by committed lock files: @grpc/grpc-js (interoperability),
# the Kubernetes schema validators (deploy) and playwright-core, which drives Debian's chromium
# through the console (no browser download).
node-deps: node
	@$(MAKE) --no-print-directory install-packages PACKAGES="chromium"
	@for pair in tests/integration/node:node tests/deploy:deploy-node tests/console:console-e2e; do \
	  src=$${pair%%:*}; dst=$(BUILD_DIR)/$${pair##*:}; mkdir -p $$dst; \
	  if ! cmp -s $$src/package-lock.json $$dst/package-lock.json || [ ! -d $$dst/node_modules ]; then \
	    cp $$src/package.json $$src/package-lock.json $$dst/ && \
	    (cd $$dst && npm ci --no-audit --no-fund --loglevel=error) || exit 1; \
	  fi; \
	done

test: build node-deps
	@cd $(BUILD_DIR) && ctest --output-on-failure -j $(JOBS)

bench: build
	@$(MAKE) --no-print-directory install-packages PACKAGES="$(BENCH_DEPS)"
	@bench/registry_bench.py --build $(BUILD_DIR)
	@bench/scoring_bench.py --build $(BUILD_DIR)
	@bench/gateway_bench.py --build $(BUILD_DIR)
	@bench/storage_bench.py --build $(BUILD_DIR)

clean:
	rm -rf $(BUILD_DIR) var console/node_modules
