"""The comparison helpers can fail: a wrong value, a wrong gradient, a wrong error message each trip them."""
import math

import numpy as np
import pytest

import ember
from dist_compare import check, moments, same_error

PARAMS = {"loc": np.array([0.5, -1.0]), "scale": np.array([1.5, 0.7])}


def test_check_catches_a_wrong_value(monkeypatch):
    monkeypatch.setattr(ember.distributions.Normal, "entropy", lambda self: 0.5 + self.scale.log())
    with pytest.raises(AssertionError):
        check("Normal", PARAMS, lambda m, d: d.entropy())


def test_check_catches_a_wrong_gradient(monkeypatch):
    """Right values, but the gradient to scale is cut."""
    def entropy(self):
        return 0.5 + 0.5 * math.log(2 * math.pi) + self.scale.detach().log() + 0 * self.loc
    monkeypatch.setattr(ember.distributions.Normal, "entropy", entropy)
    with pytest.raises(AssertionError):
        check("Normal", PARAMS, lambda m, d: d.entropy())


def test_same_error_catches_a_different_message():
    def fn(m):
        if m is ember:
            raise ValueError("another message")
        raise ValueError("the message")
    with pytest.raises(AssertionError):
        same_error(fn)


def test_moments_catch_a_shifted_sampler():
    samples = np.random.default_rng(0).standard_normal((20000, 2))
    moments(samples, np.zeros(2), np.ones(2))
    with pytest.raises(AssertionError):
        moments(samples + 0.1, np.zeros(2), np.ones(2))
    with pytest.raises(AssertionError):
        moments(samples * 1.5, np.zeros(2), np.ones(2))
