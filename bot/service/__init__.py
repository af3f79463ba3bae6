"""The webhook service: verify and acknowledge deliveries, reconcile pull requests, report."""
