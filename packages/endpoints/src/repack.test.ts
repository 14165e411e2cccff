import test from 'ava';
import type { EndpointSubset } from '@knet/api';
import { repackSubsets } from './repack.js';

interface Case {
  name: string;
  in: EndpointSubset[];
  out: EndpointSubset[];
}
const cases: Case[] = [
  { name: 'empty', in: [], out: [] },
  {
    name: 'same port merges addresses',
    in: [
      { addresses: [{ ip: '127.0.0.2' }], ports: [{ port: 80 }] },
      { addresses: [{ ip: '127.0.0.1' }], ports: [{ port: 80 }] },
    ],
    out: [{ addresses: [{ ip: '127.0.0.1' }, { ip: '127.0.0.2' }], ports: [{ port: 80 }] }],
  },
  {
    name: 'not ready trumps ready for the same address and port',
    in: [
      { addresses: [{ ip: '127.0.0.1' }], ports: [{ port: 80 }] },
      { notReadyAddresses: [{ ip: '127.0.0.1' }], ports: [{ port: 80 }] },
    ],
    out: [{ notReadyAddresses: [{ ip: '127.0.0.1' }], ports: [{ port: 80 }] }],
  },
  {
    name: 'ports with the same addresses merge, in order',
    in: [
      { addresses: [{ ip: '127.0.0.1' }], ports: [{ name: 'b', port: 2 }] },
      { addresses: [{ ip: '127.0.0.1' }], ports: [{ name: 'a', port: 1 }] },
    ],
    out: [{ addresses: [{ ip: '127.0.0.1' }], ports: [{ name: 'a', port: 1 }, { name: 'b', port: 2 }] }],
  },
  {
    name: 'addresses without ports are kept',
    in: [{ addresses: [{ ip: '127.0.0.1' }] }],
    out: [{ addresses: [{ ip: '127.0.0.1' }] }],
  },
  {
    name: 'IPv4 sorts numerically',
    in: [{ addresses: [{ ip: '127.0.0.10' }, { ip: '127.0.0.9' }], ports: [{ port: 1 }] }],
    out: [{ addresses: [{ ip: '127.0.0.9' }, { ip: '127.0.0.10' }], ports: [{ port: 1 }] }],
  },
];
for (const c of cases) {
  test(`repackSubsets: ${c.name}`, (t) => {
    t.deepEqual(repackSubsets(c.in), c.out);
  });
}
