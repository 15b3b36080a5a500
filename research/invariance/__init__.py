"""Is the Semantic Alignment Space position-invariant, and can it be made so? The study's options (poolings, a rewired
space, loss terms) register with the core's registries when this package is imported; `ls_variants` trains and tables
its runs. The core never imports this package."""
from . import modules, terms   # noqa: F401  (registration happens on import)
