export * from './meta.js';
export * from './core.js';
export * from './discovery.js';
