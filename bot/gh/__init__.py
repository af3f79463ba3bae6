"""The service's GitHub adapter (gidgethub): authentication, retries, and the REST calls the
reconcile loop makes. Named `gh` because PyGithub's module is `github`."""
