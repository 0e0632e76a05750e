"""Load and free models without holding the GIL: onnxruntime-genai's C API through ctypes.

`og.Model()` holds the GIL for the whole load (3.9 s to 11 s for a 537 MB model here, far longer for
Phi-4-reasoning), so no Python code runs meanwhile and the window freezes; freeing a model holds
it too. ctypes releases the GIL during every foreign call, so the C API (the same
libonnxruntime-genai the og module is linked against) builds the model, and the handle is then
placed into an og.Model object that the rest of the engine uses as usual.

That last step writes into pybind11's instance layout, so it is done only after the layout was
checked on an empty og.Model, and the result is checked by asking pybind11's own device_type
against the C API's answer. On any doubt (another pybind11, a platform without the library,
PONDER_NATIVE_LOAD=0) the engine falls back to og.Model(), which works but holds the GIL.
"""

from __future__ import annotations

import ctypes
import json
import logging
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from engine.providers import Candidate

log = logging.getLogger(__name__)

#: pybind11's `instance`: PyObject head (16 bytes), value pointer, holder (room for two pointers),
#: weak references, then the flag bits.
_VALUE, _HOLDER, _SPARE, _WEAKREFS, _FLAGS_OFFSET = 2, 3, 4, 5, 48
_OWNED, _SIMPLE_LAYOUT, _HOLDER_CONSTRUCTED = 0x01, 0x02, 0x04
_BASIC_SIZE = 56
_LIBRARY_NAMES = ("libonnxruntime-genai.so", "libonnxruntime-genai.dylib", "onnxruntime-genai.dll")


class NativeOg:
    """The C API calls the load and unload need, bound with ctypes (each releases the GIL)."""

    def __init__(self, og: Any, library: ctypes.CDLL) -> None:
        self.og, self.lib = og, library
        p, s, out = ctypes.c_void_p, ctypes.c_char_p, ctypes.POINTER(ctypes.c_void_p)
        for name, args in (
            ("OgaCreateConfig", [s, out]), ("OgaConfigClearProviders", [p]), ("OgaConfigAppendProvider", [p, s]),
            ("OgaConfigSetProviderOption", [p, s, s, s]), ("OgaConfigOverlay", [p, s]),
            ("OgaConfigSetDecoderProviderOptionsHardwareDeviceType", [p, s, s]),
            ("OgaCreateModelFromConfig", [p, out]), ("OgaModelGetDeviceType", [p, out]),
            ("OgaCreateTokenizer", [p, out]), ("OgaCreateTokenizerFromPath", [s, out]),
            ("OgaTokenizerGetEosTokenIds", [p, ctypes.POINTER(ctypes.POINTER(ctypes.c_int32)),
                                            ctypes.POINTER(ctypes.c_size_t)]),
        ):
            function = getattr(library, name)
            function.argtypes, function.restype = args, p
        for name in ("OgaDestroyConfig", "OgaDestroyModel", "OgaDestroyTokenizer", "OgaDestroyResult",
                     "OgaDestroyString"):
            function = getattr(library, name)
            function.argtypes, function.restype = [p], None
        library.OgaResultGetError.argtypes, library.OgaResultGetError.restype = [p], s

    @classmethod
    def find(cls, og: Any) -> NativeOg | None:
        """The C API next to the og module, or None where it cannot be used safely."""
        if os.environ.get("PONDER_NATIVE_LOAD") == "0" or sys.maxsize <= 2**32:
            return None
        folder = Path(og.__file__).parent
        for name in _LIBRARY_NAMES:
            if (folder / name).is_file():
                try:
                    native = cls(og, ctypes.CDLL(str(folder / name)))
                except (OSError, AttributeError) as exc:
                    log.info("onnxruntime-genai's C API is not usable (%s); loads hold the GIL", exc)
                    return None
                return native if native._empty(og.Model) is not None else None
        return None

    # --- load ---

    def load_model(self, folder: Path, candidate: Candidate, threads: int | None) -> Any:
        """An og.Model for the folder on the candidate's provider; raises RuntimeError with
        onnxruntime-genai's own message, as og.Model() would."""
        config = ctypes.c_void_p()
        self._check(self.lib.OgaCreateConfig(str(folder).encode(), ctypes.byref(config)))
        try:
            self._check(self.lib.OgaConfigClearProviders(config))
            name = candidate.og_name.encode()
            if candidate.og_name != "cpu":
                self._check(self.lib.OgaConfigAppendProvider(config, name))
                for key, value in candidate.options:
                    self._check(self.lib.OgaConfigSetProviderOption(config, name, key.encode(), value.encode()))
                if candidate.device_type:
                    self._check(self.lib.OgaConfigSetDecoderProviderOptionsHardwareDeviceType(
                        config, name, candidate.device_type.encode()))
            if threads:
                overlay = {"model": {"decoder": {"session_options": {"intra_op_num_threads": threads}}}}
                self._check(self.lib.OgaConfigOverlay(config, json.dumps(overlay).encode()))
            handle = ctypes.c_void_p()
            self._check(self.lib.OgaCreateModelFromConfig(config, ctypes.byref(handle)))  # the long call
        finally:
            self.lib.OgaDestroyConfig(config)
        model = self._adopt(self.og.Model, handle.value or 0, self._same_model)
        if model is None:  # cannot happen once find() checked the layout; never leak the model
            self.lib.OgaDestroyModel(handle)
            raise RuntimeError("could not hand the loaded model to onnxruntime-genai's Python module")
        return model

    def load_tokenizer(self, model: Any) -> Any:
        """og.Tokenizer(model), built without the GIL (a 200,000-token vocabulary takes ~1 s)."""
        handle = ctypes.c_void_p()
        self._check(self.lib.OgaCreateTokenizer(_words(model)[_VALUE], ctypes.byref(handle)))
        tokenizer = self._adopt(self.og.Tokenizer, handle.value or 0, self._same_tokenizer)
        if tokenizer is None:
            self.lib.OgaDestroyTokenizer(handle)
            return self.og.Tokenizer(model)  # another layout for this type: the ordinary way
        return tokenizer

    def tokenizer_from_path(self, folder: Path) -> Any:
        """og.Tokenizer(str(folder)) (the folder's tokenizer files, no model), built without the GIL."""
        handle = ctypes.c_void_p()
        self._check(self.lib.OgaCreateTokenizerFromPath(str(folder).encode(), ctypes.byref(handle)))
        tokenizer = self._adopt(self.og.Tokenizer, handle.value or 0, self._same_tokenizer)
        if tokenizer is None:
            self.lib.OgaDestroyTokenizer(handle)
            return self.og.Tokenizer(str(folder))
        return tokenizer

    def free(self, obj: Any) -> bool:
        """Free a model or tokenizer nothing else refers to, with the GIL released; False
        (nothing done) when others still hold it."""
        destroy = {self.og.Model: self.lib.OgaDestroyModel, self.og.Tokenizer: self.lib.OgaDestroyTokenizer}
        # Three references are expected: the caller's variable, this parameter, getrefcount's own.
        if type(obj) not in destroy or sys.getrefcount(obj) > 3:
            return False
        words, flags = _words(obj), _flags(obj)
        handle = words[_VALUE]
        if not handle or words[_HOLDER] != handle or not flags.value & _HOLDER_CONSTRUCTED:
            return False
        words[_VALUE] = words[_HOLDER] = None
        flags.value &= ~_HOLDER_CONSTRUCTED  # the empty object now frees nothing
        destroy[type(obj)](handle)
        return True

    # --- pybind11 objects ---

    def _empty(self, kind: type) -> Any:
        """A `kind` (og.Model, og.Tokenizer) with nothing in it, if its layout is the one this
        module knows."""
        shell = kind.__new__(kind)  # type: ignore[call-overload]
        words = _words(shell)
        if kind.__basicsize__ != _BASIC_SIZE or any(words[i] for i in (_VALUE, _HOLDER, _SPARE, _WEAKREFS)):
            log.info("unknown pybind11 layout for %s; loads hold the GIL", kind.__name__)
            return None
        if _flags(shell).value != _OWNED | _SIMPLE_LAYOUT:
            log.info("unknown pybind11 flags for %s; loads hold the GIL", kind.__name__)
            return None
        return shell

    def _adopt(self, kind: type, handle: int, same: Callable[[Any, int], bool]) -> Any:
        """A `kind` object that owns `handle`, if pybind11 then reads it as the C API does."""
        shell = self._empty(kind)
        if shell is None:
            return None
        words = _words(shell)
        words[_VALUE] = words[_HOLDER] = handle
        _flags(shell).value |= _HOLDER_CONSTRUCTED  # its destructor now frees the handle
        if not same(shell, handle):
            words[_VALUE] = words[_HOLDER] = None
            _flags(shell).value &= ~_HOLDER_CONSTRUCTED
            return None
        return shell

    def _same_model(self, model: Any, handle: int) -> bool:
        return model.device_type == self._device_type(handle)

    def _same_tokenizer(self, tokenizer: Any, handle: int) -> bool:
        ids, count = ctypes.POINTER(ctypes.c_int32)(), ctypes.c_size_t()
        self._check(self.lib.OgaTokenizerGetEosTokenIds(handle, ctypes.byref(ids), ctypes.byref(count)))
        return [int(i) for i in tokenizer.eos_token_ids] == [ids[i] for i in range(count.value)]

    def _device_type(self, handle: int) -> str:
        text = ctypes.c_void_p()
        self._check(self.lib.OgaModelGetDeviceType(handle, ctypes.byref(text)))
        try:
            return ctypes.string_at(text.value).decode() if text.value else ""
        finally:
            self.lib.OgaDestroyString(text)

    def _check(self, result: int | None) -> None:
        if result:
            message = self.lib.OgaResultGetError(result)
            self.lib.OgaDestroyResult(result)
            raise RuntimeError((message or b"onnxruntime-genai failed").decode(errors="replace"))


def _words(obj: Any) -> Any:
    return (ctypes.c_void_p * 6).from_address(id(obj))


def _flags(obj: Any) -> ctypes.c_uint8:
    return ctypes.c_uint8.from_address(id(obj) + _FLAGS_OFFSET)


def folder_tokenizer(folder: Path) -> Any:
    """An og.Tokenizer for a model folder's tokenizer files (no model): through the C API where
    it can be used, since og.Tokenizer() holds the GIL (~1 s for a 200,000-token vocabulary)."""
    from engine.runtime import import_og

    og = import_og()
    native = NativeOg.find(og)
    return native.tokenizer_from_path(folder) if native is not None else og.Tokenizer(str(folder))
