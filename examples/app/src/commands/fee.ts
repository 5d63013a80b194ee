import { formatMicros, parseCountCenti, parsePriceUnits } from '@kflow/orderbook';
import { type FeeType, isFeeType, quoteFee } from '@kflow/paper';
import type { CAC } from 'cac';
import { printJson } from '../output';

interface FeeOptions {
  price?: string | number;
  count?: string | number;
  maker?: boolean;
  feeType?: string;
  multiplier?: string | number;
  retail?: boolean;
  json?: boolean;
}

/** Dollars with 4 decimals when exact (always true for trade fees), else Kalshi's 6. */
function dollars(micros: number): string {
  return formatMicros(micros, micros % 100 === 0 ? 4 : 6);
}

export function registerFee(cli: CAC): void {
  cli
    .command('fee', 'Kalshi trading fee of one fill (exact)')
    .option('--price <dollars>', 'Fill price in dollars, e.g. 0.17')
    .option('--count <contracts>', 'Contracts, up to 2 decimals, e.g. 5.52')
    .option('--maker', 'Maker fill (default: taker)')
    .option('--fee-type <type>', 'quadratic | quadratic_with_maker_fees | quadratic_with_combo_maker_fees', {
      default: 'quadratic',
    })
    .option('--multiplier <m>', 'Series fee multiplier', { default: '1' })
    .option('--retail', 'Retail member: balances settle to $0.01 (default: direct, $0.0001)')
    .option('--json', 'Print {"tradeFee","charged"} as dollar strings')
    .example('kflow fee --price 0.17 --count 5.52 --json')
    .action((options: FeeOptions) => {
      if (options.price === undefined || options.count === undefined) throw new Error('--price and --count are required');
      const feeType = String(options.feeType);
      if (!isFeeType(feeType)) throw new Error(`Unknown --fee-type "${feeType}"`);
      const quote = quoteFee({
        priceUnits: parsePriceUnits(String(options.price), '--price'),
        countCenti: parseCountCenti(String(options.count), '--count'),
        isTaker: !options.maker,
        schedule: { feeType: feeType satisfies FeeType, multiplier: String(options.multiplier ?? '1') },
        precision: options.retail ? 'retail' : 'direct',
      });
      const result = { tradeFee: dollars(quote.tradeFeeMicros), charged: dollars(quote.chargedMicros) };
      if (options.json) printJson(result);
      else {
        const who = `${options.maker ? 'maker' : 'taker'}, ${feeType} ×${options.multiplier}, ${options.retail ? 'retail' : 'direct'}`;
        console.log(`trade fee $${result.tradeFee}, charged $${result.charged} (${who})`);
      }
    });
}
