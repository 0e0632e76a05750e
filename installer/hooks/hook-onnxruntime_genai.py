"""Bundle what onnxruntime-genai looks up at run time.

`onnxruntime_genai/_dll_directory.py` finds the onnxruntime *package* with find_spec and then
globs `capi/libonnxruntime.so*` (`libonnxruntime*.dylib`, `onnxruntime.dll`) beside it and loads
it with ctypes. No import statement names either, so a default build starts with "Could not find
the onnxruntime package", and even --collect-binaries leaves the library out of `capi/`.
"""

import glob
import os
import sys

from PyInstaller.utils.hooks import collect_dynamic_libs, get_package_paths

hiddenimports = ["onnxruntime"]
# The model builder (needs onnx, torch, transformers); Ponder only runs models.
excludedimports = ["onnxruntime_genai.models"]

binaries = collect_dynamic_libs("onnxruntime_genai")

if sys.platform.startswith("win"):
    _PATTERNS = ("onnxruntime*.dll", "DirectML.dll")
elif sys.platform == "darwin":
    _PATTERNS = ("libonnxruntime*.dylib",)
else:
    _PATTERNS = ("libonnxruntime.so*", "libonnxruntime_providers_*.so")

_, _ort = get_package_paths("onnxruntime")
for _pattern in _PATTERNS:
    binaries += [(path, "onnxruntime/capi")
                 for path in glob.glob(os.path.join(_ort, "capi", _pattern))]
