"""Saving as PyTorch does: autograd.save / autograd.load (no pickle, ever) and nn.save / nn.load to .safetensors."""

from __future__ import annotations

import io
import json
import math
import pickle
import struct
import sys
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import autograd
import nn
from autograd import Tensor
from autograd.device import device
from autograd.serialization import load, save
from nn import optim

CANNOT_READ = "autograd.load cannot read"


def two_layer() -> nn.Sequential:
    return nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 2))


def trained_adam() -> tuple[nn.Sequential, optim.Adam]:
    model = two_layer()
    opt = optim.Adam(model.parameters(), lr=0.01)
    for _ in range(2):
        opt.zero_grad()
        (model(autograd.tensor(np.linspace(-1.0, 1.0, 6).reshape(2, 3))) ** 2).sum().backward()
        opt.step()
    return model, opt


def assert_same(loaded: Any, expected: Any) -> None:
    """Equal values and equal types, all the way down; arrays and tensors come back as Tensors of the same dtype."""
    if isinstance(expected, (Tensor, np.ndarray)):
        want = expected.numpy() if isinstance(expected, Tensor) else expected
        assert type(loaded) is Tensor and loaded.dtype == want.dtype and loaded.shape == want.shape
        np.testing.assert_array_equal(loaded.numpy(), want)
        return
    assert type(loaded) is type(expected), (loaded, expected)
    if isinstance(expected, dict):
        assert list(loaded) == list(expected)
        assert all(type(a) is type(b) for a, b in zip(loaded, expected))
        for key in expected:
            assert_same(loaded[key], expected[key])
    elif isinstance(expected, (list, tuple)):
        assert len(loaded) == len(expected)
        for a, b in zip(loaded, expected):
            assert_same(a, b)
    elif isinstance(expected, float) and math.isnan(expected):
        assert math.isnan(loaded)
    elif isinstance(expected, np.generic):
        assert loaded.dtype == expected.dtype and loaded == expected
    else:
        assert loaded == expected and str(loaded) == str(expected)  # str tells -0.0 from 0.0


# ----------------------------------------------------------------------------- autograd.save / load round trips


@pytest.mark.parametrize("name", ["model.pth", "ckpt.pt", "weights", "w.npz"])
def test_a_state_dict_round_trips_under_any_name_and_loads_into_a_model(tmp_path: Path, name: str) -> None:
    model = two_layer()
    save(model.state_dict(), tmp_path / name)
    loaded = load(tmp_path / name)
    assert_same(loaded, model.state_dict())
    fresh = two_layer()
    fresh.load_state_dict(loaded)
    x = autograd.tensor(np.linspace(-2.0, 2.0, 9).reshape(3, 3))
    np.testing.assert_array_equal(fresh(x).numpy(), model(x).numpy())
    assert [p.name for p in tmp_path.iterdir()] == [name]  # no temporary file left behind


def test_nested_optimiser_like_state_round_trips_with_exact_types(tmp_path: Path) -> None:
    state = {
        "state": {
            0: {"step": 3, "exp_avg": np.arange(6, dtype=np.float32).reshape(2, 3), "done": True},
            1: {"step": 3, "exp_avg": autograd.tensor([0.5, -0.25])},
        },
        "param_groups": [{"lr": 0.1, "betas": (0.9, 0.999), "params": [0, 1], "foreach": None, "name": "adam é"}],
        "epoch": 12,
        "big": 2**70,
        "specials": [math.inf, -math.inf, math.nan, -0.0, 1e-310, 0.1],
        "scalars": (np.float32(0.5), np.int64(-7), np.bool_(True), np.uint8(200)),
        "empty": {"list": [], "tuple": (), "dict": {}},
    }
    save(state, tmp_path / "opt.pt")
    assert_same(load(tmp_path / "opt.pt"), state)


@pytest.mark.parametrize(
    "array",
    [
        np.array([[1.5, -2.0], [0.0, 3.25]], dtype=np.float32),
        np.array([-(2**62), 0, 2**62], dtype=np.int64),
        np.array([True, False, True]),
        np.array([1, 255], dtype=np.uint8),
        np.array([0.1, 65504.0], dtype=np.float16),
        np.array(2.5),
        np.zeros((0, 3), dtype=np.int32),
        np.arange(6.0).reshape(2, 3).T,  # not contiguous
        np.arange(4, dtype=">f4"),  # big-endian
    ],
    ids=["float32", "int64", "bool", "uint8", "float16", "0-d", "empty", "transposed", "big-endian"],
)
def test_arrays_and_tensors_keep_dtype_shape_and_values(tmp_path: Path, array: np.ndarray) -> None:
    save({"array": array, "tensor": autograd.tensor(array, dtype=array.dtype)}, tmp_path / "t.pt")
    loaded = load(tmp_path / "t.pt")
    for key in ("array", "tensor"):
        expected = array.dtype if key == "array" else array.dtype.newbyteorder("=")  # tensors hold native order
        assert type(loaded[key]) is Tensor and loaded[key].dtype == expected and loaded[key].shape == array.shape
        np.testing.assert_array_equal(loaded[key].numpy(), array)
        assert not loaded[key].requires_grad


def test_a_tensor_that_requires_grad_comes_back_requiring_grad_and_shared_tensors_stay_shared(tmp_path: Path) -> None:
    w = autograd.tensor([1.0, 2.0], requires_grad=True)
    save({"w": w, "same": [w], "copy": autograd.tensor([1.0, 2.0])}, tmp_path / "t.pt")
    loaded = load(tmp_path / "t.pt")
    assert loaded["w"].requires_grad and loaded["w"].is_leaf and loaded["w"].tolist() == [1.0, 2.0]
    assert loaded["same"][0] is loaded["w"] and loaded["copy"] is not loaded["w"]
    assert not loaded["copy"].requires_grad
    assert len([n for n in zipfile.ZipFile(tmp_path / "t.pt").namelist() if n.endswith(".npy")]) == 2


def test_a_top_level_tensor_or_number_round_trips(tmp_path: Path) -> None:
    save(autograd.tensor([[1, 2]], dtype=np.int64), tmp_path / "t")
    assert load(tmp_path / "t").tolist() == [[1, 2]] and load(tmp_path / "t").dtype == np.int64
    save(7, tmp_path / "n")
    assert load(tmp_path / "n") == 7


def test_a_real_optimiser_state_dict_round_trips_and_training_continues_identically(tmp_path: Path) -> None:
    model, opt = trained_adam()
    save({"model": model.state_dict(), "optimizer": opt.state_dict(), "epoch": 2}, tmp_path / "ckpt.pt")
    checkpoint = load(tmp_path / "ckpt.pt")
    assert checkpoint["epoch"] == 2 and checkpoint["optimizer"]["betas"] == (0.9, 0.999)
    fresh = two_layer()
    fresh.load_state_dict(checkpoint["model"])
    fresh_opt = optim.Adam(fresh.parameters(), lr=0.5)
    fresh_opt.load_state_dict(checkpoint["optimizer"])
    assert fresh_opt.lr == 0.01 and fresh_opt.state[0]["step"] == 2
    x = autograd.tensor(np.linspace(-1.0, 1.0, 6).reshape(2, 3))
    for m, o in ((model, opt), (fresh, fresh_opt)):
        o.zero_grad()
        (m(x) ** 2).sum().backward()
        o.step()
    for (key, a), b in zip(model.state_dict().items(), fresh.state_dict().values()):
        np.testing.assert_array_equal(a, b, err_msg=key)


def test_the_same_object_always_gives_the_same_bytes(tmp_path: Path) -> None:
    model, opt = trained_adam()
    save({"m": model.state_dict(), "o": opt.state_dict()}, tmp_path / "a")
    save({"m": model.state_dict(), "o": opt.state_dict()}, tmp_path / "b")
    assert (tmp_path / "a").read_bytes() == (tmp_path / "b").read_bytes()


# ----------------------------------------------------------------------------- file objects


def test_save_and_load_through_binary_file_objects(tmp_path: Path) -> None:
    buffer = io.BytesIO()
    save({"w": np.arange(3.0), "step": 4}, buffer)
    buffer.seek(0)
    loaded = load(buffer)
    assert loaded["w"].tolist() == [0.0, 1.0, 2.0] and loaded["step"] == 4
    with open(tmp_path / "f.pt", "wb") as f:
        save({"w": np.ones(2, dtype=np.float32)}, f)
    with open(tmp_path / "f.pt", "rb") as f:
        assert load(f)["w"].dtype == np.float32


def test_text_mode_files_and_other_targets_are_type_errors(tmp_path: Path) -> None:
    with open(tmp_path / "f.pt", "w") as f, pytest.raises(TypeError, match=r"binary mode: open\(path, 'wb'\)"):
        save({"w": np.ones(1)}, f)
    save({"w": np.ones(1)}, tmp_path / "g.pt")
    with open(tmp_path / "g.pt", encoding="latin-1") as f, pytest.raises(TypeError, match=r"open\(path, 'rb'\)"):
        load(f)
    with pytest.raises(TypeError, match="writes to a path or a binary file object, got int"):
        save({"w": np.ones(1)}, 3)  # type: ignore[arg-type]


def test_a_damaged_file_object_is_named_by_its_name(tmp_path: Path) -> None:
    (tmp_path / "bad.pt").write_bytes(b"PK\x03\x04 not really")
    with open(tmp_path / "bad.pt", "rb") as f, pytest.raises(ValueError, match=rf"{CANNOT_READ} '.*bad\.pt'"):
        load(f)
    with pytest.raises(ValueError, match=rf"{CANNOT_READ} '<BytesIO>': it is empty"):
        load(io.BytesIO())


# ----------------------------------------------------------------------------- weights_only and map_location


def test_weights_only_false_is_refused_before_the_file_is_even_opened(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"never unpickles, so weights_only=False is not supported.*weights_only=True"):
        load(tmp_path / "missing.pt", weights_only=False)
    save({"w": np.ones(1)}, tmp_path / "w.pt")
    assert load(tmp_path / "w.pt", weights_only=None)["w"].tolist() == [1.0]


@pytest.mark.parametrize("location", [None, "cpu", "cpu:0", device("cpu")])
def test_map_location_may_name_the_cpu(tmp_path: Path, location: Any) -> None:
    save({"w": np.ones(2)}, tmp_path / "w.pt")
    assert load(tmp_path / "w.pt", location)["w"].tolist() == [1.0, 1.0]
    assert load(tmp_path / "w.pt", map_location=location)["w"].tolist() == [1.0, 1.0]


def test_map_location_that_is_not_the_cpu_is_refused(tmp_path: Path) -> None:
    save({"w": np.ones(2)}, tmp_path / "w.pt")
    with pytest.raises(RuntimeError, match=r"map_location='cuda'\): device 'cuda' is not available.*CPU only"):
        load(tmp_path / "w.pt", map_location="cuda")
    with pytest.raises(TypeError, match=r"map_location must be None, 'cpu' or autograd.device\('cpu'\), got dict"):
        load(tmp_path / "w.pt", map_location={"cuda:0": "cpu"})


# ----------------------------------------------------------------------------- what cannot be saved


class Opaque:
    pass


@pytest.mark.parametrize(
    ("obj", "fragment"),
    [
        ({"model": nn.Linear(2, 2)}, r"the value at \['model'\] \(a Linear\): save its state_dict\(\) instead"),
        (optim.SGD(nn.Linear(2, 2).parameters(), lr=0.1), r"the object \(a SGD\): save its state_dict\(\) instead"),
        ({"a": [1, Opaque()]}, r"the value at \['a'\]\[1\] \(of type Opaque\): it stores only tensors.*never pickles"),
        ({"s": {1, 2}}, r"the value at \['s'\] \(of type set\)"),
        ({"c": 1 + 2j}, r"the value at \['c'\] \(of type complex\)"),
        ({"z": np.ones(2, dtype=complex)}, r"the value at \['z'\]: it holds dtype complex128"),
        ({"u": np.array(["a"])}, r"the value at \['u'\]: it holds dtype <U1"),
        ({0: {("fc", 1): np.ones(1)}}, r"the key \('fc', 1\) \(a tuple\) of the dict at \[0\]: keys must be strings"),
    ],
    ids=["module", "optimizer", "object", "set", "complex", "complex-array", "strings", "tuple-key"],
)
def test_unsafe_objects_are_refused_naming_where_and_the_old_file_is_kept(
    tmp_path: Path, obj: Any, fragment: str
) -> None:
    save({"w": np.ones(1)}, tmp_path / "w.pt")
    with pytest.raises(TypeError, match=rf"autograd.save cannot store {fragment}"):
        save(obj, tmp_path / "w.pt")
    assert load(tmp_path / "w.pt")["w"].tolist() == [1.0]
    assert [p.name for p in tmp_path.iterdir()] == ["w.pt"]


def test_a_structure_that_contains_itself_is_refused() -> None:
    loop: dict[str, Any] = {"w": np.ones(1)}
    loop["again"] = [loop]
    with pytest.raises(ValueError, match=r"cannot store the value at \['again'\]\[0\]: it contains itself"):
        save(loop, io.BytesIO())


# ----------------------------------------------------------------------------- pickles are never run


_unpickled: list[str] = []


def _mark_unpickled() -> None:
    _unpickled.append("ran")


class _Payload:
    def __reduce__(self) -> tuple[Any, tuple[()]]:
        return _mark_unpickled, ()


def test_a_pickle_is_refused_without_being_unpickled(tmp_path: Path) -> None:
    path = tmp_path / "ckpt.pt"
    path.write_bytes(pickle.dumps({"w": _Payload()}, protocol=4))
    with pytest.raises(ValueError, match=rf"{CANNOT_READ} '.*ckpt\.pt': it is a Python pickle.*never unpickles"):
        load(path)
    assert _unpickled == []


def test_a_torch_save_zip_is_refused_without_being_unpickled(tmp_path: Path) -> None:
    path = tmp_path / "model.pth"
    with zipfile.ZipFile(path, "w") as archive:  # the layout torch.save writes
        archive.writestr("model/data.pkl", pickle.dumps({"w": _Payload()}))
        archive.writestr("model/version", "3\n")
    with pytest.raises(ValueError, match=r"written by torch\.save.*never unpickles.*safetensors\.torch\.save_file"):
        load(path)
    assert _unpickled == []


def test_an_object_array_slipped_into_an_archive_is_refused_without_being_unpickled(tmp_path: Path) -> None:
    path = tmp_path / "w.pt"
    save({"w": np.ones(2)}, path)
    with zipfile.ZipFile(path) as archive:
        document = archive.read("autograd/object.json")
    evil = io.BytesIO()
    np.save(evil, np.array([_Payload()], dtype=object), allow_pickle=True)
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("autograd/object.json", document)
        archive.writestr("autograd/tensors/0.npy", evil.getvalue())
    with pytest.raises(ValueError, match=r"member 'autograd/tensors/0\.npy' is not a plain numeric array"):
        load(path)
    assert _unpickled == []


# ----------------------------------------------------------------------------- damaged and foreign files


def _archive(document: Any, members: dict[str, bytes] | None = None) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("autograd/object.json", json.dumps(document))
        for name, data in (members or {}).items():
            archive.writestr(name, data)
    return buffer.getvalue()


def _npy(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, array)
    return buffer.getvalue()


def _bad(kind: str, good: bytes) -> bytes:
    header = {"format": "autograd.save", "version": 1}
    return {
        "empty": b"",
        "truncated": good[: len(good) // 2],
        "text": b"these are not weights\n",
        "random": np.random.default_rng(0).integers(0, 256, 500, dtype=np.uint8).tobytes(),
        "other-zip": _archive_without_object(),
        "npz": _npz(),
        "bad-json": _archive_raw(b"{not json"),
        "not-ours": _archive({"format": "something else", "version": 1, "object": 1}),
        "newer": _archive({**header, "version": 2, "object": 1}),
        "unknown-tag": _archive({**header, "object": {"pickle": "x"}}),
        "missing-array": _archive({**header, "object": {"tensor": 0}}),
        "extra-member": _archive({**header, "object": 1}, {"autograd/tensors/0.npy": _npy(np.ones(1))}),
        "strings": _archive({**header, "object": {"tensor": 0}}, {"autograd/tensors/0.npy": _npy(np.array(["a"]))}),
    }[kind]


def _archive_raw(document: bytes) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("autograd/object.json", document)
    return buffer.getvalue()


def _archive_without_object() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("README.txt", "hello")
    return buffer.getvalue()


def _npz() -> bytes:
    buffer = io.BytesIO()
    np.savez(buffer, w=np.ones(2))
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("kind", "reason"),
    [
        ("empty", "it is empty"),
        ("truncated", "it is damaged"),
        ("text", "it is not a file written by autograd.save"),
        ("random", "it is not a file written by autograd.save"),
        ("other-zip", "a zip archive without autograd/object.json"),
        ("npz", r"a \.npz archive of arrays, as nn\.save writes; read it with nn\.load"),
        ("bad-json", "it is damaged"),
        ("not-ours", "its autograd/object.json is not the one autograd.save writes"),
        ("newer", r"written by a newer autograd \(format version 2\)"),
        ("unknown-tag", r"holds an entry autograd.save does not write: \{\"pickle\": \"x\"\}"),
        ("missing-array", r"the member 'autograd/tensors/0\.npy' is missing"),
        ("extra-member", r"unexpected members \['autograd/tensors/0\.npy'\]"),
        ("strings", r"holds an array of dtype <U1, not numbers"),
    ],
)
def test_a_damaged_or_foreign_file_is_a_value_error_naming_it(tmp_path: Path, kind: str, reason: str) -> None:
    save({"w": np.arange(100.0)}, tmp_path / "good.pt")
    path = tmp_path / f"{kind}.pt"
    path.write_bytes(_bad(kind, (tmp_path / "good.pt").read_bytes()))
    with pytest.raises(ValueError, match=rf"{CANNOT_READ} '{path}': (.* )?{reason}"):
        load(path)


def test_a_missing_file_stays_file_not_found(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match=r"missing\.pt"):
        load(tmp_path / "missing.pt")


# ----------------------------------------------------------------------------- nn.save / nn.load as .safetensors


@pytest.fixture
def st() -> Any:
    return pytest.importorskip("safetensors.numpy")


SAFETENSORS_STATE = {
    "float32": np.array([[1.5, -2.0, 0.1]], dtype=np.float32),
    "float64": np.array([0.1, -1e300]),
    "float16": np.array([0.5, 65504.0], dtype=np.float16),
    "int64": np.array([-(2**62), 2**62], dtype=np.int64),
    "int8": np.array([-128, 127], dtype=np.int8),
    "uint8": np.array([0, 255], dtype=np.uint8),
    "bool": np.array([True, False]),
    "scalar": np.array(3, dtype=np.int32),
    "empty": np.zeros((0, 2), dtype=np.float32),
    "transposed": np.arange(6.0).reshape(2, 3).T,
    "big-endian": np.arange(3, dtype=">f4"),
}


def test_safetensors_round_trip_keeps_exact_dtypes_and_values(tmp_path: Path, st: Any) -> None:
    nn.save(SAFETENSORS_STATE, tmp_path / "w.safetensors")
    loaded = nn.load(tmp_path / "w.safetensors")
    assert sorted(loaded) == sorted(SAFETENSORS_STATE)
    for key, array in SAFETENSORS_STATE.items():
        assert loaded[key].dtype == array.dtype.newbyteorder("<") and loaded[key].shape == array.shape, key
        np.testing.assert_array_equal(loaded[key], array, err_msg=key)
        assert loaded[key].flags.writeable
    direct = st.load((tmp_path / "w.safetensors").read_bytes())  # plain safetensors reads the same
    for key, array in SAFETENSORS_STATE.items():
        np.testing.assert_array_equal(direct[key], array, err_msg=key)
        assert direct[key].dtype == array.dtype.newbyteorder("<"), key
    assert [p.name for p in tmp_path.iterdir()] == ["w.safetensors"]


def test_a_model_saved_as_safetensors_loads_into_the_same_model(tmp_path: Path, st: Any) -> None:
    model = two_layer()
    nn.save(model, tmp_path / "Model.SafeTensors")
    direct = st.load((tmp_path / "Model.SafeTensors").read_bytes())
    assert {k: v.shape for k, v in direct.items()} == {
        "0.weight": (4, 3), "0.bias": (4,), "2.weight": (2, 4), "2.bias": (2,)
    }  # fmt: skip
    fresh = two_layer()
    fresh.load_state_dict(nn.load(tmp_path / "Model.SafeTensors"))
    x = autograd.tensor(np.linspace(-2.0, 2.0, 9).reshape(3, 3))
    np.testing.assert_array_equal(fresh(x).numpy(), model(x).numpy())


def test_a_safetensors_file_written_elsewhere_is_read(tmp_path: Path, st: Any) -> None:
    (tmp_path / "hub.safetensors").write_bytes(st.save({"weight": np.full((2, 3), 0.25, dtype=np.float32)}))
    loaded = nn.load(tmp_path / "hub.safetensors")
    assert loaded["weight"].dtype == np.float32 and loaded["weight"].tolist() == [[0.25] * 3] * 2


@pytest.mark.parametrize(
    ("state", "error", "fragment"),
    [
        ({"c": np.ones(2, dtype=np.complex64)}, TypeError, r"'c' has dtype complex64, which safetensors cannot store"),
        ({"q": np.ones(2, dtype=np.longdouble)}, TypeError, r"'q' has dtype float128, which safetensors cannot store"),
        ({"__metadata__": np.ones(1)}, ValueError, r"the key '__metadata__' is reserved by the safetensors format"),
        ({3: np.ones(1)}, TypeError, r"keys must be strings, got 3"),
        ({"s": "text"}, TypeError, r"the value of 's' is an array of dtype <U4"),
    ],
    ids=["complex", "longdouble", "metadata-key", "int-key", "string"],
)
def test_safetensors_save_refuses_what_it_cannot_store_and_writes_nothing(
    tmp_path: Path, st: Any, state: dict[Any, Any], error: type[Exception], fragment: str
) -> None:
    if np.dtype(np.longdouble).itemsize == 8 and "q" in state:
        pytest.skip("longdouble is float64 on this platform")
    with pytest.raises(error, match=fragment):
        nn.save(state, tmp_path / "w.safetensors")
    assert list(tmp_path.iterdir()) == []


def _safetensors_header(header: dict[str, Any], body: bytes) -> bytes:
    encoded = json.dumps(header).encode()
    return struct.pack("<Q", len(encoded)) + encoded + body


@pytest.mark.parametrize(
    ("content", "fragment"),
    [
        (b"", "is not a valid safetensors file"),
        (b"these are not weights", "is not a valid safetensors file"),
        (_safetensors_header({"w": {"dtype": "F32", "shape": [3], "data_offsets": [0, 12]}}, b"\0" * 8),
         "is not a valid safetensors file"),
        (_safetensors_header({"w": {"dtype": "BF16", "shape": [2], "data_offsets": [0, 4]}}, b"\0" * 4),
         "holds a tensor of dtype BF16, which numpy cannot represent; convert it to float32"),
    ],
    ids=["empty", "text", "truncated", "bfloat16"],
)  # fmt: skip
def test_an_invalid_safetensors_file_is_a_value_error_naming_it(
    tmp_path: Path, st: Any, content: bytes, fragment: str
) -> None:
    path = tmp_path / "w.safetensors"
    path.write_bytes(content)
    with pytest.raises(ValueError, match=rf"'{path}' {fragment}"):
        nn.load(path)


def test_a_npz_saved_under_a_safetensors_name_is_not_valid_safetensors(tmp_path: Path, st: Any) -> None:
    nn.save({"w": np.ones(2)}, tmp_path / "w.npz")
    (tmp_path / "w.npz").rename(tmp_path / "w.safetensors")
    with pytest.raises(ValueError, match=r"'.*w\.safetensors' is not a valid safetensors file"):
        nn.load(tmp_path / "w.safetensors")


def test_autograd_load_of_a_safetensors_file_points_to_nn_load(tmp_path: Path, st: Any) -> None:
    nn.save({"w": np.ones(2)}, tmp_path / "w.safetensors")
    with pytest.raises(ValueError, match=r"it is a safetensors file; read it with nn\.load"):
        load(tmp_path / "w.safetensors")


def test_without_the_safetensors_package_the_error_says_how_to_install_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "safetensors", None)  # what an environment without the package does
    monkeypatch.setitem(sys.modules, "safetensors.numpy", None)
    install = r"pip install safetensors \(or pip install seedgrad\[safetensors\]\)"
    with pytest.raises(ImportError, match=install):
        nn.save({"w": np.ones(2)}, tmp_path / "w.safetensors")
    assert list(tmp_path.iterdir()) == []
    (tmp_path / "w.safetensors").write_bytes(b"anything")
    with pytest.raises(ImportError, match=install):
        nn.load(tmp_path / "w.safetensors")
    nn.save({"w": np.ones(2)}, tmp_path / "w.npz")  # other names need nothing more
    assert nn.load(tmp_path / "w.npz")["w"].tolist() == [1.0, 1.0]
