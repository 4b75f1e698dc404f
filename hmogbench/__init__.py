"""hmogbench: reproducibility benchmark for hierarchical mixtures of generators in GANs.

Ahmetoğlu & Alpaydın, "Hierarchical Mixtures of Generators for Adversarial Learning"
(ICPR 2020; MSc thesis, Boğaziçi University, 2019).
"""

__version__ = "0.1.0"
