"""Generators (one shared trunk, pluggable first-layer heads) and discriminators of the thesis."""

from .gating import SoftmaxGating, TreeGating
from .generator import Generator, build_discriminator, build_generator, build_toy_models, init_normal_
from .heads import FCHead, HeadOutput, MEGANHead, MixtureHead, MultiHead, build_head, gumbel_softmax
from .leaves import ConstantLeaves, LinearLeaves
from .spec import ModelSpec
from .trunk import ConvDiscriminator, GeneratorTrunk, MLPDiscriminator, head_out_features

__all__ = [
    "ConstantLeaves", "ConvDiscriminator", "FCHead", "Generator", "GeneratorTrunk", "HeadOutput",
    "LinearLeaves", "MEGANHead", "MLPDiscriminator", "MixtureHead", "ModelSpec", "MultiHead",
    "SoftmaxGating", "TreeGating", "build_discriminator", "build_generator", "build_head",
    "build_toy_models", "gumbel_softmax", "head_out_features", "init_normal_",
]
