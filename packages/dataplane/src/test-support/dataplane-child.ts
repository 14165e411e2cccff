/**
 * A standalone data plane process for tests: argv[2] is the JSON table, argv[3] the
 * JSON options. Prints one JSON line {result, addresses} once applied; SIGTERM closes it.
 */
import { Dataplane } from '../dataplane.js';
import type { DataplaneOptions, ServiceEntry } from '../types.js';

const table = JSON.parse(process.argv[2] ?? '[]') as ServiceEntry[];
const opts = JSON.parse(process.argv[3] ?? '{}') as DataplaneOptions;
const dp = new Dataplane(opts);
const result = await dp.apply(table);
process.stdout.write(`${JSON.stringify({ result, addresses: table.map((e) => dp.address(e.key)) })}\n`);
process.once('SIGTERM', () => void dp.close());
