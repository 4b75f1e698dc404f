"""Leaf generators (eq. 4.3, 4.4) and their gated combination."""

import torch

from hmogbench.models import ConstantLeaves, LinearLeaves, MixtureHead, SoftmaxGating, TreeGating


def test_constant_leaves_ignore_z_but_the_mixture_depends_on_z():
    torch.manual_seed(0)
    leaves = ConstantLeaves(8, 16)
    z1, z2 = torch.randn(4, 10), torch.randn(4, 10)
    torch.testing.assert_close(leaves.outputs(z1), leaves.outputs(z2))
    head = MixtureHead(TreeGating(10, 3), leaves)
    assert not torch.allclose(head(z1).h, head(z2).h)
    # and the mixture lies in the convex hull: a weighted average of the constant vectors
    w = head(z1).weights
    torch.testing.assert_close(head(z1).h, w @ leaves.values)


def test_linear_leaves_gated_sum_equals_explicit_sum():
    torch.manual_seed(1)
    leaves = LinearLeaves(5, 12, 9)
    with torch.no_grad():
        leaves.bias.normal_()
    z = torch.randn(7, 12)
    w = SoftmaxGating(12, 5)(z)
    explicit = sum(w[:, l : l + 1] * (z @ leaves.weight[l] + leaves.bias[l]) for l in range(5))
    torch.testing.assert_close(leaves(z, w), explicit, atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(leaves.outputs(z)[:, 2], z @ leaves.weight[2] + leaves.bias[2])


def test_leaf_initialisation_matches_authors_code():
    torch.manual_seed(2)
    const, linear = ConstantLeaves(64, 4096), LinearLeaves(16, 100, 4096)
    assert abs(const.values.std().item() - 1.0) < 0.01
    assert abs(linear.weight.std().item() - 0.1) < 0.002
    assert linear.bias.abs().max() == 0
