// Face detection on the video page (camera.html): the camera page (page.ts) and its worker
// (worker.ts, bundled as camera-worker.js); window.staticml gains detect(image), start(), stop()
// and calibrate().
import type { VideoTask } from "../task";
import { CameraPage, type Image } from "./page";

const run = (context: unknown): CameraPage => context as CameraPage;

export const camera: VideoTask = {
  start: (page) => new CameraPage(page),
  api: {
    detect: (page, image: Image) => run(page).detect(image),
    start: (page) => run(page).start(),
    stop: (page) => run(page).stop(),
    calibrate: (page) => run(page).calibrate(),
  },
};
