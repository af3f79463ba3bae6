"""flagbot: feature-flag governance done the GitOps way."""

__version__ = "0.1.0"
