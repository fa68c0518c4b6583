// A minimal event emitter: listeners run synchronously, in the order they subscribed.

export class Emitter {
  #listeners = new Map();

  /** Calls `fn(detail)` on every `type` event; returns a function that unsubscribes. */
  on(type, fn) {
    if (!this.#listeners.has(type)) this.#listeners.set(type, []);
    this.#listeners.get(type).push(fn);
    return () => {
      const list = this.#listeners.get(type);
      const i = list.indexOf(fn);
      if (i >= 0) list.splice(i, 1);
    };
  }

  emit(type, detail) {
    for (const fn of [...(this.#listeners.get(type) ?? [])]) fn(detail);
  }
}
