// A turn of the event loop without the 4 ms clamp that nested setTimeout(0) gets: a message to
// ourselves is a new task, so input events, timers and a "cancel" run before the work goes on.
const waiting: (() => void)[] = [];
let channel: MessageChannel | null = null;

export function nextTask(): Promise<void> {
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
