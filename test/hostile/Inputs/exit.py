"""Runs a command and succeeds only if it exits with exactly the given code.

usage: exit.py CODE COMMAND [ARGS...]

`not` accepts any failure, including a crash; the hostile-input tests need
mnc to fail cleanly with its documented code (1 for malformed input).
"""
import subprocess
import sys


def main():
    want = int(sys.argv[1])
    try:
        got = subprocess.run(sys.argv[2:], timeout=120).returncode
    except subprocess.TimeoutExpired:
        sys.exit(f"exit.py: '{sys.argv[2]}' did not finish in 120 s")
    if got != want:
        sys.stdout.flush()
        sys.exit(f"exit.py: '{sys.argv[2]}' exited with {got}, expected {want}")


if __name__ == "__main__":
    main()
