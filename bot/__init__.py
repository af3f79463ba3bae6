"""flagbot: feature-flag governance done the GitOps way."""

# The one version source: pyproject.toml reads it (setuptools dynamic version), `flagbot
# --version` prints it, and `flagbot init` pins scaffolded workflows to its release tag.
__version__ = "0.1.0"
