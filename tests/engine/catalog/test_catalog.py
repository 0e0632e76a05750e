"""The shipped catalog and what it gives the engine for each model."""

from __future__ import annotations

import json
import shutil

import pytest

from engine.catalog.load import catalog_file, load_catalog
from engine.catalog.schema import COMMIT, CatalogError, CatalogLookupError, parse_catalog
from engine.catalog.setup import ModelSetup, setup_for_folder, setup_for_spec
from engine.download.importer import import_folder
from engine.download.store import ModelStore
from engine.prompt import ChatFormat
from tests.engine.download.conftest import served_model


@pytest.fixture(scope="module")
def catalog():
    return load_catalog()


def test_the_catalog_lists_the_four_models_with_a_variant_for_every_kind(catalog):
    assert [m.id for m in catalog.models] == [
        "phi-4-mini-reasoning", "phi-4-reasoning", "phi-4-reasoning-plus", "phi-4-mini-instruct"]
    kinds = {v.kind for m in catalog.models for v in m.variants}
    assert kinds == {"npu", "gpu", "cpu"}
    mini = catalog.model("phi-4-mini-reasoning")
    assert mini.variant("cpu-int4").source == "convert"  # no prebuilt CPU build is published
    assert COMMIT.match(mini.variant("gpu-int4").revision)


def test_phi4_reasoning_uses_chatml_with_the_full_official_system_prompt(catalog):
    fmt = catalog.model("phi-4-reasoning").chat_format
    assert fmt.system_prompt.startswith("You are Phi, a language model trained by Microsoft to help users.")
    assert "<think> {Thought section} </think> {Solution section}" in fmt.system_prompt
    assert fmt.system_prompt.endswith("Now, try to solve the following question through the above guidelines:")
    assert "<|im_start|>" in fmt.template and "<|im_sep|>" in fmt.template
    assert catalog.model("phi-4-reasoning-plus").chat_format == fmt


def test_the_chatml_template_renders_the_card_format(catalog):
    # Rendered by onnxruntime-genai itself, as the engine does (template_str overrides the folder's).
    import json

    import onnxruntime_genai as og

    from engine.paths import demo_model_dir

    fmt = catalog.model("phi-4-reasoning").chat_format
    tokenizer = og.Tokenizer(og.Model(str(demo_model_dir())))
    messages = [{"role": "system", "content": "S"}, {"role": "user", "content": "Q"}]
    text = tokenizer.apply_chat_template(json.dumps(messages), template_str=fmt.template,
                                         add_generation_prompt=True)
    assert text == "<|im_start|>system<|im_sep|>S<|im_end|><|im_start|>user<|im_sep|>Q<|im_end|><|im_start|>assistant<|im_sep|>"


def test_phi4_mini_keeps_the_folder_template_and_card_sampling(catalog):
    mini = catalog.model("phi-4-mini-reasoning")
    assert mini.chat_format == ChatFormat(system_prompt="", template=None)
    assert (mini.sampling.temperature, mini.sampling.top_p, mini.sampling.greedy) == (0.8, 0.95, False)
    assert catalog.model("phi-4-mini-instruct").sampling.greedy


def test_unknown_ids_list_the_choices(catalog):
    with pytest.raises(CatalogLookupError, match="phi-4-reasoning"):
        catalog.model("gpt")
    with pytest.raises(CatalogLookupError, match="gpu-int4"):
        catalog.model("phi-4-reasoning").variant("tpu")


def _listed(data: dict) -> dict:
    """The first variant that lists its files."""
    return next(v for m in data["models"] for v in m["variants"] if v["files"])


@pytest.mark.parametrize("damage", [
    lambda d: d["models"][0]["variants"][0].update(subfolder="../../etc"),
    lambda d: _listed(d)["files"][0].update(path="/etc/passwd"),
    lambda d: _listed(d)["files"][0].update(sha256="sha256:../../x"),
    lambda d: d["models"][0].update(format="nope"),
    lambda d: d.update(schema=2),
])
def test_a_damaged_catalog_is_refused(damage):
    data = json.loads(catalog_file().read_text())
    damage(data)
    with pytest.raises(CatalogError):
        parse_catalog(data)


def test_an_installed_model_gets_its_catalog_format_and_sampling(catalog, ponder_home, tmp_path):
    src = tmp_path / "src"
    shutil.copytree(served_model(), src)
    store = ModelStore(ponder_home)
    import_folder(src, store, name="mine", model="phi-4-reasoning", variant="gpu-int4")
    setup = setup_for_spec("mine", ponder_home, catalog)
    assert setup.catalog_id == "phi-4-reasoning"
    assert setup.chat_format == catalog.model("phi-4-reasoning").chat_format
    assert setup.sampling == catalog.model("phi-4-reasoning").sampling


def test_a_chatml_folder_without_a_stamp_is_recognised(catalog, tmp_path):
    folder = tmp_path / "phi4"
    folder.mkdir()
    (folder / "tokenizer_config.json").write_text(json.dumps(
        {"chat_template": "{{'<|im_start|>system<|im_sep|>'}}"}))
    assert setup_for_folder(folder, catalog).chat_format.template == catalog.model("phi-4-reasoning").chat_format.template


def test_unknown_folders_and_broken_catalogs_get_defaults(tmp_path, ponder_home):
    assert setup_for_spec(str(tmp_path), ponder_home) == ModelSetup()
    broken = tmp_path / "c.json"
    broken.write_text("{")
    with pytest.raises(CatalogError):
        load_catalog(broken)


# --- the catalog against ../shared/notes/catalog-evidence.md -----------------------------------


def test_mini_instruct_cpu_is_pinned_to_the_commit_with_known_sizes(catalog):
    cpu = catalog.model("phi-4-mini-instruct").variant("cpu-int4")
    assert cpu.revision == "fc04c8f93df696602fd9f300a30d1bf2e3081347" and cpu.pinned
    sizes = {f.path: f.size for f in cpu.files}
    assert sizes["model.onnx.data"] == 4_856_573_952 and sizes["model.onnx"] == 52_118_230
    assert sizes["tokenizer.json"] == 15_524_095 and sizes["genai_config.json"] == 1_520
    assert not cpu.size_verified  # the other files' sizes are unknown: the hub listing decides
    assert 4.9e9 < cpu.size < 5.0e9


def test_the_mini_reasoning_npu_build_is_capped_at_its_4096_token_context(catalog, ponder_home, tmp_path):
    npu = catalog.model("phi-4-mini-reasoning").variant("npu-qnn-int4")
    assert (npu.context_length, npu.max_new_tokens) == (4096, 2048)
    assert any("plugin" in r for r in npu.requires) and any("0.16" in r for r in npu.requires)
    src = tmp_path / "src"
    shutil.copytree(served_model(), src)
    import_folder(src, ModelStore(ponder_home), name="npu", model="phi-4-mini-reasoning", variant="npu-qnn-int4")
    setup = setup_for_spec("npu", ponder_home, catalog)
    assert (setup.context_length, setup.max_new_tokens) == (4096, 2048)
    import_folder(src, ModelStore(ponder_home), name="gpu", model="phi-4-mini-reasoning", variant="gpu-int4")
    gpu = setup_for_spec("gpu", ponder_home, catalog)
    assert (gpu.context_length, gpu.max_new_tokens) == (None, 32768)


def test_the_copied_gpu_file_list_is_marked_and_not_trusted(catalog):
    from engine.download.job import DownloadRequest

    model = catalog.model("phi-4-mini-reasoning")
    gpu = model.variant("gpu-int4")
    assert "Phi-4-mini-instruct" in gpu.files_unverified
    assert DownloadRequest.for_variant(model, gpu).files == ()  # the hub's listing decides


def test_no_generic_gpu_folder_offers_tensorrt_rtx(catalog):
    offered = {(m.id, v.id): v.providers for m in catalog.models for v in m.variants if v.kind == "gpu"}
    assert offered and all("tensorrt-rtx" not in p for p in offered.values())


def test_mini_instruct_has_its_own_format_without_a_system_line(catalog):
    data = json.loads(catalog_file().read_text(encoding="utf-8"))
    assert "no built-in system line" in data["formats"]["phi4-mini-instruct"]["description"]
    assert "hard-codes the system line" in data["formats"]["phi4-mini"]["description"]
    instruct = next(m for m in data["models"] if m["id"] == "phi-4-mini-instruct")
    assert instruct["format"] == "phi4-mini-instruct"
