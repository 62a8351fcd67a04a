# A thin wrapper over CMake, so that a newcomer needs two commands:
#
#   make demo   install missing dependencies, build, run the demo
#   make test   install missing dependencies, build with sanitizers and
#               -Werror, run the whole test suite
#
# Everything else is plain CMake (see README.md).

SHELL := /bin/sh
JOBS ?= $(shell nproc 2>/dev/null || echo 2)

# Debian 12 package names.  Later issues' needs are listed too (fuzzing,
# schema tests), so one install covers every target.
DEPS := build-essential cmake pkg-config clang clang-format clang-tidy \
	libclang-rt-14-dev libyaml-dev libcurl4-openssl-dev libjson-c-dev \
	libcmocka-dev libmicrohttpd-dev libssl-dev python3 \
	python3-jsonschema python3-ruamel.yaml curl valgrind

BUILD_DIR ?= build
TEST_BUILD_DIR ?= build-test

.PHONY: all build demo test deps lint format clean help memcheck

all: build

help:
	@echo "make demo    build and run the demo (cmsim + validate/plan/apply)"
	@echo "make test    build with ASan/UBSan and -Werror, run every test"
	@echo "make build   build into $(BUILD_DIR)/"
	@echo "make memcheck  the whole suite under valgrind (slow, ~15 min)"
	@echo "make deps    install missing Debian packages"
	@echo "make format  clang-format every C file in place"
	@echo "make clean   remove build directories"

# Installs what is missing: directly as root, through sudo when it works
# without a password prompt, else prints the exact command and stops.
deps:
	@missing=""; \
	for p in $(DEPS); do \
		dpkg-query -W -f='$${Status}' "$$p" 2>/dev/null | \
			grep -q "install ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -z "$$missing" ]; then exit 0; fi; \
	echo "Installing missing packages:$$missing"; \
	if [ "$$(id -u)" = 0 ]; then SUDO=""; \
	elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then SUDO="sudo"; \
	else \
		echo "Please run as root:"; \
		echo "  apt-get update && apt-get install -y$$missing"; \
		exit 1; \
	fi; \
	$$SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -q && \
	$$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $$missing

build: deps
	cmake -S . -B $(BUILD_DIR) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMR_BUILD_TESTS=OFF \
		-DCMR_SANITIZE= -DCMR_WERROR=OFF
	cmake --build $(BUILD_DIR) -j $(JOBS)

demo: build
	@sh examples/demo.sh $(BUILD_DIR)

test: deps
	cmake -S . -B $(TEST_BUILD_DIR) -DCMAKE_BUILD_TYPE=Debug \
		-DCMR_SANITIZE=address,undefined -DCMR_WERROR=ON -DCMR_BUILD_TESTS=ON
	cmake --build $(TEST_BUILD_DIR) -j $(JOBS)
	cd $(TEST_BUILD_DIR) && ctest -j $(JOBS) --output-on-failure --timeout 600

# The whole suite under valgrind memcheck, in its own non-sanitized Debug
# build (build-memcheck/); slow (see docs/memcheck.md), so not part of test.
memcheck: deps
	sh tests/memcheck/run.sh build-memcheck

lint: deps
	sh tests/lint/check_format.sh
	sh tests/lint/check_banned.sh

format:
	find cmd lib tests -name '*.[ch]' -not -path '*/build*' | xargs clang-format -i

clean:
	rm -rf $(BUILD_DIR) $(TEST_BUILD_DIR)
