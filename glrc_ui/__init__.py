"""GLRC application core: settings, security, workflow and services. Builds no UI."""
