"""Frames and a fake camera for the camera page: a portrait that ships with matplotlib (Grace
Hopper, in its sample data) placed on a plain background, and y4m video files that headless
Chromium plays as its camera (`--use-file-for-fake-video-capture`). Used by verify, bench and the
tests; nothing is downloaded."""

from __future__ import annotations

from pathlib import Path
from typing import Iterable

import numpy as np

FAKE_CAMERA_FLAGS = ("--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream")
BACKGROUND = (96, 110, 120)


def fake_camera_flags(clip: Path) -> tuple[str, ...]:
    return (*FAKE_CAMERA_FLAGS, f"--use-file-for-fake-video-capture={clip}")


def portrait() -> np.ndarray:
    """The head and shoulders of the sample portrait, RGB uint8 (the face about 60 % of its width)."""
    from matplotlib import cbook
    from PIL import Image

    with cbook.get_sample_data("grace_hopper.jpg") as f:
        image = Image.open(f).convert("RGB")
    return np.asarray(image.crop((40, 20, 472, 470)))


def place(face: np.ndarray, width: int, height: int, x: float, y: float, size: float,
          background: tuple[int, int, int] = BACKGROUND) -> np.ndarray:
    """A width x height frame with `face` scaled to `size` of the frame's height, centred at (x, y)
    (fractions of the frame), cut at the edges."""
    from PIL import Image

    frame = np.empty((height, width, 3), dtype=np.uint8)
    frame[:] = background
    h = max(1, round(size * height))
    w = max(1, round(h * face.shape[1] / face.shape[0]))
    scaled = np.asarray(Image.fromarray(face).resize((w, h), Image.BILINEAR))
    left, top = round(x * width - w / 2), round(y * height - h / 2)
    x0, y0, x1, y1 = max(0, left), max(0, top), min(width, left + w), min(height, top + h)
    if x1 > x0 and y1 > y0:
        frame[y0:y1, x0:x1] = scaled[y0 - top:y1 - top, x0 - left:x1 - left]
    return frame


def parity_frames(size: int = 128) -> list[np.ndarray]:
    """60 frames: the portrait at many places and sizes (some cut at the edge), two faces of
    different sizes, and faceless ones."""
    face = portrait()
    rng = np.random.default_rng(1)
    frames = []
    for i in range(48):
        x, y = rng.uniform(0.25, 0.75, 2)
        background = tuple(int(v) for v in rng.integers(0, 256, 3))
        frames.append(place(face, size, size, x, y, rng.uniform(0.35, 0.95), background))
    for i in range(6):
        frame = place(face, size, size, 0.3, 0.5, 0.7)
        small = place(face, size // 2, size // 2, 0.5, 0.5, 0.7)
        frame[32:32 + size // 2, size - size // 2 - i:size - i] = small
        frames.append(frame)
    for i in range(6):
        frames.append(rng.integers(0, 256, (size, size, 3), dtype=np.uint8) if i % 2 else
                      np.full((size, size, 3), 40 * i, dtype=np.uint8))
    return frames


def write_y4m(path: Path, frames: Iterable[np.ndarray], fps: int) -> Path:
    """RGB uint8 frames (all of one even size) → a YUV 4:2:0 y4m file (BT.601 full range, 'C420jpeg')."""
    path = Path(path)
    with open(path, "wb") as f:
        header = False
        for rgb in frames:
            height, width = rgb.shape[:2]
            if not header:
                f.write(f"YUV4MPEG2 W{width} H{height} F{fps}:1 Ip A1:1 C420jpeg\n".encode())
                header = True
            f.write(b"FRAME\n")
            for plane in _yuv420(rgb):
                f.write(plane.tobytes())
    return path


def _yuv420(rgb: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    r, g, b = (rgb[..., i].astype(np.float32) for i in range(3))
    y = 0.299 * r + 0.587 * g + 0.114 * b
    u = -0.168736 * r - 0.331264 * g + 0.5 * b + 128
    v = 0.5 * r - 0.418688 * g - 0.081312 * b + 128

    def half(plane: np.ndarray) -> np.ndarray:
        return plane.reshape(plane.shape[0] // 2, 2, plane.shape[1] // 2, 2).mean(axis=(1, 3))

    return tuple(np.clip(np.round(p), 0, 255).astype(np.uint8) for p in (y, half(u), half(v)))


# The movement clip: (seconds, face centre x at the end of the segment) in the camera's frame.
# The preview is mirrored, so moving to your own left moves the face RIGHT in the camera's frame:
# a right shift is "previous", a left one "next". Still parts jitter by a pixel or two.
MOVES = ((2.0, 0.5), (0.3, 0.72), (1.2, 0.72), (0.3, 0.5), (1.2, 0.5), (0.3, 0.28), (1.2, 0.28), (0.3, 0.5), (3.0, 0.5))


def movement_clip(path: Path, width: int = 320, height: int = 240, fps: int = 20, moves=MOVES) -> Path:
    """The face still, moving to the visitor's left and back, to their right and back, then still."""
    face = portrait()
    rng = np.random.default_rng(0)

    def frames():
        x = moves[0][1]
        for seconds, target in moves:
            count = max(1, round(seconds * fps))
            start = x
            for i in range(count):
                x = start + (target - start) * (i + 1) / count
                jitter = rng.uniform(-1.5, 1.5, 2) / (width, height)
                yield place(face, width, height, x + jitter[0], 0.5 + jitter[1], 0.6)
    return write_y4m(path, frames(), fps)


def clip_seconds(moves=MOVES) -> float:
    return sum(seconds for seconds, _ in moves)


def still_clip(path: Path, seconds: float = 2.0, width: int = 320, height: int = 240, fps: int = 20, face: bool = True) -> Path:
    """The face still at the centre (or, face=False, the empty background) for `seconds`."""
    image = place(portrait(), width, height, 0.5, 0.5, 0.6) if face else np.full((height, width, 3), BACKGROUND, np.uint8)
    return write_y4m(path, (image for _ in range(max(1, round(seconds * fps)))), fps)
