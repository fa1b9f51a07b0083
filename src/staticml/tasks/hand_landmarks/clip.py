"""Frames and fake-camera clips with a real hand, for bench, verify and the tests of the hands page: the
photograph of two hands in staticml/data/hands.jpg (tensorflow/tfjs-models, Apache-2.0; see
hands.README.md beside it) on a white background, which is keyed out so a hand can be placed on any
background, moved, and seen twice. Nothing is downloaded."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..face_detection import clip as camera_clip

PHOTO = Path(__file__).resolve().parents[2] / "data" / "hands.jpg"
BACKGROUND = (96, 110, 120)
WHITE = 232  # the photo's background is near white; a pixel brighter than this in every channel is background


def photo() -> np.ndarray:
    """Both hands, RGB uint8 (720x382): an open left hand upright on the left, a right hand upside down on the right."""
    from PIL import Image

    return np.asarray(Image.open(PHOTO).convert("RGB"))


def one_hand() -> np.ndarray:
    """The upright open hand (the photo's left half)."""
    return photo()[:, :340]


def place(hand: np.ndarray, width: int, height: int, x: float, y: float, size: float,
          background: tuple[int, int, int] = BACKGROUND) -> np.ndarray:
    """`hand` scaled to `size` of the frame's height, centred at (x, y), its white background replaced."""
    white = camera_clip.place(hand, width, height, x, y, size, (255, 255, 255))
    frame = white.copy()
    frame[(white > WHITE).all(axis=2)] = background
    return frame


def parity_frames(size: int = 192) -> list[np.ndarray]:
    """36 frames of the detector's input size: 28 with one hand at many places, sizes and backgrounds,
    4 with both hands, 4 with none."""
    hand, both = one_hand(), photo()
    rng = np.random.default_rng(3)
    frames = []
    for _ in range(28):
        x, y = rng.uniform(0.35, 0.65, 2)
        background = tuple(int(v) for v in rng.integers(0, 200, 3))
        frames.append(place(hand, size, size, x, y, rng.uniform(0.6, 0.95), background))
    for i in range(4):
        frames.append(place(both, size, size, 0.5, 0.5, 0.5 + 0.02 * i, (40 * i, 90, 120)))
    for i in range(4):
        frames.append(rng.integers(0, 256, (size, size, 3), dtype=np.uint8) if i % 2 else np.full((size, size, 3), 50 * i, dtype=np.uint8))
    return frames


# The swipe clip: (seconds, the hand's centre x at the end of the segment) in the camera's frame. The
# preview is mirrored, so the hand moving RIGHT in the camera's frame moves to the visitor's left:
# "previous", then back: "next". Still parts drift up and down a little, as a held hand does (an open
# palm held quite still for a second would pause the control).
SWIPES = ((3.0, 0.32), (0.4, 0.68), (2.0, 0.68), (0.4, 0.32), (2.0, 0.32))


def drift(t: float) -> float:
    return 0.06 * np.sin(2 * np.pi * t / 1.2)


def swipe_clip(path: Path, width: int = 320, height: int = 240, fps: int = 20, moves=SWIPES) -> Path:
    """One open hand, still, moving to the visitor's left and back, then still."""
    hand = one_hand()

    def frames():
        x, t = moves[0][1], 0.0
        for seconds, target in moves:
            count = max(1, round(seconds * fps))
            start = x
            for i in range(count):
                x = start + (target - start) * (i + 1) / count
                t += 1 / fps
                yield place(hand, width, height, x, 0.5 + drift(t), 0.75)
    return camera_clip.write_y4m(path, frames(), fps)


def two_hands_clip(path: Path, seconds: float = 3.0, width: int = 320, height: int = 240, fps: int = 20) -> Path:
    """Both hands in view, drifting a little up and down."""
    both = photo()
    count = round(seconds * fps)
    return camera_clip.write_y4m(path, (place(both, width, height, 0.5, 0.5 + drift(i / fps) / 2, 0.7) for i in range(count)), fps)


def held_clip(path: Path, seconds: float = 3.0, width: int = 320, height: int = 240, fps: int = 30) -> Path:
    """One open hand held up at the centre, drifting a little (bench's live loop)."""
    hand = one_hand()
    count = round(seconds * fps)
    return camera_clip.write_y4m(path, (place(hand, width, height, 0.5, 0.5 + drift(i / fps), 0.75) for i in range(count)), fps)
