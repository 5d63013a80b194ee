/**
 * What one `(sid, seq)` observation means:
 * - `'first'`: the first frame seen on this sid (never a gap, whatever its seq);
 * - `'next'`: exactly last + 1;
 * - `'duplicate'`: seq ≤ last (a replayed or repeated frame): ignore it;
 * - `'gap'`: seq > last + 1: frames were lost, every book of this sid is suspect until a fresh snapshot.
 */
export type SequenceStatus = 'first' | 'next' | 'duplicate' | 'gap';

/**
 * Per-subscription sequence checking (docs/kalshi-protocol.md §3.8). Every frame that carries both `sid` and `seq`
 * must be observed, including `ok`/`unsubscribed`/`error` acks: on the real feed they consume seq numbers
 * of the same sid. Observation is allocation-free and returns data; the caller decides what a gap means.
 *
 * @example
 * const seq = new SequenceTracker();
 * seq.observe(1, 5); // 'first'
 * seq.observe(1, 6); // 'next'
 * seq.observe(1, 9); // 'gap'  (seq.expected(1) was 7; now 10)
 * seq.observe(1, 9); // 'duplicate'
 */
export class SequenceTracker {
  private readonly last = new Map<number, number>();

  /** Records `seq` on `sid`. After a gap the tracker resynchronises on the new seq. */
  observe(sid: number, seq: number): SequenceStatus {
    const last = this.last.get(sid);
    if (last === undefined) {
      this.last.set(sid, seq);
      return 'first';
    }
    if (seq <= last) return 'duplicate';
    this.last.set(sid, seq);
    return seq === last + 1 ? 'next' : 'gap';
  }

  /** The seq expected next on `sid`, or undefined before its first frame. */
  expected(sid: number): number | undefined {
    const last = this.last.get(sid);
    return last === undefined ? undefined : last + 1;
  }

  /** Forgets one sid (it was unsubscribed or re-subscribed: its next frame is a 'first'). */
  forget(sid: number): void {
    this.last.delete(sid);
  }

  /** Forgets every sid (after a reconnect, sids may be renumbered). */
  reset(): void {
    this.last.clear();
  }
}
