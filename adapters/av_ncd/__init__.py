"""PyAV adapter: keyframes of a video in one multi-frame ``.ncd`` file.

The keyframe extraction and restore scripts land with the adapters work; this
package already reserves the name and lists itself as an adapter.
"""
