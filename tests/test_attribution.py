import pytest
import torch

from deepsad.attribution import integrated_gradients


def test_a_linear_score_is_attributed_exactly():
    weights = torch.tensor([1.0, -2.0, 0.5])
    inputs = torch.tensor([[1.0, 1.0, 1.0], [2.0, 0.0, -4.0]])
    result = integrated_gradients(lambda x: x @ weights, inputs, torch.zeros(3), steps=3)
    torch.testing.assert_close(result.attributions, inputs * weights)
    assert result.completeness_error.max() < 1e-6


def test_completeness_holds_for_a_curved_score_and_improves_with_steps():
    def score(x):
        return (torch.tanh(x) ** 2).sum(dim=1) + x[:, 0] * x[:, 1]

    inputs = torch.randn(50, 4, generator=torch.Generator().manual_seed(0), dtype=torch.float64) * 2
    coarse = integrated_gradients(score, inputs, torch.zeros(4, dtype=torch.float64), steps=4)
    fine = integrated_gradients(score, inputs, torch.zeros(4, dtype=torch.float64), steps=256)
    assert fine.completeness_error.max() < 1e-3 < coarse.completeness_error.max()
    torch.testing.assert_close(fine.scores - fine.baseline_scores, fine.attributions.sum(dim=1), atol=1e-3, rtol=0)


def test_images_keep_their_shape_and_chunks_do_not_change_the_result(monkeypatch):
    import deepsad.attribution as attribution

    def score(x):
        return (x**2).flatten(1).sum(dim=1)

    inputs = torch.rand(5, 1, 4, 4, generator=torch.Generator().manual_seed(1))
    whole = integrated_gradients(score, inputs, torch.zeros(1, 4, 4), steps=8)
    monkeypatch.setattr(attribution, "POINTS_PER_PASS", 8)  # one sample per pass
    chunked = integrated_gradients(score, inputs, torch.zeros(1, 4, 4), steps=8)
    assert whole.attributions.shape == inputs.shape
    torch.testing.assert_close(whole.attributions, chunked.attributions)
    with pytest.raises(ValueError, match="steps must be a positive integer"):
        integrated_gradients(score, inputs, torch.zeros(1, 4, 4), steps=0)
