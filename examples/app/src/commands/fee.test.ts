import { describe, expect, it } from 'vitest';
import { runCli } from '../cli.testing';
import { registerFee } from './fee';

/** Runs `kflow fee ...` in-process and returns what it printed. */
const fee = (...args: string[]): Promise<string> => runCli([registerFee], ['fee', ...args]);

describe('kflow fee', () => {
  it('prints {"tradeFee","charged"} for the reference vectors', async () => {
    const json = async (...args: string[]) => JSON.parse(await fee(...args, '--json')) as unknown;
    expect(await json('--price', '0.17', '--count', '5.52')).toEqual({ tradeFee: '0.0546', charged: '0.0546' });
    expect(await json('--price', '0.16', '--count', '1.16')).toEqual({ tradeFee: '0.0110', charged: '0.0110' });
    expect(await json('--price', '0.50', '--count', '1')).toEqual({ tradeFee: '0.0175', charged: '0.0175' });
    expect(await json('--price', '0.50', '--count', '1', '--retail')).toEqual({ tradeFee: '0.0175', charged: '0.0200' });
    expect(await json('--price', '0.50', '--count', '100')).toEqual({ tradeFee: '1.7500', charged: '1.7500' });
    expect(await json('--price', '0.50', '--count', '100', '--maker', '--fee-type', 'quadratic_with_maker_fees')).toEqual({
      tradeFee: '0.4375',
      charged: '0.4375',
    });
    expect(await json('--price', '0.50', '--count', '100', '--maker', '--fee-type', 'quadratic_with_maker_fees', '--retail')).toEqual({
      tradeFee: '0.4375',
      charged: '0.4400',
    });
    expect(await json('--price', '0.50', '--count', '100', '--maker')).toEqual({ tradeFee: '0.0000', charged: '0.0000' });
    expect(await json('--price', '0.50', '--count', '1', '--multiplier', '2')).toEqual({ tradeFee: '0.0350', charged: '0.0350' });
  });

  it('rejects unknown fee types and missing arguments', async () => {
    await expect(fee('--price', '0.5', '--count', '1', '--fee-type', 'flat')).rejects.toThrow(/fee-type/);
    await expect(fee('--price', '0.5')).rejects.toThrow(/required/);
  });
});
