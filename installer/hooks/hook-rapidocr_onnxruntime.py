"""rapidocr-onnxruntime reads its config.yaml and OCR models (.onnx) from its package folder."""

from PyInstaller.utils.hooks import collect_data_files, collect_submodules

datas = collect_data_files("rapidocr_onnxruntime")
hiddenimports = collect_submodules("rapidocr_onnxruntime")
