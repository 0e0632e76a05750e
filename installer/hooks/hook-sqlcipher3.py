"""sqlcipher3's dbapi2 star-imports its C extension; make sure every piece ships."""

from PyInstaller.utils.hooks import collect_dynamic_libs, collect_submodules, copy_metadata

hiddenimports = collect_submodules("sqlcipher3")
binaries = collect_dynamic_libs("sqlcipher3")
datas = copy_metadata("sqlcipher3")
