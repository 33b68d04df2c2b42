/**
 * Engaged time on a page: the clock runs only while the page is visible and focused. Scroll depth is the
 * deepest point of the page seen, in percent.
 */
export function createEngagement(now: () => number) {
  let engagedMs = 0;
  let since: number | undefined;
  let depth = 0;
  let started = false;

  return {
    start(active: boolean): void {
      started = true;
      this.active(active);
    },
    /** Call on every visibility/focus change. */
    active(active: boolean): void {
      if (!started) return;
      if (active && since === undefined) since = now();
      if (!active && since !== undefined) {
        engagedMs += now() - since;
        since = undefined;
      }
    },
    scrolled(percent: number): void {
      depth = Math.max(depth, Math.min(100, Math.round(percent)));
    },
    /** The figures for `page_leave`, or undefined when the page view was never recorded. */
    result(): { engaged_ms: number; scroll_depth: number } | undefined {
      if (!started) return undefined;
      const running = since === undefined ? 0 : now() - since;
      return { engaged_ms: engagedMs + running, scroll_depth: depth };
    },
  };
}
