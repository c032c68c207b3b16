import json
import struct

import numpy as np
import pytest
import torch

import deepsad
import deepsad.models.persistence
from deepsad import DeepSAD
from tests.conftest import FAST


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
