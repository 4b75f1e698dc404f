"""Gating networks: weights form a distribution, the tree follows eq. 4.5-4.9 exactly."""

import pytest
import torch

from hmogbench.models import ConstantLeaves, LinearLeaves, MixtureHead, SoftmaxGating, TreeGating


@pytest.mark.parametrize("gate", [SoftmaxGating(100, 32), SoftmaxGating(100, 256), TreeGating(100, 1),
                                  TreeGating(100, 5), TreeGating(100, 8)])
def test_weights_are_a_distribution(gate):
    torch.manual_seed(0)
    z = torch.randn(64, 100) * 5  # large z: saturated gates must still give a distribution
    w = gate(z)
    assert w.shape == (64, gate.num_leaves)
    assert (w >= 0).all()
    torch.testing.assert_close(w.sum(1), torch.ones(64), atol=1e-5, rtol=0)


def test_tree_levels_each_sum_to_one_and_children_split_parent():
    torch.manual_seed(1)
    tree = TreeGating(10, 4)
    z = torch.randn(32, 10)
    probs, g = tree.node_probs(z), tree.gates(z)
    assert probs.shape == (32, 2**5 - 1)
    for d in range(5):
        torch.testing.assert_close(probs[:, 2**d - 1 : 2 ** (d + 1) - 1].sum(1), torch.ones(32))
    for p in range(2**4 - 1):  # breadth-first: left child 2p+1 gets g_p, right child 2p+2 gets 1 - g_p
        torch.testing.assert_close(probs[:, 2 * p + 1], probs[:, p] * g[:, p])
        torch.testing.assert_close(probs[:, 2 * p + 2], probs[:, p] * (1 - g[:, p]))


@pytest.mark.parametrize("depth", [1, 2, 5, 8])
def test_leaf_weights_at_once_equal_the_last_level_of_the_node_recursion(depth):
    torch.manual_seed(5)
    tree = TreeGating(12, depth)
    z = torch.randn(40, 12)
    torch.testing.assert_close(tree(z), tree.node_probs(z)[:, -(2**depth):], atol=1e-6, rtol=1e-5)
    assert list(tree.state_dict()) == ["weight", "bias"]  # path tables are derived, not saved


def _recursive_response(head: MixtureHead, z: torch.Tensor, node: int = 0) -> torch.Tensor:
    """Thesis eq. 4.6 written literally: x_m = x_L sigma_m + x_R (1 - sigma_m), leaves G_m(z)."""
    tree = head.gating
    if node >= tree.num_internal:
        return head.leaves.outputs(z)[:, node - tree.num_internal]
    sigma = tree.gates(z)[:, node : node + 1]
    return _recursive_response(head, z, 2 * node + 1) * sigma + _recursive_response(head, z, 2 * node + 2) * (1 - sigma)


@pytest.mark.parametrize("leaves", ["constant", "linear"])
def test_vectorised_tree_equals_recursive_definition(leaves):
    torch.manual_seed(2)
    depth, z_dim, out = 3, 7, 5
    leaf = ConstantLeaves(8, out) if leaves == "constant" else LinearLeaves(8, z_dim, out)
    with torch.no_grad():
        for p in leaf.parameters():
            p.normal_()
    head = MixtureHead(TreeGating(z_dim, depth), leaf)
    z = torch.randn(16, z_dim)
    torch.testing.assert_close(head(z).h, _recursive_response(head, z), atol=1e-5, rtol=1e-5)


def test_hme_depth_one_equals_me_two_with_logit_difference():
    """softmax([a, 0]) = [sigmoid(a), 1 - sigmoid(a)]: an ME-2 whose logits differ by the
    sigmoid's argument is the same model as an HME of depth 1."""
    torch.manual_seed(3)
    z_dim, out = 6, 4
    tree = TreeGating(z_dim, 1)
    with torch.no_grad():
        tree.bias.fill_(0.3)
    me_gate = SoftmaxGating(z_dim, 2)
    with torch.no_grad():
        me_gate.weight.copy_(torch.cat((tree.weight, torch.zeros(z_dim, 1)), dim=1) + 0.7)  # common shift cancels
        me_gate.bias.copy_(torch.tensor([0.3 - 1.1, -1.1]))
    leaves = LinearLeaves(2, z_dim, out)
    hme, me = MixtureHead(tree, leaves), MixtureHead(me_gate, leaves)
    z = torch.randn(20, z_dim)
    torch.testing.assert_close(hme(z).weights, me(z).weights)
    torch.testing.assert_close(hme(z).h, me(z).h)


def test_tree_init_matches_authors_code():
    torch.manual_seed(4)
    tree, flat = TreeGating(100, 8), SoftmaxGating(100, 256)
    assert abs(tree.weight.std().item() - 0.1) < 0.005 and tree.bias.abs().max() == 0
    assert abs(flat.weight.std().item() - (2 / 356) ** 0.5) < 0.005 and flat.bias.abs().max() == 0
