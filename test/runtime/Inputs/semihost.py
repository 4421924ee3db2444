"""Runs Cortex-M firmware under qemu-system-arm with the remaining arguments
as its semihosting command line, and exits with the firmware's status.

usage: semihost.py MACHINE FIRMWARE.elf ARG..."""
import subprocess
import sys

machine, firmware, args = sys.argv[1], sys.argv[2], sys.argv[3:]
# qemu's option syntax: commas inside a value are doubled.
config = ",".join(["enable=on", "target=native"] +
                  ["arg=" + a.replace(",", ",,") for a in [firmware] + args])
sys.exit(subprocess.run(
    ["qemu-system-arm", "-M", machine, "-display", "none", "-monitor", "none",
     "-serial", "null", "-semihosting-config", config, "-kernel",
     firmware]).returncode)
