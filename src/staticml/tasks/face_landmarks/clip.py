"""A fake camera whose eyes move, for the eyes page's end-to-end test: the sample portrait (the head
control's, face_detection/clip.py) with each iris redrawn shifted left or right inside its eye
opening. The eyes are found with the Python pipeline itself (runner.py): each eye's opening is the
face mesh's eye outline, its iris a disc around the iris model's centre with the iris points' mean
radius. A look to one side fills the opening with the sclera's colour and draws the iris's own
pixels again, shifted and cut to the opening; the head does not move.

A closed eye cannot be made the same way: painting the opening over with the lid skin just above it
(and a lash line) looks closed, but neither the face mesh's lid points nor the iris model's eye
contours follow it (openness about 95 % and 80 % of the open eye's, against the control's 45 %), so the
long blink is proven on landmark sequences (web/test/gestures.test.ts) instead."""

from __future__ import annotations

from pathlib import Path
from typing import NamedTuple, Protocol

import numpy as np

from ..face_detection import clip as camera_clip

# The face mesh's outline of each eye, in order around it (MediaPipe's FACEMESH_LEFT_EYE / RIGHT_EYE),
# its corners as gestures.ts measures the gaze along them, and which iris (landmarks()'s irises) is whose.
EYE_OUTLINES = ((33, 7, 163, 144, 145, 153, 154, 155, 133, 173, 157, 158, 159, 160, 161, 246),
                (263, 249, 390, 373, 374, 380, 381, 382, 362, 398, 384, 385, 386, 387, 388, 466))
EYE_CORNERS = ((33, 133), (362, 263))

# How far a look to one side moves the iris, as a fraction of the eye's width (corner to corner): the
# control starts a look at a gaze offset of 0.12; the models see about 0.6 of the shift (0.15), and no
# more for a larger one (the iris then goes into the corner, cut by the opening).
LOOK = 0.25
# The gaze clip: (seconds, iris shift in eye widths, positive to the RIGHT of the camera's frame). The
# preview is mirrored, so a look to the camera frame's right is a look to the visitor's own left:
# "previous"; then back to the centre, and to the other side: "next".
LOOKS = ((3.0, 0.0), (1.5, LOOK), (1.5, 0.0), (1.5, -LOOK), (1.5, 0.0))
FACE_SIZE = 1.0  # of the frame's height: each eye about 20 px wide in a 320x240 frame


class Landmarker(Protocol):
    def landmarks(self, rgb: np.ndarray) -> list[dict]: ...


class Eye(NamedTuple):
    opening: np.ndarray  # bool, the image's shape: inside the eyelids
    iris: np.ndarray  # bool: the iris disc (partly under the lids)
    width: float  # corner to corner, pixels


def mask(shape: tuple[int, int], outline: np.ndarray) -> np.ndarray:
    from PIL import Image, ImageDraw

    image = Image.new("L", (shape[1], shape[0]), 0)
    ImageDraw.Draw(image).polygon([(float(x), float(y)) for x, y in outline], fill=255)
    return np.asarray(image) > 127


def find_eyes(image: np.ndarray, landmarker: Landmarker) -> list[Eye]:
    """Both eyes of the one face in `image` (RGB uint8), as the Python pipeline finds them."""
    faces = landmarker.landmarks(image)
    if not faces:
        raise ValueError("the pipeline finds no face in the portrait")
    height, width = image.shape[:2]
    scale = np.array([width, height], dtype=np.float64)
    face = np.array(faces[0]["face"])[:, :2] * scale
    rows, columns = np.mgrid[:height, :width]
    eyes = []
    for outline, corners, iris_points in zip(EYE_OUTLINES, EYE_CORNERS, faces[0]["irises"]):
        iris = np.array(iris_points) * scale
        radius = float(np.linalg.norm(iris[1:] - iris[0], axis=1).mean())
        disc = (columns - iris[0, 0]) ** 2 + (rows - iris[0, 1]) ** 2 <= radius ** 2
        eyes.append(Eye(mask(image.shape[:2], face[list(outline)]), disc, float(np.linalg.norm(face[corners[1]] - face[corners[0]]))))
    return eyes


def looking(image: np.ndarray, eyes: list[Eye], shift: float) -> np.ndarray:
    """`image` with each iris moved `shift` eye widths to the right (negative: left) inside its opening."""
    out = image.copy()
    for eye in eyes:
        sclera = np.median(image[eye.opening & ~eye.iris], axis=0)
        out[eye.opening] = sclera.round().astype(np.uint8)
        dx = int(round(shift * eye.width))
        moved = np.roll(eye.iris, dx, axis=1) & eye.opening
        out[moved] = np.roll(image, dx, axis=1)[moved]
    return out


def gaze_x(face: dict) -> float:
    """Where both irises sit between their eye's corners (0 at the frame's left corner, 1 at its right),
    as gestures.ts's gaze() measures it, from one face of landmarks()."""
    points = np.array(face["face"])[:, :2]
    along = []
    for corners, iris in zip(EYE_CORNERS, face["irises"]):
        a, b = points[corners[0]], points[corners[1]]
        direction = b - a
        t = float((np.array(iris[0]) - a) @ direction / (direction @ direction))
        along.append(t if direction[0] >= 0 else 1 - t)
    return sum(along) / len(along)


def gaze_frames(landmarker: Landmarker, width: int = 320, height: int = 240, shifts: tuple[float, ...] = (0.0, LOOK, -LOOK)) -> list[np.ndarray]:
    """The portrait looking ahead and to each side (one frame per shift), placed in a width x height frame."""
    portrait = camera_clip.portrait()
    eyes = find_eyes(portrait, landmarker)
    return [camera_clip.place(looking(portrait, eyes, shift), width, height, 0.5, 0.5, FACE_SIZE) for shift in shifts]


def gaze_clip(path: Path, landmarker: Landmarker, width: int = 320, height: int = 240, fps: int = 20, looks=LOOKS) -> Path:
    """A still head looking ahead, to the camera frame's right (the visitor's left) and back, to its left and back."""
    shifts = tuple(sorted({shift for _, shift in looks}))
    frames = dict(zip(shifts, gaze_frames(landmarker, width, height, shifts)))
    return camera_clip.write_y4m(path, (frames[shift] for seconds, shift in looks for _ in range(max(1, round(seconds * fps)))), fps)
