"""The short form of the soak (`make soak` runs the long one, Tests/soak/soak.py): 60 seconds,
300 SSE clients (a tenth reconnecting with Last-Event-ID), 20 long-poll fetchers, a steady
producer and the cleaner: no client misses or repeats a record; descriptors and memory flat."""
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))


def test_sixty_seconds_of_300_clients_lose_and_repeat_nothing():
    result = subprocess.run([sys.executable, os.path.join(HERE, "..", "soak", "soak.py"), "--seconds", "60", "--clients", "300"],
                            capture_output=True, text=True, timeout=300)
    print(result.stdout[-4000:])
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert "no miss, no repeat" in result.stdout
