// Hand landmarks on the video page (camera.html): navigation by hand. window.staticml gains
// hands(image), start(), stop() and calibrate(). The page and its worker are shared with the eyes
// control (tasks/landmarks/).
import { LandmarksPage, type Image } from "../landmarks/page";
import type { VideoTask } from "../task";

const run = (context: unknown): LandmarksPage => context as LandmarksPage;

export const hands: VideoTask = {
  start: (page) => new LandmarksPage(page, "hands"),
  api: {
    hands: (page, image: Image) => run(page).landmarks(image),
    start: (page) => run(page).start(),
    stop: (page) => run(page).stop(),
    calibrate: (page) => run(page).calibrate(),
  },
};
