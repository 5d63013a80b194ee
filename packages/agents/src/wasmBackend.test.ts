import { readFileSync } from 'node:fs';
import wabtInit from 'wabt';
import { describe, expect, it } from 'vitest';
import { KERNELS_WASM_BASE64 } from './wasmKernels.generated';

describe('wasm kernels', () => {
  it('the generated module is the assembled wasm/kernels.wat (run build:wasm after editing it)', async () => {
    const wabt = await wabtInit();
    const source = readFileSync(new URL('../wasm/kernels.wat', import.meta.url), 'utf8');
    const module = wabt.parseWat('kernels.wat', source, { simd: true });
    const { buffer } = module.toBinary({});
    module.destroy();
    expect(Buffer.from(buffer).toString('base64')).toBe(KERNELS_WASM_BASE64);
  });
});
