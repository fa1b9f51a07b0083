// window.staticml exists as soon as the page's script runs, before the manifest says which task
// the model has: each member a task offers is there from the start, waits for the task, and calls
// that task's member (or says the model has no such member).
import type { Api } from "./task";

export interface Loaded<C> {
  api: Api<C>;
  context: C;
  /** "model sentiment (text-classification)", for the error when its task lacks a member. */
  label: string;
}

/** Every member any task of `tasks` offers, each waiting for `loaded`. */
export function lateApi<C>(tasks: Record<string, { api: Api<C> }>, loaded: Promise<Loaded<C>>): Record<string, (...args: unknown[]) => Promise<unknown>> {
  const names = new Set(Object.values(tasks).flatMap((task) => Object.keys(task.api)));
  loaded.catch(() => undefined); // a failed load is the page's to show, and each call rejects with it
  const members: Record<string, (...args: unknown[]) => Promise<unknown>> = {};
  for (const name of names) {
    members[name] = async (...args) => {
      const { api, context, label } = await loaded;
      const member = Object.hasOwn(api, name) ? api[name] : undefined;
      if (!member) throw new Error(`${label} has no ${name}()`);
      return member(context, ...args);
    };
  }
  return members;
}
