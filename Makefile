# EventLog: make run | make test | make bench
# Every target installs what it needs when it is missing (Debian packages, pip packages).

SWIFT        ?= swift
SHARED       ?= ../shared
PYTHON       ?= python3
DEBIAN_DEPS  := liblz4-dev libzstd-dev zlib1g-dev pkg-config
PIP_DEPS     := pytest openapi-spec-validator sseclient-py selenium confluent-kafka kafka-python lz4 zstandard schemathesis
# A real browser for the tests of logd.js (Tests/e2e/test_browser.py); only `make test` needs it.
BROWSER_DEPS := chromium chromium-driver
# TLS and HTTP/2 clients for Tests/e2e/test_tls_http2.py: openssl makes the test certificates,
# curl (with nghttp2), nghttp and h2load speak HTTP/2 over TLS and h2c.
TLS_TEST_DEPS := openssl curl nghttp2-client
# Real Kafka clients, the judges of the Kafka listener (Docs/KAFKA.md): kcat 1.7.1 (librdkafka 2.0.2).
KAFKA_CLIENT_DEPS := kcat
RELEASE_BIN  := .build/release
DEBUG_BIN    := .build/debug

.PHONY: bench-kafka deps-tls kafka-codegen kafka-codegen-check kafka-golden deps-kafka-clients bench-server deps-browser all deps deps-debian deps-pip build release run test test-swift test-e2e conformance openapi bench docs clean fuzz torture sanitize sanitize-address sanitize-thread schemathesis soak

all: build

deps: deps-debian deps-pip

deps-debian:
	@missing=""; for p in $(DEBIAN_DEPS); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
		echo "installing:$$missing"; \
		SUDO=""; [ "$$(id -u)" = 0 ] || SUDO=sudo; \
		$$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing; \
	fi

deps-browser:
	@$(MAKE) --no-print-directory deps-debian DEBIAN_DEPS="$(BROWSER_DEPS)"

deps-tls:
	@$(MAKE) --no-print-directory deps-debian DEBIAN_DEPS="$(TLS_TEST_DEPS)"

deps-kafka-clients:
	@$(MAKE) --no-print-directory deps-debian DEBIAN_DEPS="$(KAFKA_CLIENT_DEPS)"

deps-pip:
	@for p in $(PIP_DEPS); do \
		mod=$$(echo $$p | sed -e 's/-spec-validator/_spec_validator/' -e 's/sseclient-py/sseclient/' -e 's/confluent-kafka/confluent_kafka/' -e 's/kafka-python/kafka/'); \
		$(PYTHON) -c "import $$mod" >/dev/null 2>&1 || $(PYTHON) -m pip install -q $$p; \
	done

build: deps-debian
	$(SWIFT) build

release: deps-debian
	$(SWIFT) build -c release --product logd
	$(SWIFT) build -c release --product log-dump
	$(SWIFT) build -c release --product log-mirror

run: release
	@mkdir -p logd-data
	@echo "try:  curl -s -XPOST localhost:8080/v1/topics/demo/records -d 'hello' && curl -sN 'localhost:8080/v1/topics/demo/events?from=earliest'"
	exec $(RELEASE_BIN)/logd --data-dir ./logd-data

# The whole suite: Swift unit, property, recovery and subprocess tests; the end-to-end tests
# against the real binaries; the OpenAPI check; the shared conformance suite when ../shared is there.
# The end-to-end and conformance suites run the debug binaries that `build` made: a second,
# release build of the whole tree would double the time on 2 cores for no extra coverage.
TEST_BIN := $(DEBUG_BIN)
test: deps kafka-codegen-check build test-swift test-e2e openapi schemathesis conformance
	@echo "make test: all suites passed"

test-swift:
	$(SWIFT) build --product eventlog-torture
	$(SWIFT) test --parallel --num-workers 2

test-e2e: build deps-pip deps-browser deps-kafka-clients deps-tls
	LOGD_BIN=$(CURDIR)/$(TEST_BIN)/logd LOG_DUMP_BIN=$(CURDIR)/$(TEST_BIN)/log-dump LOGCTL_BIN=$(CURDIR)/$(TEST_BIN)/logctl \
		LOG_MIRROR_BIN=$(CURDIR)/$(TEST_BIN)/log-mirror H2_SUBSCRIBERS_BIN=$(CURDIR)/$(TEST_BIN)/h2-subscribers \
		$(PYTHON) -m pytest -q Tests/e2e

# The Kafka codecs (Sources/KafkaProtocol/Generated) from Kafka's message specs (Tools/kafka-codegen).
kafka-codegen:
	$(PYTHON) Tools/kafka-codegen/kafka_codegen.py generate

kafka-codegen-check:
	$(PYTHON) Tools/kafka-codegen/kafka_codegen.py generate --check

# Recaptures the golden bytes of real clients (Tests/KafkaProtocolTests/Golden/README.md).
kafka-golden: deps-kafka-clients deps-pip
	$(PYTHON) Tests/KafkaProtocolTests/Golden/capture.py
	rm -rf Tools/fuzz/corpus/kafka-request && mkdir -p Tools/fuzz/corpus/kafka-request
	for f in Tests/KafkaProtocolTests/Golden/*/*-request*.bin; do \
		cp $$f Tools/fuzz/corpus/kafka-request/$$(basename $$(dirname $$f))-$$(basename $$f .bin); done

# Schemathesis against Docs/openapi.yaml on a live logd (Tests/schemathesis/run.py): a bounded
# number of generated cases per operation; no 5xx, every answer as the document says.
SCHEMATHESIS_EXAMPLES ?= 25
schemathesis: build deps-pip
	LOGD_BIN=$(CURDIR)/$(TEST_BIN)/logd SCHEMATHESIS_EXAMPLES=$(SCHEMATHESIS_EXAMPLES) $(PYTHON) Tests/schemathesis/run.py

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

# The server beside Nchan and Redis (Tools/bench-server/bench_server.py), in one interleaved
# run on loopback; BENCH_SERVER_ARGS="--rounds 3 --write" appends the table to Docs/BENCHMARKS.md.
# The HTTP/2 + TLS fan-out scenarios need openssl (their certificate) and their subscribers: by
# default the native h2-subscribers (SwiftNIO; the package's target Tools/bench-server/h2-subscribers,
# built here in release and its parser self-tested), with --h2-client python the `h2` package;
# nginx-light has the ssl and http_v2 modules.
BENCH_SERVER_DEPS := nginx-light libnginx-mod-nchan redis-server redis-tools wrk nghttp2-client openssl
BENCH_SERVER_PIP_DEPS := h2
BENCH_SERVER_ARGS ?= --rounds 3
bench-server: deps release
	@$(MAKE) --no-print-directory deps-debian DEBIAN_DEPS="$(BENCH_SERVER_DEPS)"
	@$(MAKE) --no-print-directory deps-pip PIP_DEPS="$(BENCH_SERVER_PIP_DEPS)"
	$(SWIFT) build -c release --product h2-subscribers
	$(RELEASE_BIN)/h2-subscribers --self-test
	$(PYTHON) Tools/bench-server/bench_server.py --logd $(CURDIR)/$(RELEASE_BIN)/logd \
		--h2-subscribers $(CURDIR)/$(RELEASE_BIN)/h2-subscribers $(BENCH_SERVER_ARGS)

# The Kafka listener beside the HTTP produce path and `cat` (Tools/bench-kafka/bench_kafka.py):
# produce, fetch of 1 GiB from earliest, a 3-consumer group at 100,000 records/s;
# BENCH_KAFKA_ARGS="--pin --write": logd on CPU 0 and the clients on CPU 1, table appended to Docs/BENCHMARKS.md.
BENCH_KAFKA_ARGS ?=
bench-kafka: deps release deps-pip deps-kafka-clients
	@$(MAKE) --no-print-directory deps-debian DEBIAN_DEPS="wrk"
	$(PYTHON) Tools/bench-kafka/bench_kafka.py --logd $(CURDIR)/$(RELEASE_BIN)/logd $(BENCH_KAFKA_ARGS)

# Extra flags for eventlog-bench, e.g. make bench BENCH_ARGS="--only compaction,groups --quick".
BENCH_ARGS ?=
bench: deps
	cd Tools/Benchmarks && $(SWIFT) run -c release eventlog-bench $(BENCH_ARGS)

# Fuzzing (Tools/fuzz/README.md): every target for FUZZ_SECONDS under libFuzzer and
# AddressSanitizer, in its own build path; a crash, a hang over 1 s, a leak or 2 GiB of memory
# is a finding, written to .build-fuzz/findings/. Found inputs go to Tools/fuzz/regressions/.
FUZZ_SECONDS ?= 60
FUZZ_BUILD   := .build-fuzz
FUZZ_TARGETS ?=
fuzz: deps-debian
	$(SWIFT) build --build-path $(FUZZ_BUILD) --product eventlog-fuzz \
		-Xswiftc -sanitize=fuzzer,address -Xswiftc -DFUZZING -Xswiftc -use-ld=lld
	@mkdir -p $(FUZZ_BUILD)/findings; status=0; \
	targets="$(FUZZ_TARGETS)"; [ -n "$$targets" ] || targets=$$($(FUZZ_BUILD)/debug/eventlog-fuzz list); \
	for t in $$targets; do \
		mkdir -p $(FUZZ_BUILD)/corpus/$$t; cp -n Tools/fuzz/corpus/$$t/* Tools/fuzz/regressions/$$t/* $(FUZZ_BUILD)/corpus/$$t/ 2>/dev/null; \
		if FUZZ_TARGET=$$t ASAN_OPTIONS=detect_leaks=1 $(FUZZ_BUILD)/debug/eventlog-fuzz -max_total_time=$(FUZZ_SECONDS) -timeout=1 \
			-rss_limit_mb=2048 -artifact_prefix=$(FUZZ_BUILD)/findings/$$t- -print_final_stats=1 $(FUZZ_BUILD)/corpus/$$t \
			> $(FUZZ_BUILD)/$$t.log 2>&1; then \
			echo "$$t: $$(grep -h 'stat::number_of_executed_units' $(FUZZ_BUILD)/$$t.log | awk '{print $$2}') inputs in $(FUZZ_SECONDS) s, no finding"; \
		else echo "$$t: FINDING (see $(FUZZ_BUILD)/$$t.log and $(FUZZ_BUILD)/findings/)"; status=1; fi; \
	done; exit $$status

# Torture (Docs/RELIABILITY.md): the embedded campaign, TORTURE_ROUNDS rounds of a writer
# killed with SIGKILL at random moments and at named crash points, every death checked
# (`make test` runs 20 rounds); then the same against logd over HTTP with SSE consumers
# resuming by Last-Event-ID, HTTP_TORTURE_ROUNDS kills (`make test` runs 5); the same against the Kafka
# listener with an idempotent confluent-kafka producer, KAFKA_TORTURE_ROUNDS kills (`make test` runs 5).
TORTURE_ROUNDS      ?= 1000
HTTP_TORTURE_ROUNDS ?= 100
KAFKA_TORTURE_ROUNDS ?= 100
TORTURE_DIR         ?= .build/torture
torture: build deps-pip
	rm -rf $(TORTURE_DIR)
	$(DEBUG_BIN)/eventlog-torture campaign $(TORTURE_DIR) --rounds $(TORTURE_ROUNDS)
	rm -rf $(TORTURE_DIR)
	HTTP_TORTURE_ROUNDS=$(HTTP_TORTURE_ROUNDS) LOGD_BIN=$(CURDIR)/$(TEST_BIN)/logd LOG_DUMP_BIN=$(CURDIR)/$(TEST_BIN)/log-dump \
		$(PYTHON) -m pytest -q -s Tests/e2e/test_http_torture.py
	$(MAKE) --no-print-directory deps-kafka-clients
	KAFKA_TORTURE_ROUNDS=$(KAFKA_TORTURE_ROUNDS) LOGD_BIN=$(CURDIR)/$(TEST_BIN)/logd LOG_DUMP_BIN=$(CURDIR)/$(TEST_BIN)/log-dump \
		$(PYTHON) -m pytest -q -s Tests/e2e/test_kafka_torture.py

# Soak (Docs/RELIABILITY.md, Tests/soak/soak.py): logd with SOAK_CLIENTS SSE clients (a tenth
# reconnecting with Last-Event-ID), 20 long-poll fetchers, a steady producer and the cleaner for
# SOAK_SECONDS; `make test` runs 60 s with 300 clients (Tests/e2e/test_soak.py).
SOAK_SECONDS ?= 600
SOAK_CLIENTS ?= 2000
soak: build
	LOGD_BIN=$(CURDIR)/$(TEST_BIN)/logd $(PYTHON) Tests/soak/soak.py --seconds $(SOAK_SECONDS) --clients $(SOAK_CLIENTS)

# Sanitizers (Docs/RELIABILITY.md): the whole Swift suite under AddressSanitizer, then under
# ThreadSanitizer, each in its own build path. Long (two full builds); not part of `make test`.
# The ThreadSanitizer build locks with `pthread_mutex_t` instead of `Synchronization.Mutex`, a
# futex the sanitizer does not see (-DTSAN_LOCKS, Sources/SanitizerLocks). Every instrumented
# process (the tests and the logd, eventlog-torture and log-dump they start, whose standard error
# the tests often discard) writes its reports to $(TSAN_REPORTS)/report.<pid>; the run goes on
# after a report (halt_on_error=0) and fails at the end if there is any. Tests/sanitizers/tsan.supp
# names reports that are not ours, each with its reason. The kill tests give their writers
# EVENTLOG_TEST_TIME_SCALE times longer (the build runs about 8 times slower).
SANITIZE_TEST_ARGS ?= --no-parallel
TSAN_REPORTS       ?= $(CURDIR)/.build-tsan/tsan-reports
sanitize: sanitize-address sanitize-thread
sanitize-address: deps-debian
	$(SWIFT) build --build-tests --build-path .build-asan --sanitize=address
	ASAN_OPTIONS=detect_leaks=1:halt_on_error=1 LSAN_OPTIONS=suppressions=$(CURDIR)/Tests/sanitizers/lsan.supp $(SWIFT) test --skip-build --build-path .build-asan --sanitize=address $(SANITIZE_TEST_ARGS)
sanitize-thread: deps-debian
	$(SWIFT) build --build-tests --build-path .build-tsan --sanitize=thread -Xswiftc -DTSAN_LOCKS
	@rm -rf $(TSAN_REPORTS) && mkdir -p $(TSAN_REPORTS)
	EVENTLOG_TEST_TIME_SCALE=8 TSAN_OPTIONS=halt_on_error=0:second_deadlock_stack=1:suppressions=$(CURDIR)/Tests/sanitizers/tsan.supp:log_path=$(TSAN_REPORTS)/report \
		$(SWIFT) test --skip-build --build-path .build-tsan --sanitize=thread $(SANITIZE_TEST_ARGS); status=$$?; \
	if ls $(TSAN_REPORTS)/report.* >/dev/null 2>&1; then \
		echo "ThreadSanitizer reported (see $(TSAN_REPORTS)):"; grep -h '^SUMMARY' $(TSAN_REPORTS)/report.* | sort | uniq -c; exit 1; \
	fi; \
	echo "ThreadSanitizer: no report"; exit $$status

docs:
	$(SWIFT) package generate-documentation --target EventLog

clean:
	rm -rf .build .build-*
