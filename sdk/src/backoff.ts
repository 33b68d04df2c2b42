/**
 * Delay before retry number `attempt` (0-based): exponential growth capped at `maxMs`, with "equal jitter"
 * (half fixed, half random) so a shop's many tabs coming back online do not retry in lockstep, yet no retry
 * ever comes sooner than half the exponential step.
 */
export function backoffDelay(attempt: number, random: number, baseMs = 1000, maxMs = 60_000): number {
  const step = Math.min(maxMs, baseMs * 2 ** Math.min(attempt, 30));
  return Math.round(step / 2 + (random * step) / 2);
}
