// dns-packet, a CommonJS package, through require rather than import: Node's import of a CommonJS module
// first lexes its source for named exports (cjs-module-lexer, JavaScript), and dns-packet's ~50 KB made
// that lexer hot enough for TurboFan in every DNS process (2–3 optimizing compiles at each start, whose
// compile memory can stay resident in the compiler thread's malloc arena; none with require). A process
// importing eight such packages measured 4–8 MiB more RSS than one requiring them.
import { createRequire } from 'node:module';
import type DnsPacket from 'dns-packet';

const require = createRequire(import.meta.url);

export const dnsPacket = require('dns-packet') as typeof DnsPacket;
export const dnsTypes = require('dns-packet/types.js') as typeof import('dns-packet/types.js');
export const dnsClasses = require('dns-packet/classes.js') as typeof import('dns-packet/classes.js');
export const dnsRcodes = require('dns-packet/rcodes.js') as typeof import('dns-packet/rcodes.js');
