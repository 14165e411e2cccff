export * from './certs.js';
export * from './tokens.js';
export * from './authorization.js';
export * from './abac.js';
export * from './pod-identity.js';
export * from './identities.js';
export * from './cluster.js';
