# lit configuration for mnc: IR text, importer, pass, codegen and e2e tests.
import os
import platform

import lit.formats

config.name = "mnc"
config.test_format = lit.formats.ShTest(execute_external=True)
config.suffixes = [".mnir", ".test", ".onnxtxt"]
config.excludes = ["Inputs", "CMakeLists.txt", "lit.cfg.py", "unit"]
config.test_source_root = os.path.dirname(__file__)
config.test_exec_root = os.path.join(config.mnc_obj_root, "test")

config.environment["PATH"] = os.pathsep.join(
    [config.mnc_tools_dir, os.path.dirname(config.filecheck),
     config.environment.get("PATH", os.environ.get("PATH", ""))])
config.substitutions.append(("%python", config.python))
config.substitutions.append(("%src_root", config.mnc_src_root))
config.substitutions.append(("%obj_root", config.mnc_obj_root))
# The shared model/data folder beside the repo when present; tests that need
# it use the copies the repo carries under examples/data instead.
config.substitutions.append(("%data", os.path.join(config.mnc_src_root, "examples", "data")))

# x86-64-v2/v3/v4: the x86-64 microarchitecture levels (psABI 1.0 section
# 3.1.1) whose code this host can execute, from the CPU flags Linux reports,
# so that a test running code compiled for a level can say REQUIRES: and be
# reported UNSUPPORTED elsewhere (AVX2-only CPUs such as Zen 3 lack v4).
X86_64_LEVELS = [
    ("x86-64-v2", {"cx16", "lahf_lm", "popcnt", "pni", "sse4_1", "sse4_2",
                   "ssse3"}),
    ("x86-64-v3", {"abm", "avx", "avx2", "bmi1", "bmi2", "f16c", "fma",
                   "movbe", "xsave"}),
    ("x86-64-v4", {"avx512f", "avx512bw", "avx512cd", "avx512dq",
                   "avx512vl"}),
]


def host_cpu_flags():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("flags"):
                    return set(line.split(":", 1)[1].split())
    except OSError:
        pass
    return set()


if platform.machine() == "x86_64":
    flags = host_cpu_flags()
    for level, needs in X86_64_LEVELS:
        if not needs <= flags:
            break
        config.available_features.add(level)
