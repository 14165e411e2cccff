// metadata.generateName → name, as the apiserver's names.SimpleNameGenerator does.
import { randomInt } from 'node:crypto';

const alphanums = 'bcdfghjklmnpqrstvwxz2456789';
const randomLength = 5;
const maxNameLength = 63;
const maxGeneratedNameLength = maxNameLength - randomLength;

/** `web-` → `web-x7k2q`; the base is cut so the result fits 63 characters. */
export function generateNameFrom(base: string): string {
  const b = base.length > maxGeneratedNameLength ? base.slice(0, maxGeneratedNameLength) : base;
  let suffix = '';
  for (let i = 0; i < randomLength; i++) suffix += alphanums[randomInt(alphanums.length)];
  return b + suffix;
}
