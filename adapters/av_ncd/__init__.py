"""PyAV adapter: the keyframes of a video in one multi-frame ``.ncd`` file, and back.

```python
import av_ncd

data = av_ncd.encode_keyframes("in.mp4", "keys.ncd", quality=40)    # codec="auto"; every=N / all_frames=True
av_ncd.count_keyframes("in.mp4")                                     # keyframe packets, by PyAV's flags
info = av_ncd.probe("in.mp4")                                        # width, height, time_base, fps, frames
for img, pts, duration in av_ncd.read_frames("in.mp4"):             # PIL RGB images, stream time base
    ...
av_ncd.restore("keys.ncd", "out.mp4")                                # or out.mkv (FFV1), or frames/ (PNG)
```

Importing this package is cheap: PyAV loads inside the functions that use it.
The command line is ``ncd video keyframes | restore | bench``.
"""

from .keyframes import (
    DEFAULT_MAX_FRAMES,
    EncodeResult,
    FrameReader,
    VideoInfo,
    count_keyframes,
    encode_frames_of,
    encode_keyframes,
    probe,
    read_frames,
)
from .restore import RestoreResult, output_kind, restore, restore_frames

__all__ = [
    "read_frames", "probe", "count_keyframes", "encode_keyframes", "restore",
    "encode_frames_of", "restore_frames", "output_kind", "FrameReader", "VideoInfo", "EncodeResult",
    "RestoreResult", "DEFAULT_MAX_FRAMES",
]
