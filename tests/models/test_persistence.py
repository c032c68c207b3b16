import json
import os
import shutil
import stat
import struct
import threading
from pathlib import Path

import numpy as np
import pytest
import safetensors
import safetensors.torch
import torch

import deepsad
import deepsad.models.persistence
from deepsad import DeepSAD, DeepSVDD
from deepsad.models import persistence
from tests.conftest import FAST
from tests.estimators import blobs as make_blobs


def test_image_model_round_trip(tmp_path):
    X = np.random.default_rng(0).random((20, 3, 32, 32), dtype=np.float32)
    model = DeepSAD(epochs=1, ae_epochs=1, batch_size=8, ae_batch_size=8, random_state=0).fit(X)
    model.save(tmp_path / "m")
    np.testing.assert_array_equal(deepsad.load(tmp_path / "m").anomaly_score(X), model.anomaly_score(X))


def test_file_records_version_and_center(tmp_path, blobs):
    X, y, _ = blobs
    DeepSAD(**FAST).fit(X, y).save(tmp_path / "m")
    header = json.loads((tmp_path / "m").read_bytes()[8 : 8 + struct.unpack("<Q", (tmp_path / "m").read_bytes()[:8])[0]])
    meta = json.loads(header["__metadata__"]["deepsad"])
    assert meta["library_version"] == deepsad.__version__
    assert "center" in header and meta["params"]["eta"] == 1.0


def test_custom_network_needs_the_module_at_load(tmp_path, blobs):
    X, _, _ = blobs
    encoder = torch.nn.Linear(6, 3, bias=False)
    model = DeepSAD(network=encoder, pretrain=False, **FAST).fit(X)
    model.save(tmp_path / "m")
    with pytest.raises(ValueError, match="pass a fresh instance"):
        deepsad.load(tmp_path / "m")
    loaded = deepsad.load(tmp_path / "m", network=torch.nn.Linear(6, 3, bias=False))
    np.testing.assert_array_equal(loaded.anomaly_score(X), model.anomaly_score(X))
    with pytest.raises(ValueError, match="do not fit the network"):
        deepsad.load(tmp_path / "m", network=torch.nn.Linear(6, 4, bias=False))


def test_damaged_and_foreign_files_are_refused(tmp_path, blobs):
    X, _, _ = blobs
    path = tmp_path / "m"
    DeepSAD(**FAST).fit(X).save(path)
    data = bytearray(path.read_bytes())
    data[-3] ^= 0xFF
    (tmp_path / "flipped").write_bytes(bytes(data))
    with pytest.raises(ValueError, match="damaged"):
        deepsad.load(tmp_path / "flipped")
    (tmp_path / "truncated").write_bytes(bytes(data[: len(data) // 2]))
    with pytest.raises(ValueError, match="not a readable deepsad model"):
        deepsad.load(tmp_path / "truncated")
    (tmp_path / "pickle").write_bytes(b"\x80\x04K\x01.")
    with pytest.raises(ValueError, match="not a readable"):
        deepsad.load(tmp_path / "pickle")
    with pytest.raises(FileNotFoundError):
        deepsad.load(tmp_path / "absent")


def test_incompatible_format_version_is_refused(tmp_path, blobs, monkeypatch):

    X, _, _ = blobs
    monkeypatch.setattr(deepsad.models.persistence, "MODEL_FORMAT_VERSION", 99)
    DeepSAD(**FAST).fit(X).save(tmp_path / "m")
    monkeypatch.undo()
    with pytest.raises(ValueError, match="format 99"):
        deepsad.load(tmp_path / "m")


def test_save_is_atomic(tmp_path, blobs, monkeypatch):
    X, _, _ = blobs
    model = DeepSAD(**FAST).fit(X)
    path = tmp_path / "m"
    model.save(path)
    before = path.read_bytes()

    def broken_fsync(_):
        raise OSError("disk full")

    monkeypatch.setattr("os.fsync", broken_fsync)
    with pytest.raises(OSError):
        model.save(path)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["m"]


def test_only_registered_estimators_are_saved(tmp_path, blobs):
    X, _, _ = blobs

    class MyDeepSAD(DeepSAD):
        pass

    model = MyDeepSAD(**FAST).fit(X)
    with pytest.raises(TypeError, match="MyDeepSAD cannot be saved"):
        model.save(tmp_path / "m")


# ------------------------------------------------ tampered files: every byte is checked
QUICK = dict(epochs=1, ae_epochs=1, batch_size=32, ae_batch_size=32, random_state=0)


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    """A DeepSAD on tables (so with a fitted scaler) and its model file; copy before editing."""
    X, y, _ = make_blobs()
    model = DeepSAD(**QUICK).fit(X, y)
    path = tmp_path_factory.mktemp("saved") / "model.safetensors"
    model.save(path)
    return model, path


def copied(saved, tmp_path):
    path = tmp_path / "model.safetensors"
    shutil.copyfile(saved[1], path)
    return path


def read_parts(path):
    """The model file's metadata (parsed JSON), its tensors and its stored digest."""
    data = path.read_bytes()
    entries = json.loads(data[8 : 8 + int.from_bytes(data[:8], "little")])["__metadata__"]
    metadata = json.loads(entries[persistence.METADATA_KEY])
    return metadata, safetensors.torch.load(data), entries.get(persistence.DIGEST_KEY)


def rewrite(path, edit, *, recompute_digest: bool) -> None:
    """Rewrite the model file after ``edit(metadata, tensors)``: keeping the stored digest (a
    damaged or hand-edited file), or recomputing it with the library's own digest function
    (a deliberate forgery, which only the checks of every value can refuse)."""
    metadata, tensors, digest = read_parts(path)
    edit(metadata, tensors)
    text = json.dumps(metadata)
    if recompute_digest:
        digest = persistence.model_digest(text, tensors)
    header = {persistence.METADATA_KEY: text, persistence.DIGEST_KEY: digest}
    path.write_bytes(safetensors.torch.save(tensors, metadata=header))


def fitted_entry(key, value):
    return lambda metadata, tensors: metadata["fitted"].__setitem__(key, value)


def param(key, value):
    return lambda metadata, tensors: metadata["params"].__setitem__(key, value)


def tensor(key, make):
    return lambda metadata, tensors: tensors.__setitem__(key, make(tensors[key]))


def removed(*keys):
    """Delete metadata[keys[0]]...[keys[-1]]."""
    def edit(metadata, tensors):
        container = metadata
        for key in keys[:-1]:
            container = container[key]
        del container[keys[-1]]
    return edit


def removed_tensor(name):
    return lambda metadata, tensors: tensors.pop(name)


def without_scaler(metadata, tensors):
    for key in [k for k in tensors if k.startswith("scaler.")]:
        del tensors[key]


def with_nan_at_zero(t):
    t = t.clone()
    t.view(-1)[0] = float("nan")
    return t


TAMPERED = {
    # fitted values: JSON type and range
    "threshold NaN": (fitted_entry("threshold_", float("nan")), r"'threshold_' must be a finite number; got nan"),
    "threshold string": (fitted_entry("threshold_", "1.0"), r"'threshold_' must be a finite number"),
    "input_shape_ not a list": (fitted_entry("input_shape_", 6), r"'input_shape_' must be a sample's shape"),
    "input_shape_ of 2 dims": (fitted_entry("input_shape_", [6, 1]), r"'input_shape_' must be a sample's shape"),
    "n_features_in_ disagrees": (fitted_entry("n_features_in_", 7), r"'n_features_in_' \(7\) differs"),
    "rep_dim_ float": (fitted_entry("rep_dim_", 8.0), r"'rep_dim_' must be a positive int"),
    "rep_dim_ disagrees": (fitted_entry("rep_dim_", 9), r"'rep_dim_' is 9, but the network built is 8"),
    "network_name_ int": (fitted_entry("network_name_", 3), r"'network_name_' must be a string or null"),
    "network_options_ list": (fitted_entry("network_options_", []), r"'network_options_' must be a JSON object"),
    "history_ list": (fitted_entry("history_", []), r"'history_' must be a JSON object"),
    "feature names too few": (fitted_entry("feature_names_in_", ["a"]), r"'feature_names_in_' names 1 features"),
    "unknown fitted value": (fitted_entry("predict", 0), r"fitted values include 'predict'"),
    "missing fitted value": (removed("fitted", "threshold_"), r"'threshold_' is missing"),
    # the metadata's own entries and the parameters
    "missing params": (removed("params"), r"has no 'params' entry"),
    "fitted not an object": (lambda m, t: m.__setitem__("fitted", []), r"'fitted' must be a JSON object; got \[\]"),
    "estimator not a string": (lambda m, t: m.__setitem__("estimator", 1), r"'estimator' must be a JSON string"),
    "unknown estimator": (lambda m, t: m.__setitem__("estimator", "Forest"), r"unknown estimator 'Forest'"),
    "unknown parameter": (param("colour", "red"), r"'colour', which is not a parameter of DeepSAD"),
    "missing parameter": (removed("params", "eta"), r"parameters lack 'eta'"),
    "parameter of the wrong type": (param("eta", "one"), r"'eta' parameter of DeepSAD"),
    "rep_dim parameter": (param("rep_dim", 16), r"weights do not fit the network: the tensor 'center'"),
    "hidden_sizes parameter": (param("hidden_sizes", [64, 16]), r"weights do not fit the network"),
    # tensors: names, dtypes, shapes, finite values
    "center of 9": (tensor("center", lambda t: torch.zeros(9)),
                    r"tensor 'center' is float32 of shape \(9,\) in the file, where float32 of shape \(8,\)"),
    "center float64": (tensor("center", lambda t: t.double()), r"tensor 'center' is float64"),
    "center NaN": (tensor("center", with_nan_at_zero), r"tensor 'center' holds non-finite values"),
    "weight NaN": (tensor("encoder.code.weight", with_nan_at_zero), r"'encoder.code.weight' holds non-finite"),
    "missing tensor": (removed_tensor("center"), r"the file lacks the tensor 'center'"),
    "extra tensor": (lambda m, t: t.__setitem__("extra", torch.zeros(1)), r"holds a tensor 'extra'"),
    "scaler.mean_ of 7": (tensor("scaler.mean_", lambda t: torch.zeros(7, dtype=torch.float64)),
                          r"tensor 'scaler.mean_' is float64 of shape \(7,\) in the file, where float64 of shape \(6,\)"),
    "scaler.scale_ zero": (tensor("scaler.scale_", torch.zeros_like), r"'scaler.scale_' must be positive"),
    "scaler.range_ infinite": (tensor("scaler.range_", lambda t: torch.full_like(t, float("inf"))),
                               r"'scaler.range_' holds non-finite"),
    "scaler missing": (without_scaler, r"holds the scaler tensors \[\]; a model with scaler='auto'"),
}


@pytest.mark.parametrize("case", sorted(TAMPERED))
def test_an_edit_without_the_checksum_is_refused_as_damage(saved, tmp_path, case):
    path = copied(saved, tmp_path)
    rewrite(path, TAMPERED[case][0], recompute_digest=False)
    with pytest.raises(ValueError, match="is damaged: its contents do not match the checksum"):
        deepsad.load(path)


@pytest.mark.parametrize("case", sorted(TAMPERED))
def test_an_edit_with_a_recomputed_checksum_is_refused_by_the_value_checks(saved, tmp_path, case):
    path = copied(saved, tmp_path)
    rewrite(path, TAMPERED[case][0], recompute_digest=True)
    with pytest.raises(ValueError, match=TAMPERED[case][1]) as error:
        deepsad.load(path)
    assert str(error.value).startswith(str(path)) and "\n" not in str(error.value)


def test_the_checksum_covers_a_threshold_that_is_still_valid(saved, tmp_path):
    path = copied(saved, tmp_path)
    rewrite(path, fitted_entry("threshold_", 1e9), recompute_digest=False)
    with pytest.raises(ValueError, match="damaged"):
        deepsad.load(path)
    # A forger who recomputes the checksum is not stopped (README: the checksum is no
    # signature); the value itself is valid.
    rewrite(path, fitted_entry("threshold_", 1e9), recompute_digest=True)
    assert deepsad.load(path).threshold_ == 1e9


def test_the_checksum_covers_dtypes_and_shapes_not_only_bytes(saved, tmp_path):
    path = copied(saved, tmp_path)
    rewrite(path, tensor("center", lambda t: t.reshape(2, 4)), recompute_digest=False)
    with pytest.raises(ValueError, match="damaged"):
        deepsad.load(path)


def test_a_fitted_value_of_the_objective_is_checked(tmp_path):
    X, _, _ = make_blobs()
    path = tmp_path / "m"
    DeepSVDD(objective="soft-boundary", nu=0.2, **QUICK).fit(X).save(path)
    rewrite(path, fitted_entry("radius_", float("nan")), recompute_digest=True)
    with pytest.raises(ValueError, match=r"'radius_' must be a finite number; got nan"):
        deepsad.load(path)


def test_a_huge_input_shape_is_refused_before_a_network_is_allocated(tmp_path, monkeypatch):
    X, _, _ = make_blobs()
    path = tmp_path / "m"
    DeepSAD(scaler=None, **QUICK).fit(X).save(path)  # no scaler: the network check decides

    def huge(n_features):
        def edit(metadata, tensors):
            metadata["fitted"].update(input_shape_=[n_features], n_features_in_=n_features)
        return edit

    built_on = []
    build = DeepSAD._build_networks

    def recorded_build(self):
        built_on.append(self.device_.type)
        return build(self)

    monkeypatch.setattr(DeepSAD, "_build_networks", recorded_build)
    # The probe's file: 6 KB asking for a first layer of 2e6 × 128 weights (2.3 GB before).
    rewrite(path, huge(2_000_000), recompute_digest=True)
    with pytest.raises(ValueError, match=r"do not fit the network: the tensor 'center' is float32 of shape \(8,\)"):
        deepsad.load(path)
    assert built_on == ["meta"]  # described on the meta device only: no memory allocated
    rewrite(path, huge(100_000_000), recompute_digest=True)
    with pytest.raises(ValueError, match=r"'input_shape_' asks for samples of 100000000 values"):
        deepsad.load(path)
    assert built_on == ["meta"]


def test_files_of_format_1_are_read_with_the_same_checks(tmp_path):
    regression = Path(__file__).parent / "regression" / "deepsad.safetensors"
    path = tmp_path / "m"
    shutil.copyfile(regression, path)
    metadata, tensors, _ = read_parts(path)
    assert metadata["format_version"] == 1
    # Format 1's checksum covers the tensors only: an edited value is refused by its check.
    metadata["fitted"]["threshold_"] = float("nan")
    path.write_bytes(safetensors.torch.save(tensors, metadata={"deepsad": json.dumps(metadata)}))
    with pytest.raises(ValueError, match="'threshold_' must be a finite number"):
        deepsad.load(path)


def test_a_format_2_file_relabelled_as_format_1_is_refused_as_damage(saved, tmp_path):
    path = copied(saved, tmp_path)
    rewrite(path, lambda metadata, tensors: metadata.__setitem__("format_version", 1), recompute_digest=False)
    with pytest.raises(ValueError, match="damaged"):
        deepsad.load(path)


def test_headers_and_files_out_of_bounds_are_refused(saved, tmp_path, monkeypatch):
    path = tmp_path / "m"
    path.write_bytes((2**62).to_bytes(8, "little") + b"{}")
    with pytest.raises(ValueError, match="not a readable deepsad model file .*header length"):
        deepsad.load(path)
    monkeypatch.setattr(persistence, "MAX_FILE_BYTES", 1000)
    with pytest.raises(ValueError, match="more than a deepsad model file may"):
        deepsad.load(saved[1])


def test_a_diverged_model_is_not_saved(tmp_path):
    X, _, _ = make_blobs()
    model = DeepSAD(**QUICK).fit(X)
    model.threshold_ = float("nan")
    with pytest.raises(ValueError, match="NaN or infinite values in threshold_"):
        model.save(tmp_path / "m")
    assert list(tmp_path.iterdir()) == []


# ------------------------------------------------------------ writing and reading files
def test_a_failed_save_leaves_no_temporary_file(saved, tmp_path):
    target = tmp_path / "folder"
    target.mkdir()
    with pytest.raises(OSError):
        saved[0].save(target)  # renaming a file over a folder fails
    assert [p.name for p in tmp_path.iterdir()] == ["folder"] and list(target.iterdir()) == []


@pytest.mark.parametrize(("umask", "mode"), [(0o022, 0o644), (0o077, 0o600)])
def test_a_model_file_has_the_mode_the_umask_gives(saved, tmp_path, umask, mode):
    previous = os.umask(umask)
    try:
        saved[0].save(tmp_path / "m")
    finally:
        os.umask(previous)
    assert stat.S_IMODE((tmp_path / "m").stat().st_mode) == mode


def test_a_load_reads_the_file_once(saved, tmp_path, monkeypatch):
    """A file saved over between two reads of one load (the concurrency probe's false
    "damaged" errors) cannot mix two versions: the load reads the bytes once."""
    path = copied(saved, tmp_path)
    other = DeepSAD(**{**QUICK, "random_state": 1}).fit(make_blobs()[0])
    read_bytes = Path.read_bytes

    def read_then_save_over(self):
        data = read_bytes(self)
        other.save(path)
        return data

    monkeypatch.setattr(Path, "read_bytes", read_then_save_over)
    monkeypatch.setattr(safetensors, "safe_open", None)  # no second opening by name
    loaded = deepsad.load(path)
    X = make_blobs()[0]
    np.testing.assert_array_equal(loaded.anomaly_score(X), saved[0].anomaly_score(X))


def test_loads_during_repeated_saves_see_one_whole_file(saved, tmp_path):
    X = make_blobs()[0]
    models = [saved[0], DeepSAD(**{**QUICK, "random_state": 1}).fit(X)]
    expected = [m.anomaly_score(X) for m in models]
    path = copied(saved, tmp_path)
    done = threading.Event()

    def save_repeatedly():
        i = 0
        while not done.is_set():
            models[i % 2].save(path)
            i += 1

    saver = threading.Thread(target=save_repeatedly)
    saver.start()
    try:
        for _ in range(50):
            scores = deepsad.load(path).anomaly_score(X)
            assert any(np.array_equal(scores, e) for e in expected)
    finally:
        done.set()
        saver.join()
    assert [p.name for p in tmp_path.iterdir()] == ["model.safetensors"]
