"""Reconcile as a plan: what flagbot does about a pull request, as a pure function of what it
read (`facts`) and what it decided (`decide`). The service only reads and carries actions out."""
