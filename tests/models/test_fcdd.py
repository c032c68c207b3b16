"""FCDD's own behaviour: its heatmaps find what is anomalous, masks and synthetic anomalies
teach it, its networks' receptive fields are traced, and the heatmap keeps the input checks of
the scores. The contract every detector keeps runs on FCDD with images in
tests/test_contract.py."""

import numpy as np
import pytest
import torch
from sklearn.base import clone
from sklearn.metrics import roc_auc_score

import deepsad
from deepsad import FCDD

FAST = dict(epochs=15, lr=1e-3, random_state=0)


def patches(seed=0, n_normal=300, n_anomalous=40):
    """Dim noise images; anomalies carry a bright 7×7 patch at a random place. Returns images,
    truth (1 = anomaly) and the pixel masks of the patches."""
    rng = np.random.default_rng(seed)
    images = (rng.random((n_normal + n_anomalous, 1, 28, 28)) * 0.3).astype(np.float32)
    masks = np.zeros((len(images), 28, 28), dtype=bool)
    for i in range(n_normal, len(images)):
        top, left = rng.integers(0, 21, size=2)
        images[i, :, top : top + 7, left : left + 7] = 1.0
        masks[i, top : top + 7, left : left + 7] = True
    return images, np.r_[np.zeros(n_normal), np.ones(n_anomalous)], masks


@pytest.fixture(scope="module")
def trained():
    images, truth, _ = patches()
    y = np.where(truth == 1, -1, 0)
    y[300 + 20 :] = 0  # half of the anomalies labeled, the rest left unlabeled
    return FCDD(**FAST).fit(images[: 300 + 20], y[: 300 + 20])


def test_images_and_pixels_of_new_anomalies_are_found(trained):
    images, truth, masks = patches(seed=1)
    assert roc_auc_score(truth, trained.anomaly_score(images)) > 0.95
    anomalous = truth == 1
    heat = trained.heatmap(images[anomalous])
    assert heat.shape == (40, 28, 28)
    assert roc_auc_score(masks[anomalous].ravel(), heat.ravel()) > 0.9


def test_a_clone_has_the_parameters_of_the_fitted_model(trained):
    # scikit-learn's checks (tests/test_sklearn_checks.py) fit tables, which FCDD refuses
    assert clone(trained).get_params() == trained.get_params()


def test_save_and_load_give_identical_scores_and_heatmaps(trained, tmp_path):
    images, _, _ = patches(seed=3, n_normal=20, n_anomalous=5)
    trained.save(tmp_path / "fcdd.safetensors")
    loaded = deepsad.load(tmp_path / "fcdd.safetensors")
    assert isinstance(loaded, FCDD)
    np.testing.assert_array_equal(loaded.anomaly_score(images), trained.anomaly_score(images))
    np.testing.assert_array_equal(loaded.heatmap(images), trained.heatmap(images))


def test_a_users_fully_convolutional_network_works_and_sigma_widens_the_heat():
    network = torch.nn.Sequential(torch.nn.Conv2d(3, 4, 3, padding=1, bias=False), torch.nn.LeakyReLU(0.1),
                                  torch.nn.MaxPool2d(2), torch.nn.Conv2d(4, 1, 1, bias=False))
    rng = np.random.default_rng(0)
    images = rng.random((40, 3, 16, 16)).astype(np.float32)
    y = np.r_[np.zeros(36), -np.ones(4)]
    narrow = FCDD(network=network, epochs=2, random_state=0, sigma=0.5).fit(images, y)
    wide = clone(narrow).set_params(network=network, sigma=3.0).fit(images, y)
    assert narrow.rep_dim_ == 64 and narrow.network_name_ is None
    assert narrow.heatmap(images[:2]).shape == (2, 16, 16)
    # a wider Gaussian smooths: neighbouring pixels differ less
    roughness = [np.abs(np.diff(m.heatmap(images[:4]), axis=-1)).mean() / m.heatmap(images[:4]).mean()
                 for m in (narrow, wide)]
    assert roughness[1] < roughness[0]


def test_other_sizes_unpadded_and_same_padded_networks_give_heatmaps_of_the_image_size():
    rng = np.random.default_rng(0)
    images = rng.random((24, 3, 40, 36)).astype(np.float32)
    y = np.r_[np.zeros(20), -np.ones(4)]
    model = FCDD(epochs=1, random_state=0).fit(images, y)
    assert model.heatmap(images[:2]).shape == (2, 40, 36) and model.encode(images[:2]).shape == (2, model.rep_dim_)
    unpadded = torch.nn.Sequential(torch.nn.Conv2d(3, 4, 3, bias=False), torch.nn.MaxPool2d(2),
                                   torch.nn.Conv2d(4, 1, 3, bias=False))
    same = torch.nn.Sequential(torch.nn.Conv2d(3, 4, 3, padding="same", bias=False), torch.nn.MaxPool2d(2),
                               torch.nn.Conv2d(4, 1, 1, bias=False))
    for network in (unpadded, same):
        before = [p.detach().clone() for p in network.parameters()]
        fitted = FCDD(network=network, epochs=1, random_state=0).fit(images, y)
        assert fitted.heatmap(images[:2]).shape == (2, 40, 36)
        assert all(torch.equal(a, b) for a, b in zip(before, network.parameters()))  # the caller's module is untouched


def test_what_fcdd_cannot_explain_is_named():
    with pytest.raises(ValueError, match=r"FCDD explains images: X must have shape \(n_samples, channels"):
        FCDD(epochs=1).fit(np.random.default_rng(0).normal(size=(50, 6)), np.r_[np.zeros(45), -np.ones(5)])
    with pytest.raises(ValueError, match=r"take images of at least 8×8 pixels; got 4×4"):
        FCDD(epochs=1).fit(np.zeros((10, 1, 4, 4), np.float32), np.r_[np.zeros(8), -np.ones(2)])
    with pytest.raises(ValueError, match="y labels every image as an anomaly"):
        FCDD(epochs=1, synthetic_anomalies="confetti").fit(np.zeros((10, 1, 28, 28), np.float32), -np.ones(10))
    two_channels = torch.nn.Conv2d(1, 2, 3, padding=1, bias=False)
    with pytest.raises(ValueError, match=r"must map \(n, c, h, w\) to \(n, 1, u, v\); it gives \(2, 2, 8, 8\)"):
        FCDD(network=two_channels, epochs=1).fit(np.zeros((10, 1, 8, 8), np.float32), np.r_[np.zeros(8), -np.ones(2)])
    linear = torch.nn.Sequential(torch.nn.Conv2d(1, 1, 3, padding=1, bias=False), torch.nn.Upsample(scale_factor=1))
    with pytest.raises(ValueError, match="receptive_field covers convolutions and poolings; the network has a Upsample"):
        FCDD(network=linear, epochs=1).fit(np.zeros((10, 1, 8, 8), np.float32), np.r_[np.zeros(8), -np.ones(2)])
    flat = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(16, 1, bias=False))
    with pytest.raises(ValueError, match="receptive_field covers convolutions and poolings; the network has a Flatten"):
        FCDD(network=flat, epochs=1).fit(np.zeros((10, 1, 4, 4), np.float32), np.r_[np.zeros(8), -np.ones(2)])
    with pytest.raises(ValueError, match="'sigma' parameter"):
        FCDD(sigma=-1.0).fit(np.zeros((10, 1, 28, 28), np.float32))
    with pytest.warns(UserWarning, match="FCDD was given no labeled anomalies"):
        FCDD(epochs=1, synthetic_anomalies=None).fit(np.random.default_rng(0).random((20, 1, 28, 28)).astype(np.float32))
    with pytest.raises(ValueError, match="'synthetic_fraction' parameter"):
        FCDD(synthetic_fraction=0.0).fit(np.zeros((10, 1, 28, 28), np.float32))


def test_without_labeled_anomalies_confetti_noise_is_the_negative_class():
    import warnings

    images, truth, _ = patches(n_normal=300, n_anomalous=40)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no collapse warning: there are negatives now
        model = FCDD(**FAST).fit(images[:300])  # normal images only, no labels
    # trained on confetti, it still finds patches it never saw
    assert roc_auc_score(truth, model.anomaly_score(images)) > 0.9
    again = FCDD(**FAST).fit(images[:300])
    np.testing.assert_array_equal(again.anomaly_score(images[:5]), model.anomaly_score(images[:5]))


def small_patches(rng, n, top_row=False):
    """Dim 16×16 noise images with a bright 4×4 patch at a random place (and, with ``top_row``,
    a bright top row); the patches' masks."""
    images = rng.normal(0.4, 0.05, size=(n, 1, 16, 16)).astype(np.float32)
    masks = np.zeros((n, 16, 16), dtype=bool)
    for i in range(n):
        top, left = rng.integers(0, 12, size=2)
        images[i, 0, top : top + 4, left : left + 4] = 0.95
        masks[i, top : top + 4, left : left + 4] = True
    if top_row:
        images[:, 0, 0, :] = 0.95
    return images, masks


def test_pixel_masks_teach_where_the_anomaly_is_not_only_which_images_hold_one():
    # The labeled anomalies carry the patch and a confounder, a bright top row outside their
    # masks. From image labels alone FCDD may learn the row; from the masks it learns the patch.
    rng = np.random.default_rng(0)
    normal = rng.normal(0.4, 0.05, size=(300, 1, 16, 16)).astype(np.float32)
    anomalous, anomaly_masks = small_patches(rng, 30, top_row=True)
    X, y = np.concatenate([normal, anomalous]), np.r_[np.zeros(300), -np.ones(30)]
    masks = np.concatenate([np.zeros((300, 16, 16), dtype=bool), anomaly_masks])
    test_normal = rng.normal(0.4, 0.05, size=(50, 1, 16, 16)).astype(np.float32)
    test_normal[:, 0, 0, :] = 0.95  # the confounder alone is normal
    test_anomalous, test_masks = small_patches(rng, 50)
    truth = np.r_[np.zeros(50), np.ones(50)]
    image_level = FCDD(epochs=15, lr=1e-3, lr_milestones=(), random_state=0).fit(X, y)
    pixel_level = FCDD(epochs=15, lr=1e-3, lr_milestones=(), random_state=0).fit(X, y, masks=masks)
    test = np.concatenate([test_normal, test_anomalous])
    with_masks = roc_auc_score(truth, pixel_level.anomaly_score(test))
    without = roc_auc_score(truth, image_level.anomaly_score(test))
    assert with_masks > 0.95 and with_masks - without > 0.15
    assert roc_auc_score(test_masks.ravel(), pixel_level.heatmap(test_anomalous).ravel()) > 0.8
    # the model file is that of image-level training: same entries, same scores after loading
    assert set(pixel_level.model_.state_dict()) == set(image_level.model_.state_dict())


def test_masks_combine_with_confetti_and_auxiliary_anomalies():
    rng = np.random.default_rng(1)
    images = rng.normal(0.4, 0.05, size=(60, 1, 16, 16)).astype(np.float32)
    empty = np.zeros((60, 16, 16), dtype=bool)
    # no labeled anomaly: confetti is pasted, with its own masks
    FCDD(epochs=1, random_state=0).fit(images, masks=empty)
    auxiliary, _ = small_patches(rng, 10)
    model = FCDD(epochs=1, random_state=0).fit(images, masks=empty, X_auxiliary=auxiliary)
    assert np.isfinite(model.history_["train"]["loss"]).all()
    # a labeled anomaly with an empty mask counts as anomalous throughout
    y = np.r_[np.zeros(59), -1]
    assert np.isfinite(FCDD(epochs=1, random_state=0).fit(images, y, masks=empty).history_["train"]["loss"]).all()


@pytest.mark.parametrize("masks, y, message", [
    (np.zeros((60, 8, 8)), None, r"masks must have shape \(n_samples, height, width\) = \(60, 16, 16\), .* got \(60, 8, 8\)"),
    (np.zeros((59, 16, 16)), None, r"= \(60, 16, 16\)"),
    (np.full((60, 16, 16), 0.5), None, "masks must be boolean or hold only 0"),
    (np.ones((60, 16, 16), dtype=bool), np.r_[np.zeros(58), -1, -1],
     r"masks mark anomalous pixels in 58 image\(s\) that y does not label as anomalies \(-1\), e.g. rows \[0, 1, 2, 3, 4\]"),
])
def test_wrong_masks_are_named(masks, y, message):
    images = np.random.default_rng(2).random((60, 1, 16, 16)).astype(np.float32)
    with pytest.raises(ValueError, match=message):
        FCDD(epochs=1).fit(images, y, masks=masks)


def test_masks_are_for_fcdd_only():
    from deepsad.models.objective import Objective

    with pytest.raises(TypeError, match="pixel masks are for FCDD"):
        Objective().targets(np.zeros(3, dtype=np.int64), np.zeros((3, 4, 4)))


def test_a_refused_fit_leaves_fcdd_unfitted_not_half_refitted():
    from sklearn.exceptions import NotFittedError

    rng = np.random.default_rng(3)
    small = rng.random((40, 1, 16, 16)).astype(np.float32)
    model = FCDD(epochs=1, random_state=0).fit(small)
    with pytest.raises(ValueError, match="masks must have shape"):
        model.fit(rng.random((40, 3, 20, 20)).astype(np.float32), masks=np.zeros((40, 8, 8)))
    with pytest.raises(NotFittedError):
        model.anomaly_score(small)


def test_fit_many_makes_fcdds_synthetic_anomalies_too():
    import warnings

    from deepsad import fit_many

    images = np.random.default_rng(4).random((40, 1, 16, 16)).astype(np.float32)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        (model,) = fit_many([FCDD(epochs=1, random_state=0)], [images])
    alone = FCDD(epochs=1, random_state=0).fit(images)
    np.testing.assert_allclose(model.anomaly_score(images), alone.anomaly_score(images), rtol=1e-5)


# ------------------------------- the heatmap keeps the contract (tests/test_contract.py) of the scores
def small_fit(**params):
    """A one-epoch FCDD on dim 16×16 noise with 4 labeled patch anomalies; the images and labels."""
    rng = np.random.default_rng(5)
    normal = rng.normal(0.4, 0.05, size=(60, 1, 16, 16)).astype(np.float32)
    anomalous, _ = small_patches(rng, 4)
    X, y = np.concatenate([normal, anomalous]), np.r_[np.zeros(60), -np.ones(4)]
    return FCDD(**({"epochs": 1, "random_state": 0} | params)).fit(X, y), X, y


@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_heatmaps_of_non_finite_images_are_refused(bad):
    model, X, _ = small_fit()
    X_bad = X.copy()
    X_bad[3, 0, 2, 2] = bad
    with pytest.raises(ValueError, match=r"X has (missing values \(NaN\)|infinite values) in 1 of its values"):
        model.heatmap(X_bad)


def test_heatmaps_of_other_shapes_and_before_fit_are_refused():
    from sklearn.exceptions import NotFittedError

    model, _, _ = small_fit()
    with pytest.raises(ValueError, match=r"X holds table rows of shape \(256,\), but FCDD was fitted on images"):
        model.heatmap(np.zeros((2, 256), np.float32))
    with pytest.raises(NotFittedError):
        FCDD().heatmap(np.zeros((2, 1, 16, 16), np.float32))


def test_heatmaps_of_huge_images_are_never_nan_and_an_overflow_is_hot(monkeypatch):
    import warnings

    model, X, _ = small_fit()
    for value in (1e30, -1e30, 3e38):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            assert not np.any(np.isnan(model.heatmap(np.full((2, 1, 16, 16), value, dtype=np.float32)))), value
    monkeypatch.setattr(model.model_, "maps", lambda batch: torch.full((len(batch), 1, 4, 4), torch.nan))
    with pytest.warns(UserWarning, match=r"2 image\(s\) overflowed .* heatmaps are \+inf"):
        assert np.all(model.heatmap(X[:2]) == np.inf)


def test_heatmaps_leave_the_global_random_state_alone():
    model, X, _ = small_fit()
    torch_state, numpy_state = torch.random.get_rng_state(), np.random.get_state()
    model.heatmap(X[:2])
    assert torch.equal(torch.random.get_rng_state(), torch_state)
    assert all(np.array_equal(a, b) for a, b in zip(np.random.get_state(), numpy_state))


@pytest.mark.parametrize("layer, name", [
    (torch.nn.AdaptiveAvgPool2d(1), "AdaptiveAvgPool2d"), (torch.nn.AdaptiveMaxPool2d(2), "AdaptiveMaxPool2d"),
    (torch.nn.PixelShuffle(2), "PixelShuffle"),
    (torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Unflatten(1, (4, 16, 16))), "Flatten"),
])
def test_layers_that_move_or_mix_cells_are_refused(layer, name):
    network = torch.nn.Sequential(torch.nn.Conv2d(1, 4, 3, padding=1), layer, torch.nn.LazyConv2d(1, 1))
    with pytest.raises(ValueError, match=f"the network has a {name}"):
        FCDD(network=network, epochs=1).fit(np.zeros((10, 1, 16, 16), np.float32), np.r_[np.zeros(8), -np.ones(2)])


class _Crop(torch.nn.Module):
    """An unknown layer that shifts the map: only the size check can catch it."""

    def forward(self, x):
        return x[..., 1:, 1:]


def test_an_unknown_layer_that_resizes_the_map_is_refused():
    network = torch.nn.Sequential(torch.nn.Conv2d(1, 1, 3, padding=1), _Crop())
    with pytest.raises(ValueError, match=r"gives a 15×15 map, but its convolutions, poolings and padding give 16×16"):
        FCDD(network=network, epochs=1).fit(np.zeros((10, 1, 16, 16), np.float32), np.r_[np.zeros(8), -np.ones(2)])


class _PoolReused(torch.nn.Module):
    """One pooling layer applied twice, registered before the convolutions (the original
    Deep SAD code's style): the field counts the layers as forward applies them."""

    def __init__(self):
        super().__init__()
        self.pool = torch.nn.AvgPool2d(2)
        self.conv1 = torch.nn.Conv2d(1, 4, 5, padding=2)
        self.conv2 = torch.nn.Conv2d(4, 1, 3, padding=1)

    def forward(self, x):
        return self.pool(self.conv2(self.pool(self.conv1(x))))


class _StridedSkip(torch.nn.Module):
    """A residual block whose skip path downsamples: two paths, two fields."""

    def __init__(self):
        super().__init__()
        self.main = torch.nn.Sequential(torch.nn.Conv2d(1, 4, 3, stride=2, padding=1), torch.nn.Conv2d(4, 1, 3, padding=1))
        self.skip = torch.nn.Conv2d(1, 1, 1, stride=2)

    def forward(self, x):
        return self.main(x) + self.skip(x)


@pytest.mark.parametrize("network", [
    torch.nn.Sequential(torch.nn.ReflectionPad2d(2), torch.nn.Conv2d(1, 4, 5), torch.nn.AvgPool2d(3, 2, ceil_mode=True),
                        torch.nn.Conv2d(4, 1, 3, dilation=2)),
    torch.nn.Sequential(torch.nn.Conv2d(1, 4, 3, stride=2, padding=1), torch.nn.AvgPool2d(2),
                        torch.nn.ZeroPad2d(1), torch.nn.Conv2d(4, 1, 3)),
    torch.nn.Sequential(torch.nn.Conv2d(1, 4, 4, padding="same"), torch.nn.AvgPool2d(2),
                        torch.nn.Conv2d(4, 1, 2, padding="same", dilation=3)),
    _PoolReused(),
])
@pytest.mark.filterwarnings("ignore:Using padding='same' with even kernel:UserWarning")
def test_the_traced_field_is_where_an_output_cell_looks(network):
    from deepsad.networks.fully_convolutional import receptive_field

    for parameter in network.parameters():
        parameter.data.uniform_(0.1, 1.0)  # positive weights and average pooling: every pixel of the field counts
    field = receptive_field(network, (1, 48, 48))
    image = torch.zeros(1, 1, 48, 48, requires_grad=True)
    network(image)[0, 0, 4, 5].backward()
    rows, columns = torch.nonzero(image.grad[0, 0], as_tuple=True)
    assert rows.max() - rows.min() + 1 == field.size and columns.max() - columns.min() + 1 == field.size
    assert (rows.min() + rows.max()) / 2 == field.start + field.stride * 4
    assert (columns.min() + columns.max()) / 2 == field.start + field.stride * 5
    images = np.random.default_rng(0).random((12, 1, 48, 48)).astype(np.float32)
    model = FCDD(network=network, epochs=1, random_state=0).fit(images, np.r_[np.zeros(10), -np.ones(2)])
    assert model.heatmap(images[:2]).shape == (2, 48, 48)


def test_a_skip_path_that_resizes_is_refused_by_name():
    with pytest.raises(ValueError, match=r"receptive_field follows one chain of layers; Conv2d\(1, 1, kernel_size=\(1, 1\).* takes "
                                         r"a 16×16 map where the layer before gave 8×8"):
        FCDD(network=_StridedSkip(), epochs=1).fit(np.zeros((10, 1, 16, 16), np.float32), np.r_[np.zeros(8), -np.ones(2)])
