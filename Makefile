# EventLog: make run | make test | make bench
# Every target installs what it needs when it is missing (Debian packages, pip packages).

SWIFT        ?= swift
SHARED       ?= ../shared
PYTHON       ?= python3
DEBIAN_DEPS  := liblz4-dev libzstd-dev zlib1g-dev pkg-config
PIP_DEPS     := pytest openapi-spec-validator sseclient-py
RELEASE_BIN  := .build/release
DEBUG_BIN    := .build/debug

.PHONY: all deps deps-debian deps-pip build release run test test-swift test-e2e conformance openapi bench docs clean

all: build

deps: deps-debian deps-pip

deps-debian:
	@missing=""; for p in $(DEBIAN_DEPS); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
		echo "installing:$$missing"; \
		SUDO=""; [ "$$(id -u)" = 0 ] || SUDO=sudo; \
		$$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing; \
	fi

deps-pip:
	@for p in $(PIP_DEPS); do \
		mod=$$(echo $$p | sed -e 's/-spec-validator/_spec_validator/' -e 's/sseclient-py/sseclient/'); \
		$(PYTHON) -c "import $$mod" >/dev/null 2>&1 || $(PYTHON) -m pip install -q $$p; \
	done

build: deps-debian
	$(SWIFT) build

release: deps-debian
	$(SWIFT) build -c release --product logd
	$(SWIFT) build -c release --product log-dump

run: release
	@mkdir -p logd-data
	@echo "try:  curl -s -XPOST localhost:8080/v1/topics/demo/records -d 'hello' && curl -sN 'localhost:8080/v1/topics/demo/events?from=earliest'"
	exec $(RELEASE_BIN)/logd --data-dir ./logd-data

# The whole suite: Swift unit, property, recovery and subprocess tests; the end-to-end tests
# against the real binaries; the OpenAPI check; the shared conformance suite when ../shared is there.
# The end-to-end and conformance suites run the debug binaries that `build` made: a second,
# release build of the whole tree would double the time on 2 cores for no extra coverage.
TEST_BIN := $(DEBUG_BIN)
test: deps build test-swift test-e2e openapi conformance
	@echo "make test: all suites passed"

test-swift:
	$(SWIFT) build --product eventlog-torture
	$(SWIFT) test --parallel --num-workers 2

test-e2e: build deps-pip
	LOGD_BIN=$(CURDIR)/$(TEST_BIN)/logd LOG_DUMP_BIN=$(CURDIR)/$(TEST_BIN)/log-dump \
		$(PYTHON) -m pytest -q Tests/e2e

openapi: deps-pip
	$(PYTHON) -c "from openapi_spec_validator import validate; from openapi_spec_validator.readers import read_from_filename; validate(read_from_filename('Docs/openapi.yaml')[0]); print('Docs/openapi.yaml: valid OpenAPI')"

# Conformance: the whole suite, against the release logd built from this tree.
CONFORMANCE_SKIP ?=
CONFORMANCE_BODY_LIMIT := 1048576
conformance: build deps-pip
	@if [ -d "$(SHARED)/conformance" ]; then \
		LOGD_BIN=$(CURDIR)/$(TEST_BIN)/logd \
		LOGD_BODY_LIMIT_BYTES=$(CONFORMANCE_BODY_LIMIT) LOGD_EXTRA_ARGS="--max-body-bytes $(CONFORMANCE_BODY_LIMIT)" \
		LOGD_AUTH_TEST_ARGS="--auth-token {token}" LOGD_CORS_TEST_ARGS="--cors-origin {origin}" \
		$(PYTHON) -m pytest -q -p no:cacheprovider $(SHARED)/conformance $(CONFORMANCE_SKIP); \
	else echo "no $(SHARED)/conformance here: conformance suite skipped"; fi

# Extra flags for eventlog-bench, e.g. make bench BENCH_ARGS="--only compaction,groups --quick".
BENCH_ARGS ?=
bench: deps
	cd Tools/Benchmarks && $(SWIFT) run -c release eventlog-bench $(BENCH_ARGS)

docs:
	$(SWIFT) package generate-documentation --target EventLog

clean:
	rm -rf .build .build-*
