"""`make schemathesis`: Schemathesis against Docs/openapi.yaml on a live logd ($LOGD_BIN).

A bounded number of generated cases per operation (SCHEMATHESIS_EXAMPLES, default 25; the
coverage, fuzzing and stateful phases), positive and negative: no answer may be a 5xx, and
every answer must match the document (status code, content type, headers, schema); invalid
requests must be refused and valid ones accepted. The event-stream and WebSocket operations
are left out (an open stream never ends; test_sse_*.py and test_websocket.py cover them).
Exits with Schemathesis's status."""
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "e2e"))
from conftest import Logd  # noqa: E402

CHECKS = ("not_a_server_error,status_code_conformance,content_type_conformance,response_headers_conformance,"
          "response_schema_conformance,negative_data_rejection,positive_data_acceptance")


def main():
    examples = os.environ.get("SCHEMATHESIS_EXAMPLES", "25")
    with tempfile.TemporaryDirectory() as tmp:
        server = Logd(os.path.join(tmp, "data"), stderr_path=os.path.join(tmp, "logd.log")).start()
        try:
            argv = ["st", "--config-file", os.path.join(HERE, "schemathesis.toml"), "run", os.path.join(HERE, "..", "..", "Docs", "openapi.yaml"), "--url", server.url,
                    "--exclude-path-regex", "/(events|ws)$", "--max-examples", examples, "--request-timeout", "20",
                    "--workers", "1", "--checks", CHECKS, "--no-color", "--generation-database", "none",
                    "--phases", "coverage,fuzzing,stateful"]
            if os.environ.get("SCHEMATHESIS_SEED"):
                argv += ["--seed", os.environ["SCHEMATHESIS_SEED"]]
            env = dict(os.environ, SCHEMATHESIS_HOOKS="hooks", PYTHONPATH=HERE + os.pathsep + os.environ.get("PYTHONPATH", ""))
            status = subprocess.call(argv, env=env)
            alive = server.proc.poll() is None
        finally:
            stopped = server.stop()
        if not alive or stopped != 0:
            print("schemathesis: logd died or did not stop cleanly (exit %s)" % stopped)
            return 1
        return status


if __name__ == "__main__":
    sys.exit(main())
