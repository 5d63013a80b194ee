/** Test support (not exported from the package): finite-difference gradients. */

/**
 * Central differences `(f(x + h·e_k) − f(x − h·e_k)) / 2h` of `objective` for every entry `k` of `x`,
 * which `objective` reads; each entry is restored after use.
 */
export function numericGradient(x: Float32Array | Float64Array, objective: () => number, h: number): Float64Array {
  const out = new Float64Array(x.length);
  for (let k = 0; k < x.length; k++) {
    const saved = x[k]!;
    x[k] = saved + h;
    const up = objective();
    x[k] = saved - h;
    const down = objective();
    x[k] = saved;
    out[k] = (up - down) / (2 * h);
  }
  return out;
}
