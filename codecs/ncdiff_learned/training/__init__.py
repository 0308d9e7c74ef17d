"""Training pipelines for the learned codec (``ncd train``)."""
