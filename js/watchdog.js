// A deadline that counts awake time only. The checking-worker pool gives up a
// worker that leaves a share unanswered too long; a laptop that sleeps, or a
// tab the browser freezes, while a share is out must not look like a hang.
// `passed` is called about every `stepMs`, and one call counts at most one and
// a half steps, so a long gap between calls counts as a step, not as its
// length.

/** How many steps one call may count, at most. */
const MAX_STEPS_PER_CALL = 1.5;

/** A deadline on awake time, checked by calling `passed` every `stepMs` or so. */
export class AwakeDeadline {
  #limitMs;
  #stepMs;
  #waitedMs = 0;
  #last;

  /** A deadline `limitMs` of awake time after `now` (ms), checked every `stepMs`. */
  constructor(limitMs, stepMs, now) {
    this.#limitMs = limitMs;
    this.#stepMs = stepMs;
    this.#last = now;
  }

  /** Counts the time since the previous call (capped); true once `limitMs` have passed. */
  passed(now) {
    const gap = Math.min(Math.max(now - this.#last, 0), this.#stepMs * MAX_STEPS_PER_CALL);
    this.#last = Math.max(now, this.#last);
    this.#waitedMs += gap;
    return this.#waitedMs >= this.#limitMs;
  }
}
