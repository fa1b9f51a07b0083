// The video page's tasks (camera.html, video.ts): each runs its own view, loop and worker.
import { camera } from "./camera/index";
import { eyes } from "./eyes/index";
import { hands } from "./hands/index";
import type { TaskOn } from "./index";
import type { VideoTask } from "./task";

export const VIDEO_PAGE: Record<TaskOn<"video">, VideoTask> = {
  "face-detection": camera,
  "face-landmarks": eyes,
  "hand-landmarks": hands,
};
