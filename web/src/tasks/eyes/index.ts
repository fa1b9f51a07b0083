// Face and iris landmarks on the video page (camera.html): navigation by eye. window.staticml gains
// landmarks(image), start(), stop() and calibrate(). The page and its worker are shared with the
// hands control (tasks/landmarks/).
import { LandmarksPage, type Image } from "../landmarks/page";
import type { VideoTask } from "../task";

const run = (context: unknown): LandmarksPage => context as LandmarksPage;

export const eyes: VideoTask = {
  start: (page) => new LandmarksPage(page, "eyes"),
  api: {
    landmarks: (page, image: Image) => run(page).landmarks(image),
    start: (page) => run(page).start(),
    stop: (page) => run(page).stop(),
    calibrate: (page) => run(page).calibrate(),
  },
};
