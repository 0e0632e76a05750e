"""Every way a model folder can be bad is refused before onnxruntime-genai opens it."""

from __future__ import annotations

import json
import os

import pytest

from engine.errors import InvalidModelFolderError, ModelNotFoundError
from engine.model_folder import validate_model_folder
from engine.onnx_external import external_refs
from engine.paths import demo_model_dir
from engine.service import InferenceService, ModelChoice


def _config(folder):
    return json.loads((folder / "genai_config.json").read_text())


def _write_config(folder, config):
    (folder / "genai_config.json").write_text(json.dumps(config))


def _data_file(folder):
    refs = external_refs(folder / _config(folder)["model"]["decoder"]["filename"])
    assert refs, "the demo model stores its weights beside model.onnx"
    return folder / refs[0].location


def refused(folder, file, reason):
    with pytest.raises(InvalidModelFolderError) as info:
        validate_model_folder(folder)
    assert info.value.file == file
    assert reason in info.value.reason
    assert file in info.value.user_message()
    return info.value


def test_the_demo_model_is_valid():
    folder = validate_model_folder(demo_model_dir())
    assert folder.context_length >= 512
    assert folder.eos_token_ids


def test_missing_folder():
    with pytest.raises(ModelNotFoundError):
        validate_model_folder("/nonexistent/model")


def test_missing_config(demo_copy):
    (demo_copy / "genai_config.json").unlink()
    refused(demo_copy, "genai_config.json", "missing")


def test_bad_json(demo_copy):
    (demo_copy / "genai_config.json").write_text('{"model": {')
    refused(demo_copy, "genai_config.json", "not valid JSON")


def test_config_without_decoder(demo_copy):
    _write_config(demo_copy, {"model": {}})
    refused(demo_copy, "genai_config.json", "no decoder")


def test_missing_onnx(demo_copy):
    (demo_copy / "model.onnx").unlink()
    refused(demo_copy, "model.onnx", "missing")


def test_truncated_onnx(demo_copy):
    path = demo_copy / "model.onnx"
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    refused(demo_copy, "model.onnx", "truncated")


def test_empty_onnx(demo_copy):
    (demo_copy / "model.onnx").write_bytes(b"")
    refused(demo_copy, "model.onnx", "empty")


def test_missing_weights(demo_copy):
    data = _data_file(demo_copy)
    data.unlink()
    refused(demo_copy, data.name, "missing")


def test_truncated_weights(demo_copy):
    data = _data_file(demo_copy)
    with data.open("r+b") as handle:
        handle.truncate(data.stat().st_size - 1)
    refused(demo_copy, data.name, "truncated")


def test_symlink_out_of_the_folder(demo_copy, tmp_path):
    outside = tmp_path / "elsewhere.onnx"
    (demo_copy / "model.onnx").rename(outside)
    os.symlink(outside, demo_copy / "model.onnx")
    refused(demo_copy, "model.onnx", "outside the model folder")


def test_symlink_escape_anywhere_in_the_folder(demo_copy):
    os.symlink("/etc/passwd", demo_copy / "notes.txt")
    refused(demo_copy, "notes.txt", "outside the model folder")


def test_symlink_inside_the_folder_is_fine(demo_copy):
    (demo_copy / "model.onnx").rename(demo_copy / "real.onnx")
    os.symlink("real.onnx", demo_copy / "model.onnx")
    validate_model_folder(demo_copy)


@pytest.mark.parametrize("name", ["../model.onnx", "/tmp/model.onnx"])
def test_config_path_outside_the_folder(demo_copy, name):
    config = _config(demo_copy)
    config["model"]["decoder"]["filename"] = name
    _write_config(demo_copy, config)
    refused(demo_copy, "genai_config.json", "points outside")


def test_service_refuses_bad_folder_without_crashing(demo_copy):
    (demo_copy / "model.onnx").write_bytes(b"\x08\x07garbage")
    service = InferenceService()
    try:
        with pytest.raises(InvalidModelFolderError):
            service.load(ModelChoice(str(demo_copy))).result()
        # The service still works afterwards.
        assert service.load(ModelChoice("demo")).result().provider.key == "cpu"
    finally:
        service.close()


def test_config_that_onnxruntime_genai_rejects_becomes_a_typed_error(demo_copy):
    config = _config(demo_copy)
    config["model"]["decoder"]["bogus_key"] = 1
    _write_config(demo_copy, config)
    service = InferenceService()
    try:
        with pytest.raises(InvalidModelFolderError, match="bogus_key"):
            service.load(ModelChoice(str(demo_copy))).result()
    finally:
        service.close()
