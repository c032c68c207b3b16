import math

import pytest
import torch

from deepsad.objectives import (
    anomaly_cross_entropy,
    deep_sad_loss,
    gaussian_kl,
    hsc_h,
    hsc_loss,
    m2_loss,
    one_class_loss,
    reconstruction_error,
    soft_boundary_loss,
    soft_boundary_radius,
)


def test_deep_sad_loss_by_hand():
    d = torch.tensor([4.0, 1.0, 2.0])
    labels = torch.tensor([0, 1, -1], dtype=torch.int8)
    eta, eps = 2.0, 1e-6
    expected = (4.0 + eta * (1.0 + eps) + eta / (2.0 + eps)) / 3
    assert deep_sad_loss(d, labels, eta, eps).item() == pytest.approx(expected, rel=1e-6)


def test_deep_sad_without_labels_is_one_class():
    d = torch.tensor([0.5, 1.5, 3.0])
    labels = torch.zeros(3, dtype=torch.int8)
    assert deep_sad_loss(d, labels, 1.0, 1e-6).item() == pytest.approx(one_class_loss(d).item())


def test_deep_sad_anomaly_gradient_pushes_away():
    d = torch.tensor([1.0], requires_grad=True)
    deep_sad_loss(d, torch.tensor([-1], dtype=torch.int8), 1.0, 1e-6).backward()
    assert d.grad.item() < 0  # larger distance lowers the loss


def test_soft_boundary_loss_by_hand():
    d = torch.tensor([0.5, 2.0, 5.0])
    radius, nu = 1.0, 0.5
    expected = 1.0 + (0 + 1.0 + 4.0) / 3 / nu
    assert soft_boundary_loss(d, radius, nu).item() == pytest.approx(expected)


def test_soft_boundary_radius_is_quantile():
    d = torch.arange(1, 101, dtype=torch.float32) ** 2  # sqrt(d) = 1..100
    radius = soft_boundary_radius(d, nu=0.1)
    assert radius == pytest.approx(90.1, abs=1e-6)
    outside = (d > radius**2).float().mean().item()
    assert outside == pytest.approx(0.1)


def test_hsc_pseudo_huber_of_an_embedding_beyond_float32_is_inf_not_nan():
    z = torch.tensor([[3e38, 3e38], [1e18, 0.0], [0.0, 0.0]])
    h = hsc_h(z, "pseudo-huber")
    assert h[0].item() == math.inf and not torch.isnan(h).any()
    assert h[1].item() == pytest.approx(1e18, rel=1e-6) and h[2].item() == 0.0


def test_hsc_h_by_hand():
    z = torch.tensor([[3.0, 4.0]])
    assert hsc_h(z, "squared").item() == 25.0
    assert hsc_h(z, "pseudo-huber").item() == pytest.approx(math.sqrt(26) - 1)
    with pytest.raises(ValueError, match="h must be"):
        hsc_h(z, "cosine")


def test_pseudo_huber_is_accurate_near_the_center():
    # sqrt(1 + 1e-6) - 1 in float32 is off by ~10%; the exact value is 1e-6/2 - 1e-12/8.
    z = torch.tensor([[1e-3, 0.0]], dtype=torch.float32)
    assert hsc_h(z, "pseudo-huber").item() == pytest.approx(0.5e-6 - 1.25e-13, rel=1e-6)


def test_hsc_loss_by_hand():
    h = torch.tensor([0.5, 2.0])
    labels = torch.tensor([0, -1], dtype=torch.int8)
    eta = 3.0
    expected = (0.5 + eta * -math.log(1 - math.exp(-2.0))) / 2
    assert hsc_loss(h, labels, eta, 1e-6).item() == pytest.approx(expected, rel=1e-6)


def test_hsc_loss_is_finite_for_anomaly_at_center():
    loss = hsc_loss(torch.tensor([0.0]), torch.tensor([-1], dtype=torch.int8), 1.0, 1e-6)
    assert math.isfinite(loss.item())


def test_reconstruction_error_per_sample():
    x = torch.zeros(2, 1, 2, 2)
    r = torch.ones(2, 1, 2, 2)
    r[1] = 0
    assert reconstruction_error(r, x).tolist() == [1.0, 0.0]


def test_cross_entropy_is_plain_bce_with_anomalies_positive():
    logits = torch.tensor([2.0, -1.0, 0.5, 3.0])
    labels = torch.tensor([-1, 0, 1, -1], dtype=torch.int8)
    positive = torch.tensor([1.0, 0.0, 0.0, 1.0])
    log_sigmoid = torch.nn.functional.logsigmoid
    terms = -(positive * log_sigmoid(logits) + (1 - positive) * log_sigmoid(-logits))
    torch.testing.assert_close(anomaly_cross_entropy(logits, labels, 1.0), terms.mean())
    weighted = torch.where(positive == 1, 3.0 * terms, terms)
    torch.testing.assert_close(anomaly_cross_entropy(logits, labels, 3.0), weighted.mean())


def test_m2_loss_terms():
    class_logits = torch.tensor([[0.3, -0.2], [1.0, 2.0], [-0.5, 0.5]])
    negative_elbo = torch.tensor([[4.0, 6.0], [5.0, 3.0], [2.0, 7.0]])
    labels = torch.tensor([0, -1, 1], dtype=torch.int8)
    q = torch.softmax(class_logits, dim=1)
    # Unlabeled: expected −ELBO under q(y | x) minus the entropy of q(y | x).
    unlabeled = (q[0] * negative_elbo[0]).sum() + (q[0] * q[0].log()).sum()
    # Labeled: −ELBO of the given class plus the weighted cross-entropy of q(y | x).
    anomalous = negative_elbo[1, 1] - 2.5 * q[1, 1].log()
    normal = negative_elbo[2, 0] - 2.5 * q[2, 0].log()
    expected = (unlabeled + anomalous + normal) / 3
    torch.testing.assert_close(m2_loss(class_logits, negative_elbo, labels, 2.5), expected)


def test_gaussian_kl_in_closed_form():
    mean = torch.tensor([[0.0, 0.0], [1.0, -2.0]])
    log_variance = torch.tensor([[0.0, 0.0], [math.log(4.0), 0.0]])
    # KL(N(μ, σ²) ‖ N(0, 1)) = ½ (μ² + σ² − 1 − log σ²) per dimension.
    expected = torch.tensor([0.0, 0.5 * (1 + 4 - 1 - math.log(4.0)) + 0.5 * 4.0])
    torch.testing.assert_close(gaussian_kl(mean, log_variance), expected)
