"""Compares two outputs of driver.c token by token: words must be equal,
numbers equal within 1e-5 relative + 1e-7 absolute. Float results of the
same object code differ in the last bits between FPUs (Cortex-M contracts
multiply-adds that x86-64 baseline does not), so cross-target runs are
checked to this tolerance rather than byte for byte."""
import sys


def number(token):
    try:
        return float(token)
    except ValueError:
        return None


def main(expected_path, actual_path):
    expected = open(expected_path).read().split()
    actual = open(actual_path).read().split()
    if len(expected) != len(actual):
        sys.exit(f"{actual_path}: {len(actual)} tokens, expected {len(expected)}")
    for i, (e, a) in enumerate(zip(expected, actual)):
        x, y = number(e), number(a)
        if x is None or y is None:
            if e != a:
                sys.exit(f"{actual_path}: token {i} is '{a}', expected '{e}'")
        elif abs(x - y) > 1e-5 * abs(x) + 1e-7:
            sys.exit(f"{actual_path}: token {i} is {a}, expected {e}")


if __name__ == "__main__":
    main(*sys.argv[1:])
