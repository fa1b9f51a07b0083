// A turn of the event loop for long work (batches on the page's thread, file scoring): input,
// timers and a "cancel" run before the work goes on. A message to ourselves first (a new task,
// which resets the timer nesting level), then a setTimeout(0) set from that task: browsers may
// run message tasks ahead of due timers, and a page's timers must keep firing; chained
// setTimeout(0) alone would be clamped to 4 ms after five turns, a timer set from a message task
// is not.
const waiting: (() => void)[] = [];
let channel: MessageChannel | null = null;

function message(): Promise<void> {
  if (!channel) {
    channel = new MessageChannel();
    channel.port1.onmessage = () => waiting.shift()?.();
    (channel.port1 as { unref?(): void }).unref?.(); // Node (the unit tests): do not keep it alive
  }
  const port = channel.port2;
  return new Promise((resolve) => {
    waiting.push(resolve);
    port.postMessage(null);
  });
}

export async function nextTask(): Promise<void> {
  await message();
  await new Promise((resolve) => setTimeout(resolve, 0));
}
