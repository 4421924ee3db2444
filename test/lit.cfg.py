# lit configuration for mnc: IR text, importer, pass, codegen and e2e tests.
import os

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
