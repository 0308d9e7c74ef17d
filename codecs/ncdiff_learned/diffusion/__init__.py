"""Diffusion decoders on top of the base codec (NC-Diffusion)."""
